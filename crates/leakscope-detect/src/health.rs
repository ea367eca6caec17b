//! Health detector: finds health content in the meaningful fields of an event
//! (health-and-law.md §3.1, §4.4; issue 3 §1).
//!
//! Each field is URL-decoded and normalised (see `normalize`), then matched
//! against the lexicon with one Aho-Corasick automaton whose patterns are the
//! terms padded with spaces, so every match is whole tokens. Overlapping
//! matches resolve leftmost-longest: "plan b one step" beats "plan b".
//! Short acronyms (HIV, PrEP) match case-sensitively on the decoded text.
//! ICD-10-CM and NDC codes are recognised by shape and count only in a health
//! context. Weak terms never count alone: their evidence lists the second
//! signals that support them, and stays empty (ignored by the verdict) when
//! there are none. `brand` terms (a product name that is also an everyday
//! word or a first name: `ella`, `tums`, `lithium`) are weak terms whose only
//! second signal is a dose or form word in the same field ("Ella 30 mg
//! tablet"): the page or a health word elsewhere never makes "Hi Ella" or
//! "lithium batteries" health evidence, and without the dose word they are
//! not listed at all. Words whose everyday sense swamps the
//! health one (`today`, `balance`, `focus`) are not terms at all, only parts of
//! phrases ("Today sponge").

use std::sync::{Arc, LazyLock};

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use leakscope_core::{Event, Vendor};
use serde_json::Value;

use crate::DetectError;
use crate::finding::{HealthCategory, HealthEvidence, Strength};
use crate::normalize::{normalize, normalize_into, url_decode};

/// The shipped lexicon, in priority order: the first file that lists a term
/// sets its category and strength (the hand-curated core wins).
pub const BUILTIN_LEXICON: [&str; 4] = [
    include_str!("../../../data/lexicon/core.tsv"),
    include_str!("../../../data/lexicon/drugs.tsv"),
    include_str!("../../../data/lexicon/conditions.tsv"),
    include_str!("../../../data/lexicon/acronyms.tsv"),
];
/// ICD-10-CM 3-character ranges → categories.
pub const BUILTIN_ICD10_RANGES: &str = include_str!("../../../data/lexicon/icd10_ranges.tsv");

/// Everyday phrases that contain a health word but mean something else
/// (§4.4). They take part in leftmost-longest resolution, so "the great
/// depression" hides "depression", and produce no evidence.
const NOT_HEALTH: &[&str] = &[
    "great depression",
    "economic depression",
    "tropical depression",
    "cancer horoscope",
    "cancer daily horoscope",
    "cancer zodiac",
    "cancer sign",
    "tropic of cancer",
    "cold brew",
    "cold press",
    "cold pressed",
    "cold cuts",
    "cold weather",
    "cold storage",
    "focus group",
    "in focus",
    "test prep",
    "meal prep",
    "sleep mask",
    "rehab addict",
    "date night",
    "book club",
    // Shop words on pharmacy and store pages: a weak health word inside
    // them names a product or a mood, not the user's health.
    "retail therapy",
    "lip therapy",
    "hair therapy",
    "skin therapy",
    "rubbing alcohol",
    "isopropyl alcohol",
    "alcohol free",
    "alcohol wipes",
    "alcohol swabs",
    "alcohol pads",
    "alcohol prep",
    "lubricant eye",
    "eye lubricant",
    "detox tea",
    "skin detox",
    "digital detox",
];

/// Host and path tokens of health and pharmacy sites: a second signal for
/// weak terms, and the context that makes codes count.
const CONTEXT_TOKENS: &[&str] = &[
    "pharmacy",
    "pharmacies",
    "rx",
    "health",
    "healthcare",
    "clinic",
    "clinics",
    "hospital",
    "hospitals",
    "medical",
    "medicine",
    "medications",
    "medication",
    "doctor",
    "doctors",
    "physician",
    "physicians",
    "patient",
    "patients",
    "prescription",
    "prescriptions",
    "telehealth",
    "drug",
    "drugs",
    "symptoms",
    "conditions",
    "treatment",
    "diagnosis",
    "providers",
    // Clinical workflows: a weak word on an intake or screening page is care.
    "intake",
    "assessment",
    "questionnaire",
    "screening",
    "telemedicine",
];

/// Fragments that mark a health site inside a compound host label
/// (`mahealthconnector`, `cityofhope`-style names need the path instead).
const HOST_FRAGMENTS: &[&str] = &[
    "health", "pharm", "clinic", "hospital", "medic", "doctor", "patient", "care",
];

/// Informational pages (§3.3): their host or path does not vouch for a weak word.
const INFO_TOKENS: &[&str] = &[
    "careers",
    "career",
    "jobs",
    "job",
    "parking",
    "directions",
    "visiting",
    "visitors",
    "news",
    "newsroom",
    "press",
    "donate",
    "about",
];

