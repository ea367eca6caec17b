//! The audit log: append-only and hash-chained. Each record's SHA-256 covers
//! the previous record's hash and the canonical JSON (keys sorted) of the
//! record itself, so editing, inserting or deleting any record breaks the
//! chain from there on. Records name fields, never the values removed.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The hash before the first record.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What a record says happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditKind {
    /// A request was accepted (one per request: key, event count).
    Received,
    /// The policy blocked an event (detail: reason).
    Blocked,
    /// The policy removed or rewrote fields (detail: fields and rules, never values).
    Redacted,
    /// The event was queued for upstream (detail: the URL as it will be sent).
    Forwarded,
    /// Same event_id + event_name seen before: not queued again.
    Duplicate,
    /// Upstream answered 2xx for the event.
    Delivered,
    /// A delivery attempt failed and will be retried.
    Retried,
    /// The event will not be retried (detail: why).
    DeadLettered,
    /// A dead letter was moved back to the queue.
    Replayed,
    /// A consent record was stored.
    Consent,
}

impl AuditKind {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Received => "received",
            Self::Blocked => "blocked",
            Self::Redacted => "redacted",
            Self::Forwarded => "forwarded",
            Self::Duplicate => "duplicate",
            Self::Delivered => "delivered",
            Self::Retried => "retried",
            Self::DeadLettered => "dead_lettered",
            Self::Replayed => "replayed",
            Self::Consent => "consent",
        }
    }
    /// Parses the snake_case name.
    pub fn parse(s: &str) -> Option<Self> {
        serde_json::from_value(Value::String(s.to_owned())).ok()
    }
}

/// A record before it is chained.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    /// What happened.
    pub kind: AuditKind,
    /// The pixel (dataset) id.
    pub pixel_id: String,
    /// The event's id, when it has one.
    pub event_id: Option<String>,
    /// The event's name.
    pub event_name: Option<String>,
    /// The page path the event came from (`event_source_url` without query
    /// or fragment), for questions like "what did we send about /pharmacy".
    pub page: Option<String>,
    /// Kind-specific facts (reasons, field names, counts), never removed values.
    pub detail: Value,
}

impl AuditEntry {
    /// An entry about one event.
    pub fn event(kind: AuditKind, pixel_id: &str, event: &Value, detail: Value) -> Self {
        let s = |k: &str| event.get(k).and_then(Value::as_str).map(str::to_owned);
        Self {
            kind,
            pixel_id: pixel_id.to_owned(),
            event_id: s("event_id"),
            event_name: s("event_name"),
            page: s("event_source_url").map(|u| page_path(&u)),
            detail,
        }
    }
}

/// The path of a URL, without query or fragment (the query often carries
/// the very values a policy removes).
pub fn page_path(u: &str) -> String {
    match url::Url::parse(u) {
        Ok(p) => p.path().to_owned(),
        Err(_) => {
            let end = u.find(['?', '#']).unwrap_or(u.len());
            u[..end].to_owned()
        }
    }
}

/// A chained record as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// 1-based position in the chain.
    pub seq: i64,
    /// Milliseconds since the Unix epoch.
    pub ts_ms: i64,
    /// What happened.
    pub kind: AuditKind,
    /// Pixel id.
    pub pixel_id: String,
    /// Event id.
    pub event_id: Option<String>,
    /// Event name.
    pub event_name: Option<String>,
    /// Page path.
    pub page: Option<String>,
    /// Details.
    pub detail: Value,
    /// The previous record's hash.
    pub prev_hash: String,
    /// This record's hash.
    pub hash: String,
}

impl AuditRecord {
    /// Chains an entry after `prev_hash`.
    pub fn chain(seq: i64, ts_ms: i64, e: AuditEntry, prev_hash: &str) -> Self {
        Self::chain_sealed(seq, ts_ms, e.seal(), prev_hash)
    }

    /// Chains a sealed entry after `prev_hash`.
    pub fn chain_sealed(seq: i64, ts_ms: i64, s: SealedEntry, prev_hash: &str) -> Self {
        let hash = s.hash_at(seq, ts_ms, prev_hash);
        let e = s.entry;
        Self {
            seq,
            ts_ms,
            kind: e.kind,
            pixel_id: e.pixel_id,
            event_id: e.event_id,
            event_name: e.event_name,
            page: e.page,
            detail: e.detail,
            prev_hash: prev_hash.to_owned(),
            hash,
        }
    }

