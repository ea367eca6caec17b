//! Canary detector: values we planted (a made-up email, phone, name or search
//! term) found anywhere in a request, under any encoding a tracker uses
//! (wire-formats.md §15).
//!
//! Design: every form a canary can take *after* the last reversible layer is
//! precomputed once as a needle (plain, each vendor normalisation, and the
//! MD5/SHA-1/SHA-256/SHA-512 of each, hex and base64), with a label such as
//! `sha256(normalize_email)`. A scan then peels reversible layers (URL
//! encoding, JSON escapes, HTML entities, base64 runs, gzip/deflate,
//! LZ-string) up to three deep and runs one Aho-Corasick pass per layer. The
//! chain of layers peeled plus the needle's label is the evidence.

use std::collections::{HashMap, HashSet};
use std::hash::BuildHasherDefault;
use std::io::Read;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use leakscope_core::body::{Body, BodyFormat};
use leakscope_core::{CanaryHit, Exchange};
use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};

use crate::DetectError;

/// Reversible layers peeled below the request's own structure. The URL
/// encoding a query, form or cookie value is written in is the transport
/// itself and does not count; a JSON container recognised by its shape is
/// read for free.
const MAX_DEPTH: u8 = 3;
/// Decoded bytes one request may produce across all layers.
const MAX_DECODED_PER_REQUEST: usize = 8 << 20;
/// One decompressed blob (gzip, deflate, LZ-string) at most.
const MAX_INFLATE: usize = 1 << 20;
/// Base64 runs tried per buffer.
const MAX_B64_RUNS: usize = 32;
/// LZ-string decompressions tried per request.
const MAX_LZ_TRIES: u8 = 8;
/// Shortest run of base64 characters worth decoding.
const MIN_B64_RUN: usize = 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CanaryKind {
    Email,
    Phone,
    Name,
    Search,
    Other,
}