/// Dose and form words: a weak drug-like word next to them is a drug.
const DOSE_TOKENS: &[&str] = &[
    "mg", "mcg", "ml", "tablet", "tablets", "tab", "tabs", "capsule", "capsules", "dose", "doses",
    "refill", "refills", "pill", "pills", "rx",
];

/// Event-name tokens of health actions.
const HEALTH_EVENT_TOKENS: &[&str] = &[
    "appointment",
    "schedule",
    "refill",
    "prescription",
    "rx",
    "pharmacy",
    "telehealth",
    "intake",
    "patient",
    "symptom",
    "diagnosis",
    "medication",
];

/// Field keys whose values are codes of a health kind.
const CODE_KEYS: &[&str] = &["icd", "diagnos", "dx", "ndc"];

/// Longest text a field contributes (recorder payloads can be megabytes).
const MAX_FIELD: usize = 64 << 10;

#[derive(Debug, Clone, Copy)]
struct Entry {
    /// `None`: a NOT_HEALTH phrase.
    category: Option<HealthCategory>,
    strength: Strength,
    /// A `brand` term: weak, and counted only as that product (a dose or
    /// form word in the same field), never on the page's context.
    brand: bool,
}

/// The compiled lexicon. Build once (`builtin()` is cached), share freely.
#[derive(Clone)]
pub struct HealthMatcher {
    /// Padded normalised terms (` plan b `), leftmost-longest resolved by us.
    terms: Option<AhoCorasick>,
    entries: Arc<[Entry]>,
    /// Normalised term text, one per entry.
    names: Arc<[Box<str>]>,
    acronyms: Option<AhoCorasick>,
    acro_entries: Arc<[(Box<str>, HealthCategory, Strength)]>,
    icd: Arc<[IcdRange]>,
}

/// `(from, to, category)`: upper-case codes without the dot, 3 to 7 characters.
type IcdRange = (Box<str>, Box<str>, HealthCategory);

static BUILTIN: LazyLock<Result<HealthMatcher, String>> = LazyLock::new(|| {
    HealthMatcher::build(&BUILTIN_LEXICON, BUILTIN_ICD10_RANGES).map_err(|e| e.to_string())
});

impl HealthMatcher {
    /// The shipped lexicon, compiled on first use and then shared.
    pub fn builtin() -> HealthMatcher {
        match &*BUILTIN {
            Ok(m) => m.clone(),
            // The shipped lexicon is validated by tests; a broken one is a
            // build defect that must not pass silently as "no health data".
            Err(e) => panic!("built-in lexicon in data/lexicon/ is invalid: {e}"),
        }
    }

    /// Compiles `files` (lexicon TSVs with the header `term, category, strength, source`,
    /// first listing of a term wins; acronym files hold case-sensitive terms)
    /// with the built-in ICD-10 ranges.
    pub fn from_tsv(files: &[&str]) -> Result<HealthMatcher, DetectError> {
        HealthMatcher::build(files, BUILTIN_ICD10_RANGES)
    }

