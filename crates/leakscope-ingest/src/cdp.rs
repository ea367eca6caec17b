//! Chrome DevTools protocol logs: Lighthouse `devtoolslog` (array of `{method, params}`)
//! and chromedriver/sitespeed.io `perflog` (the same, or each record wrapped as
//! `{"message": "<json {message: {method, params}}>"}`).
//!
//! A request is a `Network.requestWillBeSent`; each redirect hop (a new
//! `requestWillBeSent` with `redirectResponse` under the same `requestId`) is its
//! own exchange. The headers actually sent (`requestWillBeSentExtraInfo`, which
//! carries the Cookie header) and the response status arrive in later records,
//! so exchanges are held until the log ends and then emitted in log order.
//! `Source.entry` is the index of the `requestWillBeSent` record. `data:` URLs
//! never reach the network and are skipped (counted, not warned).

use std::collections::HashMap;
use std::io::Read;

use base64::Engine as _;
use leakscope_core::{Exchange, Header, RequestBody, ResponseInfo, Source};
use serde_json::Value;

use crate::chunked::{Chunked, Family, Parsed, Where};
use crate::{Ctx, Format, IngestError, Position};

struct ValueF;
impl Family for ValueF {
    type T<'de> = Value;
}

#[derive(Default)]
struct State {
    hops: Vec<(Exchange, Position)>,
    /// requestId -> indices into `hops`, in hop order.
    by_id: HashMap<String, Vec<usize>>,
    /// requestId -> ExtraInfo header sets, in arrival order (one per hop).
    extra: HashMap<String, Vec<Vec<Header>>>,
}

pub(crate) fn read<R: Read>(c: &mut Chunked<R>, ctx: &mut Ctx<'_>) -> Result<(), IngestError> {
    let w = Where {
        label: ctx.label,
        format: Format::DevtoolsLog,
        entry: None,
    };
    let mut st = State::default();
    c.array(&w, |c, i| {
        let at = c.offset();
        let ew = Where {
            entry: Some(i),
            ..w
        };
        match c.value::<ValueF, _>(&ew, |v| v)? {
            Parsed::Value(v) => record(unwrap(v), i, Position::entry(i, at), &mut st, ctx),
            Parsed::Shape(msg) => ctx.skip(
                Position::entry(i, at),
                format!("unreadable record ({msg}); skipped"),
            ),
        }
        Ok(())
    })?;
    let State {
        mut hops,
        by_id,
        mut extra,
    } = st;
    for (id, idxs) in &by_id {
        if let Some(sets) = extra.remove(id) {
            for (&h, set) in idxs.iter().zip(sets) {
                merge_headers(&mut hops[h].0.request_headers, set);
            }
        }
    }
    for (ex, _) in hops {
        ctx.emit(ex);
    }
    Ok(())
}

/// The `{method, params}` inside a perflog wrapper, or the record itself.
fn unwrap(v: Value) -> Value {
    if v.get("method").is_some() {
        return v;
    }
    let Some(msg) = v.get("message") else {
        return v;
    };
    let inner = match msg {
        Value::String(s) => serde_json::from_str::<Value>(s).unwrap_or(Value::Null),
        other => other.clone(),
    };
    match inner.get("message") {
        Some(m) if m.get("method").is_some() => m.clone(),
        _ => inner,
    }
}

