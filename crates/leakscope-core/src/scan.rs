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

impl ScanInfo {
    /// True when at least one run's start page loaded (or there were no runs).
    pub fn loaded_any(&self) -> bool {
        self.runs.is_empty() || self.runs.iter().any(|r| r.status == RunStatus::Loaded)
    }

    /// Runs whose start page did not load.
    pub fn not_loaded(&self) -> impl Iterator<Item = &RunInfo> {
        self.runs
            .iter()
            .filter(|r| r.status == RunStatus::NotLoaded)
    }
}

/// One site in one consent state, in its own fresh browser context.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    /// The run's name (`reject`, `2-accept`…): its capture is `<name>.har`,
    /// the file findings cite in `source.file`.
    #[serde(default)]
    pub name: String,
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
    /// Whether the start page loaded at all. A run that never loaded checked
    /// nothing: its zero findings must not read as a clean site.
    #[serde(default)]
    pub status: RunStatus,
    /// Why the start page did not load (`status` is `not_loaded`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<LoadFailure>,
    /// Requests refused by `scan --block` rules in this run.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub blocked: u64,
    /// Uncaught script exceptions and `console.error` messages (first line
    /// each, at most 50): what `fix-check` compares to see what broke.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub console_errors: Vec<String>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Did the run's start page load?
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// The start page answered with a document (any HTTP status below 400).
    #[default]
    Loaded,
    /// No document: DNS, TLS, connection, timeout, HTTP error or a crash.
    NotLoaded,
}

/// Why a start page did not load.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LoadFailure {
    /// `dns`, `tls`, `refused`, `connection`, `timeout`, `http`, `redirect`,
    /// `crash`, `blocked`, `other`.
    pub kind: String,
    /// In words, naming the URL and the browser's own error where it gave one.
    pub message: String,
}

impl LoadFailure {
    /// Classifies Chromium's `net::ERR_*` text for a navigation to `url`.
    pub fn from_net_error(url: &str, error: &str) -> LoadFailure {
        let e = error.trim();
        let code = e.strip_prefix("net::").unwrap_or(e);
        let kind = if code.starts_with("ERR_NAME_") || code == "ERR_DNS_TIMED_OUT" {
            "dns"
        } else if code.starts_with("ERR_CERT_")
            || code.starts_with("ERR_SSL_")
            || code.contains("_SSL_")
            || code == "ERR_BAD_SSL_CLIENT_AUTH_CERT"
        {
            "tls"
        } else if code == "ERR_CONNECTION_REFUSED" {
            "refused"
        } else if code.ends_with("TIMED_OUT") {
            "timeout"
        } else if code.starts_with("ERR_CONNECTION_")
            || code == "ERR_ADDRESS_UNREACHABLE"
            || code == "ERR_INTERNET_DISCONNECTED"
            || code == "ERR_EMPTY_RESPONSE"
        {
            "connection"
        } else if code == "ERR_TOO_MANY_REDIRECTS" {
            "redirect"
        } else if code.starts_with("ERR_BLOCKED_") {
            "blocked"
        } else if code == "ERR_HTTP_RESPONSE_CODE_FAILURE" || code == "ERR_INVALID_RESPONSE" {
            "http"
        } else {
            "other"
        };
        let mut f = LoadFailure {
            kind: kind.to_owned(),
            message: String::new(),
        };
        f.message = format!("{} for {url} ({e})", f.kind_words());
        f
    }

    /// The start page answered with an HTTP error status.
    pub fn http_status(url: &str, status: u16) -> LoadFailure {
        LoadFailure {
            kind: "http".into(),
            message: format!("{url} answered HTTP {status}"),
        }
    }

    /// A short phrase for tables: "DNS lookup failed", "TLS error"…
    pub fn kind_words(&self) -> &'static str {
        match self.kind.as_str() {
            "dns" => "DNS lookup failed",
            "tls" => "TLS (certificate) error",
            "refused" => "connection refused",
            "connection" => "connection failed",
            "timeout" => "timed out",
            "http" => "HTTP error",
            "redirect" => "too many redirects",
            "crash" => "the browser crashed",
            "blocked" => "blocked",
            _ => "did not load",
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chromium_net_errors_are_classified() {
        let k = |e: &str| LoadFailure::from_net_error("https://x.test/", e).kind;
        assert_eq!(k("net::ERR_NAME_NOT_RESOLVED"), "dns");
        assert_eq!(k("net::ERR_CERT_AUTHORITY_INVALID"), "tls");
        assert_eq!(k("net::ERR_SSL_PROTOCOL_ERROR"), "tls");
        assert_eq!(k("net::ERR_CONNECTION_REFUSED"), "refused");
        assert_eq!(k("net::ERR_CONNECTION_RESET"), "connection");
        assert_eq!(k("net::ERR_CONNECTION_TIMED_OUT"), "timeout");
        assert_eq!(k("net::ERR_TOO_MANY_REDIRECTS"), "redirect");
        assert_eq!(k("net::ERR_HTTP_RESPONSE_CODE_FAILURE"), "http");
        assert_eq!(k("something new"), "other");
        let f = LoadFailure::from_net_error("https://x.test/", "net::ERR_NAME_NOT_RESOLVED");
        assert_eq!(
            f.message,
            "DNS lookup failed for https://x.test/ (net::ERR_NAME_NOT_RESOLVED)"
        );
    }

    #[test]
    fn older_documents_read_as_loaded() {
        let r: RunInfo = serde_json::from_str(
            r#"{"site":"https://a.test/","consent":"none","device":"desktop","steps":[],"requests":3}"#,
        )
        .unwrap();
        assert_eq!(r.status, RunStatus::Loaded);
        let info = ScanInfo {
            runs: vec![RunInfo {
                status: RunStatus::NotLoaded,
                ..RunInfo::default()
            }],
            ..ScanInfo::default()
        };
        assert!(!info.loaded_any());
    }
}
