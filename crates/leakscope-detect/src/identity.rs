//! Identity detector: placeholder until it lands.

use leakscope_core::Event;

use crate::finding::IdentityEvidence;

pub fn identify(_ev: &Event) -> Vec<IdentityEvidence> {
    Vec::new()
}
