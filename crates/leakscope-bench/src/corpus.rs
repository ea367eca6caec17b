//! A small corpus loader for benchmarks: pulls requests (URL, method, body,
//! content type, headers, page URL, resource type) out of the shared corpus
//! with serde_json. Benchmark-only; the real reader is leakscope-ingest.
//!
//! This file is also compiled into leakscope-core's criterion benches (by
//! `#[path]`), so it may only use std, serde_json, flate2 and leakscope_core.

use std::fs;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use leakscope_core::{Exchange, Header, RequestBody, Source};
use serde_json::Value;

/// One request as both tools see it: a leakscope exchange, plus the page
/// (source) URL and resource type that adblock's `Request::new` wants.
#[derive(Debug, Clone)]
pub struct Req {
    pub ex: Exchange,
    pub source_url: String,
    /// adblock request type (`script`, `image`, `xhr`, `document`, ...).
    pub ty: String,
}

/// The shared corpus: `$LEAKSCOPE_CORPUS`, else `../shared/corpus` beside
/// the repository (three levels above a crate directory).
pub fn corpus_dir(manifest_dir: &str) -> PathBuf {
    match std::env::var_os("LEAKSCOPE_CORPUS") {
        Some(d) => PathBuf::from(d),
        None => Path::new(manifest_dir).join("../../../shared/corpus"),
    }
}

fn bad(e: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e.to_string())
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

fn label(dir: &Path, p: &Path) -> Arc<str> {
    p.strip_prefix(dir)
        .unwrap_or(p)
        .to_string_lossy()
        .into_owned()
        .into()
}

/// adblock-rust's `matching-test-requests.json` (8,276 requests).
pub fn brave_list(dir: &Path) -> io::Result<Vec<Req>> {
    let p = dir.join("lists/adblock-rust/matching-test-requests.json");
    let v: Value = serde_json::from_slice(&fs::read(&p)?).map_err(bad)?;
    let file = label(dir, &p);
    Ok(v.as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .enumerate()
        .map(|(i, r)| Req {
            ex: Exchange::get(Source::new(file.clone(), i as u64), s(&r["url"])),
            source_url: s(&r["sourceUrl"]).to_owned(),
            ty: s(&r["type"]).to_owned(),
        })
        .collect())
}

/// qutebrowser's `ublock-matches.tsv.gz` (30,000 requests; header
/// `url  source_url  type`).
pub fn qutebrowser_list(dir: &Path) -> io::Result<Vec<Req>> {
    let p = dir.join("lists/qutebrowser/ublock-matches.tsv.gz");
    let file = label(dir, &p);
    let r = BufReader::new(flate2::read::GzDecoder::new(fs::File::open(&p)?));
    let mut out = Vec::new();
    for (i, line) in r.lines().enumerate().skip(1) {
        let line = line?;
        let mut f = line.split('\t');
        let (Some(url), Some(src), Some(ty)) = (f.next(), f.next(), f.next()) else {
            continue;
        };
        out.push(Req {
            ex: Exchange::get(Source::new(file.clone(), i as u64), url),
            source_url: src.to_owned(),
            ty: ty.to_owned(),
        });
    }
    Ok(out)
}

/// Every HAR and Chrome DevTools log under the corpus (health, edtech,
/// general), in path order.
pub fn captures(dir: &Path) -> io::Result<Vec<Req>> {
    let mut files = Vec::new();
    for g in ["health", "edtech", "general"] {
        walk(&dir.join(g), &mut files)?;
    }
    files.sort();
    let mut out = Vec::new();
    for p in files {
        let name = p.to_string_lossy();
        let file = label(dir, &p);
        if name.ends_with(".har") {
            har(&fs::read(&p)?, &file, &mut out)?;
        } else if name.ends_with(".devtoolslog.json") || name.ends_with(".perflog.json") {
            devtools(&fs::read(&p)?, &file, &mut out)?;
        } else if name.ends_with(".devtoolslog.json.gz") {
            let mut b = Vec::new();
            flate2::read::GzDecoder::new(fs::File::open(&p)?).read_to_end(&mut b)?;
            devtools(&b, &file, &mut out)?;
        }
    }
    Ok(out)
}

fn walk(d: &Path, out: &mut Vec<PathBuf>) -> io::Result<()> {
    for e in fs::read_dir(d)? {
        let p = e?.path();
        if p.is_dir() {
            walk(&p, out)?;
        } else {
            out.push(p);
        }
    }
    Ok(())
}

