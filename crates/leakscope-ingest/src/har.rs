//! HAR 1.2, streamed: the walker descends `{ "log": { "pages": [...], "entries": [...] } }`
//! and each entry is parsed on its own straight out of the window, keeping only
//! the fields we need (timings etc. are skipped unparsed; response bodies are
//! kept only for HTML documents, bounded, for site context).
//!
//! `page_url` comes from `log.pages[].title` when that title is a URL. Pages are
//! known only if they come before `entries` (as every HAR writer we know puts
//! them); entries read before any pages get `page_url: None`.

use std::collections::HashMap;
use std::io::Read;

use base64::Engine as _;
use leakscope_core::{Exchange, Header, RequestBody, ResponseInfo, Source};
use serde::Deserialize;

use crate::chunked::{Chunked, Family, LStr, LVec, Parsed, Where};
use crate::{Ctx, Format, IngestError, Position};

#[derive(Deserialize)]
struct Entry<'a> {
    #[serde(default, borrow)]
    pageref: LStr<'a>,
    #[serde(default, borrow, rename = "startedDateTime")]
    started: LStr<'a>,
    #[serde(borrow)]
    request: Option<Request<'a>>,
    #[serde(default, borrow)]
    response: Option<Response<'a>>,
    #[serde(default, borrow, rename = "_initiator")]
    initiator: Option<Initiator<'a>>,
    #[serde(default, borrow, rename = "_resourceType")]
    resource_type: LStr<'a>,
    /// leakscope's own HAR fields: consent state and scan step.
    #[serde(default, borrow, rename = "_consent")]
    consent: LStr<'a>,
    #[serde(default, borrow, rename = "_step")]
    step: LStr<'a>,
    #[serde(default, borrow, rename = "_frameUrl")]
    frame_url: LStr<'a>,
    /// Why the request failed: leakscope writes `_failure`, Chrome's
    /// DevTools `_error`.
    #[serde(default, borrow, rename = "_failure")]
    failure: LStr<'a>,
    #[serde(default, borrow, rename = "_error")]
    error: LStr<'a>,
}

#[derive(Deserialize)]
struct Request<'a> {
    #[serde(default, borrow)]
    method: LStr<'a>,
    #[serde(default, borrow)]
    url: LStr<'a>,
    #[serde(default, borrow)]
    headers: LVec<NameValue<'a>>,
    #[serde(default, borrow)]
    cookies: LVec<NameValue<'a>>,
    #[serde(default, borrow, rename = "postData")]
    post_data: Option<PostData<'a>>,
}

#[derive(Deserialize)]
struct NameValue<'a> {
    #[serde(default, borrow)]
    name: LStr<'a>,
    #[serde(default, borrow)]
    value: LStr<'a>,
}

#[derive(Deserialize)]
struct PostData<'a> {
    #[serde(default, borrow, rename = "mimeType")]
    mime_type: LStr<'a>,
    #[serde(default, borrow)]
    text: LStr<'a>,
    #[serde(default, borrow)]
    encoding: LStr<'a>,
    #[serde(default, borrow)]
    params: LVec<NameValue<'a>>,
}

#[derive(Deserialize)]
struct Response<'a> {
    #[serde(default)]
    status: Option<serde_json::Number>,
    #[serde(default, borrow)]
    headers: LVec<NameValue<'a>>,
    #[serde(default, borrow)]
    content: Option<Content<'a>>,
}

/// `response.content`. Its `text` is read only when the `mimeType` before
/// it (as every HAR writer we know orders them) is HTML: other bodies are
/// skipped unparsed, so ingest speed does not depend on them.
#[derive(Default)]
struct Content<'a> {
    mime_type: LStr<'a>,
    text: LStr<'a>,
    encoding: LStr<'a>,
}

