//! Request bodies: peel transport encodings, sniff the format, split
//! multipart. Pure functions over bytes; every decompression is size-capped
//! because bodies are hostile.

use std::borrow::Cow;
use std::io::Read;

use base64::Engine as _;

use crate::params::Params;

/// Decompressed bodies larger than this are cut (and the cut is recorded).
pub const MAX_INFLATED: usize = 16 << 20;

/// How a body's fields are laid out once encodings are peeled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFormat {
    Empty,
    Form,
    Multipart,
    Json,
    /// Text lines, e.g. GA4's one-event-per-line batches.
    Lines,
    Text,
    Binary,
}

impl BodyFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            BodyFormat::Empty => "empty",
            BodyFormat::Form => "form",
            BodyFormat::Multipart => "multipart",
            BodyFormat::Json => "json",
            BodyFormat::Lines => "lines",
            BodyFormat::Text => "text",
            BodyFormat::Binary => "binary",
        }
    }
}

/// A body with its encodings peeled: what the tracker's code serialised.
#[derive(Debug, Clone)]
pub struct Body<'a> {
    pub bytes: Cow<'a, [u8]>,
    /// Peeled encodings, outermost first (`gzip`, `br`, `deflate`, `base64`).
    pub encodings: Vec<&'static str>,
    pub content_type: Option<&'a str>,
    pub format: BodyFormat,
    /// `postData.params` from a HAR that kept no text.
    pub har_params: &'a [(String, String)],
}

impl<'a> Body<'a> {
    /// Peels `Content-Encoding` (gzip, deflate, br), then sniffs gzip/zlib
    /// magic and ASCII base64 wrapping up to three layers deep.
    pub fn new(
        raw: &'a [u8],
        content_type: Option<&'a str>,
        content_encoding: Option<&str>,
        har_params: &'a [(String, String)],
    ) -> Body<'a> {
        let mut bytes: Cow<'a, [u8]> = Cow::Borrowed(raw);
        let mut encodings = Vec::new();
        if let Some(ce) = content_encoding {
            for enc in ce.split(',').rev().map(str::trim) {
                let out = match enc.to_ascii_lowercase().as_str() {
                    "gzip" | "x-gzip" => inflate_gzip(&bytes).map(|b| (b, "gzip")),
                    "deflate" => inflate_zlib(&bytes)
                        .or_else(|| inflate_raw(&bytes))
                        .map(|b| (b, "deflate")),
                    "br" => inflate_brotli(&bytes).map(|b| (b, "br")),
                    _ => None,
                };
                if let Some((b, name)) = out {
                    bytes = Cow::Owned(b);
                    encodings.push(name);
                }
            }
        }
        for _ in 0..3 {
            match sniff_layer(&bytes) {
                Some((b, name)) => {
                    bytes = Cow::Owned(b);
                    encodings.push(name);
                }
                None => break,
            }
        }
        let format = sniff_format(&bytes, content_type, !har_params.is_empty());
        Body {
            bytes,
            encodings,
            content_type,
            format,
            har_params,
        }
    }

    pub fn text(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.bytes)
    }

    /// Fields of a form or multipart body (or HAR params). Empty otherwise.
    pub fn params(&self) -> Params {
        match self.format {
            BodyFormat::Form => Params::parse_bytes(&self.bytes),
            BodyFormat::Multipart => {
                let boundary = self
                    .content_type
                    .and_then(multipart_boundary)
                    .map(str::to_owned)
                    .or_else(|| guess_boundary(&self.bytes));
                match boundary {
                    Some(b) => Params::from_pairs(parse_multipart(&self.bytes, &b)),
                    None => Params::from_pairs(self.har_params.to_vec()),
                }
            }
            _ if !self.har_params.is_empty() => Params::from_pairs(self.har_params.to_vec()),
            _ => Params::new(),
        }
    }

    /// The body as JSON, when it is JSON (whatever the content type says).
    pub fn json(&self) -> Option<serde_json::Value> {
        if self.format != BodyFormat::Json {
            return None;
        }
        serde_json::from_slice(&self.bytes).ok()
    }
}

fn sniff_format(b: &[u8], content_type: Option<&str>, has_params: bool) -> BodyFormat {
    let ct = content_type.unwrap_or("").to_ascii_lowercase();
    let t = trim_ascii_start(b);
    if t.is_empty() {
        return if has_params {
            if ct.contains("multipart") {
                BodyFormat::Multipart
            } else {
                BodyFormat::Form
            }
        } else {
            BodyFormat::Empty
        };
    }
    if ct.contains("multipart/form-data") || (t.starts_with(b"--") && guess_boundary(b).is_some()) {
        return BodyFormat::Multipart;
    }
    if (t[0] == b'{' || t[0] == b'[') && serde_json::from_slice::<serde::de::IgnoredAny>(b).is_ok()
    {
        return BodyFormat::Json;
    }
    if std::str::from_utf8(b).is_err() {
        return BodyFormat::Binary;
    }
    if ct.contains("x-www-form-urlencoded") || looks_like_form(t) {
        if memchr::memchr(b'\n', t).is_some() && looks_like_form_lines(t) {
            return BodyFormat::Lines;
        }
        return BodyFormat::Form;
    }
    if memchr::memchr(b'\n', t).is_some() {
        return BodyFormat::Lines;
    }
    BodyFormat::Text
}