    /// `from_tsv` with an ICD-10 range table of your own (`from, to, category`).
    pub fn build(files: &[&str], icd10_ranges: &str) -> Result<HealthMatcher, DetectError> {
        let mut seen = std::collections::HashSet::new();
        let mut patterns: Vec<String> = Vec::new();
        let mut entries = Vec::new();
        let mut names = Vec::new();
        let mut acro_entries: Vec<(Box<str>, HealthCategory, Strength)> = Vec::new();
        let mut line_base = 0;
        for file in files {
            for (n, line) in file.lines().enumerate() {
                let line_no = line_base + n + 1;
                let err = |reason: String| DetectError::Lexicon {
                    line: line_no,
                    reason,
                };
                let line = line.trim_end_matches('\r');
                if n == 0 {
                    if !line.starts_with("term\tcategory\tstrength") {
                        return Err(err(format!(
                            "expected the header `term\tcategory\tstrength\tsource`, found {line:?}"
                        )));
                    }
                    continue;
                }
                if line.trim().is_empty() || line.starts_with('#') {
                    continue;
                }
                let cols: Vec<&str> = line.split('\t').collect();
                if cols.len() < 3 {
                    return Err(err(format!("expected 4 tab-separated columns: {line:?}")));
                }
                let (term, cat, strength) = (cols[0].trim(), cols[1].trim(), cols[2].trim());
                let category = HealthCategory::parse(cat)
                    .ok_or_else(|| err(format!("unknown category {cat:?}")))?;
                let (strength, brand) = match strength {
                    "strong" => (Strength::Strong, false),
                    "weak" => (Strength::Weak, false),
                    "brand" => (Strength::Weak, true),
                    other => {
                        return Err(err(format!(
                            "strength must be strong, weak or brand: {other:?}"
                        )));
                    }
                };
                if term.is_empty() {
                    return Err(err("empty term".into()));
                }
                let norm = normalize(term);
                if norm.is_empty() {
                    return Err(err(format!("term {term:?} has no letters or digits")));
                }
                // A term written with capitals is matched case-sensitively
                // on the decoded text ("HIV", "PrEP").
                let acronym = term.chars().any(char::is_uppercase);
                if acronym {
                    if !acro_entries.iter().any(|(t, _, _)| &**t == term) {
                        acro_entries.push((term.into(), category, strength));
                    }
                    continue;
                }
                if norm != term {
                    return Err(err(format!(
                        "term {term:?} is not in normalised form (expected {norm:?})"
                    )));
                }
                if !seen.insert(norm.clone()) {
                    continue;
                }
                patterns.push(format!(" {norm} "));
                entries.push(Entry {
                    category: Some(category),
                    strength,
                    brand,
                });
                names.push(norm.into_boxed_str());
            }
            line_base += file.lines().count();
        }
        for phrase in NOT_HEALTH {
            if seen.insert((*phrase).to_owned()) {
                patterns.push(format!(" {phrase} "));
                entries.push(Entry {
                    category: None,
                    strength: Strength::Weak,
                    brand: false,
                });
                names.push((*phrase).into());
            }
        }
        let terms = AhoCorasickBuilder::new()
            .match_kind(MatchKind::Standard)
            .build(&patterns)
            .map_err(|e| DetectError::Lexicon {
                line: 0,
                reason: e.to_string(),
            })?;
        let acronyms = if acro_entries.is_empty() {
            None
        } else {
            Some(
                AhoCorasickBuilder::new()
                    .match_kind(MatchKind::Standard)
                    .build(acro_entries.iter().map(|(t, _, _)| t.as_bytes()))
                    .map_err(|e| DetectError::Lexicon {
                        line: 0,
                        reason: e.to_string(),
                    })?,
            )
        };
        let icd = parse_icd_ranges(icd10_ranges)?;
        Ok(HealthMatcher {
            terms: Some(terms),
            entries: entries.into(),
            names: names.into(),
            acronyms,
            acro_entries: acro_entries.into(),
            icd: icd.into(),
        })
    }

    /// Number of lexicon terms (acronyms included).
    pub fn len(&self) -> usize {
        self.entries.iter().filter(|e| e.category.is_some()).count() + self.acro_entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Heap bytes held by the automata.
    pub fn memory_usage(&self) -> usize {
        self.terms.as_ref().map_or(0, |a| a.memory_usage())
            + self.acronyms.as_ref().map_or(0, |a| a.memory_usage())
    }

    /// Every piece of health content in the event's meaningful fields.
    pub fn match_event(&self, ev: &Event) -> Vec<HealthEvidence> {
        let mut scan = Scan {
            m: self,
            norm: String::new(),
            offs: Vec::new(),
            cands: Vec::new(),
            path: String::new(),
            hits: Vec::new(),
        };
        scan.event(ev);
        if scan.hits.is_empty() {
            return Vec::new();
        }
        let page = PageContext::of(ev);
        scan.finish(&page, ev)
    }

    /// Category of an ICD-10-CM code: the first range (in file order, most
    /// specific first) whose bounds contain the code, compared by prefix:
    /// `Z33.2` is in `Z332–Z332`, `F10.20` in `F10–F19`.
    fn icd_category(&self, code: &str) -> Option<HealthCategory> {
        let key: String = code
            .chars()
            .filter(|c| *c != '.')
            .map(|c| c.to_ascii_uppercase())
            .collect();
        self.icd
            .iter()
            .find(|(from, to, _)| {
                key.len() >= from.len()
                    && key.len() >= to.len()
                    && key[..from.len()] >= **from
                    && key[..to.len()] <= **to
            })
            .map(|(_, _, c)| *c)
    }
}

fn parse_icd_ranges(tsv: &str) -> Result<Vec<IcdRange>, DetectError> {
    let mut out = Vec::new();
    for (n, line) in tsv.lines().enumerate() {
        let err = |reason: String| DetectError::Lexicon {
            line: n + 1,
            reason,
        };
        let line = line.trim_end_matches('\r');
        if n == 0 || line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.len() < 3 {
            return Err(err(format!(
                "icd10 range: expected from, to, category: {line:?}"
            )));
        }
        let code = |s: &str| -> Result<Box<str>, DetectError> {
            let s = s.trim();
            let ok = (3..=7).contains(&s.len())
                && s.as_bytes()[0].is_ascii_alphabetic()
                && s.bytes().all(|c| c.is_ascii_alphanumeric());
            if !ok {
                return Err(err(format!(
                    "icd10 range: bad code {s:?} (3 to 7 letters and digits, no dot)"
                )));
            }
            Ok(s.to_ascii_uppercase().into())
        };
        let category = HealthCategory::parse(cols[2].trim())
            .ok_or_else(|| err(format!("icd10 range: unknown category {:?}", cols[2])))?;
        out.push((code(cols[0])?, code(cols[1])?, category));
    }
    // File order is the precedence: the lexicon lists narrow ranges first
    // (Z332 before Z32–Z3A, F10–F19 before F01–F99).
    Ok(out)
}

/// What kind of hit.
#[derive(Debug, Clone)]
enum Kind {
    Term(usize),
    Acronym(usize),
    Icd(HealthCategory),
    Ndc,
}

#[derive(Debug)]
struct Hit {
    kind: Kind,
    field: String,
    /// Decoded field text, clipped around the match.
    matched: String,
    /// Code text (for codes) as found.
    code: Option<String>,
    /// Dose or form word in the same field.
    dose: Option<&'static str>,
    /// A field name that makes a code count.
    code_key: bool,
}

struct Scan<'m> {
    m: &'m HealthMatcher,
    norm: String,
    offs: Vec<u32>,
    cands: Vec<(usize, usize, usize)>,
    /// The field name being scanned, built by push/truncate.
    path: String,
    hits: Vec<Hit>,
}