impl<'de: 'a, 'a> Deserialize<'de> for Content<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::{self, IgnoredAny, MapAccess, Visitor};
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Content<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a HAR content object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
                let mut c = Content::default();
                while let Some(k) = a.next_key::<LStr<'de>>()? {
                    match k.as_str() {
                        Some("mimeType") => c.mime_type = a.next_value()?,
                        Some("encoding") => c.encoding = a.next_value()?,
                        Some("text")
                            if c.mime_type
                                .as_str()
                                .is_none_or(|m| m.to_ascii_lowercase().contains("html")) =>
                        {
                            c.text = a.next_value()?
                        }
                        _ => {
                            a.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(c)
            }
            // Anything else (a writer's stray type) is dropped, never fatal.
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Content::default())
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
                Ok(Content::default())
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Content::default())
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
                Ok(Content::default())
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
                Ok(Content::default())
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(Content::default())
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
                while a.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Content::default())
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// The HTML of a document response, bounded (`MAX_DOCUMENT_BODY`): only
/// for `text/html` content of a `document` entry (or an entry of no
/// resource type), so scripts, images and API answers are never kept.
fn document_html(content: Option<Content<'_>>, resource_type: Option<&str>) -> Option<String> {
    let c = content?;
    if !resource_type.is_none_or(|t| t.is_empty() || t.eq_ignore_ascii_case("document")) {
        return None;
    }
    let mime = c.mime_type.as_str().unwrap_or("");
    if !mime.to_ascii_lowercase().contains("html") {
        return None;
    }
    let text = c.text.0?;
    if text.is_empty() {
        return None;
    }
    let max = leakscope_core::MAX_DOCUMENT_BODY;
    let mut s = if c.encoding.as_str() == Some("base64") {
        // Decode only what the bound keeps (4 base64 chars → 3 bytes).
        let keep = (max / 3 + 1) * 4;
        let t = text.get(..keep.min(text.len())).unwrap_or(&text);
        let t = &t[..t.len() - t.len() % 4];
        let bytes = base64::engine::general_purpose::STANDARD.decode(t).ok()?;
        String::from_utf8_lossy(&bytes).into_owned()
    } else {
        text.into_owned()
    };
    if s.len() > max {
        let mut i = max;
        while !s.is_char_boundary(i) {
            i -= 1;
        }
        s.truncate(i);
    }
    Some(s)
}

/// Chrome's `_initiator` (and CDP `initiator`): a URL string (some writers) or `{type, url?, stack?}`.
pub(crate) struct Initiator<'a>(pub Option<std::borrow::Cow<'a, str>>);

#[derive(Deserialize)]
struct InitiatorObj<'a> {
    #[serde(default, borrow)]
    url: LStr<'a>,
    #[serde(default, borrow)]
    stack: Option<Stack<'a>>,
}

#[derive(Deserialize)]
struct Stack<'a> {
    #[serde(default, borrow, rename = "callFrames")]
    call_frames: LVec<Frame<'a>>,
    #[serde(default, borrow)]
    parent: Option<Box<Stack<'a>>>,
}

#[derive(Deserialize)]
struct Frame<'a> {
    #[serde(default, borrow)]
    url: LStr<'a>,
}

impl<'a> Stack<'a> {
    /// The top frame with a URL, walking to async parents when a stack is empty.
    fn top_url(self) -> Option<std::borrow::Cow<'a, str>> {
        let mut s = Some(self);
        while let Some(st) = s {
            if let Some(u) = st
                .call_frames
                .0
                .into_iter()
                .find_map(|f| f.url.0.filter(|u| !u.is_empty()))
            {
                return Some(u);
            }
            s = st.parent.map(|b| *b);
        }
        None
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Initiator<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::{self, IgnoredAny, MapAccess, Visitor};
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Initiator<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an initiator")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Initiator(Some(v.into())))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Initiator(Some(v.to_string().into())))
            }
            fn visit_map<A: MapAccess<'de>>(self, a: A) -> Result<Self::Value, A::Error> {
                let o = InitiatorObj::deserialize(de::value::MapAccessDeserializer::new(a))?;
                let url = o.url.0.filter(|u| !u.is_empty());
                Ok(Initiator(url.or_else(|| o.stack.and_then(Stack::top_url))))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
                while a.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Initiator(None))
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(Initiator(None))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Initiator(None))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
                Ok(Initiator(None))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
                Ok(Initiator(None))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
                Ok(Initiator(None))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

