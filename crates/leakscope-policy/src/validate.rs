//! Per-event Conversions API validation: what Meta would reject, checked one
//! event at a time so that one bad event never sinks a batch
//! (gateway-and-code-style.md §A3, wire-formats.md §3.2).

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Why one event is not acceptable to Meta.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{field}: {message}")]
pub struct Invalid {
    /// Path inside the event: `event_time`, `user_data.client_user_agent`.
    pub field: String,
    pub message: String,
}

impl Invalid {
    fn new(field: &str, message: impl Into<String>) -> Invalid {
        Invalid {
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

/// Meta's `action_source` values.
pub const ACTION_SOURCES: &[&str] = &[
    "email",
    "website",
    "app",
    "phone_call",
    "chat",
    "physical_store",
    "system_generated",
    "business_messaging",
    "other",
];

/// How far in the future `event_time` may be (clock skew between servers).
const FUTURE_SKEW_SECS: i64 = 10 * 60;
const DAY: i64 = 24 * 60 * 60;

/// Validates one event against Meta's rules, now.
pub fn validate_event(event: &Value) -> Result<(), Invalid> {
    validate_event_at(event, crate::now_unix())
}

/// Validates one event as of `now` (Unix seconds).
pub fn validate_event_at(event: &Value, now: i64) -> Result<(), Invalid> {
    let Value::Object(e) = event else {
        return Err(Invalid::new("event", "must be a JSON object"));
    };
    match e.get("event_name") {
        Some(Value::String(s)) if !s.trim().is_empty() => {}
        Some(Value::String(_)) => return Err(Invalid::new("event_name", "must not be empty")),
        Some(_) => return Err(Invalid::new("event_name", "must be a string")),
        None => return Err(Invalid::new("event_name", "is required")),
    }
    let action = match e.get("action_source") {
        Some(Value::String(s)) if ACTION_SOURCES.contains(&s.as_str()) => s.as_str(),
        Some(Value::String(s)) => {
            return Err(Invalid::new(
                "action_source",
                format!("{s:?} is not one of {}", ACTION_SOURCES.join(", ")),
            ));
        }
        Some(_) => return Err(Invalid::new("action_source", "must be a string")),
        None => return Err(Invalid::new("action_source", "is required")),
    };
    let t = match e.get("event_time") {
        Some(Value::Number(n)) => n.as_i64().ok_or_else(|| {
            Invalid::new("event_time", "must be an integer (Unix time in seconds)")
        })?,
        Some(_) => {
            return Err(Invalid::new(
                "event_time",
                "must be an integer (Unix time in seconds)",
            ));
        }
        None => return Err(Invalid::new("event_time", "is required")),
    };
    if t > now + FUTURE_SKEW_SECS {
        let hint = if t > 100_000_000_000 {
            " (milliseconds instead of seconds?)"
        } else {
            ""
        };
        return Err(Invalid::new(
            "event_time",
            format!("{t} is in the future{hint}"),
        ));
    }
    let max_days = if action == "physical_store" { 62 } else { 7 };
    if t < now - max_days * DAY {
        return Err(Invalid::new(
            "event_time",
            format!("{t} is more than {max_days} days in the past; Meta rejects it"),
        ));
    }
    let ud = match e.get("user_data") {
        Some(Value::Object(ud)) if !ud.is_empty() => ud,
        Some(Value::Object(_)) => {
            return Err(Invalid::new(
                "user_data",
                "has no customer information parameters",
            ));
        }
        Some(_) => return Err(Invalid::new("user_data", "must be an object")),
        None => return Err(Invalid::new("user_data", "is required")),
    };
    for (k, v) in ud {
        let ok = match v {
            Value::String(_) | Value::Number(_) => true,
            Value::Array(items) => items
                .iter()
                .all(|i| matches!(i, Value::String(_) | Value::Number(_))),
            _ => false,
        };
        if !ok {
            return Err(Invalid::new(
                &format!("user_data.{k}"),
                "must be a string or an array of strings",
            ));
        }
    }
    if action == "website" {
        match e.get("event_source_url") {
            Some(Value::String(s)) if !s.trim().is_empty() => {}
            Some(_) => {
                return Err(Invalid::new(
                    "event_source_url",
                    "must be a non-empty string",
                ));
            }
            None => {
                return Err(Invalid::new(
                    "event_source_url",
                    "is required for website events",
                ));
            }
        }
        if !matches!(ud.get("client_user_agent"), Some(Value::String(s)) if !s.is_empty()) {
            return Err(Invalid::new(
                "user_data.client_user_agent",
                "is required for website events",
            ));
        }
    } else if let Some(v) = e.get("event_source_url")
        && !v.is_string()
    {
        return Err(Invalid::new("event_source_url", "must be a string"));
    }
    for key in ["referrer_url"] {
        if let Some(v) = e.get(key)
            && !v.is_string()
        {
            return Err(Invalid::new(key, "must be a string"));
        }
    }
    match e.get("event_id") {
        None | Some(Value::String(_)) => {}
        Some(Value::Number(n)) if n.is_i64() || n.is_u64() => {}
        Some(_) => return Err(Invalid::new("event_id", "must be a string")),
    }
    if let Some(v) = e.get("opt_out")
        && !v.is_boolean()
    {
        return Err(Invalid::new("opt_out", "must be true or false"));
    }
    if let Some(v) = e.get("data_processing_options") {
        let ok = matches!(v, Value::Array(a) if a.iter().all(Value::is_string));
        if !ok {
            return Err(Invalid::new(
                "data_processing_options",
                "must be an array of strings, e.g. [\"LDU\"] or []",
            ));
        }
    }
    for key in [
        "data_processing_options_country",
        "data_processing_options_state",
    ] {
        if let Some(v) = e.get(key)
            && !v.as_number().is_some_and(|n| n.is_i64() || n.is_u64())
        {
            return Err(Invalid::new(key, "must be an integer"));
        }
    }
    let cd = match e.get("custom_data") {
        None => None,
        Some(Value::Object(cd)) => Some(cd),
        Some(_) => return Err(Invalid::new("custom_data", "must be an object")),
    };
    if let Some(cd) = cd {
        if let Some(v) = cd.get("value")
            && !is_amount(v)
        {
            return Err(Invalid::new("custom_data.value", "must be a number"));
        }
        if let Some(v) = cd.get("currency") {
            let ok = v
                .as_str()
                .is_some_and(|s| s.len() == 3 && s.bytes().all(|b| b.is_ascii_alphabetic()));
            if !ok {
                return Err(Invalid::new(
                    "custom_data.currency",
                    "must be a 3-letter ISO 4217 code",
                ));
            }
        }
        if let Some(v) = cd.get("contents") {
            let ok = matches!(v, Value::Array(a) if a.iter().all(Value::is_object));
            if !ok {
                return Err(Invalid::new(
                    "custom_data.contents",
                    "must be an array of objects",
                ));
            }
        }
        if let Some(v) = cd.get("content_ids") {
            let ok =
                matches!(v, Value::Array(a) if a.iter().all(|i| i.is_string() || i.is_number()));
            if !ok {
                return Err(Invalid::new(
                    "custom_data.content_ids",
                    "must be an array of strings",
                ));
            }
        }
    }
    if e.get("event_name").and_then(Value::as_str) == Some("Purchase") {
        let has = |k: &str| cd.and_then(|cd| cd.get(k)).is_some();
        if !has("value") {
            return Err(Invalid::new(
                "custom_data.value",
                "is required for Purchase events",
            ));
        }
        if !has("currency") {
            return Err(Invalid::new(
                "custom_data.currency",
                "is required for Purchase events",
            ));
        }
    }
    Ok(())
}

/// A number, or a string holding one (`"19.99"`, which sites often send).
fn is_amount(v: &Value) -> bool {
    match v {
        Value::Number(_) => true,
        Value::String(s) => s.trim().parse::<f64>().is_ok_and(f64::is_finite),
        _ => false,
    }
}

/// Meta's deduplication key: `(event_id, event_name)`, when both are present.
pub fn dedup_key(event: &Value) -> Option<(String, String)> {
    let id = match event.get("event_id")? {
        Value::String(s) if !s.is_empty() => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    let name = event.get("event_name")?.as_str()?;
    if name.is_empty() {
        return None;
    }
    Some((id, name.to_owned()))
}
