//! leakscope's detectors and verdict. A captured event becomes a finding
//! when three things meet: it carries health information (`health`), it
//! carries something that ties it to a person (`identity`, `canary`), and it
//! goes to a party that is not the site. `verdict` weighs them into a
//! severity and an explanation. Pure: no I/O; compiled once, used many times.

pub mod canary;
pub mod consent;
pub mod finding;
pub mod health;
pub mod identity;
pub mod normalize;
pub mod pipeline;
pub mod site;
pub mod verdict;

pub use canary::{Canary, CanaryKind, CanaryMatcher};
pub use finding::*;
pub use health::HealthMatcher;
pub use pipeline::{Pipeline, Report};
pub use site::{Confidence, SiteCategory, SiteEvidence, SiteKnowledge, SiteProfile};

use leakscope_core::{Event, Exchange};

#[derive(Debug, thiserror::Error)]
pub enum DetectError {
    #[error("lexicon line {line}: {reason}")]
    Lexicon { line: usize, reason: String },
    #[error("canary {value:?}: {reason}")]
    Canary { value: String, reason: String },
}

/// All detectors, compiled once.
pub struct Detector {
    pub health: HealthMatcher,
    pub canaries: CanaryMatcher,
    /// Known health domains and `--site-category` overrides (`site.rs`).
    pub sites: SiteKnowledge,
}

impl Detector {
    /// The built-in lexicon and the given canaries.
    pub fn new(canaries: &[Canary]) -> Result<Detector, DetectError> {
        Ok(Detector {
            health: HealthMatcher::builtin(),
            canaries: CanaryMatcher::new(canaries)?,
            sites: SiteKnowledge::builtin(),
        })
    }

    /// Sets sites' categories outright (`--site-category DOMAIN=CATEGORY`).
    pub fn with_site_categories(mut self, overrides: &[(String, SiteCategory)]) -> Detector {
        for (site, cat) in overrides {
            self.sites.set_override(site, *cat);
        }
        self
    }

    /// Planted values anywhere in a request (URL, body, cookies, Referer).
    pub fn scan_canaries(&self, ex: &Exchange) -> Vec<leakscope_core::CanaryHit> {
        self.canaries.scan(ex)
    }

    /// The verdict on one event: a finding, or `None` when it carries no
    /// health information or reaches no other party.
    pub fn assess(&self, ev: &Event) -> Option<Finding> {
        let health = self.health.match_event(ev);
        let identity = identity::identify(ev);
        verdict::judge(ev, health, identity)
    }
}
