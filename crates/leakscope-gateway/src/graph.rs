//! Graph API shapes: success bodies, error envelopes (what clients get from
//! us, and what we read from upstream), trace ids.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rand::Rng;
use serde::Serialize;
use serde_json::{Value, json};

/// A trace id shaped like Meta's `fbtrace_id` (the gateway's own, for
/// matching a client's response to log lines and audit records).
pub fn trace_id() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
    let mut rng = rand::thread_rng();
    let mut s = String::with_capacity(23);
    s.push('A');
    for _ in 0..22 {
        s.push(ALPHABET[rng.gen_range(0..ALPHABET.len())] as char);
    }
    s
}

/// Meta's success body.
#[derive(Debug, Serialize)]
pub struct EventsResponse {
    /// Events taken (blocked ones included: they were received and decided).
    pub events_received: usize,
    /// Notes for the integrator.
    pub messages: Vec<String>,
    /// The gateway's trace id.
    pub fbtrace_id: String,
}

/// An error answered in Meta's envelope.
#[derive(Debug, Clone)]
pub struct GraphError {
    /// HTTP status.
    pub status: StatusCode,
    /// Human message naming what and where.
    pub message: String,
    /// `OAuthException` or `GraphMethodException`.
    pub kind: &'static str,
    /// Graph error code.
    pub code: u32,
    /// Graph error subcode.
    pub subcode: Option<u32>,
    /// Extra headers (Retry-After).
    pub retry_after: Option<u64>,
    /// Trace id.
    pub fbtrace_id: String,
}

impl GraphError {
    fn new(status: StatusCode, kind: &'static str, code: u32, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            kind,
            code,
            subcode: None,
            retry_after: None,
            fbtrace_id: trace_id(),
        }
    }
    /// Code 100: invalid parameter (malformed, oversized, wrongly typed).
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "OAuthException", 100, message)
    }
    /// Code 100 / 33: unknown object (bad pixel id or path).
    pub fn unsupported(message: impl Into<String>) -> Self {
        let mut e = Self::new(
            StatusCode::BAD_REQUEST,
            "GraphMethodException",
            100,
            message,
        );
        e.subcode = Some(33);
        e
    }
    /// Code 190: missing or unknown gateway key.
    pub fn auth(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "OAuthException", 190, message)
    }
    /// Code 200: a key not allowed for this pixel.
    pub fn permission(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "OAuthException", 200, message)
    }
    /// Code 4 with HTTP 429 (queue full) or code 2 with 503 (too many
    /// requests in flight, store down): transient, retry later.
    pub fn overloaded(status: StatusCode, message: impl Into<String>, retry_after: u64) -> Self {
        let code = if status == StatusCode::TOO_MANY_REQUESTS {
            4
        } else {
            2
        };
        let mut e = Self::new(status, "OAuthException", code, message);
        e.retry_after = Some(retry_after);
        e
    }
    /// The JSON envelope.
    pub fn body(&self) -> Value {
        let mut err = json!({
            "message": self.message,
            "type": self.kind,
            "code": self.code,
            "fbtrace_id": self.fbtrace_id,
        });
        if let Some(s) = self.subcode {
            err["error_subcode"] = json!(s);
        }
        err["is_transient"] = json!(self.retry_after.is_some());
        json!({ "error": err })
    }
}

impl IntoResponse for GraphError {
    fn into_response(self) -> Response {
        let body = self.body();
        let mut r = (self.status, axum::Json(body)).into_response();
        if let Some(s) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&s.to_string())
        {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        r
    }
}

/// How an upstream answer is handled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpstreamOutcome {
    /// 2xx: delivered.
    Delivered {
        /// Meta's trace id, kept in the audit log.
        fbtrace_id: Option<String>,
    },
    /// Retry later (timeouts, 429, 5xx, transient Graph codes, auth during rotation).
    Retry {
        /// What happened (no secrets: built from status and Graph code only).
        reason: String,
        /// Throttled: the worker also pauses.
        throttled: bool,
    },
    /// The request is invalid: never retried as is (a batch is split to find the bad event).
    Invalid {
        /// What Meta said (message, code, subcode).
        reason: String,
    },
}

