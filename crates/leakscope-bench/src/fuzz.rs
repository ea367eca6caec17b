//! The fuzz targets' bodies, as plain functions over bytes: `fuzz/` calls
//! them from libFuzzer, and `tests/fuzz_targets.rs` runs them under proptest
//! on stable, so both exercise the same code. Each must never panic,
//! whatever the input.

use std::hint::black_box;

use leakscope_core::body::{self, Body};
use leakscope_core::params::{self, Params};
use leakscope_core::vendors::{BUILTIN_VENDORS_TOML, VendorDbFile};
use leakscope_core::{Engine, Exchange, Header, RequestBody, Source};

/// Reads choices and strings off the front of a fuzz input.
pub struct Input<'a>(&'a [u8]);

impl<'a> Input<'a> {
    pub fn new(b: &'a [u8]) -> Self {
        Input(b)
    }

    pub fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((b, rest)) => {
                self.0 = rest;
                *b
            }
            None => 0,
        }
    }

    pub fn pick<'t, T>(&mut self, xs: &'t [T]) -> &'t T {
        &xs[usize::from(self.byte()) % xs.len()]
    }

    /// A length-prefixed chunk (length byte, then up to that many bytes).
    pub fn chunk(&mut self) -> &'a [u8] {
        let n = usize::from(self.byte()).min(self.0.len());
        let (c, rest) = self.0.split_at(n);
        self.0 = rest;
        c
    }

    pub fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.0)
    }
}

const CONTENT_TYPES: &[Option<&str>] = &[
    None,
    Some("application/x-www-form-urlencoded"),
    Some("application/x-www-form-urlencoded; charset=UTF-8"),
    Some("application/json"),
    Some("text/plain;charset=UTF-8"),
    Some("multipart/form-data; boundary=----WebKitFormBoundaryCanary"),
    Some("multipart/form-data; boundary=\"q\""),
    Some("multipart/form-data"),
    Some("application/octet-stream"),
    Some("application/x-ndjson"),
    Some("text/html"),
    Some(""),
];

const ENCODINGS: &[Option<&str>] = &[
    None,
    Some("gzip"),
    Some("deflate"),
    Some("br"),
    Some("gzip, br"),
    Some("identity"),
    Some("x-gzip"),
    Some(""),
];

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// `body`: Body::new on arbitrary bytes under every content type and
/// encoding, then every view of it; plus the peeling helpers directly.
pub fn body(data: &[u8]) {
    let mut inp = Input::new(data);
    let ct = *inp.pick(CONTENT_TYPES);
    let ce = *inp.pick(ENCODINGS);
    let har_params: Vec<(String, String)> = if inp.byte() & 1 == 1 {
        vec![(lossy(inp.chunk()), lossy(inp.chunk()))]
    } else {
        Vec::new()
    };
    let raw = inp.rest();
    let b = Body::new(raw, ct, ce, &har_params);
    black_box(b.text());
    black_box(b.params());
    black_box(b.json());
    black_box(b.format.as_str());
    if let Some(ct) = ct
        && let Some(boundary) = body::multipart_boundary(ct)
    {
        black_box(body::parse_multipart(raw, boundary));
    }
    black_box(body::parse_multipart(raw, "----WebKitFormBoundaryCanary"));
    black_box(body::decode_base64_any(raw));
    black_box(body::inflate_gzip(raw));
    black_box(body::inflate_zlib(raw));
    black_box(body::inflate_raw(raw));
    black_box(body::inflate_brotli(raw));
}

/// `params`: Params::parse / parse_bytes and every accessor.
pub fn params(data: &[u8]) {
    let s = String::from_utf8_lossy(data);
    let p = Params::parse(&s);
    let q = Params::parse_bytes(data);
    for (k, v) in p.iter() {
        black_box(p.get(k));
        black_box(p.get_nonempty(k));
        black_box(p.get_all(k).count());
        black_box(params::percent_decode(v));
        black_box(params::json_or_string(v));
    }
    black_box(p.bracketed("cd").count());
    black_box(p.bracketed("ud").count());
    black_box(p.prefixed("ep.").count());
    black_box(p.prefixed("").count());
    let o = p.overlay(&q);
    black_box(o.len());
    black_box(params::percent_decode(&s));
}

/// `html`: DOM-snapshot redaction on arbitrary text. Redacting again must
/// change nothing (notes are never redacted twice), and every value it
/// replaced must be gone from the output.
pub fn html(data: &[u8]) {
    let s = String::from_utf8_lossy(data);
    let once = leakscope_core::html::redact_secrets(&s);
    let again = leakscope_core::html::redact_secrets(&once.html);
    assert_eq!(again.html, once.html, "redaction is not idempotent");
    assert!(
        again.kinds.is_empty(),
        "second pass found {:?}",
        again.kinds
    );
}

/// `site_html`: who a site is, from arbitrary page HTML (a hostile page in
/// a HAR or a live DOM). No panic, evidence bounded, the profile of the
/// page's own site only.
pub fn site_html(data: &[u8]) {
    use leakscope_detect::HealthMatcher;
    use leakscope_detect::site::{MAX_EVIDENCE, SiteCollector, SiteKnowledge};
    static KNOWLEDGE: std::sync::LazyLock<(SiteKnowledge, HealthMatcher)> =
        std::sync::LazyLock::new(|| (SiteKnowledge::builtin(), HealthMatcher::builtin()));
    let html = String::from_utf8_lossy(data);
    let mut c = SiteCollector::new();
    c.document("https://clinic.example/contact", &html);
    let profiles = c.profiles(&KNOWLEDGE.0, &KNOWLEDGE.1);
    assert!(profiles.len() <= 1, "one page, one site: {profiles:?}");
    for p in &profiles {
        assert_eq!(p.site, "clinic.example");
        assert!(p.evidence.len() <= MAX_EVIDENCE);
    }
}