impl Scan<'_> {
    fn event(&mut self, ev: &Event) {
        self.with("event", |s| s.text(&ev.event));
        if let Some(url) = ev.page_url.as_deref() {
            self.url("page_url", url, true);
        }
        if let Some(t) = ev.page_title.as_deref() {
            self.with("page_title", |s| s.text(t));
        }
        if let Some(r) = ev.referrer.as_deref() {
            self.url("referrer", r, false);
        }
        if let Some(b) = ev.ui.button_text.as_deref() {
            self.with("ui.button_text", |s| s.text(b));
        }
        if let Some(d) = ev.ui.destination.as_deref() {
            self.with("ui.destination", |s| s.value(d));
        }
        if !ev.ui.form_fields.is_empty() {
            self.with("ui.form_fields", |s| {
                for f in &ev.ui.form_fields {
                    for v in [&f.name, &f.id, &f.placeholder].into_iter().flatten() {
                        s.value(v);
                    }
                }
            });
        }
        for (k, v) in &ev.custom_data {
            if skip_key(k) {
                continue;
            }
            self.with("custom_data.", |s| {
                s.path.push_str(k);
                s.json(v, 0);
            });
        }
        // Session recorders and unknown recipients: their payloads are not
        // mapped into fields, so read the raw strings (not ids or cookies).
        if matches!(
            ev.vendor,
            Vendor::Hotjar | Vendor::Fullstory | Vendor::Clarity | Vendor::Other
        ) {
            for (k, v) in &ev.raw {
                if skip_key(k) || skip_raw_key(k) || !looks_like_text(v) {
                    continue;
                }
                self.with("raw.", |s| {
                    s.path.push_str(k);
                    s.value(v);
                });
            }
        }
    }

    /// Runs `f` with `name` appended to the field path.
    fn with(&mut self, name: &str, f: impl FnOnce(&mut Self)) {
        let len = self.path.len();
        self.path.push_str(name);
        f(self);
        self.path.truncate(len);
    }

    /// A URL: path segments and query values, never the host or the keys.
    fn url(&mut self, prefix: &str, url: &str, query: bool) {
        let (path, q) = url_path_query(url);
        self.with(prefix, |s| {
            s.with(".path", |s| s.text(path));
            if !query {
                return;
            }
            for kv in q.split('&') {
                let (k, v) = kv.split_once('=').unwrap_or(("", kv));
                if k.is_empty() || v.is_empty() || skip_key(k) {
                    continue;
                }
                let k = url_decode(k);
                s.with(".query.", |s| {
                    s.path.push_str(&k);
                    s.value(v);
                });
            }
        });
    }

    fn json(&mut self, v: &Value, depth: usize) {
        if depth > 16 {
            return;
        }
        match v {
            Value::String(s) => self.value(s),
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    let len = self.path.len();
                    use std::fmt::Write as _;
                    let _ = write!(self.path, "[{i}]");
                    self.json(item, depth + 1);
                    self.path.truncate(len);
                }
            }
            Value::Object(map) => {
                for (k, item) in map {
                    if skip_key(k) {
                        continue;
                    }
                    let len = self.path.len();
                    self.path.push('.');
                    self.path.push_str(k);
                    self.json(item, depth + 1);
                    self.path.truncate(len);
                }
            }
            // Numbers, booleans, null: no words.
            _ => {}
        }
    }

    /// A free value: URLs are read as path + query values, opaque tokens skipped.
    fn value(&mut self, v: &str) {
        let t = v.trim();
        if t.starts_with("http://") || t.starts_with("https://") || t.starts_with("//") {
            let (path, q) = url_path_query(t);
            if is_resource(path) {
                return;
            }
            self.text(path);
            for kv in q.split('&') {
                if let Some((k, v)) = kv.split_once('=')
                    && !skip_key(k)
                {
                    self.text(v);
                }
            }
            return;
        }
        if t.starts_with("data:") || is_opaque(t) {
            return;
        }
        if numeric_only(t) {
            self.codes(t);
            return;
        }
        self.text(t);
    }

    /// Matches one field's text.
    fn text(&mut self, raw: &str) {
        if raw.is_empty() {
            return;
        }
        let raw = clip_bytes(raw, MAX_FIELD);
        let decoded = url_decode(raw);
        let decoded: &str = &decoded;
        normalize_into(decoded, &mut self.norm, &mut self.offs);
        if self.norm.len() <= 2 {
            return;
        }
        let start_hits = self.hits.len();
        // Lexicon terms, leftmost-longest over all overlapping matches.
        self.cands.clear();
        if let Some(ac) = &self.m.terms {
            for m in ac.find_overlapping_iter(self.norm.as_str()) {
                self.cands
                    .push((m.start(), m.end(), m.pattern().as_usize()));
            }
        }
        let mut spans: Vec<(usize, usize)> = Vec::new();
        if !self.cands.is_empty() {
            self.cands
                .sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
            let mut last_end = 0usize;
            for i in 0..self.cands.len() {
                let (s, e, p) = self.cands[i];
                // Padded patterns share the separating space with a neighbour.
                if s + 1 < last_end {
                    continue;
                }
                last_end = e;
                let (ds, de) = (self.offs[s + 1] as usize, self.offs[e - 1] as usize);
                spans.push((ds, de));
                if self.m.entries[p].category.is_none() {
                    continue;
                }
                let field = self.path.clone();
                if self
                    .hits
                    .iter()
                    .any(|h| matches!(h.kind, Kind::Term(q) if q == p) && h.field == field)
                {
                    continue;
                }
                self.hits.push(Hit {
                    kind: Kind::Term(p),
                    field,
                    matched: clip_around(decoded, ds, de),
                    code: None,
                    dose: None,
                    code_key: false,
                });
            }
        }
        // Acronyms, case-sensitive, token-bounded, not inside a term match.
        if let Some(ac) = &self.m.acronyms {
            for m in ac.find_overlapping_iter(decoded) {
                let (s, e) = (m.start(), m.end());
                if !acronym_bounded(decoded, s, e) || spans.iter().any(|&(a, b)| s >= a && e <= b) {
                    continue;
                }
                let p = m.pattern().as_usize();
                let field = self.path.clone();
                if self
                    .hits
                    .iter()
                    .any(|h| matches!(h.kind, Kind::Acronym(q) if q == p) && h.field == field)
                {
                    continue;
                }
                self.hits.push(Hit {
                    kind: Kind::Acronym(p),
                    field,
                    matched: clip_around(decoded, s, e),
                    code: None,
                    dose: None,
                    code_key: false,
                });
            }
        }
        self.codes(decoded);
        if self.hits.len() > start_hits {
            let dose = self
                .norm
                .split(' ')
                .find_map(|t| DOSE_TOKENS.iter().find(|d| **d == t).copied());
            for h in &mut self.hits[start_hits..] {
                h.dose = dose;
            }
        }
    }

    /// ICD-10-CM and NDC code shapes in one field's decoded text.
    fn codes(&mut self, decoded: &str) {
        if !decoded.bytes().any(|b| b.is_ascii_digit()) {
            return;
        }
        let key = last_key(&self.path);
        let code_key = CODE_KEYS.iter().any(|k| contains_ci(key, k));
        // A field called `code` admits dotless shapes but vouches for nothing.
        let shape_key = code_key || contains_ci(key, "code");
        let ndc_key = contains_ci(key, "ndc");
        for tok in decoded.split(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '-')) {
            let tok = tok.trim_matches(|c| c == '.' || c == '-');
            if tok.len() < 3 || tok.len() > 13 {
                continue;
            }
            let kind = if let Some(cat) = self.icd_shape(tok, shape_key) {
                Kind::Icd(cat)
            } else if is_ndc(tok, ndc_key) {
                Kind::Ndc
            } else {
                continue;
            };
            let field = self.path.clone();
            if self
                .hits
                .iter()
                .any(|h| h.code.as_deref() == Some(tok) && h.field == field)
            {
                continue;
            }
            let s = tok.as_ptr() as usize - decoded.as_ptr() as usize;
            self.hits.push(Hit {
                kind,
                field,
                matched: clip_around(decoded, s, s + tok.len()),
                code: Some(tok.to_owned()),
                dose: None,
                code_key,
            });
        }
    }

    /// `F32.9`, `O09.90`, `Z30.011`: letter, digit, digit or letter, then a
    /// dot and up to 4 more. Without the dot (`F329`, `F32`) only in a code field.
    fn icd_shape(&self, tok: &str, code_key: bool) -> Option<HealthCategory> {
        let b = tok.as_bytes();
        if b.len() < 3 || !b[0].is_ascii_uppercase() || b[0] == b'U' || !b[1].is_ascii_digit() {
            return None;
        }
        if !(b[2].is_ascii_digit() || b[2] == b'A' || b[2] == b'B') {
            return None;
        }
        let rest = &b[3..];
        let ok = match rest.split_first() {
            None => code_key,
            Some((b'.', ext)) => {
                !ext.is_empty()
                    && ext.len() <= 4
                    && ext
                        .iter()
                        .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
            }
            Some(_) => {
                code_key
                    && rest.len() <= 4
                    && rest
                        .iter()
                        .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
            }
        };
        if !ok {
            return None;
        }
        Some(
            self.m
                .icd_category(tok)
                .unwrap_or(HealthCategory::ConditionDiagnosis),
        )
    }

    fn finish(self, page: &PageContext, ev: &Event) -> Vec<HealthEvidence> {
        let m = self.m;
        let name_of = |h: &Hit| -> (String, Option<HealthCategory>, Strength) {
            match &h.kind {
                Kind::Term(p) => (
                    m.names[*p].to_string(),
                    m.entries[*p].category,
                    m.entries[*p].strength,
                ),
                Kind::Acronym(p) => {
                    let (t, c, s) = &m.acro_entries[*p];
                    (t.to_string(), Some(*c), *s)
                }
                Kind::Icd(c) => (h.code.clone().unwrap_or_default(), Some(*c), Strength::Weak),
                Kind::Ndc => (
                    h.code.clone().unwrap_or_default(),
                    Some(HealthCategory::MedicationRx),
                    Strength::Weak,
                ),
            }
        };
        let strong_terms: Vec<String> = self
            .hits
            .iter()
            .filter(|h| matches!(h.kind, Kind::Term(_) | Kind::Acronym(_)))
            .map(name_of)
            .filter(|(_, c, s)| c.is_some() && *s == Strength::Strong)
            .map(|(t, _, _)| t)
            .collect();
        let event_signal = {
            let n = normalize(&ev.event);
            n.split(' ')
                .any(|t| HEALTH_EVENT_TOKENS.contains(&t))
                .then(|| format!("event:{}", ev.event))
        };
        let mut out: Vec<HealthEvidence> = Vec::with_capacity(self.hits.len());
        for h in &self.hits {
            let (term, category, strength) = name_of(h);
            let Some(category) = category else { continue };
            let mut signals = Vec::new();
            let is_code = matches!(h.kind, Kind::Icd(_) | Kind::Ndc);
            let brand = matches!(h.kind, Kind::Term(p) if m.entries[p].brand);
            if brand {
                // A product name that is also an everyday word or a first
                // name ("Ella", "Tums", "lithium") is that product only where
                // it is written as one: "Ella 30 mg tablet". The page, the
                // event or a health word elsewhere does not make "Hi Ella"
                // contraception.
                // Not written as the product: not that product, so no
                // evidence at all (a weak word without support is still
                // listed; a first name is not).
                let Some(d) = h.dose else { continue };
                signals.push(format!("dose:{d}"));
            } else if strength == Strength::Weak {
                let own: Vec<&str> = term.split(' ').collect();
                if is_code && h.code_key {
                    signals.push(format!("field:{}", last_key(&h.field)));
                }
                if let Some(t) = strong_terms.iter().find(|t| **t != term) {
                    signals.push(format!("strong:{t}"));
                }
                if let Some((kind, tok)) = &page.context
                    && !own.contains(&tok.as_str())
                {
                    signals.push(format!("{kind}:{tok}"));
                }
                if !is_code
                    && let Some(d) = h.dose
                    && !own.contains(&d)
                {
                    signals.push(format!("dose:{d}"));
                }
                if let Some(e) = &event_signal {
                    signals.push(e.clone());
                }
            }
            // A host name alone (brightpath-care.example) is too weak to make
            // an ambiguous word count: "on your schedule" is not a booking.
            if signals.iter().all(|s| s.starts_with("host:")) {
                signals.clear();
            }
            if out
                .iter()
                .any(|e| e.category == category && e.term == term && e.field == h.field)
            {
                continue;
            }
            out.push(HealthEvidence {
                category,
                term,
                field: h.field.clone(),
                matched: h.matched.clone(),
                strength,
                signals,
            });
        }
        implied_categories(&mut out);
        out
    }
}

