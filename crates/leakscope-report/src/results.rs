//! The results document: one versioned JSON shape (`schemas/results-v1.schema.json`)
//! that `--format json` writes, `leakscope report` and `leakscope diff` read
//! back, and every other format is rendered from.

use std::collections::{BTreeMap, BTreeSet};

use leakscope_core::scan::ScanInfo;
use leakscope_core::{DecodeError, Event};
use leakscope_detect::{Finding, Report, Severity, SiteProfile};
use serde::{Deserialize, Serialize};

use crate::Error;

/// The value of `schema` in every results document this crate writes. The
/// number moves only on changes that break readers; added fields don't move it.
pub const SCHEMA: &str = "leakscope-results/1";

/// One input file as the ingest step read it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputSummary {
    pub file: String,
    /// `har`, `devtools`, `urls`, `jsonl`...
    pub format: String,
    pub exchanges: u64,
    pub skipped: u64,
}

impl InputSummary {
    /// One input per scan run: the run's capture, named as findings cite it.
    pub fn of_scan(info: &ScanInfo) -> Vec<InputSummary> {
        info.runs
            .iter()
            .map(|r| InputSummary {
                file: format!("{}.har", r.name),
                format: "scan".into(),
                exchanges: r.requests,
                skipped: 0,
            })
            .collect()
    }
}

/// Counts for the top of every report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub requests: u64,
    pub events: usize,
    /// Findings per severity, every severity present (zero included).
    pub findings: BTreeMap<String, usize>,
    /// Distinct sites (registrable host of the page, or the scan's sites).
    #[serde(default)]
    pub sites: Vec<String>,
    /// Distinct page URLs that sent tracker events.
    #[serde(default)]
    pub pages: usize,
    /// Distinct vendors that received events.
    #[serde(default)]
    pub vendors: Vec<String>,
}

/// Everything one analysis or scan produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Results {
    pub schema: String,
    /// The leakscope version that wrote it.
    pub version: String,
    pub inputs: Vec<InputSummary>,
    pub summary: Summary,
    /// Present when the results came from a browser scan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scan: Option<ScanInfo>,
    pub events: Vec<Event>,
    pub findings: Vec<Finding>,
    #[serde(default)]
    pub decode_errors: Vec<DecodeError>,
    /// Who each site is (category, confidence, evidence): one profile per
    /// site whose pages sent events. Absent from documents written before
    /// site context.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sites: Vec<SiteProfile>,
}

impl Results {
    /// Builds the document from a pipeline report; secrets are redacted here
    /// (again, after the engine), so no output built from it can carry one.
    pub fn new(
        report: Report,
        inputs: Vec<InputSummary>,
        scan: Option<ScanInfo>,
        version: &str,
    ) -> Results {
        let mut r = Results {
            schema: SCHEMA.to_owned(),
            version: version.to_owned(),
            summary: Summary {
                requests: 0,
                events: 0,
                findings: BTreeMap::new(),
                sites: Vec::new(),
                pages: 0,
                vendors: Vec::new(),
            },
            inputs,
            scan,
            events: report.events,
            findings: report.findings,
            decode_errors: report.errors,
            sites: report.sites,
        };
        crate::redact::results(&mut r);
        r.summary = r.compute_summary();
        r
    }

    /// Reads a saved results document, naming `what` (usually the path) in errors.
    pub fn from_json(text: &str, what: &str) -> Result<Results, Error> {
        let v: serde_json::Value = serde_json::from_str(text).map_err(|source| Error::Json {
            what: what.to_owned(),
            source,
        })?;
        match v.get("schema").and_then(|s| s.as_str()) {
            Some(SCHEMA) => {}
            Some(other) => {
                return Err(Error::invalid(
                    what,
                    format!(
                        "results schema {other:?} is not one this leakscope reads ({SCHEMA:?})"
                    ),
                ));
            }
            // leakscope 0.1 scans wrote results.json as a bare
            // {scan, findings, events}: still ours, so read it.
            None if v.get("scan").is_some() && v.get("findings").is_some() => {
                return Results::from_legacy_scan(v, what);
            }
            None => {
                return Err(Error::invalid(
                    what,
                    "not a leakscope results document (no \"schema\"; write one with `--format json`)",
                ));
            }
        }
        let mut r: Results = serde_json::from_value(v).map_err(|source| Error::Json {
            what: what.to_owned(),
            source,
        })?;
        // A hand-edited or older file may carry what a newer redactor removes.
        crate::redact::results(&mut r);
        Ok(r)
    }

