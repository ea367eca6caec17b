//! HAR copies without secrets: what goes into an evidence bundle. Everything
//! else in the capture is kept byte for byte in meaning (the copy still
//! decodes to the same events), and each replacement is listed.

use std::io::Read;

use leakscope_core::decode::is_secret_key;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::Error;
use crate::redact::{
    is_note, note, redact_cookie_header, redact_json_secrets, redact_set_cookie, secret_header,
    session_cookie,
};

/// One value replaced in a capture.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Redaction {
    /// HAR entry index (or line number, for JSON Lines), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry: Option<usize>,
    /// Where: `request.headers[Authorization]`, `request.url`, `request.postData.text`...
    pub location: String,
    /// What it was: `authorization header`, `session cookie sessionid`, `credential`...
    pub kind: String,
}

/// Redacts a parsed HAR in place and lists what was replaced.
pub fn redact(har: &mut Value) -> Vec<Redaction> {
    let mut out = Vec::new();
    if let Some(entries) = har
        .get_mut("log")
        .and_then(|l| l.get_mut("entries"))
        .and_then(Value::as_array_mut)
    {
        for (i, e) in entries.iter_mut().enumerate() {
            entry(e, Some(i), &mut out);
        }
    }
    if let Some(pages) = har
        .get_mut("log")
        .and_then(|l| l.get_mut("pages"))
        .and_then(Value::as_array_mut)
    {
        for p in pages {
            if let Some(Value::String(t)) = p.get_mut("title") {
                url_string(t, None, "log.pages.title", &mut out);
            }
        }
    }
    out
}

fn push(out: &mut Vec<Redaction>, entry: Option<usize>, location: String, kind: &str) {
    out.push(Redaction {
        entry,
        location,
        kind: kind.to_owned(),
    });
}

fn url_string(u: &mut String, i: Option<usize>, loc: &str, out: &mut Vec<Redaction>) {
    if let Some(r) = crate::redact::redact_url_once(u) {
        *u = r;
        push(out, i, loc.to_owned(), "credential in URL");
    }
}

fn entry(e: &mut Value, i: Option<usize>, out: &mut Vec<Redaction>) {
    if let Some(req) = e.get_mut("request") {
        if let Some(Value::String(u)) = req.get_mut("url") {
            url_string(u, i, "request.url", out);
        }
        name_values(
            req.get_mut("queryString"),
            i,
            "request.queryString",
            out,
            |n| is_secret_key(n).then_some("credential"),
        );
        headers(req.get_mut("headers"), i, "request.headers", out);
        name_values(req.get_mut("cookies"), i, "request.cookies", out, |n| {
            session_cookie(n).then_some("session cookie")
        });
        if let Some(pd) = req.get_mut("postData") {
            if let Some(Value::String(text)) = pd.get_mut("text") {
                body_text(text, i, "request.postData.text", out);
            }
            name_values(
                pd.get_mut("params"),
                i,
                "request.postData.params",
                out,
                |n| is_secret_key(n).then_some("credential"),
            );
        }
    }
    if let Some(resp) = e.get_mut("response") {
        headers(resp.get_mut("headers"), i, "response.headers", out);
        name_values(resp.get_mut("cookies"), i, "response.cookies", out, |n| {
            session_cookie(n).then_some("session cookie")
        });
        if let Some(Value::String(u)) = resp.get_mut("redirectURL") {
            url_string(u, i, "response.redirectURL", out);
        }
        if let Some(Value::String(text)) = resp.get_mut("content").and_then(|c| c.get_mut("text")) {
            // Only JSON bodies are read: login responses hand out tokens there.
            if let Ok(mut v) = serde_json::from_str::<Value>(text)
                && redact_json_secrets(&mut v) > 0
            {
                *text = v.to_string();
                push(out, i, "response.content.text".into(), "credential");
            }
        }
    }
}

/// `[{name, value}]` arrays (query strings, cookies, form params).
fn name_values(
    arr: Option<&mut Value>,
    i: Option<usize>,
    loc: &str,
    out: &mut Vec<Redaction>,
    kind_of: impl Fn(&str) -> Option<&'static str>,
) {
    let Some(Value::Array(items)) = arr else {
        return;
    };
    for it in items {
        let Some(name) = it.get("name").and_then(Value::as_str).map(str::to_owned) else {
            continue;
        };
        if let Some(kind) = kind_of(&name)
            && let Some(Value::String(v)) = it.get_mut("value")
            && !is_note(v)
        {
            *v = note(kind, v);
            push(out, i, format!("{loc}[{name}]"), kind);
        }
    }
}