impl CanaryKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CanaryKind::Email => "email",
            CanaryKind::Phone => "phone",
            CanaryKind::Name => "name",
            CanaryKind::Search => "search",
            CanaryKind::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<CanaryKind> {
        [
            CanaryKind::Email,
            CanaryKind::Phone,
            CanaryKind::Name,
            CanaryKind::Search,
            CanaryKind::Other,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }

    /// The kind a value's shape suggests: an address with `@` and a dotted
    /// domain is an email; 7–15 digits with only phone punctuation a phone;
    /// two to four capitalised words a name; other text with spaces a search.
    pub fn infer(value: &str) -> CanaryKind {
        let v = value.trim();
        if let Some((local, domain)) = v.split_once('@')
            && !local.is_empty()
            && domain.contains('.')
            && !v.contains(char::is_whitespace)
        {
            return CanaryKind::Email;
        }
        let digits = v.bytes().filter(u8::is_ascii_digit).count();
        if (7..=15).contains(&digits)
            && v.bytes()
                .all(|c| c.is_ascii_digit() || b" +-().".contains(&c))
        {
            return CanaryKind::Phone;
        }
        let words: Vec<&str> = v.split_whitespace().collect();
        if (2..=4).contains(&words.len())
            && words.iter().all(|w| {
                w.chars().next().is_some_and(char::is_uppercase)
                    && w.chars()
                        .all(|c| c.is_alphabetic() || c == '-' || c == '\'')
            })
        {
            return CanaryKind::Name;
        }
        if words.len() > 1 {
            CanaryKind::Search
        } else {
            CanaryKind::Other
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Canary {
    pub value: String,
    pub kind: CanaryKind,
}

impl Canary {
    /// A canary whose kind is inferred from its shape ([`CanaryKind::infer`]).
    pub fn new(value: impl Into<String>) -> Canary {
        let value = value.into();
        let kind = CanaryKind::infer(&value);
        Canary { value, kind }
    }

    pub fn with_kind(value: impl Into<String>, kind: CanaryKind) -> Canary {
        Canary {
            value: value.into(),
            kind,
        }
    }
}

/// What must surround a plain needle for a match to be the canary and not a
/// piece of a longer value (`5550100199` inside `155501001990`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Boundary {
    None,
    Digits,
    Email,
    Word,
}

#[derive(Debug, Clone)]
struct Needle {
    canary: usize,
    label: String,
    boundary: Boundary,
    /// The pattern, kept for needles that must match exactly: the one
    /// automaton folds ASCII case, and a base64 form does not.
    exact: Option<Box<[u8]>>,
}

/// Needles, deduplicated by pattern (per canary and per case rule).
#[derive(Default)]
struct NeedleSet {
    patterns: Vec<Vec<u8>>,
    needles: Vec<Needle>,
    seen: HashSet<(usize, bool, Vec<u8>)>,
}

impl NeedleSet {
    fn add(&mut self, canary: usize, pattern: Vec<u8>, label: String, boundary: Boundary) {
        self.push(canary, pattern, label, boundary, false);
    }

    fn add_exact(&mut self, canary: usize, pattern: Vec<u8>, label: String) {
        self.push(canary, pattern, label, Boundary::None, true);
    }

    fn push(
        &mut self,
        canary: usize,
        pattern: Vec<u8>,
        label: String,
        boundary: Boundary,
        exact: bool,
    ) {
        if pattern.is_empty() || !self.seen.insert((canary, exact, pattern.clone())) {
            return;
        }
        self.needles.push(Needle {
            canary,
            label,
            boundary,
            exact: exact.then(|| pattern.clone().into_boxed_slice()),
        });
        self.patterns.push(pattern);
    }

    fn build(self) -> Result<Option<Searcher>, DetectError> {
        if self.patterns.is_empty() {
            return Ok(None);
        }
        // One pass per buffer: folded and exact needles share an
        // ASCII-case-insensitive DFA (a few hundred patterns at most).
        let ac = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .kind(Some(AhoCorasickKind::DFA))
            .build(&self.patterns)
            .map_err(|e| DetectError::Canary {
                value: String::new(),
                reason: format!("cannot build the matcher: {e}"),
            })?;
        let min_len = self.patterns.iter().map(Vec::len).min().unwrap_or(0);
        Ok(Some(Searcher {
            ac,
            needles: self.needles,
            min_len,
        }))
    }
}

struct Searcher {
    ac: AhoCorasick,
    needles: Vec<Needle>,
    /// Shortest pattern: a shorter buffer cannot match.
    min_len: usize,
}

/// All planted values, compiled once.
#[derive(Default)]
pub struct CanaryMatcher {
    canaries: Vec<Canary>,
    /// Plain forms and hex hashes (ASCII case-insensitive), base64 forms
    /// (hash digests, the canary at each alignment; exact).
    searcher: Option<Searcher>,
}

impl CanaryMatcher {
    pub fn new(canaries: &[Canary]) -> Result<CanaryMatcher, DetectError> {
        let mut needles = NeedleSet::default();
        for (i, c) in canaries.iter().enumerate() {
            validate(c)?;
            let plain_boundary = match c.kind {
                CanaryKind::Email => Boundary::Email,
                CanaryKind::Phone => Boundary::Digits,
                _ => Boundary::Word,
            };
            for (text, label) in plain_forms(c) {
                needles.add(i, text.as_bytes().to_vec(), label.clone(), plain_boundary);
                for (pat, chain) in base64_aligned(text.as_bytes()) {
                    needles.add_exact(i, pat, format!("{chain} → {label}"));
                }
            }
            for (text, label) in hash_sources(c) {
                let t = text.as_bytes();
                let hex: [(&str, Vec<u8>); 4] = [
                    ("md5", Md5::digest(t).to_vec()),
                    ("sha1", Sha1::digest(t).to_vec()),
                    ("sha256", Sha256::digest(t).to_vec()),
                    ("sha512", Sha512::digest(t).to_vec()),
                ];
                for (algo, digest) in &hex {
                    needles.add(
                        i,
                        hex_lower(digest).into_bytes(),
                        format!("{algo}({label})"),
                        Boundary::None,
                    );
                }
                for (algo, digest) in hex.iter().skip(2) {
                    // URL-safe first: Google's web form, and the label kept
                    // when both alphabets give the same text.
                    needles.add_exact(
                        i,
                        URL_SAFE_NO_PAD.encode(digest).into_bytes(),
                        format!("base64url({algo}({label}))"),
                    );
                    needles.add_exact(
                        i,
                        STANDARD_NO_PAD.encode(digest).into_bytes(),
                        format!("base64({algo}({label}))"),
                    );
                }
            }
        }
        Ok(CanaryMatcher {
            canaries: canaries.to_vec(),
            searcher: needles.build()?,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.canaries.is_empty()
    }

    pub fn canaries(&self) -> &[Canary] {
        &self.canaries
    }

    /// Every planted value in the request (URL, body, cookies, Referer and
    /// other headers), once per (canary, field), with the chain it was
    /// found under.
    pub fn scan(&self, ex: &Exchange) -> Vec<CanaryHit> {
        self.scanner().scan(ex)
    }

    /// A scanner for many requests of one capture: it remembers values
    /// already read in full without a match (cookies, the Referer, ids
    /// repeat across a page's requests) and does not read them again.
    pub fn scanner(&self) -> CanaryScanner<'_> {
        CanaryScanner {
            m: self,
            clean: Default::default(),
            clean_cookies: CleanSet::default(),
            clean_bytes: 0,
            found: Vec::new(),
        }
    }

    /// Runs the automaton over `buf`; pushes `(canary, needle)` per match
    /// that respects its boundary, case-folded needles first (the order two
    /// separate automata gave).
    fn search(&self, buf: &[u8], found: &mut Vec<(usize, u32)>) {
        let Some(searcher) = &self.searcher else {
            return;
        };
        if buf.len() < searcher.min_len {
            return;
        }
        let mut exact_from = None;
        for m in searcher.ac.find_overlapping_iter(buf) {
            let id = m.pattern().as_usize();
            let n = &searcher.needles[id];
            let ok = match &n.exact {
                Some(p) => buf[m.start()..m.end()] == **p,
                None => bounded(buf, m.start(), m.end(), n.boundary),
            };
            if !ok {
                continue;
            }
            if n.exact.is_some() {
                exact_from.get_or_insert(found.len());
            }
            found.push((n.canary, id as u32));
        }
        if let Some(from) = exact_from {
            // Stable: folded hits in buffer order, then exact ones.
            found[from..].sort_by_key(|&(_, id)| searcher.needles[id as usize].exact.is_some());
        }
    }

    fn label(&self, id: u32) -> &str {
        self.searcher
            .as_ref()
            .map_or("", |s| s.needles[id as usize].label.as_str())
    }
}

fn validate(c: &Canary) -> Result<(), DetectError> {
    let err = |reason: &str| DetectError::Canary {
        value: c.value.clone(),
        reason: reason.to_owned(),
    };
    let t = c.value.trim();
    if t.chars().count() < 4 {
        return Err(err(
            "shorter than 4 characters: it would match unrelated text",
        ));
    }
    if c.kind == CanaryKind::Phone && t.bytes().filter(u8::is_ascii_digit).count() < 7 {
        return Err(err("a phone canary needs at least 7 digits"));
    }
    if c.kind == CanaryKind::Email && !t.contains('@') {
        return Err(err("an email canary needs an @"));
    }
    Ok(())
}

// ------------------------------------------------------------------ needles

/// Pushes `(text, label)` unless an equal text is already there.
fn push_form(out: &mut Vec<(String, String)>, text: String, label: &str) {
    if !text.is_empty() && !out.iter().any(|(t, _)| *t == text) {
        out.push((text, label.to_owned()));
    }
}

fn digits(v: &str) -> String {
    v.chars().filter(char::is_ascii_digit).collect()
}

/// Meta's phone rule: digits only, leading zeros (an international `00`) dropped.
fn meta_phone(v: &str) -> String {
    digits(v).trim_start_matches('0').to_owned()
}

/// Phone numbers as trackers write them, Meta's digits first. A 10-digit
/// number is taken as North American and given its `1`; an 11-digit one
/// starting with `1` also gets its national form.
fn phone_numbers(v: &str) -> Vec<(String, &'static str)> {
    let meta = meta_phone(v);
    let mut out = vec![
        (meta.clone(), "normalize_phone"),
        (format!("+{meta}"), "e164_phone"),
    ];
    if meta.len() == 10 {
        out.push((format!("1{meta}"), "normalize_phone"));
        out.push((format!("+1{meta}"), "e164_phone"));
    } else if meta.len() == 11 && meta.starts_with('1') {
        out.push((meta[1..].to_owned(), "national_phone"));
    }
    out
}

/// Google's rule for gmail addresses: dots in the local part dropped, and
/// a `+tag` (Customer Match).
fn google_email(lower: &str) -> Option<String> {
    let (local, domain) = lower.rsplit_once('@')?;
    if !matches!(domain, "gmail.com" | "googlemail.com") {
        return None;
    }
    let local = local.split('+').next().unwrap_or(local).replace('.', "");
    Some(format!("{local}@{domain}"))
}

/// Meta's name rule: lower case, whitespace and punctuation removed.
fn meta_name(v: &str) -> String {
    v.to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric())
        .collect()
}

/// Forms searched as text. The value as planted first.
fn plain_forms(c: &Canary) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let v = c.value.as_str();
    let t = v.trim();
    let lower = t.to_lowercase();
    match c.kind {
        CanaryKind::Email => {
            push_form(&mut out, v.to_owned(), "email");
            push_form(&mut out, lower.clone(), "normalize_email");
            if let Some(g) = google_email(&lower) {
                push_form(&mut out, g, "normalize_email_google");
            }
        }
        CanaryKind::Phone => {
            push_form(&mut out, t.to_owned(), "phone");
            for (p, label) in phone_numbers(t) {
                push_form(&mut out, p, label);
            }
        }
        CanaryKind::Name | CanaryKind::Search | CanaryKind::Other => {
            let kind = match c.kind {
                CanaryKind::Other => "plain",
                k => k.as_str(),
            };
            push_form(&mut out, t.to_owned(), kind);
            push_form(&mut out, lower.clone(), "lower");
            if t.contains(' ') {
                // Form encoding writes spaces as `+`.
                push_form(&mut out, t.replace(' ', "+"), "form_encoded");
                push_form(&mut out, lower.replace(' ', "+"), "form_encoded");
            }
            if c.kind == CanaryKind::Name {
                push_form(&mut out, meta_name(t), "normalize_name");
            }
        }
    }
    out
}

/// Forms that are hashed, the vendor normalisations first so that a hash
/// of an already-normal canary is labelled with the rule that produced it.
fn hash_sources(c: &Canary) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let v = c.value.as_str();
    let t = v.trim();
    let lower = t.to_lowercase();
    match c.kind {
        CanaryKind::Email => {
            push_form(&mut out, lower.clone(), "normalize_email");
            if let Some(g) = google_email(&lower) {
                push_form(&mut out, g, "normalize_email_google");
            }
            push_form(&mut out, v.to_owned(), "email");
        }
        CanaryKind::Phone => {
            for (p, label) in phone_numbers(t) {
                push_form(&mut out, p, label);
            }
            push_form(&mut out, digits(t), "digits_phone");
            push_form(&mut out, t.to_owned(), "phone");
        }
        CanaryKind::Name => {
            push_form(&mut out, meta_name(t), "normalize_name");
            push_form(&mut out, lower.clone(), "lower");
            // Trackers hash first and last names separately (`fn`, `ln`).
            for part in t.split_whitespace() {
                push_form(&mut out, meta_name(part), "normalize_name_part");
            }
            push_form(&mut out, t.to_owned(), "name");
        }
        CanaryKind::Search | CanaryKind::Other => {
            push_form(&mut out, lower.clone(), "lower");
            let kind = match c.kind {
                CanaryKind::Other => "plain",
                k => k.as_str(),
            };
            push_form(&mut out, t.to_owned(), kind);
        }
    }
    out
}

