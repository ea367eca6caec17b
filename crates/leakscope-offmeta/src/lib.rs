//! For the person whose data leaked: their own Meta export, "Your activity
//! off Meta technologies", read on their own machine. Which businesses told
//! Meta about them, which of those are health businesses (and how sure we
//! are), and what each kind of event revealed.
//!
//! - `read`: the zip as Meta delivers it, split parts, an unpacked folder or
//!   the single file, with size limits against hostile archives. Files only:
//!   this crate opens no socket.
//! - `parse`: every layout (2020–2026 JSON keys, label_values records, HTML).
//! - `classify`: curated brand lists (`data/offmeta/`, with sources) and
//!   words that name a kind of care.

pub mod classify;
pub mod parse;
pub mod read;

use std::collections::BTreeMap;

use serde::Serialize;

pub use classify::{Class, Classified, Classifier, Confidence};
pub use parse::{Business, Layout};
pub use read::{Export, Limits, ReadError, read};

/// Schema id of the JSON document.
pub const SCHEMA: &str = "leakscope-offmeta/1";

/// One business, as the report shows it.
#[derive(Debug, Clone, Serialize)]
pub struct BusinessReport {
    pub name: String,
    #[serde(flatten)]
    pub classified: Classified,
    pub events: usize,
    /// Events per type, most first.
    pub by_type: Vec<(String, usize)>,
    /// First and last event, `YYYY-MM-DD` (absent when the export gave no times).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last: Option<String>,
    /// For health businesses: each event in time order, in words
    /// ("2024-03-12: a purchase"), at most 200.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub timeline: Vec<String>,
}

/// The whole analysis.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub schema: &'static str,
    pub layout: Option<Layout>,
    pub files: Vec<String>,
    pub businesses: usize,
    pub events: usize,
    pub health: Vec<BusinessReport>,
    pub sensitive: Vec<BusinessReport>,
    pub ordinary: Vec<BusinessReport>,
}

const TIMELINE_MAX: usize = 200;

fn day(secs: i64) -> Option<String> {
    (secs > 0).then(|| leakscope_core::time::rfc3339_secs(secs)[..10].to_owned())
}

/// Classifies every business of an export.
pub fn analyze(export: Export, classifier: &Classifier) -> Report {
    let mut health = Vec::new();
    let mut sensitive = Vec::new();
    let mut ordinary = Vec::new();
    let mut total = 0;
    let n = export.businesses.len();
    for b in export.businesses {
        total += b.events.len();
        let classified = classifier.classify(&b.name);
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for (k, _) in &b.events {
            *counts.entry(k.clone()).or_default() += 1;
        }
        let mut by_type: Vec<(String, usize)> = counts.into_iter().collect();
        by_type.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let times: Vec<i64> = b.events.iter().map(|e| e.1).filter(|t| *t > 0).collect();
        let mut timeline = Vec::new();
        if classified.class == Class::Health {
            let mut evs = b.events.clone();
            evs.sort_by_key(|e| e.1);
            timeline = evs
                .iter()
                .take(TIMELINE_MAX)
                .map(|(k, t)| {
                    format!(
                        "{}: {}",
                        day(*t).unwrap_or_else(|| "date not given".into()),
                        classify::reveals(k)
                    )
                })
                .collect();
        }
        let r = BusinessReport {
            name: b.name,
            events: b.events.len(),
            by_type,
            first: times.iter().min().and_then(|t| day(*t)),
            last: times.iter().max().and_then(|t| day(*t)),
            timeline,
            classified,
        };
        match r.classified.class {
            Class::Health => health.push(r),
            Class::Sensitive => sensitive.push(r),
            Class::Ordinary => ordinary.push(r),
        }
    }
    for list in [&mut health, &mut sensitive, &mut ordinary] {
        list.sort_by(|a, b| b.events.cmp(&a.events).then_with(|| a.name.cmp(&b.name)));
    }
    Report {
        schema: SCHEMA,
        layout: export.layout,
        files: export.files,
        businesses: n,
        events: total,
        health,
        sensitive,
        ordinary,
    }
}
