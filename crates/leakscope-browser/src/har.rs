//! HAR 1.2 writer for captured requests.
//!
//! Standard fields plus the custom ones leakscope-ingest reads back
//! (`_initiator`, `_resourceType`, `_consent`, `_step`, `_frameUrl`) and a few
//! more for people (`_targetType`, `_failure`, `_unfinished`,
//! `_postDataTruncated`). Bodies that are not UTF-8 are written base64 with
//! `postData.encoding: "base64"`, which leakscope-ingest decodes.
//! `Authorization`-like header values and credential query values are
//! redacted: a HAR is an output and may be shared.

use std::io::Write;
use std::path::Path;

use base64::Engine as _;
use leakscope_core::decode::{is_secret_key, redact_url};
use leakscope_core::scan::BrowserInfo;
use serde_json::{Map, Value, json};

use crate::Captured;

/// `2026-04-01T12:00:00.123Z` for seconds since the Unix epoch.
pub fn iso_time(secs: f64) -> String {
    let secs = if secs.is_finite() && secs > 0.0 {
        secs
    } else {
        0.0
    };
    leakscope_core::time::rfc3339_millis((secs * 1000.0).round() as i64)
}

fn redact_header(name: &str, value: &str) -> String {
    if is_secret_key(name) || name.eq_ignore_ascii_case("proxy-authorization") {
        leakscope_core::decode::meta::redacted(value)
    } else {
        value.to_owned()
    }
}

fn name_values(list: &[(String, String)]) -> Vec<Value> {
    list.iter()
        .map(|(n, v)| json!({"name": n, "value": redact_header(n, v)}))
        .collect()
}

fn query_string(url: &str) -> Vec<Value> {
    let Some((_, q)) = url.split_once('?') else {
        return Vec::new();
    };
    let q = q.split('#').next().unwrap_or("");
    q.split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            json!({"name": k, "value": v})
        })
        .collect()
}

/// Builds the HAR document. Pages are the distinct top-level page URLs.
pub fn to_har(captured: &[Captured], browser: &BrowserInfo) -> Value {
    let mut pages: Vec<(String, f64)> = Vec::new();
    for c in captured {
        if let Some(p) = &c.page_url
            && !pages.iter().any(|(u, _)| u == p)
        {
            pages.push((p.clone(), c.wall_time));
        }
    }
    let page_id = |url: &str| pages.iter().position(|(u, _)| u == url);
    let pages_json: Vec<Value> = pages
        .iter()
        .enumerate()
        .map(|(i, (u, t))| {
            json!({"startedDateTime": iso_time(*t), "id": format!("page_{}", i + 1),
                   "title": redact_url(u), "pageTimings": {}})
        })
        .collect();
    let entries: Vec<Value> = captured
        .iter()
        .map(|c| entry(c, c.page_url.as_deref().and_then(page_id)))
        .collect();
    let version = browser
        .product
        .split_once('/')
        .map(|(_, v)| v)
        .unwrap_or("");
    json!({"log": {
        "version": "1.2",
        "creator": {"name": "leakscope", "version": env!("CARGO_PKG_VERSION")},
        "browser": {"name": "Chromium", "version": version},
        "pages": pages_json,
        "entries": entries,
    }})
}

