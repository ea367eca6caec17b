//! Canary detector: placeholder until it lands.

use leakscope_core::{CanaryHit, Exchange};

use crate::DetectError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CanaryKind {
    Email,
    Phone,
    Name,
    Search,
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Canary {
    pub value: String,
    pub kind: CanaryKind,
}

impl Canary {
    /// A canary whose kind is read from its shape.
    pub fn new(value: impl Into<String>) -> Canary {
        let value = value.into();
        let kind = if value.contains('@') {
            CanaryKind::Email
        } else if value.chars().filter(char::is_ascii_digit).count() >= 7 {
            CanaryKind::Phone
        } else {
            CanaryKind::Search
        };
        Canary { value, kind }
    }
}

#[derive(Default)]
pub struct CanaryMatcher;

impl CanaryMatcher {
    pub fn new(_canaries: &[Canary]) -> Result<CanaryMatcher, DetectError> {
        Ok(CanaryMatcher)
    }

    pub fn is_empty(&self) -> bool {
        true
    }

    pub fn scan(&self, _ex: &Exchange) -> Vec<CanaryHit> {
        Vec::new()
    }
}