fn trim_ascii_start(b: &[u8]) -> &[u8] {
    let n = b.iter().take_while(|c| c.is_ascii_whitespace()).count();
    &b[n..]
}

/// `k=v&k=v` with no spaces: a query string or form body.
fn looks_like_form(t: &[u8]) -> bool {
    let first_line = t.split(|&c| c == b'\n').next().unwrap_or(t);
    let Some(eq) = memchr::memchr(b'=', first_line) else {
        return false;
    };
    eq > 0
        && first_line[..eq]
            .iter()
            .all(|&c| c.is_ascii_alphanumeric() || b"_.-[]%$~".contains(&c))
        && !first_line.contains(&b' ')
}

fn looks_like_form_lines(t: &[u8]) -> bool {
    t.split(|&c| c == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .filter(|l| !l.is_empty())
        .all(looks_like_form)
}

/// One decoding layer recognised by content alone: gzip/zlib magic, or a
/// body that is nothing but base64 and decodes to something structured.
fn sniff_layer(b: &[u8]) -> Option<(Vec<u8>, &'static str)> {
    if b.len() >= 2 && b[0] == 0x1f && b[1] == 0x8b {
        return inflate_gzip(b).map(|x| (x, "gzip"));
    }
    if b.len() >= 2 && b[0] == 0x78 && matches!(b[1], 0x01 | 0x5e | 0x9c | 0xda) {
        return inflate_zlib(b).map(|x| (x, "deflate"));
    }
    let t = b.trim_ascii();
    if t.len() >= 16 && t.iter().all(|&c| is_b64_byte(c)) {
        let dec = decode_base64_any(t)?;
        let structured = dec.len() >= 2
            && ((dec[0] == 0x1f && dec[1] == 0x8b)
                || matches!(trim_ascii_start(&dec).first(), Some(b'{') | Some(b'[')));
        if structured {
            return Some((dec, "base64"));
        }
    }
    None
}

fn is_b64_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'=' | b'-' | b'_')
}

/// Standard or URL-safe base64, padded or not.
pub fn decode_base64_any(s: &[u8]) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    let url_safe = s.iter().any(|&c| c == b'-' || c == b'_');
    let padded = s.last() == Some(&b'=');
    let engine = match (url_safe, padded) {
        (false, true) => &STANDARD,
        (false, false) => &STANDARD_NO_PAD,
        (true, true) => &URL_SAFE,
        (true, false) => &URL_SAFE_NO_PAD,
    };
    engine.decode(s).ok()
}

fn read_capped<R: Read>(r: R) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    match r.take(MAX_INFLATED as u64).read_to_end(&mut out) {
        Ok(_) => Some(out),
        // A truncated stream still yields what it had: better evidence than nothing.
        Err(_) if !out.is_empty() => Some(out),
        Err(_) => None,
    }
}

pub fn inflate_gzip(b: &[u8]) -> Option<Vec<u8>> {
    read_capped(flate2::read::MultiGzDecoder::new(b))
}

pub fn inflate_zlib(b: &[u8]) -> Option<Vec<u8>> {
    read_capped(flate2::read::ZlibDecoder::new(b))
}

pub fn inflate_raw(b: &[u8]) -> Option<Vec<u8>> {
    read_capped(flate2::read::DeflateDecoder::new(b))
}

pub fn inflate_brotli(b: &[u8]) -> Option<Vec<u8>> {
    read_capped(brotli::Decompressor::new(b, 4096))
}

/// The `boundary` parameter of a multipart content type.
pub fn multipart_boundary(ct: &str) -> Option<&str> {
    ct.split(';').map(str::trim).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| v.trim().trim_matches('"'))
    })
}

/// A body that starts `--X\r\n` names its own boundary (when the content type
/// was lost, as in some HAR exports).
fn guess_boundary(b: &[u8]) -> Option<String> {
    let t = trim_ascii_start(b).strip_prefix(b"--")?;
    let end = memchr::memchr(b'\n', t)?;
    let line = t[..end].strip_suffix(b"\r").unwrap_or(&t[..end]);
    if line.is_empty() || line.len() > 200 {
        return None;
    }
    let s = std::str::from_utf8(line).ok()?;
    Some(s.to_owned())
}

