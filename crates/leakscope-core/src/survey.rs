//! A survey's results as flat rows: what the results database stores, what
//! the exports (CSV, JSON Lines, Parquet) write and what the survey report
//! draws. Plain data, one row type per table, so every shell agrees on the
//! columns without depending on each other.

use serde::{Deserialize, Serialize};

/// Where a site stands in a survey.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SiteStatus {
    /// Waiting for a worker (or for its next attempt after a transient failure).
    Pending,
    /// Leased by a worker, being scanned.
    Running,
    /// Scanned: at least one run loaded the site.
    Done,
    /// Never loaded (DNS, TLS, refused, HTTP error, redirect loop, timeout,
    /// crash) after the retries its failure allows.
    Unreachable,
    /// The scanner itself failed on this site after its retries.
    Error,
}

impl SiteStatus {
    pub const ALL: [SiteStatus; 5] = [
        SiteStatus::Pending,
        SiteStatus::Running,
        SiteStatus::Done,
        SiteStatus::Unreachable,
        SiteStatus::Error,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SiteStatus::Pending => "pending",
            SiteStatus::Running => "running",
            SiteStatus::Done => "done",
            SiteStatus::Unreachable => "unreachable",
            SiteStatus::Error => "error",
        }
    }

    pub fn parse(s: &str) -> Option<SiteStatus> {
        SiteStatus::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// Finished for good: no worker will pick it up again by itself.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            SiteStatus::Done | SiteStatus::Unreachable | SiteStatus::Error
        )
    }
}

/// The survey itself: what was run, when, and how.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SurveyMeta {
    pub name: String,
    /// The site list it was created from, as given.
    pub list: String,
    /// RFC 3339.
    pub created: String,
    /// The scan settings every worker applies (consent states, device,
    /// journey, budgets, retries), as `name: value` lines for the methods.
    pub settings: Vec<(String, String)>,
    /// The site list's own columns, in file order (beyond `url`/`domain`).
    pub columns: Vec<String>,
    /// Browser product and version of the last worker that reported one.
    #[serde(default)]
    pub browser: String,
    /// leakscope version that created the survey.
    #[serde(default)]
    pub tool_version: String,
}

/// One site of the list and what became of it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SiteRow {
    /// Position in the list, from 1.
    pub id: i64,
    /// The URL scanned (a bare domain in the list becomes `https://domain/`).
    pub url: String,
    /// Registrable domain.
    pub domain: String,
    /// The list's own columns for this site, in `SurveyMeta::columns` order.
    pub columns: Vec<(String, String)>,
    pub status: Option<SiteStatus>,
    /// Failure class when it did not load or the scan failed (`dns`, `tls`,
    /// `refused`, `connection`, `timeout`, `http`, `redirect`, `crash`,
    /// `budget`, `scanner`), and the message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_message: Option<String>,
    pub attempts: u32,
    /// Site category: given by the list, or what the scan inferred.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    /// Worker that finished it (`host:pid`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker: Option<String>,
    /// Evidence folder of the site, relative to the survey folder when the
    /// worker shares it (HARs, results.json, report.html).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
    /// Tracker requests seen and third-party vendors they went to.
    pub requests: u64,
    pub vendors: Vec<String>,
    pub meta_pixel: bool,
    pub findings: u32,
    /// Most severe finding (`critical` … `info`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_severity: Option<String>,
    /// Health data sent with an identifier to a third party (any vendor).
    pub health_with_identity: bool,
    /// A tracker kept receiving data after the banner was refused.
    pub tracking_after_reject: bool,
}

/// One run (site × consent state).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunRow {
    pub site_id: i64,
    pub name: String,
    /// `none`, `rejected`, `accepted`, `gpc`.
    pub consent: String,
    /// `loaded` or `not_loaded`.
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_message: Option<String>,
    pub requests: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consent_note: Option<String>,
}

/// One decoded tracker event.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EventRow {
    pub site_id: i64,
    /// The run it was captured in (its HAR).
    pub run: String,
    pub vendor: String,
    pub organisation: String,
    pub event: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_url: Option<String>,
    /// Redacted as in the site's evidence (no session tokens).
    pub request_url: String,
    pub method: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consent: Option<String>,
    /// Identifier kinds carried (`fbp`, `email`, `external_id`…).
    pub identifiers: Vec<String>,
}

/// One finding.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FindingRow {
    pub site_id: i64,
    pub id: String,
    pub rule: String,
    pub severity: String,
    pub vendor: String,
    pub organisation: String,
    pub event: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_url: Option<String>,
    /// Health categories shown (`reproductive`, `hiv`…), deduplicated.
    pub health_categories: Vec<String>,
    /// Health terms found, deduplicated.
    pub health_terms: Vec<String>,
    /// Identifier kinds that went with them.
    pub identifiers: Vec<String>,
    /// The run it came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<String>,
    pub explanation: String,
}

/// Everything a survey holds, as read back from its database.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SurveyData {
    pub meta: SurveyMeta,
    pub sites: Vec<SiteRow>,
    pub runs: Vec<RunRow>,
    pub events: Vec<EventRow>,
    pub findings: Vec<FindingRow>,
}

impl SurveyData {
    /// Sites per status, every status listed (zeros included), in `SiteStatus::ALL` order.
    pub fn status_counts(&self) -> Vec<(SiteStatus, usize)> {
        SiteStatus::ALL
            .into_iter()
            .map(|s| (s, self.sites.iter().filter(|r| r.status == Some(s)).count()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_names_round_trip() {
        for s in SiteStatus::ALL {
            assert_eq!(SiteStatus::parse(s.as_str()), Some(s));
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.as_str()));
        }
        assert!(SiteStatus::Done.is_final() && !SiteStatus::Running.is_final());
    }
}
