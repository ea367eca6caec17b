//! Chrome DevTools protocol logs: Lighthouse `devtoolslog` (array of `{method, params}`)
//! and chromedriver/sitespeed.io `perflog` (the same, or each record wrapped as
//! `{"message": "<json {message: {method, params}}>"}`).
//!
//! A request is a `Network.requestWillBeSent`; each redirect hop (a new
//! `requestWillBeSent` with `redirectResponse` under the same `requestId`) is its
//! own exchange. The headers actually sent (`requestWillBeSentExtraInfo`, which
//! carries the Cookie header) and the response status arrive in later records,
//! so exchanges are held until the log ends and then emitted in log order
//! (memory grows with the number of requests, not with the log size).
//! `Source.entry` is the index of the `requestWillBeSent` record. `data:` URLs
//! never reach the network and are skipped (counted, not warned).
//!
//! Records are parsed into typed, borrowing structs that keep only the fields
//! used here; everything else (traces, response bodies, timings) is skipped unparsed.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::io::Read;

use base64::Engine as _;
use leakscope_core::{Exchange, Header, RequestBody, ResponseInfo, Source};
use serde::Deserialize;
use serde::de::{self, IgnoredAny, MapAccess, Visitor};
use serde_json::Value;

use crate::chunked::{Chunked, Family, LStr, LVec, Parsed, Where};
use crate::har::Initiator;
use crate::{Ctx, Format, IngestError, Position};

#[derive(Deserialize)]
struct Rec<'a> {
    #[serde(default, borrow)]
    method: LStr<'a>,
    #[serde(default, borrow)]
    params: Option<Params<'a>>,
    #[serde(default, borrow)]
    message: Option<Inner<'a>>,
}

/// A perflog `message`: the record as JSON text, or as an object.
enum Inner<'a> {
    Text(Cow<'a, str>),
    Obj(Box<Rec<'a>>),
    Other,
}

#[derive(Deserialize)]
struct Params<'a> {
    #[serde(default, borrow, rename = "requestId")]
    request_id: LStr<'a>,
    #[serde(default, borrow)]
    request: Option<Req<'a>>,
    #[serde(default, borrow, rename = "documentURL")]
    document_url: LStr<'a>,
    #[serde(default, borrow, rename = "type")]
    kind: LStr<'a>,
    #[serde(default, rename = "wallTime")]
    wall_time: Option<Value>,
    #[serde(default)]
    timestamp: Option<Value>,
    #[serde(default, borrow)]
    initiator: Option<Initiator<'a>>,
    #[serde(default, borrow, rename = "redirectResponse")]
    redirect_response: Option<Resp<'a>>,
    #[serde(default, borrow)]
    response: Option<Resp<'a>>,
    #[serde(default, borrow)]
    headers: HeaderMap<'a>,
    #[serde(default, borrow, rename = "associatedCookies")]
    associated_cookies: LVec<AssocCookie<'a>>,
}

#[derive(Deserialize)]
struct Req<'a> {
    #[serde(default, borrow)]
    url: LStr<'a>,
    #[serde(default, borrow)]
    method: LStr<'a>,
    #[serde(default, borrow)]
    headers: HeaderMap<'a>,
    #[serde(default, borrow, rename = "postData")]
    post_data: LStr<'a>,
    #[serde(default, borrow, rename = "postDataEntries")]
    post_data_entries: Option<LVec<PostEntry<'a>>>,
}

#[derive(Deserialize)]
struct PostEntry<'a> {
    #[serde(default, borrow)]
    bytes: LStr<'a>,
}

#[derive(Deserialize)]
struct Resp<'a> {
    #[serde(default)]
    status: Option<Value>,
    #[serde(default, borrow)]
    headers: HeaderMap<'a>,
}

#[derive(Deserialize)]
struct AssocCookie<'a> {
    #[serde(default, rename = "blockedReasons")]
    blocked_reasons: LVec<IgnoredAny>,
    #[serde(default, borrow)]
    cookie: Option<CookieKv<'a>>,
}

#[derive(Deserialize)]
struct CookieKv<'a> {
    #[serde(default, borrow)]
    name: LStr<'a>,
    #[serde(default, borrow)]
    value: LStr<'a>,
}

/// CDP headers: an object of name -> value (values that are not strings are kept as JSON text).
#[derive(Default)]
struct HeaderMap<'a>(Vec<(Cow<'a, str>, Value)>);

impl<'de: 'a, 'a> Deserialize<'de> for HeaderMap<'a> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = HeaderMap<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a header object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
                let mut v = Vec::new();
                while let Some(k) = a.next_key::<LStr<'a>>()? {
                    let val: Value = a.next_value()?;
                    if let Some(k) = k.0 {
                        v.push((k, val));
                    }
                }
                Ok(HeaderMap(v))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
                while a.next_element::<IgnoredAny>()?.is_some() {}
                Ok(HeaderMap::default())
            }
            fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
                Ok(HeaderMap::default())
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(HeaderMap::default())
            }
            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok(HeaderMap::default())
            }
            fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
                Ok(HeaderMap::default())
            }
            fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
                Ok(HeaderMap::default())
            }
            fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
                Ok(HeaderMap::default())
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