    /// A scan's `results.json` as early versions wrote it, without schema,
    /// inputs or summary: those are rebuilt from the runs.
    fn from_legacy_scan(mut v: serde_json::Value, what: &str) -> Result<Results, Error> {
        #[derive(Deserialize)]
        struct Legacy {
            scan: ScanInfo,
            findings: Vec<Finding>,
            #[serde(default)]
            events: Vec<Event>,
        }
        if let Some(runs) = v.pointer_mut("/scan/runs").and_then(|r| r.as_array_mut()) {
            for r in runs {
                // Early runs had no name; their captures were named by state.
                if r.get("name").is_none()
                    && let Some(h) = r.get("har").and_then(|h| h.as_str())
                {
                    let name = h.trim_end_matches(".har").to_owned();
                    r["name"] = serde_json::Value::String(name);
                }
            }
        }
        let l: Legacy = serde_json::from_value(v).map_err(|source| Error::Json {
            what: what.to_owned(),
            source,
        })?;
        let inputs = InputSummary::of_scan(&l.scan);
        let report = Report {
            events: l.events,
            findings: l.findings,
            errors: Vec::new(),
            exchanges: 0,
            sites: Vec::new(),
        };
        Ok(Results::new(
            report,
            inputs,
            Some(l.scan),
            "0.1.0 (early scan results)",
        ))
    }

    /// Counts recomputed from the events and findings.
    pub fn compute_summary(&self) -> Summary {
        let mut findings = BTreeMap::new();
        for s in Severity::ALL {
            findings.insert(
                s.as_str().to_owned(),
                self.findings.iter().filter(|f| f.severity == s).count(),
            );
        }
        let mut sites: BTreeSet<String> = BTreeSet::new();
        if let Some(scan) = &self.scan {
            sites.extend(scan.runs.iter().map(|r| r.site.clone()));
        }
        if sites.is_empty() {
            sites.extend(
                self.events
                    .iter()
                    .filter_map(|e| e.page_url.as_deref())
                    .filter_map(host_of),
            );
        }
        let pages: BTreeSet<&str> = self
            .events
            .iter()
            .filter_map(|e| e.page_url.as_deref())
            .collect();
        let vendors: BTreeSet<&str> = self.events.iter().map(|e| e.vendor.as_str()).collect();
        Summary {
            requests: self.inputs.iter().map(|i| i.exchanges).sum(),
            events: self.events.len(),
            findings,
            sites: sites.into_iter().collect(),
            pages: pages.len(),
            vendors: vendors.into_iter().map(str::to_owned).collect(),
        }
    }

    /// The most severe finding's severity, if any.
    pub fn worst(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).max()
    }
}

/// The host of an absolute URL, without parsing more than needed.
pub(crate) fn host_of(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if host.starts_with('[') {
        host
    } else {
        host.split(':').next().unwrap_or(host)
    };
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_of_handles_ports_userinfo_and_garbage() {
        assert_eq!(
            host_of("https://u:p@Shop.Example:8443/x?y").as_deref(),
            Some("shop.example")
        );
        assert_eq!(host_of("not a url"), None);
        assert_eq!(host_of("https://"), None);
    }

    #[test]
    fn reads_the_results_json_early_scans_wrote() {
        let doc = r#"{"scan": {"runs": [{"site": "https://a.test/", "consent": "rejected",
            "device": "desktop", "steps": [], "har": "reject.har", "requests": 7}],
            "browser": {"product": "Chrome/156", "user_agent": "x", "flags": []},
            "started": "2026-11-29T18:15:00Z", "finished": "2026-11-29T18:15:09Z"},
            "findings": [], "events": []}"#;
        let r = Results::from_json(doc, "old/results.json").unwrap();
        assert_eq!(r.schema, SCHEMA);
        assert_eq!(r.inputs[0].file, "reject.har");
        assert_eq!(r.summary.requests, 7);
        assert_eq!(r.scan.unwrap().runs[0].name, "reject");
    }

    #[test]
    fn rejects_documents_of_another_schema_with_a_clear_message() {
        let e = Results::from_json(r#"{"schema":"leakscope-results/9"}"#, "old.json").unwrap_err();
        assert!(e.to_string().contains("old.json"), "{e}");
        assert!(e.to_string().contains("leakscope-results/9"), "{e}");
        let e = Results::from_json(r#"{"events":[]}"#, "x.json").unwrap_err();
        assert!(e.to_string().contains("--format json"), "{e}");
        let e = Results::from_json("{", "broken.json").unwrap_err();
        assert!(e.to_string().contains("broken.json"), "{e}");
    }
}