/// Health context of the page: a host or path token (not on informational pages).
struct PageContext {
    context: Option<(&'static str, String)>,
}

impl PageContext {
    fn of(ev: &Event) -> PageContext {
        let Some(url) = ev.page_url.as_deref() else {
            return PageContext { context: None };
        };
        let (host, path) = split_host_path(url);
        let npath = normalize(path);
        let info = npath.split(' ').any(|t| INFO_TOKENS.contains(&t));
        if info {
            return PageContext { context: None };
        }
        let host = host.to_ascii_lowercase();
        let host_tok = host
            .split(['.', '-'])
            .find_map(|label| {
                CONTEXT_TOKENS
                    .iter()
                    .find(|t| **t == label)
                    .or_else(|| HOST_FRAGMENTS.iter().find(|f| label.contains(**f)))
            })
            .map(|t| ("host", (*t).to_owned()));
        let path_tok = npath
            .split(' ')
            .find_map(|t| CONTEXT_TOKENS.iter().find(|c| **c == t))
            .map(|t| ("path", (*t).to_owned()));
        PageContext {
            context: path_tok.or(host_tok),
        }
    }
}

fn split_host_path(url: &str) -> (&str, &str) {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let end = rest.find(['?', '#']).unwrap_or(rest.len());
    let rest = &rest[..end];
    match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    }
}

