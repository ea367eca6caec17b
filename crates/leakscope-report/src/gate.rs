//! The CI gate: fail on findings at or above a severity, except those a
//! baseline accepted (by stable id); and the diff of two runs.

use std::collections::BTreeSet;

use leakscope_detect::{Finding, Severity};
use serde::{Deserialize, Serialize};

use crate::{Error, Results};

/// The value of `schema` in baseline files.
pub const BASELINE_SCHEMA: &str = "leakscope-baseline/1";

/// Accepted findings, by stable id; the other fields are there for the
/// person reviewing the file, not for matching.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    pub schema: String,
    pub findings: Vec<BaselineEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BaselineEntry {
    pub id: String,
    pub severity: Severity,
    pub vendor: String,
    pub event: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_url: Option<String>,
}

impl Baseline {
    /// Every finding of `r`, sorted by id so the file diffs well in review.
    pub fn from_results(r: &Results) -> Baseline {
        let mut findings: Vec<BaselineEntry> = r
            .findings
            .iter()
            .map(|f| BaselineEntry {
                id: f.id.clone(),
                severity: f.severity,
                vendor: f.vendor.as_str().to_owned(),
                event: f.event.clone(),
                page_url: f.page_url.clone(),
            })
            .collect();
        findings.sort_by(|a, b| a.id.cmp(&b.id));
        findings.dedup_by(|a, b| a.id == b.id);
        Baseline {
            schema: BASELINE_SCHEMA.to_owned(),
            findings,
        }
    }

    pub fn from_json(text: &str, what: &str) -> Result<Baseline, Error> {
        let b: Baseline = serde_json::from_str(text).map_err(|source| Error::Json {
            what: what.to_owned(),
            source,
        })?;
        if b.schema != BASELINE_SCHEMA {
            return Err(Error::invalid(
                what,
                format!(
                    "baseline schema {:?} is not {BASELINE_SCHEMA:?} (write one with --write-baseline)",
                    b.schema
                ),
            ));
        }
        Ok(b)
    }

    pub fn ids(&self) -> BTreeSet<&str> {
        self.findings.iter().map(|f| f.id.as_str()).collect()
    }
}

/// What the gate decided.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GateOutcome {
    pub threshold: Severity,
    /// Findings at or above the threshold that the baseline did not accept.
    pub failing: Vec<String>,
    /// Findings at or above the threshold that the baseline accepted.
    pub accepted: usize,
}

impl GateOutcome {
    pub fn failed(&self) -> bool {
        !self.failing.is_empty()
    }
}

/// Applies `--fail-on threshold` (and a baseline, when given).
pub fn gate(findings: &[Finding], threshold: Severity, baseline: Option<&Baseline>) -> GateOutcome {
    let accepted_ids = baseline.map(Baseline::ids).unwrap_or_default();
    let mut failing = Vec::new();
    let mut accepted = 0;
    for f in findings.iter().filter(|f| f.severity >= threshold) {
        if accepted_ids.contains(f.id.as_str()) {
            accepted += 1;
        } else {
            failing.push(f.id.clone());
        }
    }
    failing.sort();
    failing.dedup();
    GateOutcome {
        threshold,
        failing,
        accepted,
    }
}

/// New, fixed and unchanged findings between two runs, matched by stable id.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diff {
    pub new: Vec<DiffEntry>,
    pub fixed: Vec<DiffEntry>,
    pub unchanged: Vec<DiffEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DiffEntry {
    pub id: String,
    pub severity: Severity,
    /// Set when the same finding changed severity between runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old_severity: Option<Severity>,
    pub vendor: String,
    pub event: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_url: Option<String>,
}

fn entry(f: &Finding, old: Option<Severity>) -> DiffEntry {
    DiffEntry {
        id: f.id.clone(),
        severity: f.severity,
        old_severity: old.filter(|s| *s != f.severity),
        vendor: f.vendor.as_str().to_owned(),
        event: f.event.clone(),
        page_url: f.page_url.clone(),
    }
}

/// Most severe first, then by id: the order people read and CI logs diff.
fn sorted(mut v: Vec<DiffEntry>) -> Vec<DiffEntry> {
    v.sort_by(|a, b| b.severity.cmp(&a.severity).then_with(|| a.id.cmp(&b.id)));
    v.dedup_by(|a, b| a.id == b.id);
    v
}

pub fn diff(old: &Results, new: &Results) -> Diff {
    let old_by_id: std::collections::HashMap<&str, &Finding> =
        old.findings.iter().map(|f| (f.id.as_str(), f)).collect();
    let new_ids: BTreeSet<&str> = new.findings.iter().map(|f| f.id.as_str()).collect();
    let mut n = Vec::new();
    let mut unchanged = Vec::new();
    for f in &new.findings {
        match old_by_id.get(f.id.as_str()) {
            Some(o) => unchanged.push(entry(f, Some(o.severity))),
            None => n.push(entry(f, None)),
        }
    }
    let fixed = old
        .findings
        .iter()
        .filter(|f| !new_ids.contains(f.id.as_str()))
        .map(|f| entry(f, None))
        .collect();
    Diff {
        new: sorted(n),
        fixed: sorted(fixed),
        unchanged: sorted(unchanged),
    }
}
