//! Line-based formats: plain URL lists, JSON Lines of requests, TSV request lists.
//! `Source.entry` is the 0-based line index (blank and comment lines count, so
//! the index always matches the file); positions in warnings show 1-based lines.

use std::io::Read;

use leakscope_core::{Exchange, Header, RequestBody, Source};
use serde::Deserialize;

use crate::chunked::{Chunked, LStr, Where};
use crate::{Ctx, Format, IngestError, Position};

pub(crate) fn is_http(t: &[u8]) -> bool {
    let lower = |n: usize| t.get(..n).map(|p| p.to_ascii_lowercase());
    lower(7).is_some_and(|p| p == b"http://") || lower(8).is_some_and(|p| p == b"https://")
}

/// Calls `f(index, byte offset, line)` for each line (without `\n` / `\r\n`).
fn each_line<R: Read>(
    c: &mut Chunked<R>,
    w: &Where<'_>,
    mut f: impl FnMut(u64, u64, &[u8]),
) -> Result<(), IngestError> {
    let mut idx = 0u64;
    let mut searched = 0usize;
    loop {
        let found = memchr::memchr(b'\n', &c.data()[searched..]).map(|n| n + searched);
        let (len, skip) = match found {
            Some(n) => (n, n + 1),
            None => {
                searched = c.data().len();
                if c.more(w)? {
                    continue;
                }
                let n = c.data().len();
                if n == 0 {
                    return Ok(());
                }
                (n, n)
            }
        };
        searched = 0;
        let at = c.offset();
        let line = &c.data()[..len];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let line = if idx == 0 {
            line.strip_prefix(b"\xef\xbb\xbf").unwrap_or(line)
        } else {
            line
        };
        f(idx, at, line);
        c.consume(skip);
        idx += 1;
    }
}

pub(crate) fn read<R: Read>(
    c: &mut Chunked<R>,
    ctx: &mut Ctx<'_>,
    format: Format,
) -> Result<(), IngestError> {
    let w = Where {
        label: ctx.label,
        format,
        entry: None,
    };
    let mut tsv_cols: Option<(usize, Option<usize>, Option<usize>)> = None;
    each_line(c, &w, |i, at, raw| {
        let pos = Position::line(i, at);
        let Ok(line) = std::str::from_utf8(raw) else {
            ctx.skip(pos, "line is not UTF-8 text; skipped");
            return;
        };
        let t = line.trim();
        if t.is_empty() || (format != Format::JsonLines && t.starts_with('#')) {
            return;
        }
        let src = Source {
            file: ctx.file.clone(),
            entry: i,
        };
        match format {
            Format::UrlList => {
                if is_http(t.as_bytes()) {
                    ctx.emit(Exchange::get(src, t));
                } else {
                    ctx.skip(pos, "not an http(s) URL; skipped");
                }
            }
            Format::TsvList => match tsv_cols {
                None => {
                    let cols: Vec<&str> = line.split('\t').map(str::trim).collect();
                    let find = |n: &str| cols.iter().position(|c| *c == n);
                    match find("url") {
                        Some(u) => tsv_cols = Some((u, find("source_url"), find("type"))),
                        None => ctx.warn(pos, "TSV header has no \"url\" column"),
                    }
                }
                Some((u, s, ty)) => {
                    let cols: Vec<&str> = line.split('\t').collect();
                    let get = |k: Option<usize>| {
                        k.and_then(|k| cols.get(k))
                            .map(|v| v.trim())
                            .filter(|v| !v.is_empty())
                            .map(str::to_string)
                    };
                    match get(Some(u)) {
                        Some(url) if url.contains("://") => {
                            let mut ex = Exchange::get(src, url);
                            ex.page_url = get(s);
                            ex.resource_type = get(ty);
                            ctx.emit(ex);
                        }
                        _ => ctx.skip(pos, "no URL in the url column; skipped"),
                    }
                }
            },
            Format::JsonLines => match json_line(t, src) {
                Ok(ex) => ctx.emit(ex),
                Err(msg) => ctx.skip(pos, msg),
            },
            _ => {}
        }
    })
}

#[derive(Deserialize)]
struct JLine<'a> {
    #[serde(default, borrow)]
    method: LStr<'a>,
    #[serde(default, borrow)]
    url: LStr<'a>,
    #[serde(default, borrow)]
    body: LStr<'a>,
    #[serde(default, borrow)]
    mime: LStr<'a>,
    #[serde(default)]
    headers: Option<serde_json::Value>,
}

fn json_line(t: &str, src: Source) -> Result<Exchange, String> {
    let j: JLine<'_> =
        serde_json::from_str(t).map_err(|e| format!("not a JSON request object ({e}); skipped"))?;
    let url = j
        .url
        .owned()
        .filter(|u| !u.is_empty())
        .ok_or("request has no \"url\"; skipped")?;
    let mut ex = Exchange::get(src, url);
    ex.request_headers = match j.headers {
        Some(serde_json::Value::Object(m)) => m
            .into_iter()
            .map(|(k, v)| Header::new(k, json_text(v)))
            .collect(),
        Some(serde_json::Value::Array(a)) => a
            .into_iter()
            .filter_map(|h| {
                let name = h.get("name")?.as_str()?.to_string();
                let value = h.get("value").cloned().map(json_text).unwrap_or_default();
                Some(Header::new(name, value))
            })
            .collect(),
        _ => Vec::new(),
    };
    let has_body = j.body.0.is_some();
    ex.body = j.body.owned().map(|b| RequestBody {
        bytes: b.into_bytes(),
        content_type: j.mime.owned(),
        params: Vec::new(),
    });
    ex.method = j
        .method
        .owned()
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| if has_body { "POST" } else { "GET" }.into());
    Ok(ex)
}

fn json_text(v: serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    }
}