impl HeaderMap<'_> {
    fn into_headers(self) -> Vec<Header> {
        self.0
            .into_iter()
            .map(|(k, v)| Header::new(k.into_owned(), json_text(v)))
            .collect()
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Inner<'a> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Inner<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a perflog message")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Inner::Text(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Inner::Text(Cow::Owned(v.to_string())))
            }
            fn visit_map<A: MapAccess<'de>>(self, a: A) -> Result<Self::Value, A::Error> {
                let r = Rec::deserialize(de::value::MapAccessDeserializer::new(a))?;
                Ok(Inner::Obj(Box::new(r)))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
                while a.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Inner::Other)
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(Inner::Other)
            }
            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Inner::Other)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
                Ok(Inner::Other)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
                Ok(Inner::Other)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
                Ok(Inner::Other)
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

struct RecF;
impl Family for RecF {
    type T<'de> = Rec<'de>;
}

#[derive(Default)]
struct State {
    hops: Vec<Exchange>,
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
        let pos = Position::entry(i, at);
        let got = c.value::<RecF, _>(&ew, |r| dispatch(r, i, pos, &mut st, ctx, 0))?;
        if let Parsed::Shape(msg) = got {
            ctx.skip(pos, format!("unreadable record ({msg}); skipped"));
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
                merge_headers(&mut hops[h].request_headers, set);
            }
        }
    }
    for ex in hops {
        ctx.emit(ex);
    }
    Ok(())
}

/// Finds the `{method, params}` record, through perflog wrappers.
fn dispatch(r: Rec<'_>, i: u64, pos: Position, st: &mut State, ctx: &mut Ctx<'_>, depth: u8) {
    if r.method.0.is_some() || depth > 3 {
        return record(r, i, pos, st, ctx);
    }
    match r.message {
        Some(Inner::Obj(inner)) => dispatch(*inner, i, pos, st, ctx, depth + 1),
        Some(Inner::Text(text)) => match serde_json::from_str::<Rec<'_>>(&text) {
            Ok(inner) => dispatch(inner, i, pos, st, ctx, depth + 1),
            Err(e) => ctx.skip(
                pos,
                format!("perflog message is not a JSON record ({e}); skipped"),
            ),
        },
        _ => {}
    }
}

fn record(r: Rec<'_>, i: u64, pos: Position, st: &mut State, ctx: &mut Ctx<'_>) {
    let Some(p) = r.params else { return };
    let id = p.request_id.as_str().unwrap_or("").to_string();
    match r.method.as_str().unwrap_or("") {
        "Network.requestWillBeSent" => {
            if let Some(rr) = p.redirect_response
                && let Some(&last) = st.by_id.get(&id).and_then(|v| v.last())
            {
                st.hops[last].response = Some(response(rr));
            }
            let Some(req) = p.request else {
                ctx.skip(pos, "requestWillBeSent without params.request; skipped");
                return;
            };
            let Some(url) = req.url.0.filter(|u| !u.is_empty()) else {
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
                url.into_owned(),
            );
            if let Some(m) = req.method.owned().filter(|m| !m.is_empty()) {
                ex.method = m;
            }
            ex.request_headers = req.headers.into_headers();
            ex.body = body(
                req.post_data,
                req.post_data_entries,
                &ex.request_headers,
                pos,
                ctx,
            );
            ex.initiator = p.initiator.and_then(|i| i.0).map(Cow::into_owned);
            ex.page_url = p.document_url.owned().filter(|s| !s.is_empty());
            ex.resource_type = p.kind.owned().filter(|s| !s.is_empty());
            ex.timestamp = p.wall_time.or(p.timestamp).and_then(number_text);
            st.by_id.entry(id).or_default().push(st.hops.len());
            st.hops.push(ex);
        }
        "Network.requestWillBeSentExtraInfo" => {
            let mut set = p.headers.into_headers();
            // Cookies Chrome attached, when the headers do not show them.
            if !set.iter().any(|h| h.name.eq_ignore_ascii_case("cookie")) {
                let cookies: Vec<String> = p
                    .associated_cookies
                    .0
                    .into_iter()
                    .filter(|c| c.blocked_reasons.0.is_empty())
                    .filter_map(|c| {
                        let ck = c.cookie?;
                        Some(format!(
                            "{}={}",
                            ck.name.as_str()?,
                            ck.value.as_str().unwrap_or("")
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
            if let (Some(r), Some(&last)) = (p.response, st.by_id.get(&id).and_then(|v| v.last())) {
                st.hops[last].response = Some(response(r));
            }
        }
        _ => {}
    }
}

fn json_text(v: Value) -> String {
    match v {
        Value::String(s) => s,
        other => other.to_string(),
    }
}

fn number_text(v: Value) -> Option<String> {
    match v {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(s),
        _ => None,
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

fn response(r: Resp<'_>) -> ResponseInfo {
    ResponseInfo {
        status: r
            .status
            .as_ref()
            .and_then(Value::as_u64)
            .and_then(|s| u16::try_from(s).ok())
            .unwrap_or(0),
        headers: r.headers.into_headers(),
        body: None,
    }
}

fn body(
    post_data: LStr<'_>,
    entries: Option<LVec<PostEntry<'_>>>,
    headers: &[Header],
    pos: Position,
    ctx: &mut Ctx<'_>,
) -> Option<RequestBody> {
    let bytes = if let Some(text) = post_data.0 {
        text.into_owned().into_bytes()
    } else {
        let mut all = Vec::new();
        for e in entries?.0 {
            if let Some(b) = e.bytes.as_str() {
                match base64::engine::general_purpose::STANDARD.decode(b) {
                    Ok(d) => all.extend_from_slice(&d),
                    Err(err) => ctx.warn(
                        pos,
                        format!(
                            "postDataEntries[].bytes is not base64 ({err}); that part is left out"
                        ),
                    ),
                }
            }
        }
        all
    };
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