/// Path and query of a URL (absolute, scheme-relative or a bare path).
fn url_path_query(url: &str) -> (&str, &str) {
    let no_frag = url.split('#').next().unwrap_or(url);
    let (before, query) = no_frag.split_once('?').unwrap_or((no_frag, ""));
    let path = if let Some((_, rest)) = before.split_once("://") {
        rest.find('/').map_or("", |i| &rest[i..])
    } else if let Some(rest) = before.strip_prefix("//") {
        rest.find('/').map_or("", |i| &rest[i..])
    } else {
        before
    };
    (path, query)
}

/// Scripts, styles, images, fonts: their names are code, not content.
fn is_resource(path: &str) -> bool {
    let p = path.to_ascii_lowercase();
    [
        ".js", ".mjs", ".css", ".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp", ".woff", ".woff2",
        ".ico", ".map",
    ]
    .iter()
    .any(|ext| p.ends_with(ext))
}

/// Keys whose values are ids, prices, markup or identity, never content.
fn skip_key(k: &str) -> bool {
    let k = k.trim();
    let lower_ends =
        |suf: &str| k.len() >= suf.len() && k[k.len() - suf.len()..].eq_ignore_ascii_case(suf);
    const SKIP: &[&str] = &[
        "id",
        "ids",
        "classlist",
        "imageurl",
        "image",
        "og:image",
        "og:image:url",
        "twitter:image",
        "tag",
        "dimensions",
        "price",
        "value",
        "currency",
        "fbp",
        "fbc",
        "user_data",
        "ud",
        "udff",
        "em",
        "ph",
        "fn",
        "ln",
        "hash",
        "token",
        "access_token",
        "src",
        "numchildbuttons",
        "numchildren",
        "event_id",
        "eid",
        "cid",
        "uid",
        "sid",
        "tid",
        "gclid",
        "fbclid",
        "msclkid",
        "ttclid",
        "v",
        "ts",
        "it",
        "coo",
        "rqm",
        "sw",
        "sh",
        "ec",
        "o",
        "r",
        "cb",
        "_",
        "z",
        "rnd",
        "random",
    ];
    SKIP.iter().any(|s| k.eq_ignore_ascii_case(s))
        || lower_ends("_id")
        || lower_ends("_ids")
        || (k.ends_with("Id") && k.len() > 2)
        || k.starts_with("ud[")
        || k.starts_with("udff[")
}