fn record(v: Value, i: u64, pos: Position, st: &mut State, ctx: &mut Ctx<'_>) {
    let method = v.get("method").and_then(Value::as_str).unwrap_or("");
    let Some(p) = v.get("params") else { return };
    let id = p
        .get("requestId")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    match method {
        "Network.requestWillBeSent" => {
            if let Some(rr) = p.get("redirectResponse")
                && let Some(&last) = st.by_id.get(&id).and_then(|v| v.last())
            {
                st.hops[last].0.response = Some(response(rr));
            }
            let Some(req) = p.get("request") else {
                ctx.skip(pos, "requestWillBeSent without params.request; skipped");
                return;
            };
            let Some(url) = req
                .get("url")
                .and_then(Value::as_str)
                .filter(|u| !u.is_empty())
            else {
                ctx.skip(pos, "requestWillBeSent without request.url; skipped");
                return;
            };
            if url
                .get(..5)
                .is_some_and(|p| p.eq_ignore_ascii_case("data:"))
            {
                ctx.skipped += 1;
                return;
            }
            let mut ex = Exchange::get(
                Source {
                    file: ctx.file.clone(),
                    entry: i,
                },
                url,
            );
            if let Some(m) = req
                .get("method")
                .and_then(Value::as_str)
                .filter(|m| !m.is_empty())
            {
                ex.method = m.to_string();
            }
            ex.request_headers = header_map(req.get("headers"));
            ex.body = body(req, &ex.request_headers, pos, ctx);
            ex.initiator = p.get("initiator").and_then(initiator);
            ex.page_url = str_of(p.get("documentURL"));
            ex.resource_type = str_of(p.get("type"));
            ex.timestamp = p
                .get("wallTime")
                .or_else(|| p.get("timestamp"))
                .and_then(number_text);
            st.by_id.entry(id).or_default().push(st.hops.len());
            st.hops.push((ex, pos));
        }
        "Network.requestWillBeSentExtraInfo" => {
            let mut set = header_map(p.get("headers"));
            // Cookies Chrome attached, when the headers do not show them.
            if !set.iter().any(|h| h.name.eq_ignore_ascii_case("cookie")) {
                let cookies: Vec<String> = p
                    .get("associatedCookies")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter(|c| {
                        c.get("blockedReasons")
                            .and_then(Value::as_array)
                            .is_none_or(|b| b.is_empty())
                    })
                    .filter_map(|c| {
                        let ck = c.get("cookie")?;
                        Some(format!(
                            "{}={}",
                            ck.get("name")?.as_str()?,
                            ck.get("value").and_then(Value::as_str).unwrap_or("")
                        ))
                    })
                    .collect();
                if !cookies.is_empty() {
                    set.push(Header::new("Cookie", cookies.join("; ")));
                }
            }
            st.extra.entry(id).or_default().push(set);
        }
        "Network.responseReceived" => {
            if let (Some(r), Some(&last)) =
                (p.get("response"), st.by_id.get(&id).and_then(|v| v.last()))
            {
                st.hops[last].0.response = Some(response(r));
            }
        }
        _ => {}
    }
}

fn str_of(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fn number_text(v: &Value) -> Option<String> {
    match v {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

fn header_map(v: Option<&Value>) -> Vec<Header> {
    match v {
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, v)| {
                let value = match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                Header::new(k.clone(), value)
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Adds the wire headers from ExtraInfo that the request did not show
/// (Cookie above all); HTTP/2 pseudo-headers are left out.
fn merge_headers(into: &mut Vec<Header>, extra: Vec<Header>) {
    for h in extra {
        if h.name.starts_with(':') {
            continue;
        }
        if !into.iter().any(|x| x.name.eq_ignore_ascii_case(&h.name)) {
            into.push(h);
        }
    }
}

fn response(r: &Value) -> ResponseInfo {
    ResponseInfo {
        status: r
            .get("status")
            .and_then(Value::as_u64)
            .and_then(|s| u16::try_from(s).ok())
            .unwrap_or(0),
        headers: header_map(r.get("headers")),
    }
}

fn initiator(i: &Value) -> Option<String> {
    if let Some(u) = str_of(i.get("url")) {
        return Some(u);
    }
    let mut stack = i.get("stack");
    while let Some(s) = stack {
        let top = s
            .get("callFrames")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find_map(|f| str_of(f.get("url")));
        if top.is_some() {
            return top;
        }
        stack = s.get("parent");
    }
    None
}

fn body(req: &Value, headers: &[Header], pos: Position, ctx: &mut Ctx<'_>) -> Option<RequestBody> {
    let mut bytes = None;
    if let Some(text) = req.get("postData").and_then(Value::as_str) {
        bytes = Some(text.as_bytes().to_vec());
    } else if let Some(entries) = req.get("postDataEntries").and_then(Value::as_array) {
        let mut all = Vec::new();
        for e in entries {
            if let Some(b) = e.get("bytes").and_then(Value::as_str) {
                match base64::engine::general_purpose::STANDARD.decode(b) {
                    Ok(d) => all.extend_from_slice(&d),
                    Err(err) => {
                        ctx.warn(pos, format!("postDataEntries[].bytes is not base64 ({err}); that part is left out"));
                    }
                }
            }
        }
        bytes = Some(all);
    }
    let bytes = bytes?;
    let content_type = headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("content-type"))
        .map(|h| h.value.clone());
    Some(RequestBody {
        bytes,
        content_type,
        params: Vec::new(),
    })
}