/// The base64 text of `bytes` embedded at each of the three byte offsets
/// of a larger blob, cut to the characters that depend on `bytes` alone;
/// standard and URL-safe alphabets. Labelled `base64`.
fn base64_aligned(bytes: &[u8]) -> Vec<(Vec<u8>, &'static str)> {
    let mut out = Vec::new();
    for k in 0..3usize {
        let mut buf = vec![0u8; k];
        buf.extend_from_slice(bytes);
        let enc = STANDARD_NO_PAD.encode(&buf);
        let start = (8 * k).div_ceil(6);
        let end = (8 * (k + bytes.len())) / 6;
        if end <= start || end - start < 8 {
            continue;
        }
        let stable = &enc.as_bytes()[start..end];
        out.push((stable.to_vec(), "base64"));
        let url: Vec<u8> = stable
            .iter()
            .map(|&c| match c {
                b'+' => b'-',
                b'/' => b'_',
                c => c,
            })
            .collect();
        if url != stable {
            out.push((url, "base64"));
        }
    }
    out
}

fn hex_lower(b: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(b.len() * 2);
    for &x in b {
        s.push(HEX[(x >> 4) as usize] as char);
        s.push(HEX[(x & 15) as usize] as char);
    }
    s
}

fn bounded(buf: &[u8], start: usize, end: usize, b: Boundary) -> bool {
    let before = start.checked_sub(1).map(|i| buf[i]);
    let after = buf.get(end).copied();
    match b {
        Boundary::None => true,
        Boundary::Digits => {
            !before.is_some_and(|c| c.is_ascii_digit())
                && !after.is_some_and(|c| c.is_ascii_digit())
        }
        Boundary::Email => {
            !before.is_some_and(|c| c.is_ascii_alphanumeric() || b"._+-".contains(&c))
                && !after.is_some_and(|c| c.is_ascii_alphanumeric() || c == b'-')
        }
        Boundary::Word => {
            !before.is_some_and(|c| c.is_ascii_alphanumeric())
                && !after.is_some_and(|c| c.is_ascii_alphanumeric())
        }
    }
}

// ------------------------------------------------------------------ scan

/// Values (at least this long) worth remembering as clean.
const MIN_CACHED: usize = 8;
/// Longest value remembered: bodies rarely repeat.
const MAX_CACHED: usize = 16 << 10;
/// Bytes of clean values remembered per capture.
const MAX_CACHED_BYTES: usize = 32 << 20;

type CleanSet = HashSet<Box<[u8]>, BuildHasherDefault<FxHasher>>;

/// [`CanaryMatcher::scan`] with a memory of clean values (see
/// [`CanaryMatcher::scanner`]).
pub struct CanaryScanner<'m> {
    m: &'m CanaryMatcher,
    /// Per depth at which a value was entered: values whose whole reading
    /// (every layer, no budget cut) found no needle. The result of a
    /// reading depends on the bytes and the depth alone.
    clean: [CleanSet; MAX_DEPTH as usize + 1],
    /// Whole Cookie headers whose every cookie was read clean.
    clean_cookies: CleanSet,
    clean_bytes: usize,
    found: Vec<(usize, u32)>,
}

impl CanaryScanner<'_> {
    /// As [`CanaryMatcher::scan`].
    pub fn scan(&mut self, ex: &Exchange) -> Vec<CanaryHit> {
        if self.m.is_empty() {
            return Vec::new();
        }
        let mut s = Scan {
            m: self.m,
            hits: Vec::new(),
            seen: HashMap::new(),
            budget: MAX_DECODED_PER_REQUEST,
            lz_budget: MAX_LZ_TRIES,
            matched: 0,
            cut: 0,
            cache: self,
        };
        s.url(&ex.url);
        s.body(ex);
        s.headers(ex);
        s.hits
    }
}