struct EntryF;
impl Family for EntryF {
    type T<'de> = Entry<'de>;
}

#[derive(Deserialize)]
struct Page<'a> {
    #[serde(default, borrow)]
    id: LStr<'a>,
    #[serde(default, borrow)]
    title: LStr<'a>,
}

struct PagesF;
impl Family for PagesF {
    type T<'de> = LVec<Page<'de>>;
}

pub(crate) fn read<R: Read>(c: &mut Chunked<R>, ctx: &mut Ctx<'_>) -> Result<(), IngestError> {
    let label = ctx.label;
    let w = Where {
        label,
        format: Format::Har,
        entry: None,
    };
    let mut saw_log = false;
    c.object(&w, |c, key| {
        if key == "log" && !saw_log {
            saw_log = true;
            read_log(c, ctx, &w)
        } else {
            c.skip_value(&w)
        }
    })?;
    if !saw_log {
        return Err(w.syntax(c.offset(), "no \"log\" object, so this is not a HAR"));
    }
    Ok(())
}

fn read_log<R: Read>(
    c: &mut Chunked<R>,
    ctx: &mut Ctx<'_>,
    w: &Where<'_>,
) -> Result<(), IngestError> {
    if c.peek(w)? != Some(b'{') {
        return Err(w.syntax(c.offset(), "\"log\" is not an object"));
    }
    // page id -> page URL (only titles that are URLs)
    let mut pages: HashMap<String, String> = HashMap::new();
    c.object(w, |c, key| match key {
        "pages" => {
            let at = c.offset();
            let got = c.value::<PagesF, _>(w, |list| {
                for p in list.0 {
                    if let (Some(id), Some(title)) = (p.id.owned(), p.title.owned())
                        && is_url(&title)
                    {
                        pages.insert(id, title);
                    }
                }
            })?;
            match got {
                Parsed::Value(()) => {}
                Parsed::Shape(msg) => ctx.warn(
                    Position::byte(at),
                    format!("log.pages unreadable ({msg}); page URLs unknown"),
                ),
            }
            Ok(())
        }
        "entries" => {
            if c.peek(w)? != Some(b'[') {
                return Err(w.syntax(c.offset(), "\"log.entries\" is not an array"));
            }
            c.array(w, |c, i| {
                let at = c.offset();
                let ew = Where {
                    entry: Some(i),
                    ..*w
                };
                let file = &ctx.file;
                let built = c.value::<EntryF, _>(&ew, |e| build(e, file, i, &pages))?;
                let pos = Position::entry(i, at);
                match built {
                    Parsed::Value(Ok((ex, note))) => {
                        if let Some(n) = note {
                            ctx.warn(pos, n);
                        }
                        ctx.emit(ex);
                    }
                    Parsed::Value(Err(msg)) if msg == BLOCKED_IN_BROWSER => {}
                    Parsed::Value(Err(msg)) => ctx.skip(pos, msg),
                    Parsed::Shape(msg) => {
                        ctx.skip(pos, format!("not a HAR entry ({msg}); skipped"))
                    }
                }
                Ok(())
            })
        }
        _ => c.skip_value(w),
    })
}

fn is_url(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() > 7 && b[..4].eq_ignore_ascii_case(b"http")
}

type Built = Result<(Exchange, Option<String>), String>;

/// `build`'s answer for a request the browser itself refused (an ad
/// blocker, `scan --block`): it never left, so it is no leak and no error.
const BLOCKED_IN_BROWSER: &str = "blocked in the browser";

