//! Secrets out of every output. The engine already redacts credentials in
//! request URLs and raw fields; this pass repeats that over whole results
//! (documents read back from disk included) and adds what only headers and
//! cookies carry: `Authorization`, `Access-Token`, session and login cookies.
//! A redacted value becomes a note of its kind and length, so a reader knows
//! one was there.

use leakscope_core::decode::{is_secret_key, redact_raw_secrets, redact_url};
use serde_json::Value;

use crate::Results;

/// Headers whose whole value is a credential, with the kind the note names.
const SECRET_HEADERS: &[(&str, &str)] = &[
    ("authorization", "authorization header"),
    ("proxy-authorization", "authorization header"),
    ("access-token", "access token"),
    ("x-access-token", "access token"),
    ("x-auth-token", "access token"),
    ("x-api-key", "api key"),
    ("api-key", "api key"),
    ("x-csrf-token", "csrf token"),
    ("x-xsrf-token", "csrf token"),
];

/// The kind of credential a header carries, if its whole value is one.
pub fn secret_header(name: &str) -> Option<&'static str> {
    let n = name.trim();
    SECRET_HEADERS
        .iter()
        .find(|(h, _)| h.eq_ignore_ascii_case(n))
        .map(|(_, k)| *k)
}

/// True for cookies that hold a session or login (they let anyone holding
/// them act as the person). Tracker ids (`_fbp`, `_ga`, `c_user`) are not
/// credentials and stay: they are the identity evidence.
pub fn session_cookie(name: &str) -> bool {
    let n = name.trim().to_ascii_lowercase();
    const EXACT: &[&str] = &[
        "xs",
        "sid",
        "ssid",
        "hsid",
        "apisid",
        "sapisid",
        "ci_session",
    ];
    const PARTS: &[&str] = &[
        "sess", "auth", "token", "login", "jwt", "remember", "csrf", "xsrf", "secret", "passw",
    ];
    EXACT.contains(&n.as_str())
        || n.ends_with(".sid")
        || n.ends_with("_sid")
        || n.ends_with("sessid")
        || PARTS.iter().any(|p| n.contains(p))
}

/// `[redacted KIND: N chars]`: says a value was there and what it was.
pub fn note(kind: &str, value: &str) -> String {
    format!("[redacted {kind}: {} chars]", value.chars().count())
}

pub(crate) fn is_note(v: &str) -> bool {
    v.starts_with("[redacted")
}