/// FxHash (rustc's): fast, and a collision only costs a byte comparison.
#[derive(Default)]
struct FxHasher(u64);

impl std::hash::Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0xf135_7aea_2e62_a9c5;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
        }
    }

    fn write_usize(&mut self, n: usize) {
        self.write(&n.to_le_bytes());
    }

    fn finish(&self) -> u64 {
        self.0.rotate_left(26)
    }
}

struct Scan<'m, 'c> {
    m: &'m CanaryMatcher,
    cache: &'c mut CanaryScanner<'m>,
    /// Searches that matched a needle, and readings cut short (budget,
    /// field already done): a value is clean only if neither moved.
    matched: u32,
    cut: u32,
    hits: Vec<CanaryHit>,
    /// (canary, field) → index in `hits`, and whether that hit came from a
    /// base64 alignment needle (then a decoded chain, which says what was
    /// inside the base64, replaces it).
    seen: HashMap<(usize, String), (usize, bool)>,
    budget: usize,
    /// LZ-string attempts left: each is a full decompression of a run that
    /// was not base64 text, costly and rarely right.
    lz_budget: u8,
}

impl Scan<'_, '_> {
    fn url(&mut self, url: &str) {
        let (rest, fragment) = match url.split_once('#') {
            Some((r, f)) => (r, Some(f)),
            None => (url, None),
        };
        let (head, query) = match rest.split_once('?') {
            Some((h, q)) => (h, Some(q)),
            None => (rest, None),
        };
        // The path: after `scheme://host`.
        let path = head
            .split_once("://")
            .map(|(_, r)| r.find('/').map_or("", |i| &r[i..]))
            .unwrap_or(head);
        if !path.is_empty() {
            self.value("url.path", path.as_bytes(), &[]);
        }
        if let Some(q) = query {
            self.pairs("url.query.", "", q, &[]);
        }
        if let Some(f) = fragment.filter(|f| !f.is_empty()) {
            self.value("url.fragment", f.as_bytes(), &[]);
        }
    }

    /// `k=v&k=v` text, each value under `{prefix}{key}{suffix}`.
    fn pairs(&mut self, prefix: &str, suffix: &str, text: &str, chain: &[&'static str]) {
        let mut field = String::new();
        for pair in text.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or(("", pair));
            field.clear();
            field.push_str(prefix);
            if k.contains(['+', '%']) {
                let key = k.replace('+', " ");
                field.push_str(&percent_encoding::percent_decode_str(&key).decode_utf8_lossy());
            } else {
                field.push_str(k);
            }
            field.push_str(suffix);
            self.value(&field, v.as_bytes(), chain);
        }
    }

    fn body(&mut self, ex: &Exchange) {
        let Some(rb) = ex.body.as_ref() else {
            return;
        };
        if rb.bytes.is_empty() {
            for (k, v) in &rb.params {
                self.value(&format!("body.form[{k}]"), v.as_bytes(), &[]);
            }
            return;
        }
        let body = Body::new(
            &rb.bytes,
            ex.content_type(),
            ex.header("content-encoding"),
            &rb.params,
        );
        let chain: Vec<&'static str> = body.encodings.clone();
        match body.format {
            BodyFormat::Empty => {}
            BodyFormat::Form => {
                let text = String::from_utf8_lossy(&body.bytes);
                self.pairs("body.form[", "]", text.trim(), &chain);
            }
            BodyFormat::Lines => {
                let text = String::from_utf8_lossy(&body.bytes);
                for line in text.lines() {
                    self.pairs("body.form[", "]", line.trim(), &chain);
                }
            }
            BodyFormat::Multipart => {
                for (k, v) in body.params().iter() {
                    self.value(&format!("body.multipart[{k}]"), v.as_bytes(), &chain);
                }
            }
            BodyFormat::Json => match serde_json::from_slice::<serde_json::Value>(&body.bytes) {
                Ok(v) => {
                    let mut path = String::from("body.json");
                    self.json(&mut path, &v, &chain);
                }
                Err(_) => self.value("body", &body.bytes, &chain),
            },
            BodyFormat::Text | BodyFormat::Binary => self.value("body", &body.bytes, &chain),
        }
    }