    /// SHA-256 over the previous hash and the canonical JSON of the record.
    pub fn compute_hash(&self) -> String {
        let prefix = canonical_prefix(
            self.kind,
            &self.pixel_id,
            self.event_id.as_deref(),
            self.event_name.as_deref(),
            self.page.as_deref(),
            &self.detail,
        );
        link_hash(&self.prev_hash, &prefix, self.seq, self.ts_ms)
    }
}

/// An entry with everything about its hash that does not depend on its place
/// in the chain worked out in advance, off the store's single writer thread:
/// the writer then only appends `seq` and `ts_ms` and runs one SHA-256.
#[derive(Debug, Clone)]
pub struct SealedEntry {
    /// The entry.
    pub entry: AuditEntry,
    /// `detail` as stored (compact JSON).
    pub detail_json: String,
    /// The canonical JSON of the record up to, not including, `seq`.
    prefix: String,
}

impl AuditEntry {
    /// Works out the canonical JSON ahead of chaining.
    pub fn seal(self) -> SealedEntry {
        let prefix = canonical_prefix(
            self.kind,
            &self.pixel_id,
            self.event_id.as_deref(),
            self.event_name.as_deref(),
            self.page.as_deref(),
            &self.detail,
        );
        SealedEntry {
            detail_json: self.detail.to_string(),
            prefix,
            entry: self,
        }
    }
}

impl SealedEntry {
    /// This entry's hash at position `seq`, time `ts_ms`, after `prev_hash`.
    pub fn hash_at(&self, seq: i64, ts_ms: i64, prev_hash: &str) -> String {
        link_hash(prev_hash, &self.prefix, seq, ts_ms)
    }
}

/// The canonical JSON (keys sorted) of a record's fields that sort before
/// `seq`: `{"detail":…,"event_id":…,"event_name":…,"kind":…,"page":…,"pixel_id":…`.
fn canonical_prefix(
    kind: AuditKind,
    pixel_id: &str,
    event_id: Option<&str>,
    event_name: Option<&str>,
    page: Option<&str>,
    detail: &Value,
) -> String {
    fn opt(out: &mut String, v: Option<&str>) {
        match v {
            Some(s) => out.push_str(&Value::from(s).to_string()),
            None => out.push_str("null"),
        }
    }
    let mut out = String::with_capacity(160);
    out.push_str("{\"detail\":");
    write_canonical(detail, &mut out);
    out.push_str(",\"event_id\":");
    opt(&mut out, event_id);
    out.push_str(",\"event_name\":");
    opt(&mut out, event_name);
    out.push_str(",\"kind\":");
    opt(&mut out, Some(kind.as_str()));
    out.push_str(",\"page\":");
    opt(&mut out, page);
    out.push_str(",\"pixel_id\":");
    opt(&mut out, Some(pixel_id));
    out
}

/// SHA-256 of `prev_hash`, a newline, and the record's canonical JSON.
fn link_hash(prev_hash: &str, prefix: &str, seq: i64, ts_ms: i64) -> String {
    let mut h = Sha256::new();
    h.update(prev_hash.as_bytes());
    h.update(b"\n");
    h.update(prefix.as_bytes());
    h.update(format!(",\"seq\":{seq},\"ts_ms\":{ts_ms}}}").as_bytes());
    hex::encode(h.finalize())
}

/// JSON with object keys sorted at every level and no whitespace: the same
/// value always gives the same bytes, whatever order it was built in.
pub fn canonical_json(v: &Value) -> String {
    let mut out = String::new();
    write_canonical(v, &mut out);
    out
}

fn write_canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write_canonical(&m[k], out);
            }
            out.push('}');
        }
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(x, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// The outcome of checking a chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Records read.
    pub records: u64,
    /// The last good hash (publish it elsewhere to detect truncation).
    pub head: String,
    /// The first record that does not check out, and why.
    pub first_bad: Option<(i64, String)>,
}

/// Incremental verifier: feed records in `seq` order.
#[derive(Debug)]
pub struct Verifier {
    report: VerifyReport,
    expect_seq: i64,
}

impl Default for Verifier {
    fn default() -> Self {
        Self {
            report: VerifyReport {
                records: 0,
                head: GENESIS.into(),
                first_bad: None,
            },
            expect_seq: 1,
        }
    }
}