fn headers(arr: Option<&mut Value>, i: Option<usize>, loc: &str, out: &mut Vec<Redaction>) {
    let Some(Value::Array(items)) = arr else {
        return;
    };
    for h in items {
        let Some(name) = h.get("name").and_then(Value::as_str).map(str::to_owned) else {
            continue;
        };
        let Some(Value::String(v)) = h.get_mut("value") else {
            continue;
        };
        let lower = name.to_ascii_lowercase();
        let mut hits = Vec::new();
        if let Some(kind) = secret_header(&name) {
            if !is_note(v) {
                *v = note(kind, v);
                hits.push(kind.to_owned());
            }
        } else if lower == "cookie" {
            *v = redact_cookie_header(v, &mut hits);
        } else if lower == "set-cookie" {
            // Chromium joins several Set-Cookie headers with newlines.
            let joined: Vec<String> = v
                .split('\n')
                .map(|c| redact_set_cookie(c, &mut hits))
                .collect();
            *v = joined.join("\n");
        } else if lower == "referer" || lower == "location" {
            url_string(v, i, &format!("{loc}[{name}]"), out);
        }
        for k in hits {
            push(out, i, format!("{loc}[{name}]"), &k);
        }
    }
}

/// A request body: JSON (CAPI) or form-encoded.
fn body_text(text: &mut String, i: Option<usize>, loc: &str, out: &mut Vec<Redaction>) {
    if let Ok(mut v) = serde_json::from_str::<Value>(text) {
        if redact_json_secrets(&mut v) > 0 {
            *text = v.to_string();
            push(out, i, loc.to_owned(), "credential");
        }
        return;
    }
    if text.contains('=') && !text.contains('\n') {
        let mut changed = false;
        let parts: Vec<String> = text
            .split('&')
            .map(|kv| match kv.split_once('=') {
                Some((k, v))
                    if is_secret_key(&leakscope_core::params::percent_decode(k)) && !is_note(v) =>
                {
                    changed = true;
                    format!("{k}={}", note("credential", v).replace(' ', "%20"))
                }
                _ => kv.to_owned(),
            })
            .collect();
        if changed {
            *text = parts.join("&");
            push(out, i, loc.to_owned(), "credential");
        }
    }
}

/// Redacts a capture file's bytes for a bundle copy: HAR (plain or gzip,
/// written back plain), JSON Lines of requests, or a URL list. Anything else
/// is refused rather than copied with secrets in it.
pub fn redact_bytes(bytes: &[u8], what: &str) -> Result<(Vec<u8>, Vec<Redaction>), Error> {
    let plain: Vec<u8> = if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut v = Vec::new();
        flate2::read::MultiGzDecoder::new(bytes)
            .read_to_end(&mut v)
            .map_err(|e| Error::io(format!("{what}: gzip"), e))?;
        v
    } else {
        bytes.to_vec()
    };
    let text = std::str::from_utf8(&plain)
        .map_err(|e| Error::invalid(what, format!("not UTF-8 text ({e}); cannot redact a copy")))?;
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    if trimmed.starts_with('{')
        && let Ok(mut v) = serde_json::from_str::<Value>(trimmed)
    {
        let mut notes = if v.get("log").is_some() {
            redact(&mut v)
        } else {
            generic(&mut v, None)
        };
        // A DevTools log or other JSON: catch credentials under any key too.
        if redact_json_secrets(&mut v) > 0 {
            push(&mut notes, None, "json".into(), "credential");
        }
        let mut out = serde_json::to_vec_pretty(&v).map_err(|source| Error::Json {
            what: what.to_owned(),
            source,
        })?;
        out.push(b'\n');
        return Ok((out, notes));
    }
    // Line-oriented: JSON Lines of requests or a URL list.
    let mut notes = Vec::new();
    let mut out = String::with_capacity(text.len());
    for (n, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.starts_with('{') {
            let mut v: Value = serde_json::from_str(t).map_err(|source| Error::Json {
                what: format!("{what}: line {}", n + 1),
                source,
            })?;
            let mut these = generic(&mut v, Some(n + 1));
            if redact_json_secrets(&mut v) > 0 {
                push(&mut these, Some(n + 1), "json".into(), "credential");
            }
            notes.extend(these);
            out.push_str(&v.to_string());
        } else {
            let mut l = line.to_owned();
            url_string(&mut l, Some(n + 1), "url", &mut notes);
            out.push_str(&l);
        }
        out.push('\n');
    }
    Ok((out.into_bytes(), notes))
}

/// Any JSON record: `{name, value}` header pairs, header maps, URL strings.
fn generic(v: &mut Value, i: Option<usize>) -> Vec<Redaction> {
    let mut out = Vec::new();
    walk(v, i, &mut out);
    out
}