/// HAR 1.2: `log.entries[].request`; page URL from `log.pages[].title` when
/// it is a URL, else the Referer.
pub fn har(bytes: &[u8], file: &Arc<str>, out: &mut Vec<Req>) -> io::Result<()> {
    let v: Value = serde_json::from_slice(bytes).map_err(bad)?;
    let pages = v["log"]["pages"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let entries = v["log"]["entries"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    for (i, e) in entries.iter().enumerate() {
        let r = &e["request"];
        let headers: Vec<Header> = r["headers"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .map(|h| Header::new(s(&h["name"]), s(&h["value"])))
            .collect();
        let pd = &r["postData"];
        let body = pd.is_object().then(|| RequestBody {
            bytes: s(&pd["text"]).as_bytes().to_vec(),
            content_type: pd["mimeType"].as_str().map(str::to_owned),
            params: pd["params"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .map(|p| (s(&p["name"]).to_owned(), s(&p["value"]).to_owned()))
                .collect(),
        });
        let pageref = s(&e["pageref"]);
        let page_url = pages
            .iter()
            .find(|p| !pageref.is_empty() && s(&p["id"]) == pageref)
            .map(|p| s(&p["title"]))
            .filter(|t| t.starts_with("http"))
            .map(str::to_owned);
        let mut ex = Exchange::get(Source::new(file.clone(), i as u64), s(&r["url"]));
        ex.method = s(&r["method"]).to_owned();
        ex.request_headers = headers;
        ex.body = body;
        ex.page_url = page_url;
        let ty = match e["_resourceType"].as_str() {
            Some(t) => adblock_type(t),
            None => type_from_mime(s(&e["response"]["content"]["mimeType"]), i == 0),
        };
        let source_url = ex
            .page_url
            .clone()
            .or_else(|| ex.header("referer").map(str::to_owned))
            .unwrap_or_else(|| ex.url.clone());
        out.push(Req { ex, source_url, ty });
    }
    Ok(())
}

/// Chrome DevTools protocol log: the `Network.requestWillBeSent` events.
pub fn devtools(bytes: &[u8], file: &Arc<str>, out: &mut Vec<Req>) -> io::Result<()> {
    let v: Value = serde_json::from_slice(bytes).map_err(bad)?;
    let events = v.as_array().map(Vec::as_slice).unwrap_or_default();
    for (i, m) in events.iter().enumerate() {
        if s(&m["method"]) != "Network.requestWillBeSent" {
            continue;
        }
        let p = &m["params"];
        let r = &p["request"];
        let headers: Vec<Header> = r["headers"]
            .as_object()
            .map(|o| o.iter().map(|(k, v)| Header::new(k, s(v))).collect())
            .unwrap_or_default();
        let mut ex = Exchange::get(Source::new(file.clone(), i as u64), s(&r["url"]));
        ex.method = s(&r["method"]).to_owned();
        if let Some(pd) = r["postData"].as_str() {
            ex.body = Some(RequestBody {
                bytes: pd.as_bytes().to_vec(),
                content_type: headers
                    .iter()
                    .find(|h| h.name.eq_ignore_ascii_case("content-type"))
                    .map(|h| h.value.clone()),
                params: Vec::new(),
            });
        }
        ex.request_headers = headers;
        ex.page_url = p["documentURL"].as_str().map(str::to_owned);
        let source_url = ex.page_url.clone().unwrap_or_else(|| ex.url.clone());
        out.push(Req {
            ex,
            source_url,
            ty: adblock_type(s(&p["type"])),
        });
    }
    Ok(())
}

/// `meta_pixel_urls.txt` (GETs) and `meta_pixel_posts.jsonl` (POSTs with
/// bodies).
pub fn meta_pixel(dir: &Path) -> io::Result<Vec<Req>> {
    let mut out = Vec::new();
    let p = dir.join("meta_pixel_urls.txt");
    let file = label(dir, &p);
    for (i, url) in fs::read_to_string(&p)?.lines().enumerate() {
        if url.is_empty() {
            continue;
        }
        out.push(Req {
            ex: Exchange::get(Source::new(file.clone(), i as u64), url),
            source_url: String::new(),
            ty: "image".into(),
        });
    }
    let p = dir.join("meta_pixel_posts.jsonl");
    let file = label(dir, &p);
    for (i, line) in fs::read_to_string(&p)?.lines().enumerate() {
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let mut ex = Exchange::get(Source::new(file.clone(), i as u64), s(&v["url"]));
        ex.method = s(&v["method"]).to_owned();
        let ct = s(&v["mime"]).to_owned();
        ex.request_headers
            .push(Header::new("Content-Type", ct.clone()));
        ex.body = Some(RequestBody {
            bytes: s(&v["body"]).as_bytes().to_vec(),
            content_type: Some(ct),
            params: Vec::new(),
        });
        out.push(Req {
            ex,
            source_url: String::new(),
            ty: "xhr".into(),
        });
    }
    Ok(out)
}

/// The decode mix: every capture request plus the Meta Pixel GETs and POSTs.
pub fn decode_mix(dir: &Path) -> io::Result<Vec<Req>> {
    let mut v = captures(dir)?;
    v.extend(meta_pixel(dir)?);
    Ok(v)
}

/// Chrome's resource type names (HAR `_resourceType`, CDP `type`) as
/// adblock's request types.
pub fn adblock_type(t: &str) -> String {
    match t.to_ascii_lowercase().as_str() {
        "document" => "document",
        "fetch" | "xhr" | "eventsource" => "xhr",
        "texttrack" | "manifest" | "other" | "" => "other",
        "subdocument" | "sub_frame" | "iframe" => "sub_frame",
        x => return x.to_owned(),
    }
    .to_owned()
}

/// A resource type guessed from the response MIME type, for HARs that do not
/// record one.
pub fn type_from_mime(mime: &str, first: bool) -> String {
    let m = mime.to_ascii_lowercase();
    let t = if m.contains("html") {
        if first { "document" } else { "sub_frame" }
    } else if m.contains("javascript") || m.contains("ecmascript") {
        "script"
    } else if m.starts_with("image/") {
        "image"
    } else if m.contains("css") {
        "stylesheet"
    } else if m.starts_with("font/") || m.contains("font") {
        "font"
    } else if m.starts_with("video/") || m.starts_with("audio/") {
        "media"
    } else if m.contains("json") || m.contains("xml") || m.starts_with("text/plain") {
        "xhr"
    } else {
        "other"
    };
    t.to_owned()
}
