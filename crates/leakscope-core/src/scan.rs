//! What a browser scan did, as plain data: the runs (one per site and consent
//! state), their steps with evidence paths, per-page errors and provenance.
//! The scanner fills it; reports and evidence bundles read it. Findings point
//! at a step by `Finding::step` (the step `id`).

use serde::{Deserialize, Serialize};

/// Everything about a scan that is not a finding or an event.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ScanInfo {
    pub runs: Vec<RunInfo>,
    /// Kinds and values of the canary persona used (made-up data, unique per scan).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub canaries: Vec<CanaryInfo>,
    pub browser: BrowserInfo,
    /// Wall-clock start and end, RFC 3339 UTC.
    pub started: String,
    pub finished: String,
}

/// One site in one consent state, in its own fresh browser context.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    pub site: String,
    /// `none`, `rejected`, `accepted` or `gpc`.
    pub consent: String,
    /// What the consent driver did: CMP found, clicked, at which step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consent_note: Option<String>,
    /// `desktop` or `mobile`.
    pub device: String,
    pub steps: Vec<StepInfo>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<PageError>,
    /// HAR of everything captured in this run, relative to the output directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub har: Option<String>,
    pub requests: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StepInfo {
    /// Unique within the scan, e.g. `accepted/3-click-refill`; `Exchange::step` holds it.
    pub id: String,
    /// What was done: `goto https://…`, `click "Refill prescription"`, `fill #refill-form`.
    pub action: String,
    /// Page URL after the step.
    pub url: String,
    /// Paths relative to the output directory, when evidence was written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub screenshot: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dom: Option<String>,
    /// RFC 3339 UTC.
    pub at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A page or step that failed; the scan goes on.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PageError {
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    /// Short machine-readable kind: `timeout`, `navigation`, `crash`, `dialog`, `download`, `too-many-redirects`…
    pub kind: String,
    pub message: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CanaryInfo {
    /// `name`, `email`, `phone`, `dob`, `address`, `symptom`, `search`.
    pub kind: String,
    pub value: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BrowserInfo {
    /// As `Browser.getVersion` reports it, e.g. `Chrome/156.0.8078.108`.
    pub product: String,
    pub user_agent: String,
    /// The flags the browser was started with.
    pub flags: Vec<String>,
}