fn walk(v: &mut Value, i: Option<usize>, out: &mut Vec<Redaction>) {
    match v {
        Value::Object(map) => {
            let pair_name = map.get("name").and_then(Value::as_str).map(str::to_owned);
            if let Some(name) = pair_name
                && let Some(Value::String(val)) = map.get_mut("value")
            {
                header_value(&name, val, i, out);
            }
            for (k, val) in map.iter_mut() {
                match val {
                    Value::String(s) => {
                        if k != "value" {
                            header_value(k, s, i, out);
                        }
                        if s.starts_with("http") {
                            url_string(s, i, k, out);
                        }
                    }
                    other => walk(other, i, out),
                }
            }
        }
        Value::Array(items) => {
            for it in items {
                walk(it, i, out);
            }
        }
        _ => {}
    }
}

fn header_value(name: &str, v: &mut String, i: Option<usize>, out: &mut Vec<Redaction>) {
    if is_note(v) {
        return;
    }
    let mut hits = Vec::new();
    if let Some(kind) = secret_header(name) {
        *v = note(kind, v);
        hits.push(kind.to_owned());
    } else if name.eq_ignore_ascii_case("cookie") {
        *v = redact_cookie_header(v, &mut hits);
    } else if name.eq_ignore_ascii_case("set-cookie") {
        *v = redact_set_cookie(v, &mut hits);
    }
    for k in hits {
        push(out, i, format!("header {name}"), &k);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn har() -> Value {
        serde_json::json!({"log": {"version": "1.2", "entries": [{
            "request": {
                "method": "POST",
                "url": "https://graph.facebook.com/v21.0/123/events?access_token=EAABcanary&x=1",
                "queryString": [{"name": "access_token", "value": "EAABcanary"}, {"name": "x", "value": "1"}],
                "headers": [
                    {"name": "Authorization", "value": "Bearer sk-canary-123"},
                    {"name": "Cookie", "value": "_fbp=fb.1.1.1; sessionid=canarysess"},
                    {"name": "User-Agent", "value": "Mozilla/5.0"}
                ],
                "cookies": [{"name": "sessionid", "value": "canarysess"}, {"name": "_fbp", "value": "fb.1.1.1"}],
                "postData": {"mimeType": "application/json",
                    "text": "{\"data\":[{\"event_name\":\"Purchase\"}],\"access_token\":\"EAABcanary\"}"}
            },
            "response": {"status": 200, "headers": [{"name": "Set-Cookie", "value": "auth_token=canaryauth; Path=/"}],
                "cookies": [], "content": {"text": "{\"ok\":true}"}}
        }]}})
    }

    #[test]
    fn every_secret_in_a_har_is_replaced_with_a_note() {
        let mut v = har();
        let notes = redact(&mut v);
        let text = v.to_string();
        for secret in ["EAABcanary", "sk-canary-123", "canarysess", "canaryauth"] {
            assert!(!text.contains(secret), "{secret} left in {text}");
        }
        // Evidence stays: tracker cookies, the event, other params.
        assert!(text.contains("fb.1.1.1"));
        assert!(text.contains("Purchase"));
        assert!(text.contains("&x=1"));
        assert!(text.contains("[redacted authorization header: 20 chars]"));
        let kinds: Vec<&str> = notes.iter().map(|n| n.kind.as_str()).collect();
        assert!(kinds.contains(&"authorization header"), "{kinds:?}");
        assert!(kinds.contains(&"session cookie sessionid"), "{kinds:?}");
        assert!(notes.iter().all(|n| n.entry == Some(0)));
        // Idempotent.
        let again = redact(&mut v);
        assert!(again.is_empty(), "{again:?}");
    }

    #[test]
    fn bytes_gzip_jsonl_and_url_lists() {
        let plain = serde_json::to_vec(&har()).unwrap();
        let mut gz = Vec::new();
        {
            use std::io::Write;
            let mut w = flate2::write::GzEncoder::new(&mut gz, flate2::Compression::fast());
            w.write_all(&plain).unwrap();
        }
        let (out, notes) = redact_bytes(&gz, "x.har.gz").unwrap();
        assert!(!String::from_utf8(out).unwrap().contains("sk-canary-123"));
        assert!(!notes.is_empty());

        let jsonl = "{\"url\":\"https://t.example/e?api_key=K123\",\"headers\":{\"Authorization\":\"Basic Zm9v\"}}\n";
        let (out, _) = redact_bytes(jsonl.as_bytes(), "x.jsonl").unwrap();
        let out = String::from_utf8(out).unwrap();
        assert!(!out.contains("K123") && !out.contains("Zm9v"), "{out}");

        let urls = "https://t.example/e?access_token=T0K\nhttps://t.example/ok?x=1\n";
        let (out, notes) = redact_bytes(urls.as_bytes(), "x.txt").unwrap();
        let out = String::from_utf8(out).unwrap();
        assert!(!out.contains("T0K") && out.contains("ok?x=1"), "{out}");
        assert_eq!(notes[0].entry, Some(1));

        assert!(redact_bytes(&[0xff, 0xfe, 0x00], "bin").is_err());
    }
}