impl Verifier {
    /// Checks one record; returns false once the chain is broken.
    pub fn push(&mut self, r: &AuditRecord) -> bool {
        if self.report.first_bad.is_some() {
            return false;
        }
        let why = if r.seq != self.expect_seq {
            Some(format!(
                "sequence gap: expected record {}, found {} (records deleted or inserted)",
                self.expect_seq, r.seq
            ))
        } else if r.prev_hash != self.report.head {
            Some("prev_hash does not match the previous record's hash".to_owned())
        } else if r.compute_hash() != r.hash {
            Some("content does not match its hash (record edited)".to_owned())
        } else {
            None
        };
        if let Some(w) = why {
            self.report.first_bad = Some((r.seq, w));
            return false;
        }
        self.report.records += 1;
        self.report.head = r.hash.clone();
        self.expect_seq += 1;
        true
    }
    /// Checks one stored row: a record, or `(seq, why)` when the row did not
    /// even decode (which breaks the chain there). False once broken.
    pub fn push_stored(&mut self, r: Result<AuditRecord, (i64, String)>) -> bool {
        match r {
            Ok(rec) => self.push(&rec),
            Err((seq, why)) => {
                if self.report.first_bad.is_none() {
                    self.report.first_bad = Some((seq, why));
                }
                false
            }
        }
    }
    /// The result.
    pub fn finish(self) -> VerifyReport {
        self.report
    }
}

/// Which records `audit show` prints.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Only this pixel.
    pub pixel_id: Option<String>,
    /// From (ms since epoch, inclusive).
    pub since_ms: Option<i64>,
    /// Until (ms since epoch, exclusive).
    pub until_ms: Option<i64>,
    /// Only pages whose path starts with this.
    pub path_prefix: Option<String>,
    /// Only these kinds (empty = all).
    pub kinds: Vec<AuditKind>,
}

impl AuditFilter {
    /// Whether a record passes.
    pub fn matches(&self, r: &AuditRecord) -> bool {
        self.pixel_id.as_ref().is_none_or(|p| &r.pixel_id == p)
            && self.since_ms.is_none_or(|t| r.ts_ms >= t)
            && self.until_ms.is_none_or(|t| r.ts_ms < t)
            && self.path_prefix.as_ref().is_none_or(|p| {
                r.page
                    .as_deref()
                    .is_some_and(|pg| pg.starts_with(p.as_str()))
            })
            && (self.kinds.is_empty() || self.kinds.contains(&r.kind))
    }
}

/// Parses `--since`/`--until`: `2026-11-22`, `2026-11-22T10:00:00Z`, or an
/// age like `7d`, `24h`, `30m` before `now_ms`.
pub fn parse_time(s: &str, now_ms: i64) -> Result<i64, String> {
    let s = s.trim();
    if let Some(n) = s
        .strip_suffix('d')
        .or(s.strip_suffix('h'))
        .or(s.strip_suffix('m'))
        && let Ok(n) = n.parse::<i64>()
    {
        let unit = match s.as_bytes()[s.len() - 1] {
            b'd' => 86_400_000,
            b'h' => 3_600_000,
            _ => 60_000,
        };
        return Ok(now_ms - n * unit);
    }
    let bad = || {
        format!(
            "{s:?} is not a time: use 2026-11-22, 2026-11-22T10:00:00Z, or an age like 7d / 24h"
        )
    };
    let (date, time) = match s.split_once('T') {
        Some((d, t)) => (d, Some(t.trim_end_matches('Z'))),
        None => (s, None),
    };
    let mut dp = date.split('-').map(|x| x.parse::<i64>());
    let (Some(Ok(y)), Some(Ok(mo)), Some(Ok(d)), None) =
        (dp.next(), dp.next(), dp.next(), dp.next())
    else {
        return Err(bad());
    };
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) {
        return Err(bad());
    }
    let mut secs = days_from_civil(y, mo, d) * 86_400;
    if let Some(t) = time {
        let mut tp = t.split(':').map(|x| x.parse::<i64>());
        match (tp.next(), tp.next(), tp.next()) {
            (Some(Ok(h)), Some(Ok(m)), sec) => {
                let sec = match sec {
                    Some(Ok(x)) => x,
                    None => 0,
                    Some(Err(_)) => return Err(bad()),
                };
                secs += h * 3600 + m * 60 + sec;
            }
            _ => return Err(bad()),
        }
    }
    Ok(secs * 1000)
}

// Howard Hinnant's days-from-civil (proleptic Gregorian, UTC).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `2026-11-29T17:00:00.123Z` from ms since epoch.
pub fn format_time(ms: i64) -> String {
    leakscope_core::time::rfc3339_millis(ms)
}

