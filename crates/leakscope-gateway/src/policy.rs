//! Stand-in for leakscope-policy until its first version lands (same API
//! shape); replaced by `pub use leakscope_policy::*`.

use serde::Deserialize;
use serde_json::Value;

/// `[policy]` section.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PolicyConfig {}

/// A consent record the site posted.
#[derive(Debug, Clone, Default)]
pub struct ConsentRecord {
    /// Advertising consent granted.
    pub advertising: bool,
}

/// One field that was changed.
#[derive(Debug, Clone)]
pub struct Redaction {
    /// JSON path of the field.
    pub field: String,
    /// Rule that fired.
    pub rule: String,
}

/// Forward or block.
#[derive(Debug, Clone)]
pub enum Verdict {
    /// Send the rewritten event.
    Forward,
    /// Do not send.
    Block {
        /// Why.
        reason: String,
    },
}

/// The policy's answer for one event.
#[derive(Debug, Clone)]
pub struct Decision {
    /// Forward or block.
    pub verdict: Verdict,
    /// The rewritten event.
    pub event: Value,
    /// Fields changed.
    pub redactions: Vec<Redaction>,
    /// Notes.
    pub notes: Vec<String>,
}

/// Compile errors.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct PolicyError(String);

/// The compiled policy.
#[derive(Debug, Clone)]
pub struct Policy {}

impl Policy {
    /// Compiles a configuration.
    pub fn compile(_c: PolicyConfig) -> Result<Self, PolicyError> {
        Ok(Self {})
    }
    /// Decides for one event.
    pub fn evaluate(
        &self,
        _pixel_id: &str,
        event: &Value,
        consent: Option<&ConsentRecord>,
    ) -> Decision {
        if !consent.is_some_and(|c| c.advertising) {
            return Decision {
                verdict: Verdict::Block {
                    reason: "no_consent".into(),
                },
                event: event.clone(),
                redactions: vec![],
                notes: vec![],
            };
        }
        let mut e = event.clone();
        let mut redactions = vec![];
        if let Some(cd) = e.get_mut("custom_data").and_then(Value::as_object_mut) {
            for k in ["content_name", "search_string", "contents", "content_category"] {
                if cd.remove(k).is_some() {
                    redactions.push(Redaction {
                        field: format!("custom_data.{k}"),
                        rule: "allowlist".into(),
                    });
                }
            }
        }
        if let Some(u) = e.get("event_source_url").and_then(Value::as_str)
            && let Ok(p) = url::Url::parse(u)
        {
            let origin = p.origin().ascii_serialization();
            e["event_source_url"] = Value::String(origin + "/");
            redactions.push(Redaction {
                field: "event_source_url".into(),
                rule: "generalise_url".into(),
            });
        }
        Decision {
            verdict: Verdict::Forward,
            event: e,
            redactions,
            notes: vec![],
        }
    }
}

/// Why an event is invalid.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

/// Meta's required fields.
pub fn validate_event(e: &Value) -> Result<(), Invalid> {
    let o = e
        .as_object()
        .ok_or_else(|| Invalid("an event must be a JSON object".into()))?;
    if !o.get("event_name").is_some_and(Value::is_string) {
        return Err(Invalid("event_name is required (a string)".into()));
    }
    if !o.get("event_time").is_some_and(|t| t.is_number() || t.is_string()) {
        return Err(Invalid("event_time is required (Unix seconds)".into()));
    }
    Ok(())
}

/// (event_id, event_name).
pub fn dedup_key(e: &Value) -> Option<(String, String)> {
    Some((
        e.get("event_id")?.as_str()?.to_owned(),
        e.get("event_name")?.as_str()?.to_owned(),
    ))
}