/// Raw keys of recorders that carry cookies, sessions or identity.
/// Binary payloads a capture stored as text (a gzip body read as Latin-1)
/// are noise in which any short term can appear: read only what looks like
/// human text.
fn looks_like_text(v: &str) -> bool {
    let sample = v.chars().take(512);
    let (mut total, mut plain) = (0usize, 0usize);
    for c in sample {
        total += 1;
        if c.is_alphanumeric()
            && (c.is_ascii() || c.is_alphabetic() && !('\u{80}'..='\u{ff}').contains(&c))
            || c.is_whitespace()
            || ".,;:!?'\"()-_/&%+=#@[]{}<>|*~$".contains(c)
        {
            plain += 1;
        }
    }
    total == 0 || plain * 100 >= total * 90
}

fn skip_raw_key(k: &str) -> bool {
    let l = k.to_ascii_lowercase();
    [
        "cookie", "session", "token", "user", "email", "visitor", "device", "uuid",
    ]
    .iter()
    .any(|w| l.contains(w))
}

/// Hashes, uuids, base64 blobs, numbers: no words in them.
fn is_opaque(v: &str) -> bool {
    if v.is_empty() {
        return true;
    }
    if v.contains(' ') {
        return false;
    }
    // A long run of letters and digits mixed: hex, base64, uuid parts, tokens.
    let mut run = 0;
    let mut digits = false;
    let mut letters = false;
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || b == b'=' || b == b'/' && run > 0 {
            run += 1;
            digits |= b.is_ascii_digit();
            letters |= b.is_ascii_alphabetic();
            if run >= 20 && digits && letters {
                return true;
            }
        } else {
            run = 0;
            digits = false;
            letters = false;
        }
    }
    // Hyphenated uuids: 8-4-4-4-12 hex.
    let parts: Vec<&str> = v.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && p.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Numbers, dates, prices: no words, but maybe an NDC code.