/// Writes records as an aligned text table.
pub fn write_table(w: &mut dyn std::io::Write, records: &[AuditRecord]) -> std::io::Result<()> {
    writeln!(
        w,
        "{:>7}  {:<24}  {:<13}  {:<16}  {:<14}  {:<20}  {:<24}  detail",
        "seq", "time", "kind", "pixel", "event", "event_id", "page"
    )?;
    for r in records {
        writeln!(
            w,
            "{:>7}  {:<24}  {:<13}  {:<16}  {:<14}  {:<20}  {:<24}  {}",
            r.seq,
            format_time(r.ts_ms),
            r.kind.as_str(),
            r.pixel_id,
            r.event_name.as_deref().unwrap_or("-"),
            r.event_id.as_deref().unwrap_or("-"),
            r.page.as_deref().unwrap_or("-"),
            if r.detail.is_null() {
                String::new()
            } else {
                r.detail.to_string()
            }
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry(i: u32) -> AuditEntry {
        AuditEntry {
            kind: AuditKind::Forwarded,
            pixel_id: "123".into(),
            event_id: Some(format!("e{i}")),
            event_name: Some("Purchase".into()),
            page: Some("/pharmacy/refill".into()),
            detail: json!({"z": 1, "a": [1, {"y": 2, "b": 3}]}),
        }
    }

    fn chain(n: u32) -> Vec<AuditRecord> {
        let mut prev = GENESIS.to_owned();
        (1..=n)
            .map(|i| {
                let r = AuditRecord::chain(i64::from(i), 1000 * i64::from(i), entry(i), &prev);
                prev = r.hash.clone();
                r
            })
            .collect()
    }

    fn verify(rs: &[AuditRecord]) -> VerifyReport {
        let mut v = Verifier::default();
        for r in rs {
            v.push(r);
        }
        v.finish()
    }

    #[test]
    fn canonical_json_sorts_keys() {
        let a: Value = serde_json::from_str(r#"{"b":1,"a":{"d":[1,2],"c":"x"}}"#).unwrap();
        assert_eq!(canonical_json(&a), r#"{"a":{"c":"x","d":[1,2]},"b":1}"#);
    }

    /// The precomputed prefix gives the very bytes of the whole record's
    /// canonical JSON, so chains written before it still verify.
    #[test]
    fn sealed_hash_is_the_canonical_json_hash() {
        let e = AuditEntry {
            kind: AuditKind::Redacted,
            pixel_id: "1234".into(),
            event_id: Some("e\"1".into()),
            event_name: None,
            page: Some("/pharmacy/ü".into()),
            detail: json!({"z": [1, {"b": null, "a": "x"}], "a": 2.5}),
        };
        let r = AuditRecord::chain(7, 1_730_000_000_123, e.clone(), GENESIS);
        let body = json!({
            "seq": 7, "ts_ms": 1_730_000_000_123_i64, "kind": "redacted", "pixel_id": "1234",
            "event_id": "e\"1", "event_name": null, "page": "/pharmacy/ü", "detail": e.detail,
        });
        let mut h = Sha256::new();
        h.update(GENESIS.as_bytes());
        h.update(b"\n");
        h.update(canonical_json(&body).as_bytes());
        assert_eq!(r.hash, hex::encode(h.finalize()));
        assert_eq!(r.compute_hash(), r.hash);
    }

    #[test]
    fn intact_chain_verifies() {
        let r = verify(&chain(5));
        assert_eq!(r.records, 5);
        assert!(r.first_bad.is_none());
    }

    #[test]
    fn any_edit_is_named() {
        let mut rs = chain(5);
        rs[2].detail = json!({"z": 2});
        assert_eq!(verify(&rs).first_bad.map(|b| b.0), Some(3));

        let mut rs = chain(5);
        rs.remove(1);
        assert_eq!(verify(&rs).first_bad.map(|b| b.0), Some(3));

        // Rewriting a record with a recomputed own hash still breaks the next link.
        let mut rs = chain(5);
        rs[1].page = Some("/other".into());
        rs[1].hash = rs[1].compute_hash();
        assert_eq!(verify(&rs).first_bad.map(|b| b.0), Some(3));
    }

    #[test]
    fn times_parse_and_print() {
        assert_eq!(parse_time("1970-01-02", 0).unwrap(), 86_400_000);
        assert_eq!(
            parse_time("2026-11-29T17:00:00Z", 0)
                .map(format_time)
                .unwrap(),
            "2026-11-29T17:00:00.000Z"
        );
        assert_eq!(parse_time("7d", 10 * 86_400_000).unwrap(), 3 * 86_400_000);
        assert!(parse_time("last week", 0).is_err());
    }

    #[test]
    fn filter_by_path_prefix() {
        let rs = chain(2);
        let f = AuditFilter {
            path_prefix: Some("/pharmacy".into()),
            ..Default::default()
        };
        assert!(f.matches(&rs[0]));
        let f = AuditFilter {
            path_prefix: Some("/shop".into()),
            ..Default::default()
        };
        assert!(!f.matches(&rs[0]));
    }
}