/// A `Cookie` header with session cookies' values replaced; the kinds of
/// what was replaced are pushed to `hits`.
pub fn redact_cookie_header(value: &str, hits: &mut Vec<String>) -> String {
    value
        .split(';')
        .map(|pair| match pair.split_once('=') {
            Some((k, v)) if session_cookie(k) && !is_note(v.trim()) => {
                hits.push(format!("session cookie {}", k.trim()));
                format!("{k}={}", note("session cookie", v.trim()))
            }
            _ => pair.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(";")
}

/// A `Set-Cookie` header with a session cookie's value replaced.
pub fn redact_set_cookie(value: &str, hits: &mut Vec<String>) -> String {
    let (first, attrs) = value.split_once(';').unwrap_or((value, ""));
    match first.split_once('=') {
        Some((k, v)) if session_cookie(k) && !is_note(v.trim()) => {
            hits.push(format!("session cookie {}", k.trim()));
            let mut out = format!("{k}={}", note("session cookie", v.trim()));
            if !attrs.is_empty() {
                out.push(';');
                out.push_str(attrs);
            }
            out
        }
        _ => value.to_owned(),
    }
}

/// Redacts values under credential keys anywhere in a JSON value (CAPI bodies
/// carry `access_token`). Returns how many were replaced.
pub fn redact_json_secrets(v: &mut Value) -> usize {
    match v {
        Value::Object(map) => {
            let mut n = 0;
            for (k, val) in map.iter_mut() {
                let kind = secret_header(k).or(is_secret_key(k).then_some("credential"));
                match (kind, &*val) {
                    (Some(kind), Value::String(s)) if !is_note(s) => {
                        *val = Value::String(note(kind, s));
                        n += 1;
                    }
                    (Some(kind), Value::Number(num)) => {
                        *val = Value::String(note(kind, &num.to_string()));
                        n += 1;
                    }
                    _ => n += redact_json_secrets(val),
                }
            }
            n
        }
        Value::Array(items) => items.iter_mut().map(redact_json_secrets).sum(),
        _ => 0,
    }
}

/// Raw fields whose key names a header or cookie (`header:authorization`,
/// `cookie:sessionid`) get the same treatment as HAR headers.
fn redact_raw_headers(raw: &mut [(String, String)]) {
    for (k, v) in raw.iter_mut() {
        if is_note(v) {
            continue;
        }
        let lower = k.to_ascii_lowercase();
        if let Some(name) = lower.strip_prefix("header:") {
            if let Some(kind) = secret_header(name) {
                *v = note(kind, v);
            } else if name == "cookie" {
                *v = redact_cookie_header(v, &mut Vec::new());
            }
        } else if let Some(name) = lower.strip_prefix("cookie:")
            && session_cookie(name)
        {
            *v = note("session cookie", v);
        }
    }
}

/// `redact_url`, but a URL whose credentials are all notes already is left
/// alone (redacting a note again would lose the original length).
pub fn redact_url_once(u: &str) -> Option<String> {
    let std::borrow::Cow::Owned(r) = redact_url(u) else {
        return None;
    };
    let query = u.split_once('?').map(|(_, q)| q).unwrap_or("");
    let query = query.split('#').next().unwrap_or("");
    let fresh = query.split('&').any(|kv| match kv.split_once('=') {
        Some((k, v)) => {
            is_secret_key(&leakscope_core::params::percent_decode(k))
                && !is_note(&leakscope_core::params::percent_decode(v))
        }
        None => false,
    });
    fresh.then_some(r)
}

fn url(u: &mut String) {
    if let Some(r) = redact_url_once(u) {
        *u = r;
    }
}

fn opt_url(u: &mut Option<String>) {
    if let Some(u) = u {
        url(u);
    }
}

/// Redacts every credential the results could carry. Idempotent.
pub fn results(r: &mut Results) {
    for e in &mut r.events {
        url(&mut e.request_url);
        opt_url(&mut e.page_url);
        opt_url(&mut e.referrer);
        opt_url(&mut e.ui.destination);
        for t in &mut e.twins {
            url(&mut t.request_url);
        }
        redact_raw_secrets(&mut e.raw);
        redact_raw_headers(&mut e.raw);
        for v in e.custom_data.values_mut() {
            redact_json_secrets(v);
        }
        for (k, v) in e.custom_data.iter_mut() {
            if is_secret_key(k)
                && let Value::String(s) = v
                && !is_note(s)
            {
                *v = Value::String(note("credential", s));
            }
        }
    }
    for f in &mut r.findings {
        url(&mut f.request_url);
        opt_url(&mut f.page_url);
    }
    if let Some(scan) = &mut r.scan {
        for run in &mut scan.runs {
            for s in &mut run.steps {
                url(&mut s.url);
            }
            for e in &mut run.errors {
                url(&mut e.url);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_cookies_go_tracker_ids_stay() {
        let mut hits = Vec::new();
        let out = redact_cookie_header(
            "_fbp=fb.1.2.3; sessionid=abc123; c_user=1000; xs=44%3Asecret; _ga=GA1.1.2.3",
            &mut hits,
        );
        assert_eq!(
            out,
            "_fbp=fb.1.2.3; sessionid=[redacted session cookie: 6 chars]; c_user=1000; \
             xs=[redacted session cookie: 11 chars]; _ga=GA1.1.2.3"
        );
        assert_eq!(hits.len(), 2);
        // Idempotent: a second pass changes nothing.
        assert_eq!(redact_cookie_header(&out, &mut hits), out);
    }

    #[test]
    fn set_cookie_keeps_attributes() {
        let out = redact_set_cookie("PHPSESSID=zz9; Path=/; HttpOnly", &mut Vec::new());
        assert_eq!(
            out,
            "PHPSESSID=[redacted session cookie: 3 chars]; Path=/; HttpOnly"
        );
    }

    #[test]
    fn json_access_tokens_are_replaced_at_any_depth() {
        let mut v = serde_json::json!({"data":[{"event_name":"Purchase"}],
            "access_token":"EAAB-canary-token","nested":{"Authorization":"Bearer x"}});
        assert_eq!(redact_json_secrets(&mut v), 2);
        assert_eq!(v["access_token"], "[redacted credential: 17 chars]");
        assert_eq!(
            v["nested"]["Authorization"],
            "[redacted authorization header: 8 chars]"
        );
        assert_eq!(v["data"][0]["event_name"], "Purchase");
    }
}
