//! Health detector: placeholder until the lexicon matcher lands.

use leakscope_core::Event;

use crate::finding::HealthEvidence;

pub struct HealthMatcher;

impl HealthMatcher {
    pub fn builtin() -> HealthMatcher {
        HealthMatcher
    }

    pub fn match_event(&self, _ev: &Event) -> Vec<HealthEvidence> {
        Vec::new()
    }
}
