//! What `Policy::evaluate` returns, and the consent a site can post ahead.

use leakscope_detect::HealthCategory;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The outcome for one event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    pub verdict: Verdict,
    /// The rewritten event to forward; an empty object when blocked.
    pub event: Value,
    /// Every change made, in order. Never holds a value, only where and why.
    pub redactions: Vec<Redaction>,
    /// Human-readable remarks (consent source, LDU injected, ...), no values.
    pub notes: Vec<String>,
}

impl Decision {
    /// True when the event may be sent upstream.
    pub fn is_forward(&self) -> bool {
        matches!(self.verdict, Verdict::Forward)
    }
}

/// Forward (the rewritten event) or block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    Forward,
    Block { reason: BlockReason },
}

/// Why an event was blocked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BlockReason {
    /// No positive advertising consent (or an explicit denial, or `opt_out`).
    NoConsent,
    /// Health information in `field`, and the policy says block.
    Health {
        category: HealthCategory,
        field: String,
    },
    /// Meta would reject the event (see `validate_event`).
    Invalid { field: String, message: String },
    /// A value the policy forbids sending (`reject_plaintext`).
    Forbidden { field: String },
}

impl std::fmt::Display for BlockReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BlockReason::NoConsent => f.write_str("no advertising consent"),
            BlockReason::Health { category, field } => {
                write!(f, "health information ({}) in {field}", category.as_str())
            }
            BlockReason::Invalid { field, message } => write!(f, "invalid {field}: {message}"),
            BlockReason::Forbidden { field } => write!(f, "{field} must not be sent"),
        }
    }
}

/// One change to the event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Redaction {
    /// Path in the event: `custom_data.contents[0].title`, `user_data.em`.
    pub field: String,
    pub action: RedactionAction,
    /// The health category that caused it, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<HealthCategory>,
}

/// What was done to a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RedactionAction {
    /// Removed because it carried health information.
    Redacted,
    /// Removed by rule: not allowlisted, unknown, gateway-only, unusable.
    Dropped,
    /// A URL reduced to its origin or page type.
    Generalized,
    /// A plaintext identifier replaced by its normalised SHA-256.
    Hashed,
}

/// Consent a site posted for a user before (the gateway stores it, keyed by
/// `external_id`, `fbp` or hashed email, and passes it to `evaluate`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentRecord {
    /// True: the user agreed to advertising use of their data.
    pub advertising: bool,
    /// When the user decided (Unix seconds).
    pub at: i64,
    /// Where it came from: the CMP, `site-post`, ...
    pub source: String,
}
