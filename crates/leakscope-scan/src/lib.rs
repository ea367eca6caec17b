//! Scans sites like an investigator: per site and consent state, a fresh
//! browser context walks a journey (load, scroll, health-relevant links,
//! site search with a canary term, care-seeking buttons by accessible name,
//! forms filled with a canary persona), records every request with the
//! consent state and step that caused it, keeps evidence (screenshots, DOM
//! snapshots, HAR) and runs the analysis pipeline over it all, including the
//! tracking-after-refusal rule (`leakscope_detect::consent`).
//!
//! - [`autoconsent`]: drives DuckDuckGo's autoconsent to refuse or accept.
//! - [`journey`]: declarative journeys in TOML.
//! - [`persona`]: the made-up person whose values are canaries.
//! - [`links`]: which links to follow (health lexicon).
//! - [`scan`]: the orchestration.

pub mod autoconsent;
mod block;
pub mod journey;
pub mod links;
pub mod persona;
pub mod scan;

use std::path::PathBuf;
use std::time::Duration;

pub use leakscope_browser::Device;
pub use persona::Persona;
pub use scan::{ScanOutput, Session, persona_used, scan};

/// The page helper script (`page.js`), evaluated as `(<script>)(op, arg)`.
pub const PAGE_JS: &str = include_str!("page.js");

#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error("journey {0}")]
    Journey(String),
    #[error("browser: {0}")]
    Browser(String),
    #[error("evidence directory {path}: {source}")]
    Evidence {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("canary: {0}")]
    Canary(#[from] leakscope_detect::DetectError),
    #[error("{0}")]
    Options(String),
}

/// Consent states a scan visits, each in a fresh browser context.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ConsentState {
    /// Touch no banner.
    None,
    /// Click the banner's reject (autoconsent opt-out).
    Reject,
    /// Click the banner's accept.
    Accept,
    /// Global Privacy Control: `Sec-GPC: 1` and `navigator.globalPrivacyControl`.
    Gpc,
}

impl ConsentState {
    pub const ALL: [ConsentState; 4] = [
        ConsentState::None,
        ConsentState::Reject,
        ConsentState::Accept,
        ConsentState::Gpc,
    ];

    /// The run's name (also the step id prefix and HAR file stem).
    pub fn run_name(self) -> &'static str {
        match self {
            ConsentState::None => "none",
            ConsentState::Reject => "reject",
            ConsentState::Accept => "accept",
            ConsentState::Gpc => "gpc",
        }
    }

    /// Parses `none|reject|accept|gpc|all` (comma lists allowed).
    pub fn parse_list(s: &str) -> Result<Vec<ConsentState>, ScanError> {
        let mut out = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let add: &[ConsentState] = match part {
                "none" => &[ConsentState::None],
                "reject" => &[ConsentState::Reject],
                "accept" => &[ConsentState::Accept],
                "gpc" => &[ConsentState::Gpc],
                "all" => &ConsentState::ALL,
                other => {
                    return Err(ScanError::Options(format!(
                        "unknown consent state {other:?} (none, reject, accept, gpc, all)"
                    )));
                }
            };
            for c in add {
                if !out.contains(c) {
                    out.push(*c);
                }
            }
        }
        if out.is_empty() {
            return Err(ScanError::Options("no consent state given".into()));
        }
        Ok(out)
    }
}

/// What to scan and how.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    pub urls: Vec<String>,
    pub consent: Vec<ConsentState>,
    pub device: Device,
    /// Same-site pages visited after the first, breadth-first.
    pub max_pages: usize,
    /// A declarative journey replacing the default one. Empty: only load the
    /// URL (and make the consent choice), as `--load-only` does.
    pub journey: Option<Vec<journey::Action>>,
    /// Submit the forms filled with the persona (off: fill only).
    pub submit_forms: bool,
    /// Chromium binary; `None` finds one.
    pub chrome: Option<PathBuf>,
    pub chrome_args: Vec<String>,
    /// Evidence directory; `None` keeps nothing on disk.
    pub out_dir: Option<PathBuf>,
    /// Extra planted values besides the persona.
    pub extra_canaries: Vec<String>,
    /// The persona; `None` makes a fresh random one.
    pub persona: Option<Persona>,
    /// Longest a navigation may take.
    pub page_timeout: Duration,
    /// Longest a single action (click, fill, evaluate) may take.
    pub step_timeout: Duration,
    /// Longest to wait for the network to go quiet after a step.
    pub settle: Duration,
    /// Longest to wait for a consent banner to be found and answered.
    pub consent_timeout: Duration,
    /// Runs (site × consent state) driven at once, each in its own context
    /// of the one browser. Most of a run is bounded waiting, so a few at
    /// once cut wall time without changing what each run sees.
    pub parallel: usize,
    /// Sites' categories set outright (`--site-category DOMAIN=CATEGORY`).
    pub site_categories: Vec<(String, leakscope_detect::SiteCategory)>,
    /// Rules applied in the browser during every run (`--block`): a filter
    /// list whose requests are refused or rewritten, or a CSP added to
    /// every top-level document.
    pub block: Option<std::sync::Arc<leakscope_rules::BlockList>>,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            urls: Vec::new(),
            consent: vec![ConsentState::Reject, ConsentState::Accept],
            device: Device::Desktop,
            max_pages: 5,
            journey: None,
            submit_forms: false,
            chrome: None,
            chrome_args: Vec::new(),
            out_dir: None,
            extra_canaries: Vec::new(),
            persona: None,
            page_timeout: Duration::from_secs(30),
            step_timeout: Duration::from_secs(10),
            settle: Duration::from_secs(3),
            consent_timeout: Duration::from_secs(8),
            parallel: 1,
            site_categories: Vec::new(),
            block: None,
        }
    }
}

/// Progress events for a progress bar.
pub trait Progress: Send + Sync {
    /// Total runs (sites × consent states), once at the start.
    fn start(&mut self, _runs: usize) {}
    /// A human-readable line: `reject https://… 3-click "Refill"`.
    fn step(&mut self, _run: &str, _what: &str) {}
    /// A run finished.
    fn run_done(&mut self, _run: &str) {}
}

/// A progress sink that shows nothing.
pub struct NoProgress;
impl Progress for NoProgress {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consent_lists() {
        assert_eq!(ConsentState::parse_list("all").unwrap().len(), 4);
        assert_eq!(
            ConsentState::parse_list("reject, gpc,reject").unwrap(),
            [ConsentState::Reject, ConsentState::Gpc]
        );
        assert!(
            ConsentState::parse_list("maybe")
                .unwrap_err()
                .to_string()
                .contains("\"maybe\"")
        );
    }
}