fn blocked_in_browser(failure: Option<&str>) -> bool {
    // Refused before it was sent: by an extension or `scan --block`
    // (CLIENT), by the page's Content-Security-Policy (CSP). Not
    // ERR_BLOCKED_BY_RESPONSE: that request left, its answer was refused.
    failure.is_some_and(|f| f.contains("ERR_BLOCKED_BY_CLIENT") || f.contains("ERR_BLOCKED_BY_CSP"))
}

fn build(
    e: Entry<'_>,
    file: &std::sync::Arc<str>,
    i: u64,
    pages: &HashMap<String, String>,
) -> Built {
    if blocked_in_browser(e.failure.0.as_deref()) || blocked_in_browser(e.error.0.as_deref()) {
        return Err(BLOCKED_IN_BROWSER.into());
    }
    let Some(req) = e.request else {
        return Err("entry has no \"request\"; skipped".into());
    };
    let url = match req.url.0 {
        Some(u) if !u.is_empty() => u.into_owned(),
        _ => return Err("entry has no request.url; skipped".into()),
    };
    let mut note = None;
    let mut request_headers: Vec<Header> = headers(req.headers);
    // HAR writers that keep cookies only in request.cookies (no Cookie header)
    // would lose them; rebuild a Cookie header from them, never a second one.
    if !req.cookies.0.is_empty()
        && !request_headers
            .iter()
            .any(|h| h.name.eq_ignore_ascii_case("cookie"))
    {
        let value = req
            .cookies
            .0
            .into_iter()
            .filter_map(|c| Some(format!("{}={}", c.name.0?, c.value.as_str().unwrap_or(""))))
            .collect::<Vec<_>>()
            .join("; ");
        if !value.is_empty() {
            request_headers.push(Header::new("Cookie", value));
        }
    }
    let body = req.post_data.map(|pd| {
        let content_type = pd.mime_type.owned().filter(|m| !m.is_empty());
        let mut bytes = Vec::new();
        let mut params = Vec::new();
        match pd.text.0 {
            Some(t) if !t.is_empty() => {
                if pd
                    .encoding
                    .as_str()
                    .is_some_and(|e| e.eq_ignore_ascii_case("base64"))
                {
                    match base64::engine::general_purpose::STANDARD.decode(t.trim().as_bytes()) {
                        Ok(b) => bytes = b,
                        Err(err) => {
                            note = Some(format!(
                                "postData.text is not valid base64 ({err}); kept as captured"
                            ));
                            bytes = t.into_owned().into_bytes();
                        }
                    }
                } else {
                    bytes = t.into_owned().into_bytes();
                }
            }
            _ => {
                params = pd
                    .params
                    .0
                    .into_iter()
                    .filter_map(|p| Some((p.name.owned()?, p.value.owned().unwrap_or_default())))
                    .collect();
            }
        }
        RequestBody {
            bytes,
            content_type,
            params,
        }
    });
    let resource_type = e.resource_type.owned();
    let response = e.response.map(|r| ResponseInfo {
        status: r
            .status
            .and_then(|n| n.as_u64())
            .and_then(|n| u16::try_from(n).ok())
            .unwrap_or(0),
        headers: headers(r.headers),
        body: document_html(r.content, resource_type.as_deref()),
    });
    let page_url = e.pageref.as_str().and_then(|p| pages.get(p)).cloned();
    let ex = Exchange {
        source: Source {
            file: file.clone(),
            entry: i,
        },
        method: req
            .method
            .owned()
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| "GET".into()),
        url,
        request_headers,
        body,
        response,
        initiator: e.initiator.and_then(|i| i.0).map(|u| u.into_owned()),
        frame_url: e.frame_url.owned(),
        page_url,
        timestamp: e.started.owned(),
        resource_type,
        consent: e.consent.owned(),
        step: e.step.owned(),
    };
    Ok((ex, note))
}

fn headers(list: LVec<NameValue<'_>>) -> Vec<Header> {
    list.0
        .into_iter()
        .filter_map(|h| {
            Some(Header {
                name: h.name.owned()?,
                value: h.value.owned().unwrap_or_default(),
            })
        })
        .collect()
}