/// Graph codes that mean "try again later" (wire-formats.md §3.4,
/// gateway-and-code-style.md §A2: RudderStack's map).
const TRANSIENT_CODES: &[u64] = &[1, 2, 341, 368, 5000, 21009];
/// Throttling codes.
const THROTTLE_CODES: &[u64] = &[4, 17, 32, 80003, 613];
/// Auth and permission codes: a configuration problem (token rotation), not
/// a bad event; retried so nothing is dropped while an operator fixes it.
const AUTH_CODES: &[u64] = &[190, 102, 10, 200];

/// Classifies an upstream HTTP answer.
pub fn classify(status: u16, body: &[u8]) -> UpstreamOutcome {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    if (200..300).contains(&status) {
        return UpstreamOutcome::Delivered {
            fbtrace_id: parsed
                .as_ref()
                .and_then(|v| v.get("fbtrace_id"))
                .and_then(Value::as_str)
                .map(|s| s.chars().take(64).collect()),
        };
    }
    let err = parsed.as_ref().and_then(|v| v.get("error"));
    let code = err.and_then(|e| e.get("code")).and_then(Value::as_u64);
    let subcode = err
        .and_then(|e| e.get("error_subcode"))
        .and_then(Value::as_u64);
    let transient_flag = err
        .and_then(|e| e.get("is_transient"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    // Meta's message can echo request values; keep only a bounded, single-line
    // prefix and never the token (we never send it in the URL, and the body
    // carries it only as a field Meta does not echo).
    let message: String = err
        .and_then(|e| e.get("message"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect();
    let reason = match (code, subcode) {
        (Some(c), Some(s)) => format!("HTTP {status}, Graph code {c}/{s}: {message}"),
        (Some(c), None) => format!("HTTP {status}, Graph code {c}: {message}"),
        _ => format!("HTTP {status}"),
    };
    if let Some(c) = code {
        if THROTTLE_CODES.contains(&c) {
            return UpstreamOutcome::Retry {
                reason,
                throttled: true,
            };
        }
        if TRANSIENT_CODES.contains(&c) || AUTH_CODES.contains(&c) || transient_flag {
            return UpstreamOutcome::Retry {
                reason,
                throttled: false,
            };
        }
    }
    match status {
        429 => UpstreamOutcome::Retry {
            reason,
            throttled: true,
        },
        408 | 500 | 502..=599 => UpstreamOutcome::Retry {
            reason,
            throttled: false,
        },
        400..=499 if code.is_some() => UpstreamOutcome::Invalid { reason },
        // A 4xx without a Graph envelope (a proxy's HTML page, 404 from a
        // wrong base URL) is not proof the event is bad: retry.
        _ => UpstreamOutcome::Retry {
            reason,
            throttled: false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_meta_answers() {
        assert!(matches!(
            classify(200, br#"{"events_received":1,"fbtrace_id":"Ax"}"#),
            UpstreamOutcome::Delivered { fbtrace_id: Some(t) } if t == "Ax"
        ));
        let bad = br#"{"error":{"message":"Invalid parameter","type":"OAuthException","code":100,"error_subcode":2804003}}"#;
        assert!(matches!(
            classify(400, bad),
            UpstreamOutcome::Invalid { .. }
        ));
        let throttled = br#"{"error":{"message":"(#17) User request limit reached","code":17}}"#;
        assert!(matches!(
            classify(400, throttled),
            UpstreamOutcome::Retry {
                throttled: true,
                ..
            }
        ));
        assert!(matches!(
            classify(500, br#"{"error":{"code":2,"message":"temporary"}}"#),
            UpstreamOutcome::Retry {
                throttled: false,
                ..
            }
        ));
        assert!(matches!(
            classify(503, b"<html>"),
            UpstreamOutcome::Retry { .. }
        ));
        assert!(matches!(
            classify(429, b""),
            UpstreamOutcome::Retry {
                throttled: true,
                ..
            }
        ));
        assert!(matches!(
            classify(404, b"not found"),
            UpstreamOutcome::Retry { .. }
        ));
    }

    #[test]
    fn trace_ids_look_like_meta_s() {
        let t = trace_id();
        assert_eq!(t.len(), 23);
        assert!(t.starts_with('A'));
    }
}