    /// A JSON value under `path` (extended in place for its children).
    fn json(&mut self, path: &mut String, v: &serde_json::Value, chain: &[&'static str]) {
        use serde_json::Value;
        use std::fmt::Write as _;
        let len = path.len();
        match v {
            Value::String(s) => self.value(path, s.as_bytes(), chain),
            // A phone canary can travel as a JSON number.
            Value::Number(n) => self.value(path, n.to_string().as_bytes(), chain),
            Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    let _ = write!(path, "[{i}]");
                    self.json(path, x, chain);
                    path.truncate(len);
                }
            }
            Value::Object(m) => {
                for (k, x) in m {
                    path.push('.');
                    path.push_str(k);
                    self.json(path, x, chain);
                    path.truncate(len);
                }
            }
            Value::Bool(_) | Value::Null => {}
        }
    }

    fn headers(&mut self, ex: &Exchange) {
        let mut field = String::new();
        // Cookies as `Exchange::cookies` splits them; a whole Cookie header
        // already read clean (it repeats across a page's requests) is
        // skipped without splitting it again.
        for h in ex
            .request_headers
            .iter()
            .filter(|h| h.name.eq_ignore_ascii_case("cookie"))
        {
            let whole = h.value.as_bytes();
            if self.cache.clean_cookies.contains(whole) {
                continue;
            }
            let before = (self.matched, self.cut);
            for kv in h.value.split(';') {
                let kv = kv.trim();
                if kv.is_empty() {
                    continue;
                }
                let (name, value) = match kv.split_once('=') {
                    Some((k, v)) => (k.trim(), v.trim()),
                    None => ("", kv),
                };
                field.clear();
                field.push_str("cookie:");
                field.push_str(name);
                self.value(&field, value.as_bytes(), &[]);
            }
            if (self.matched, self.cut) == before
                && whole.len() <= MAX_CACHED
                && self.cache.clean_bytes + whole.len() <= MAX_CACHED_BYTES
            {
                self.cache.clean_bytes += whole.len();
                self.cache.clean_cookies.insert(whole.into());
            }
        }
        for h in &ex.request_headers {
            // Lower-cased into the reused field buffer, not a new string.
            field.clear();
            field.push_str("header:");
            field.extend(h.name.chars().map(|c| c.to_ascii_lowercase()));
            let name = &field["header:".len()..];
            // HTTP/2 pseudo-headers repeat the URL; the cookie header was split above.
            // Browser-set headers carry no page data; skipping them halves
            // the scan (pipeline bench), and the rest (Referer, custom X-
            // headers, Authorization) are searched.
            if name.starts_with(':')
                || name.starts_with("sec-")
                || matches!(
                    name,
                    "cookie"
                        | "content-length"
                        | "content-type"
                        | "content-encoding"
                        | "host"
                        | "user-agent"
                        | "accept"
                        | "accept-encoding"
                        | "accept-language"
                        | "connection"
                        | "cache-control"
                        | "pragma"
                        | "upgrade-insecure-requests"
                        | "dnt"
                        | "te"
                        | "priority"
                        | "origin"
                        | "if-none-match"
                        | "if-modified-since"
                        | "range"
                        | "purpose"
                )
            {
                continue;
            }
            let field = field.as_str();
            self.value(field, h.value.as_bytes(), &[]);
        }
    }

    /// A value as written in the request: its URL encoding (the transport's
    /// own) is peeled without counting as a layer.
    fn value(&mut self, field: &str, raw: &[u8], chain: &[&'static str]) {
        let depth = chain.len() as u8;
        let cacheable = (MIN_CACHED..=MAX_CACHED).contains(&raw.len()) && depth <= MAX_DEPTH;
        if cacheable && self.cache.clean[depth as usize].contains(raw) {
            return;
        }
        let before = (self.matched, self.cut);
        let mut c = chain.to_vec();
        if has_percent_escape(raw) {
            // Percent-decoding keeps every needle (none holds a `%`): the
            // decoded value is the one to search.
            let dec: Vec<u8> = percent_encoding::percent_decode(raw).collect();
            c.push("url");
            self.enter(field, &dec, &mut c, depth);
        } else {
            self.enter(field, raw, &mut c, depth);
        }
        if cacheable
            && (self.matched, self.cut) == before
            && self.cache.clean_bytes + raw.len() <= MAX_CACHED_BYTES
        {
            self.cache.clean_bytes += raw.len();
            self.cache.clean[depth as usize].insert(raw.into());
        }
    }

    fn search_only(&mut self, field: &str, buf: &[u8], chain: &[&'static str]) {
        let m = self.m;
        let mut found = std::mem::take(&mut self.cache.found);
        found.clear();
        m.search(buf, &mut found);
        if !found.is_empty() {
            self.matched += 1;
        }
        for &(c, id) in &found {
            self.record(field, chain, c, m.label(id));
        }
        self.cache.found = found;
    }

    fn record(&mut self, field: &str, chain: &[&'static str], canary: usize, label: &str) {
        let aligned = label.starts_with("base64 → ");
        let key = (canary, field.to_owned());
        let prior = self.seen.get(&key).copied();
        if matches!(prior, Some((_, false))) || (aligned && prior.is_some()) {
            return;
        }
        let c = &self.m.canaries[canary];
        let mut steps: Vec<&str> = chain.to_vec();
        steps.push(label);
        let hit = CanaryHit {
            value_kind: c.kind.as_str().to_owned(),
            value: c.value.clone(),
            field: field.to_owned(),
            chain: steps.join(" → "),
        };
        match prior {
            Some((i, _)) => self.hits[i] = hit,
            None => {
                self.seen.insert(key, (self.hits.len(), aligned));
                self.hits.push(hit);
                return;
            }
        }
        if let Some(e) = self.seen.get_mut(&key) {
            e.1 = false;
        }
    }

    /// Every canary already found in this field (by a decoded chain).
    fn field_done(&mut self, field: &str) -> bool {
        if self.seen.len() < self.m.canaries.len() {
            return false;
        }
        let done = (0..self.m.canaries.len())
            .all(|i| matches!(self.seen.get(&(i, field.to_owned())), Some((_, false))));
        if done {
            self.cut += 1;
        }
        done
    }

    /// Decoded bytes after a step already pushed on `chain`: a JSON
    /// container is named (and its escapes read) at no cost.
    fn enter(&mut self, field: &str, bytes: &[u8], chain: &mut Vec<&'static str>, depth: u8) {
        if json_shaped(bytes) {
            chain.push("json");
            match json_unescape(bytes) {
                Some(u) => self.layer(field, &u, chain, depth),
                None => self.layer(field, bytes, chain, depth),
            }
            chain.pop();
        } else {
            self.layer(field, bytes, chain, depth);
        }
    }

    fn layer(&mut self, field: &str, buf: &[u8], chain: &mut Vec<&'static str>, depth: u8) {
        let compressed = buf.starts_with(&[0x1f, 0x8b]) || zlib_header(buf);
        if !compressed {
            // A compressed stream can hold its input verbatim (stored
            // blocks): searched only once opened, so the chain says how.
            self.search_only(field, buf, chain);
        }
        if depth >= MAX_DEPTH || buf.len() < 8 || self.field_done(field) {
            return;
        }
        if self.budget == 0 {
            self.cut += 1;
            return;
        }
        let next = depth + 1;
        if has_percent_escape(buf) {
            let dec: Vec<u8> = percent_encoding::percent_decode(buf).collect();
            self.descend(field, &dec, chain, "url", next);
        }
        if !json_shaped(buf)
            && let Some(u) = json_unescape(buf)
        {
            self.descend(field, &u, chain, "json", next);
        }
        if let Some(u) = html_unescape(buf) {
            self.descend(field, &u, chain, "html", next);
        }
        if let Some((data, step)) = inflate_any(buf) {
            self.descend(field, &data, chain, step, next);
            return;
        }
        self.base64_runs(field, buf, chain, next);
        if lz_utf16_bytes(buf)
            && let Some(text) = std::str::from_utf8(buf).ok().filter(|t| lz_utf16_shaped(t))
            && let Some(out) = lz::decompress_utf16(text)
        {
            self.descend(field, out.as_bytes(), chain, "lz_string", next);
        }
    }

    fn descend(
        &mut self,
        field: &str,
        bytes: &[u8],
        chain: &mut Vec<&'static str>,
        step: &'static str,
        depth: u8,
    ) {
        if bytes.len() > self.budget {
            self.budget = 0;
            self.cut += 1;
            return;
        }
        self.budget -= bytes.len();
        chain.push(step);
        self.enter(field, bytes, chain, depth);
        chain.pop();
    }

    fn base64_runs(&mut self, field: &str, buf: &[u8], chain: &mut Vec<&'static str>, depth: u8) {
        let mut tried = 0;
        let mut i = 0;
        while i < buf.len() && tried < MAX_B64_RUNS {
            if !is_run_byte(buf[i]) {
                i += 1;
                continue;
            }
            let start = i;
            while i < buf.len() && is_run_byte(buf[i]) {
                i += 1;
            }
            let run = &buf[start..i];
            while i < buf.len() && buf[i] == b'=' {
                i += 1;
            }
            if run.len() < MIN_B64_RUN || run.iter().all(u8::is_ascii_hexdigit) {
                continue;
            }
            tried += 1;
            if let Some(data) = decode_b64_run(run) {
                self.descend(field, &data, chain, "base64", depth);
                continue;
            }
            if self.lz_budget == 0 {
                self.cut += 1;
                continue;
            }
            self.lz_budget -= 1;
            if let Some(out) = lz::decompress_base64(run).or_else(|| lz::decompress_uri(run)) {
                self.descend(field, out.as_bytes(), chain, "lz_string", depth);
            }
        }
    }
}

fn has_percent_escape(b: &[u8]) -> bool {
    memchr::memchr_iter(b'%', b).any(|i| {
        b.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
            && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit)
    })
}

fn json_shaped(b: &[u8]) -> bool {
    let t = b.trim_ascii();
    matches!(
        (t.first(), t.last()),
        (Some(b'{'), Some(b'}')) | (Some(b'['), Some(b']'))
    )
}

fn is_run_byte(c: u8) -> bool {
    RUN_BYTES[c as usize]
}

/// Characters of base64 (both alphabets) and LZ-string's URI alphabet.
static RUN_BYTES: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        t[c] = b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_' | b'$');
        c += 1;
    }
    t
};