fn numeric_only(v: &str) -> bool {
    v.bytes()
        .all(|b| b.is_ascii_digit() || b.is_ascii_punctuation() || b == b' ')
}

/// NDC: 4-4-2, 5-3-2 or 5-4-1 with dashes; 10 or 11 bare digits only in an
/// `ndc` field.
fn is_ndc(tok: &str, ndc_key: bool) -> bool {
    let parts: Vec<&str> = tok.split('-').collect();
    if parts.iter().any(|p| !p.bytes().all(|b| b.is_ascii_digit())) {
        return false;
    }
    let lens: Vec<usize> = parts.iter().map(|p| p.len()).collect();
    match lens.as_slice() {
        [4, 4, 2] | [5, 3, 2] | [5, 4, 1] | [5, 4, 2] => true,
        [10] | [11] => ndc_key,
        _ => false,
    }
}

/// A case-sensitive acronym bounded by non-letters (or a new capitalised
/// word: `HIVTest`).
fn acronym_bounded(text: &str, s: usize, e: usize) -> bool {
    let before = text[..s].chars().next_back();
    if before.is_some_and(|c| c.is_alphanumeric()) {
        return false;
    }
    let mut after = text[e..].chars();
    match after.next() {
        None => true,
        Some(c) if !c.is_alphanumeric() => true,
        Some(c) if c.is_uppercase() => after.next().is_some_and(|n| n.is_lowercase()),
        Some(_) => false,
    }
}

fn contains_ci(hay: &str, needle: &str) -> bool {
    hay.as_bytes()
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// Specialties that reveal the condition treated (health-and-law.md §3.1:
/// "cancer/oncology" is a condition; a psychiatrist is mental health care).
/// Stem of the specialty term → the category it implies.
const SPECIALTY_IMPLIES: &[(&str, HealthCategory)] = &[
    ("oncolog", HealthCategory::ConditionDiagnosis),
    ("psychiatr", HealthCategory::MentalHealth),
    ("psycholog", HealthCategory::MentalHealth),
    ("addiction", HealthCategory::SubstanceUse),
    ("reproductive endocrin", HealthCategory::ReproFertility),
    ("fertility", HealthCategory::ReproFertility),
    ("gender", HealthCategory::GenderAffirming),
];

/// Adds the category a specialty implies, as its own evidence saying why.
fn implied_categories(out: &mut Vec<HealthEvidence>) {
    let mut extra = Vec::new();
    for e in out.iter() {
        let counted = e.strength == Strength::Strong || !e.signals.is_empty();
        if e.category != HealthCategory::ProviderSpecialty || !counted {
            continue;
        }
        for (stem, cat) in SPECIALTY_IMPLIES {
            let dup =
                |x: &HealthEvidence| x.category == *cat && x.field == e.field && x.term == e.term;
            if e.term.contains(stem) && !out.iter().any(dup) && !extra.iter().any(dup) {
                let mut x = e.clone();
                x.category = *cat;
                x.signals.push("implied_by:provider.specialty".into());
                extra.push(x);
            }
        }
    }
    out.extend(extra);
}

/// The last key of a field path (`custom_data.contents[0].icd_code` → `icd_code`).
fn last_key(path: &str) -> &str {
    let p = path.trim_end_matches(|c: char| c == ']' || c.is_ascii_digit() || c == '[');
    p.rsplit('.').next().unwrap_or(p)
}

fn clip_bytes(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// About 120 characters of `text` around `[s, e)`.
fn clip_around(text: &str, s: usize, e: usize) -> String {
    const WIDTH: usize = 120;
    if text.len() <= WIDTH {
        return text.to_owned();
    }
    let e = e.min(text.len());
    let s = s.min(e);
    let slack = WIDTH.saturating_sub(e - s) / 2;
    let mut a = s.saturating_sub(slack);
    let mut b = (e + slack).min(text.len());
    while !text.is_char_boundary(a) {
        a -= 1;
    }
    while b < text.len() && !text.is_char_boundary(b) {
        b += 1;
    }
    let mut out = String::with_capacity(b - a + 6);
    if a > 0 {
        out.push('…');
    }
    out.push_str(&text[a..b]);
    if b < text.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests;