/// Splits a multipart/form-data body into `(name, value)` pairs. File parts
/// keep their name; binary values are decoded lossily.
pub fn parse_multipart(body: &[u8], boundary: &str) -> Vec<(String, String)> {
    let delim = format!("--{boundary}");
    let finder = memchr::memmem::Finder::new(delim.as_bytes());
    let mut out = Vec::new();
    let starts: Vec<usize> = finder.find_iter(body).collect();
    for w in starts.windows(2) {
        let part = &body[w[0] + delim.len()..w[1]];
        let part = part
            .strip_prefix(b"\r\n")
            .or_else(|| part.strip_prefix(b"\n"))
            .unwrap_or(part);
        let part = part
            .strip_suffix(b"\r\n")
            .or_else(|| part.strip_suffix(b"\n"))
            .unwrap_or(part);
        let (head, value) = match memchr::memmem::find(part, b"\r\n\r\n") {
            Some(i) => (&part[..i], &part[i + 4..]),
            None => match memchr::memmem::find(part, b"\n\n") {
                Some(i) => (&part[..i], &part[i + 2..]),
                None => continue,
            },
        };
        let head = String::from_utf8_lossy(head);
        let name = head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            if !k.trim().eq_ignore_ascii_case("content-disposition") {
                return None;
            }
            v.split(';').map(str::trim).find_map(|p| {
                p.strip_prefix("name=")
                    .map(|n| n.trim_matches('"').to_owned())
            })
        });
        if let Some(name) = name {
            out.push((name, String::from_utf8_lossy(value).into_owned()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gz(b: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(b).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn multipart_sendbeacon() {
        let body = b"------WebKitFormBoundaryX\r\nContent-Disposition: form-data; name=\"id\"\r\n\r\n1234567890123456\r\n------WebKitFormBoundaryX\r\nContent-Disposition: form-data; name=\"ev\"\r\n\r\nMicrodata\r\n------WebKitFormBoundaryX--\r\n";
        let b = Body::new(
            body,
            Some("multipart/form-data; boundary=----WebKitFormBoundaryX"),
            None,
            &[],
        );
        assert_eq!(b.format, BodyFormat::Multipart);
        let p = b.params();
        assert_eq!(p.get("id"), Some("1234567890123456"));
        assert_eq!(p.get("ev"), Some("Microdata"));
        // Content type lost: the boundary is read from the body.
        let b = Body::new(body, None, None, &[]);
        assert_eq!(b.params().get("ev"), Some("Microdata"));
    }

    #[test]
    fn base64_gzip_json_is_peeled() {
        use base64::Engine as _;
        let inner = gz(br#"{"signalType":"PAGE_VISIT","pids":[1]}"#);
        let b64 = base64::engine::general_purpose::STANDARD.encode(inner);
        let b = Body::new(b64.as_bytes(), Some("text/plain"), None, &[]);
        assert_eq!(b.encodings, vec!["base64", "gzip"]);
        assert_eq!(b.format, BodyFormat::Json);
    }

    #[test]
    fn content_encoding_and_lines() {
        let raw = gz(b"en=scroll&epn.percent_scrolled=90\r\nen=user_engagement&_et=5\r\n");
        let b = Body::new(&raw, Some("text/plain"), Some("gzip"), &[]);
        assert_eq!(b.encodings, vec!["gzip"]);
        assert_eq!(b.format, BodyFormat::Lines);
    }

    #[test]
    fn deflate_and_brotli_content_encodings() {
        let text = br#"{"event":"ViewContent","context":{"pixel":{"code":"C1"}}}"#;
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(text).unwrap();
        let zlib = z.finish().unwrap();
        let b = Body::new(&zlib, Some("application/json"), Some("deflate"), &[]);
        assert_eq!(
            (b.encodings.as_slice(), b.format),
            (&["deflate"][..], BodyFormat::Json)
        );
        let mut br = Vec::new();
        {
            let mut w = brotli::CompressorWriter::new(&mut br, 4096, 5, 22);
            w.write_all(text).unwrap();
        }
        let b = Body::new(&br, Some("application/json"), Some("br"), &[]);
        assert_eq!(
            (b.encodings.as_slice(), b.format),
            (&["br"][..], BodyFormat::Json)
        );
        // Stacked: gzip applied after br is listed as "br, gzip" and peeled gzip first.
        let both = gz(&br);
        let b = Body::new(&both, None, Some("br, gzip"), &[]);
        assert_eq!(b.encodings, vec!["gzip", "br"]);
        assert_eq!(&*b.bytes, &text[..]);
    }

    #[test]
    fn hostile_bodies_do_not_panic() {
        for raw in [
            &b"\x1f\x8b\x08garbage"[..],
            b"\x78\x9c",
            b"--\n",
            b"{",
            b"AAAAAAAAAAAAAAAAAAAA=",
        ] {
            let b = Body::new(
                raw,
                Some("multipart/form-data"),
                Some("gzip, br, deflate"),
                &[],
            );
            let _ = b.params();
            let _ = b.json();
        }
    }
}