/// Event-endpoint URLs of every product in the built-in vendor database,
/// plus look-alikes on first-party hosts that reach the proxy detection.
pub fn vendor_urls() -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(file) = leakscope_core_toml(BUILTIN_VENDORS_TOML) {
        for p in &file.products {
            for host in &p.hosts {
                let host = host.replace(".*", ".com");
                out.push(format!("https://{host}/"));
                for e in &p.endpoints {
                    let mut path = e.path_prefix.clone().unwrap_or_else(|| "/".into());
                    if let Some(c) = &e.path_contains {
                        path.push_str(c);
                    }
                    if let Some(sfx) = &e.path_suffix {
                        path.push_str(sfx);
                    }
                    out.push(format!("https://www.{host}{path}"));
                    out.push(format!("https://{host}{path}"));
                }
            }
        }
    }
    out.extend(
        [
            "https://shop.example/tr/",
            "https://metrics.shop.example/g/collect",
            "https://shop.example/capi/1234567890123456/events",
            "https://shop.example/v21.0/1234567890123456/events",
            "https://shop.example/pagead/conversion/123456789/",
            "https://shop.example/api/v2/pixel",
            "https://graph.facebook.com/v21.0/1234567890123456/events",
        ]
        .map(String::from),
    );
    out.sort();
    out.dedup();
    out
}

fn leakscope_core_toml(s: &str) -> Result<VendorDbFile, toml::de::Error> {
    toml::from_str(s)
}

const METHODS: &[&str] = &["GET", "POST", "post", "PUT", "HEAD", ""];

/// Builds the fuzzed exchange for the `decode` target: a vendor endpoint
/// chosen by the input, a fuzzed query, method, content type, cookies and
/// body.
pub fn decode_exchange(urls: &[String], data: &[u8]) -> Exchange {
    let mut inp = Input::new(data);
    let base = inp.pick(urls).clone();
    let method = *inp.pick(METHODS);
    let ct = *inp.pick(CONTENT_TYPES);
    let ce = *inp.pick(ENCODINGS);
    let query = lossy(inp.chunk());
    let cookie = lossy(inp.chunk());
    let page = lossy(inp.chunk());
    let url = match (query.is_empty(), base.contains('?')) {
        (true, _) => base,
        (false, true) => format!("{base}&{query}"),
        (false, false) => format!("{base}?{query}"),
    };
    let mut ex = Exchange::get(Source::new("fuzz", 0), url);
    ex.method = method.to_owned();
    if let Some(ct) = ct {
        ex.request_headers.push(Header::new("Content-Type", ct));
    }
    if let Some(ce) = ce {
        ex.request_headers.push(Header::new("Content-Encoding", ce));
    }
    if !cookie.is_empty() {
        ex.request_headers.push(Header::new("Cookie", cookie));
    }
    if !page.is_empty() {
        ex.request_headers
            .push(Header::new("Referer", page.clone()));
        ex.page_url = Some(page);
    }
    let body = inp.rest();
    if !body.is_empty() {
        ex.body = Some(RequestBody {
            bytes: body.to_vec(),
            content_type: ct.map(str::to_owned),
            params: Vec::new(),
        });
    }
    ex
}

/// State for the `decode` target, built once per fuzzing process.
pub struct DecodeTarget {
    pub engine: Engine,
    pub urls: Vec<String>,
}

impl Default for DecodeTarget {
    fn default() -> Self {
        DecodeTarget {
            engine: Engine::new(),
            urls: vendor_urls(),
        }
    }
}

impl DecodeTarget {
    /// `decode`: Engine::decode (errors are fine, panics are not), then the
    /// analyzer over the same exchange twice (twin linking).
    pub fn run(&self, data: &[u8]) {
        let ex = decode_exchange(&self.urls, data);
        let mut out = Vec::new();
        let _ = black_box(self.engine.decode(&ex, &mut out));
        black_box(self.engine.classify(&ex.url));
        black_box(self.engine.proxy_vendor(&ex));
        let mut a = self.engine.analyzer();
        a.feed(&ex);
        a.feed(&ex);
        black_box(a.finish());
    }
}

/// A `--block` file (a filter list, hosts lines or a CSP) as a user gives
/// it: parsed, or refused with an error naming the file; a list that
/// parses answers a query; a CSP reads back as written.
pub fn block_list(data: &[u8]) {
    use leakscope_rules::{BlockList, Csp, Query};
    let text = String::from_utf8_lossy(data);
    match BlockList::parse("fuzz.txt", &text) {
        Ok(BlockList::Filters(b)) => {
            for url in [
                "https://www.facebook.com/tr/?id=1&ev=PageView&dl=https%3A%2F%2Fclinic.example%2Fhiv",
                "https://clinic.example/static/app.js",
            ] {
                black_box(b.check(&Query {
                    url,
                    source_url: "https://clinic.example/hiv",
                    resource_type: "image",
                    method: "GET",
                }));
            }
        }
        Ok(BlockList::Csp(c)) => {
            let again = Csp::parse(
                "again.txt",
                &format!("Content-Security-Policy: {}", c.header_value()),
            )
            .expect("a policy we read reads back");
            assert_eq!(again, c);
        }
        Err(e) => {
            let msg = e.to_string();
            assert!(msg.starts_with("fuzz.txt"), "{msg}");
        }
    }
}