/// Text, or a compressed stream worth opening: what a base64 run must
/// decode to for us to look inside.
fn worth_reading(b: &[u8]) -> bool {
    if b.len() < 4 {
        return false;
    }
    if b.starts_with(&[0x1f, 0x8b]) || zlib_header(b) {
        return true;
    }
    let Ok(s) = std::str::from_utf8(b) else {
        return false;
    };
    let printable = s
        .chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t'))
        .count();
    printable * 10 >= s.chars().count() * 9
}

/// The first decoded bytes of a run worth decoding whole: a gzip or zlib
/// header, or printable text (UTF-8 lead bytes allowed).
fn promising_start(head: &[u8]) -> bool {
    head.starts_with(&[0x1f, 0x8b])
        || zlib_header(head)
        || head
            .iter()
            .all(|&c| (0x20..0x7f).contains(&c) || matches!(c, b'\n' | b'\r' | b'\t') || c >= 0xc2)
}

/// Decodes a base64 run (either alphabet, padding optional). A run cut at
/// the wrong place is retried from each of the next three characters.
fn decode_b64_run(run: &[u8]) -> Option<Vec<u8>> {
    if run.contains(&b'$') {
        return None;
    }
    let url_safe = run.iter().any(|&c| c == b'-' || c == b'_');
    let std_safe = run.iter().any(|&c| c == b'+' || c == b'/');
    if url_safe && std_safe {
        return None;
    }
    let engine = if url_safe {
        &URL_SAFE_NO_PAD
    } else {
        &STANDARD_NO_PAD
    };
    for skip in 0..4 {
        let r = &run[skip..];
        // Most runs are random ids: decode 8 characters first and open the
        // run only when they start text or a compressed stream.
        let mut head = [0u8; 6];
        if r.len() >= 8
            && !engine
                .decode_slice(&r[..8], &mut head)
                .is_ok_and(|n| promising_start(&head[..n]))
        {
            continue;
        }
        let len = r.len() - r.len() % 4 + if r.len() % 4 >= 2 { r.len() % 4 } else { 0 };
        if let Ok(d) = engine.decode(&r[..len])
            && worth_reading(&d)
        {
            return Some(d);
        }
    }
    None
}

fn zlib_header(b: &[u8]) -> bool {
    b.len() >= 2
        && b[0] & 0x0f == 8
        && b[0] >> 4 <= 7
        && (u16::from(b[0]) << 8 | u16::from(b[1])) % 31 == 0
}

fn read_capped<R: Read>(r: R) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    match r.take(MAX_INFLATE as u64).read_to_end(&mut out) {
        Ok(_) if !out.is_empty() => Some(out),
        Err(_) if !out.is_empty() => Some(out),
        _ => None,
    }
}

/// gzip by its magic, zlib by its header check, raw deflate only for bytes
/// that are not text.
fn inflate_any(b: &[u8]) -> Option<(Vec<u8>, &'static str)> {
    if b.starts_with(&[0x1f, 0x8b]) {
        return read_capped(flate2::read::MultiGzDecoder::new(b)).map(|d| (d, "gzip"));
    }
    if zlib_header(b)
        && let Some(d) = read_capped(flate2::read::ZlibDecoder::new(b))
    {
        return Some((d, "deflate"));
    }
    if std::str::from_utf8(b).is_err() {
        return read_capped(flate2::read::DeflateDecoder::new(b))
            .filter(|d| worth_reading(d))
            .map(|d| (d, "deflate"));
    }
    None
}