fn entry(c: &Captured, page: Option<usize>) -> Value {
    let url = redact_url(&c.url).into_owned();
    let mut req = Map::new();
    req.insert("method".into(), json!(c.method));
    req.insert("url".into(), json!(url));
    req.insert("httpVersion".into(), json!("HTTP/1.1"));
    req.insert("cookies".into(), json!(name_values(&c.cookies)));
    req.insert("headers".into(), json!(name_values(&c.request_headers)));
    req.insert("queryString".into(), json!(query_string(&url)));
    req.insert("headersSize".into(), json!(-1));
    req.insert(
        "bodySize".into(),
        json!(c.body.as_ref().map(|b| b.len() as i64).unwrap_or(0)),
    );
    if let Some(b) = &c.body {
        let mime = c.header("content-type").unwrap_or("");
        let pd = match std::str::from_utf8(b) {
            Ok(t) => json!({"mimeType": mime, "text": t}),
            Err(_) => json!({"mimeType": mime, "encoding": "base64",
                             "text": base64::engine::general_purpose::STANDARD.encode(b)}),
        };
        req.insert("postData".into(), pd);
    }
    let resp = match &c.response {
        Some(r) => json!({
            "status": r.status, "statusText": r.status_text, "httpVersion": "HTTP/1.1",
            "cookies": [], "headers": name_values(&r.headers),
            "content": {"size": 0, "mimeType": r.mime_type.clone().unwrap_or_default()},
            "redirectURL": r.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case("location"))
                .map(|(_, v)| v.as_str()).unwrap_or(""),
            "headersSize": -1, "bodySize": -1,
        }),
        // HAR has no "no response": status 0, as browsers write for failures.
        None => json!({
            "status": 0, "statusText": "", "httpVersion": "", "cookies": [], "headers": [],
            "content": {"size": 0, "mimeType": ""}, "redirectURL": "", "headersSize": -1, "bodySize": -1,
        }),
    };
    let mut e = Map::new();
    if let Some(i) = page {
        e.insert("pageref".into(), json!(format!("page_{}", i + 1)));
    }
    e.insert("startedDateTime".into(), json!(iso_time(c.wall_time)));
    e.insert("time".into(), json!(c.duration_ms.unwrap_or(0.0)));
    e.insert("request".into(), Value::Object(req));
    e.insert("response".into(), resp);
    e.insert("cache".into(), json!({}));
    e.insert(
        "timings".into(),
        json!({"send": 0, "wait": c.duration_ms.unwrap_or(0.0), "receive": 0}),
    );
    if let Some(i) = &c.initiator {
        let mut o = Map::new();
        o.insert("type".into(), json!(i.kind));
        if let Some(u) = &i.url {
            o.insert("url".into(), json!(redact_url(u)));
        }
        if let Some(l) = i.line {
            o.insert("lineNumber".into(), json!(l));
        }
        e.insert("_initiator".into(), Value::Object(o));
    }
    let opt = |e: &mut Map<String, Value>, k: &str, v: &Option<String>| {
        if let Some(v) = v {
            e.insert(k.into(), json!(v));
        }
    };
    opt(&mut e, "_resourceType", &c.resource_type);
    opt(&mut e, "_consent", &c.consent);
    opt(&mut e, "_step", &c.step);
    opt(
        &mut e,
        "_frameUrl",
        &c.frame_url.as_deref().map(|u| redact_url(u).into_owned()),
    );
    if let Some(t) = c.target_type {
        e.insert("_targetType".into(), json!(t.as_str()));
    }
    opt(&mut e, "_failure", &c.failure);
    opt(&mut e, "_redirectedFrom", &c.redirected_from);
    if !c.finished {
        e.insert("_unfinished".into(), json!(true));
    }
    if c.body_truncated {
        e.insert("_postDataTruncated".into(), json!(true));
    }
    if c.body_unavailable {
        e.insert("_postDataUnavailable".into(), json!(true));
    }
    Value::Object(e)
}

/// Writes the HAR to `path` (pretty-printed).
pub fn write_har(path: &Path, captured: &[Captured], browser: &BrowserInfo) -> std::io::Result<()> {
    let har = to_har(captured, browser);
    let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
    serde_json::to_writer_pretty(&mut f, &har)?;
    f.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_time_is_utc_with_millis() {
        assert_eq!(iso_time(0.0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso_time(1_709_251_199.5), "2024-02-29T23:59:59.500Z");
        assert_eq!(iso_time(f64::NAN), "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn binary_bodies_go_base64_and_secrets_are_redacted() {
        let c = Captured {
            method: "POST".into(),
            url: "https://graph.facebook.com/v19.0/1/events?access_token=EAAB123secret".into(),
            request_headers: vec![
                ("Authorization".into(), "Bearer abc.def".into()),
                ("Content-Type".into(), "application/octet-stream".into()),
            ],
            body: Some(vec![0xff, 0x00, 0x10]),
            consent: Some("rejected".into()),
            step: Some("2-submit".into()),
            ..Captured::default()
        };
        let har = to_har(&[c], &BrowserInfo::default());
        let e = &har["log"]["entries"][0];
        assert_eq!(e["request"]["postData"]["encoding"], "base64");
        assert_eq!(e["request"]["postData"]["text"], "/wAQ");
        assert_eq!(e["_consent"], "rejected");
        assert_eq!(e["_step"], "2-submit");
        let s = har.to_string();
        assert!(!s.contains("EAAB123secret"), "{s}");
        assert!(!s.contains("abc.def"), "{s}");
    }
}