/// JSON string escapes (`\u0040`, `\/`, `\"`) read, if there are any.
fn json_unescape(b: &[u8]) -> Option<Vec<u8>> {
    let first = memchr::memchr(b'\\', b)?;
    let mut out = Vec::with_capacity(b.len());
    out.extend_from_slice(&b[..first]);
    let mut i = first;
    let mut changed = false;
    while i < b.len() {
        if b[i] != b'\\' || i + 1 >= b.len() {
            out.push(b[i]);
            i += 1;
            continue;
        }
        let simple = match b[i + 1] {
            b'/' => Some(b'/'),
            b'"' => Some(b'"'),
            b'\\' => Some(b'\\'),
            b'n' => Some(b'\n'),
            b't' => Some(b'\t'),
            b'r' => Some(b'\r'),
            b'b' => Some(8),
            b'f' => Some(12),
            _ => None,
        };
        if let Some(c) = simple {
            out.push(c);
            i += 2;
            changed = true;
            continue;
        }
        if b[i + 1] == b'u'
            && let Some(cp) = hex4(b.get(i + 2..i + 6))
        {
            let mut len = 6;
            let ch = if (0xD800..0xDC00).contains(&cp)
                && b.get(i + 6..i + 8) == Some(b"\\u")
                && let Some(lo) =
                    hex4(b.get(i + 8..i + 12)).filter(|l| (0xDC00..0xE000).contains(l))
            {
                len = 12;
                char::from_u32(0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00))
            } else {
                char::from_u32(cp)
            };
            if let Some(ch) = ch {
                let mut tmp = [0u8; 4];
                out.extend_from_slice(ch.encode_utf8(&mut tmp).as_bytes());
                i += len;
                changed = true;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    changed.then_some(out)
}

fn hex4(b: Option<&[u8]>) -> Option<u32> {
    let b = b?;
    let s = std::str::from_utf8(b).ok()?;
    u32::from_str_radix(s, 16).ok()
}

/// HTML character references (`&#64;`, `&#x40;`, `&amp;`, `&commat;`), if any.
fn html_unescape(b: &[u8]) -> Option<Vec<u8>> {
    memchr::memchr(b'&', b)?;
    let s = std::str::from_utf8(b).ok()?;
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    let mut changed = false;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let decoded = tail.find(';').filter(|&j| j <= 10).and_then(|j| {
            let name = &tail[1..j];
            let ch = if let Some(num) = name.strip_prefix('#') {
                let n = match num.strip_prefix(['x', 'X']) {
                    Some(h) => u32::from_str_radix(h, 16).ok(),
                    None => num.parse().ok(),
                };
                n.and_then(char::from_u32)
            } else {
                match name {
                    "amp" => Some('&'),
                    "lt" => Some('<'),
                    "gt" => Some('>'),
                    "quot" => Some('"'),
                    "apos" => Some('\''),
                    "commat" => Some('@'),
                    "period" => Some('.'),
                    "plus" => Some('+'),
                    "nbsp" => Some(' '),
                    "sol" => Some('/'),
                    "colon" => Some(':'),
                    _ => None,
                }
            }?;
            Some((ch, j + 1))
        });
        match decoded {
            Some((ch, len)) => {
                out.push(ch);
                rest = &tail[len..];
                changed = true;
            }
            None => {
                out.push('&');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    changed.then(|| out.into_bytes())
}

/// Bytes that may be LZ-string's `compressToUTF16` output: more non-ASCII
/// characters than ASCII ones needs twice as many high bytes as ASCII ones
/// (every non-ASCII character takes at least two).
fn lz_utf16_bytes(b: &[u8]) -> bool {
    let high = b.iter().filter(|&&c| c >= 0x80).count();
    high > 2 * (b.len() - high)
}

/// LZ-string's `compressToUTF16` output: mostly characters beyond ASCII.
fn lz_utf16_shaped(s: &str) -> bool {
    let (mut n, mut wide) = (0usize, 0usize);
    for c in s.chars() {
        n += 1;
        if (c as u32) >= 0x80 {
            wide += 1;
        }
        if (c as u32) > 0x8020 {
            return false;
        }
    }
    n >= 8 && wide * 2 > n
}

/// LZ-string decompression (the algorithm of pieroxy's lz-string, written
/// from its description), bounded: hostile input ends in `None`, never in
/// unbounded output.
mod lz {
    use super::{MAX_INFLATE, worth_reading};

    const B64: &[u8; 65] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";
    const URI: &[u8; 65] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+-$";

    /// Symbol values of an alphabet; `u8::MAX` for other bytes.
    const fn table(alphabet: &[u8; 65], space: Option<u8>) -> [u8; 256] {
        let mut map = [u8::MAX; 256];
        let mut i = 0;
        while i < 65 {
            map[alphabet[i] as usize] = i as u8;
            i += 1;
        }
        if let Some(v) = space {
            map[b' ' as usize] = v;
        }
        map
    }

    static B64_MAP: [u8; 256] = table(B64, None);
    // A `+` turned into a space by form decoding.
    static URI_MAP: [u8; 256] = table(URI, Some(62));

    /// Six-bit symbols: every byte in the alphabet, and a first symbol
    /// whose top bits open a stream (the first 2-bit read is 0 or 1: the
    /// second bit read, 16, is clear). Checked before any allocation.
    fn symbols(map: &[u8; 256], input: &[u8]) -> bool {
        input
            .first()
            .is_some_and(|&c| map[c as usize] != u8::MAX && map[c as usize] & 16 == 0)
            && input.iter().all(|&c| map[c as usize] != u8::MAX)
    }

    fn text(out: Vec<u16>) -> Option<String> {
        let s = String::from_utf16(&out).ok()?;
        worth_reading(s.as_bytes()).then_some(s)
    }

    fn six_bit(map: &'static [u8; 256], input: &[u8]) -> Option<String> {
        if !symbols(map, input) {
            return None;
        }
        let data = Data::Mapped(input, map);
        text(decompress(&data, 32)?)
    }

    pub fn decompress_base64(input: &[u8]) -> Option<String> {
        six_bit(&B64_MAP, input)
    }

    pub fn decompress_uri(input: &[u8]) -> Option<String> {
        six_bit(&URI_MAP, input)
    }

    pub fn decompress_utf16(input: &str) -> Option<String> {
        let values: Vec<u32> = input
            .encode_utf16()
            .map(|c| u32::from(c).saturating_sub(32))
            .collect();
        text(decompress(&Data::Values(&values), 16384)?)
    }

    /// The compressed symbols: bytes read through an alphabet (validated
    /// beforehand), or values already decoded.
    enum Data<'a> {
        Mapped(&'a [u8], &'static [u8; 256]),
        Values(&'a [u32]),
    }

    impl Data<'_> {
        fn len(&self) -> usize {
            match self {
                Data::Mapped(b, _) => b.len(),
                Data::Values(v) => v.len(),
            }
        }

        fn get(&self, i: usize) -> Option<u32> {
            match self {
                Data::Mapped(b, map) => b.get(i).map(|&c| u32::from(map[c as usize])),
                Data::Values(v) => v.get(i).copied(),
            }
        }
    }

    struct Bits<'a> {
        data: &'a Data<'a>,
        val: u32,
        position: u32,
        index: usize,
        reset: u32,
    }

    impl Bits<'_> {
        fn read(&mut self, n: u32) -> Option<u32> {
            let mut bits = 0u32;
            for k in 0..n {
                let bit = u32::from(self.val & self.position > 0);
                self.position >>= 1;
                if self.position == 0 {
                    self.position = self.reset;
                    self.val = self.data.get(self.index)?;
                    self.index += 1;
                }
                bits |= bit << k;
            }
            Some(bits)
        }
    }

    /// Every dictionary entry is a run of the output already written (a
    /// literal, or the previous entry plus the first character of the
    /// next, which follows it): entries are kept as `(start, len)` ranges
    /// of the output, not as strings of their own.
    fn decompress(data: &Data<'_>, reset: u32) -> Option<Vec<u16>> {
        let first = data.get(0)?;
        let mut bits = Bits {
            data,
            val: first,
            position: reset,
            index: 1,
            reset,
        };
        let mut dict: Vec<(usize, usize)> = vec![(0, 0); 3];
        let mut dict_chars = 0usize;
        let mut enlarge_in: u32 = 4;
        let mut num_bits: u32 = 3;
        let c = match bits.read(2)? {
            0 => bits.read(8)?,
            1 => bits.read(16)?,
            _ => return None,
        } as u16;
        dict.push((0, 1));
        let mut w = (0usize, 1usize);
        let mut out = vec![c];
        loop {
            if bits.index > data.len() || num_bits > 24 {
                return None;
            }
            let mut cc = bits.read(num_bits)? as usize;
            let mut literal = None;
            match cc {
                0 | 1 => {
                    let ch = bits.read(if cc == 0 { 8 } else { 16 })? as u16;
                    dict.push((out.len(), 1));
                    literal = Some(ch);
                    cc = dict.len() - 1;
                    enlarge_in -= 1;
                }
                2 => return Some(out),
                _ => {}
            }
            if enlarge_in == 0 {
                enlarge_in = 1 << num_bits;
                num_bits += 1;
            }
            let start = out.len();
            let entry = if let Some(ch) = literal {
                out.push(ch);
                (start, 1)
            } else if cc < dict.len() && cc >= 3 {
                let (s, l) = dict[cc];
                out.extend_from_within(s..s + l);
                (start, l)
            } else if cc == dict.len() {
                // w followed by its own first character.
                out.extend_from_within(w.0..w.0 + w.1);
                out.push(out[w.0]);
                (start, w.1 + 1)
            } else {
                return None;
            };
            // w is written just before the entry: w plus the entry's first
            // character is the range one longer.
            let next = (w.0, w.1 + 1);
            dict_chars += next.1;
            dict.push(next);
            if out.len() > MAX_INFLATE / 2 || dict_chars > 4 * MAX_INFLATE {
                return None;
            }
            enlarge_in -= 1;
            w = entry;
            if enlarge_in == 0 {
                enlarge_in = 1 << num_bits;
                num_bits += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_inferred_from_shape() {
        assert_eq!(
            CanaryKind::infer("jane.canary+rx7@example.com"),
            CanaryKind::Email
        );
        assert_eq!(CanaryKind::infer("+1 (555) 010-0199"), CanaryKind::Phone);
        assert_eq!(
            CanaryKind::infer("Zephyrine Quillfeather"),
            CanaryKind::Name
        );
        assert_eq!(CanaryKind::infer("plan b canary pill"), CanaryKind::Search);
        assert_eq!(CanaryKind::infer("RX-77310-CANARY"), CanaryKind::Other);
    }

    #[test]
    fn base64_alignment_needles_are_substrings_of_any_embedding() {
        let v = b"jane.canary+rx7@example.com";
        let needles = base64_aligned(v);
        for pad in 0..3 {
            let mut blob = b"{\"x\":".to_vec();
            blob.truncate(blob.len() - pad);
            blob.extend_from_slice(v);
            let enc = STANDARD_NO_PAD.encode(&blob);
            assert!(
                needles
                    .iter()
                    .any(|(n, _)| enc.as_bytes().windows(n.len()).any(|w| w == n.as_slice())),
                "offset {pad}"
            );
        }
    }

    #[test]
    fn a_scanner_remembers_only_clean_values() {
        use leakscope_core::{Header, Source};
        let m = CanaryMatcher::new(&[Canary::new("jane.doe.canary@example.com")]).unwrap();
        let req = |url: &str, cookie: &str| {
            let mut ex = Exchange::get(Source::new("t", 0), url);
            ex.request_headers.push(Header {
                name: "Cookie".into(),
                value: cookie.into(),
            });
            ex
        };
        let clean = req(
            "https://t.example/c?sid=abcdef0123456789&u=https%3A%2F%2Fsite.example%2Fpage",
            "_uid=Zm9vYmFyYmF6cXV4eHl6; theme=dark-mode-on",
        );
        let leaky_cookie = "_uid=Zm9vYmFyYmF6cXV4eHl6; em=jane.doe.canary%40example.com";
        let mut s = m.scanner();
        for _ in 0..3 {
            assert!(s.scan(&clean).is_empty());
            // Same query and one cookie as a clean request: the new cookie
            // and the same values in other fields are still read.
            let hits = s.scan(&req(
                "https://t.example/c?sid=abcdef0123456789&q=jane.doe.canary%40example.com",
                leaky_cookie,
            ));
            let fields: Vec<&str> = hits.iter().map(|h| h.field.as_str()).collect();
            assert_eq!(fields, ["url.query.q", "cookie:em"]);
            assert_eq!(
                hits,
                m.scan(&req(
                    "https://t.example/c?sid=abcdef0123456789&q=jane.doe.canary%40example.com",
                    leaky_cookie,
                ))
            );
        }
    }

    #[test]
    fn lz_round_trips_repetitive_text() {
        // Long and repetitive: most output comes from dictionary entries,
        // including the entry being defined (w + w[0]).
        let text: String = (0..200)
            .map(|i| format!("{{\"em\":\"jane.doe.canary@example.com\",\"n\":{i},\"aaaaaaaa\":\"ababababab\"}}"))
            .collect();
        let b64 = lz_str::compress_to_base64(&text);
        assert_eq!(
            lz::decompress_base64(b64.trim_end_matches('=').as_bytes()).as_deref(),
            Some(text.as_str())
        );
        let uri = lz_str::compress_to_encoded_uri_component(&text);
        assert_eq!(
            lz::decompress_uri(uri.as_bytes()).as_deref(),
            Some(text.as_str())
        );
        let utf16 = lz_str::compress_to_utf16(&text);
        assert_eq!(lz::decompress_utf16(&utf16).as_deref(), Some(text.as_str()));
    }

    #[test]
    fn lz_rejects_garbage_quickly() {
        assert_eq!(lz::decompress_base64(b"AAAAAAAAAAAAAAAAAAAA"), None);
        assert_eq!(lz::decompress_base64(b"zzzzzzzzzzzzzzzzzzzzzzzz"), None);
    }

    #[test]
    fn short_or_malformed_canaries_are_refused() {
        assert!(CanaryMatcher::new(&[Canary::new("abc")]).is_err());
        assert!(CanaryMatcher::new(&[Canary::with_kind("12345", CanaryKind::Phone)]).is_err());
    }
}
