//! The durable store: queue, dedup keys, consent records, dead letters and
//! the audit log, in one database so that an accepted event, its dedup key
//! and its audit records commit together (or not at all).
//!
//! SQLite (WAL, one instance) by default; PostgreSQL when configured, so
//! several instances share the work (`FOR UPDATE SKIP LOCKED` leasing).

use std::sync::Arc;
use std::sync::atomic::Ordering;

use crate::audit::{AuditEntry, AuditFilter, AuditRecord, VerifyReport};

pub mod postgres;
pub mod sqlite;

/// Store failures.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite said no.
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL said no.
    #[error("postgres: {0}")]
    Postgres(#[from] tokio_postgres::Error),
    /// The store's writer is gone (shutting down or crashed).
    #[error("the store's writer stopped")]
    Closed,
    /// Stored data that does not parse.
    #[error("corrupt store data: {0}")]
    Corrupt(String),
}

/// One request's worth of decisions, committed in one transaction.
#[derive(Debug, Clone)]
pub struct Accept {
    /// Pixel the request was posted to.
    pub pixel_id: String,
    /// `test_event_code` to pass upstream with these events.
    pub test_event_code: Option<String>,
    /// The request-level `received` record.
    pub received: AuditEntry,
    /// One per event, in request order.
    pub items: Vec<AcceptItem>,
}

/// One event's decision.
#[derive(Debug, Clone)]
pub struct AcceptItem {
    /// Records about the decision (blocked, redacted).
    pub audit: Vec<AuditEntry>,
    /// The event to queue, if forwarded.
    pub forward: Option<Forward>,
}

/// An event to queue.
#[derive(Debug, Clone)]
pub struct Forward {
    /// The rewritten event, as JSON text (exactly what goes upstream).
    pub event: String,
    /// `(event_id, event_name)`, when the event has both.
    pub dedup: Option<(String, String)>,
    /// The `forwarded` record (becomes `duplicate` if the key was seen).
    pub record: AuditEntry,
}

/// What happened to one item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemOutcome {
    /// Durably queued.
    Queued,
    /// Seen before (same pixel, event_id and event_name): not queued again.
    Duplicate,
    /// Blocked by the policy (recorded only).
    Blocked,
}

/// A leased queue row.
#[derive(Debug, Clone)]
pub struct Leased {
    /// Row id.
    pub id: i64,
    /// Pixel.
    pub pixel_id: String,
    /// `test_event_code` ("" when none).
    pub test_event_code: String,
    /// Event JSON text.
    pub event: String,
    /// Attempts made so far.
    pub attempts: u32,
    /// For audit records.
    pub event_id: Option<String>,
    /// For audit records.
    pub event_name: Option<String>,
    /// For audit records.
    pub page: Option<String>,
}

impl Leased {
    /// An audit entry about this row.
    pub fn entry(&self, kind: crate::audit::AuditKind, detail: serde_json::Value) -> AuditEntry {
        AuditEntry {
            kind,
            pixel_id: self.pixel_id.clone(),
            event_id: self.event_id.clone(),
            event_name: self.event_name.clone(),
            page: self.page.clone(),
            detail,
        }
    }
}

/// Retry instruction for one row.
#[derive(Debug, Clone)]
pub struct RetryAt {
    /// Row id.
    pub id: i64,
    /// When it may be tried again (ms since epoch).
    pub next_at_ms: i64,
}

/// The store, whichever backend.
#[derive(Clone)]
pub enum Store {
    /// SQLite.
    Sqlite(Arc<sqlite::SqliteStore>),
    /// PostgreSQL.
    Postgres(Arc<postgres::PgStore>),
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Sqlite(_) => "Store::Sqlite",
            Self::Postgres(_) => "Store::Postgres",
        })
    }
}

macro_rules! dispatch {
    ($self:ident, $s:ident => $e:expr) => {
        match $self {
            Store::Sqlite($s) => $e,
            Store::Postgres($s) => $e,
        }
    };
}

impl Store {
    /// Commits a request's decisions; returns one outcome per item. Returns
    /// only after the commit is durable.
    pub async fn accept(&self, a: Accept) -> Result<Vec<ItemOutcome>, StoreError> {
        dispatch!(self, s => s.accept(a).await)
    }
    /// Leases up to `max` due events of one (pixel, test_event_code) group.
    pub async fn lease(&self, max: usize, lease_ms: i64) -> Result<Vec<Leased>, StoreError> {
        dispatch!(self, s => s.lease(max, lease_ms).await)
    }
    /// Marks rows delivered (deletes them, appends `delivered` records) in one transaction.
    pub async fn delivered(
        &self,
        rows: &[Leased],
        fbtrace_id: Option<String>,
    ) -> Result<(), StoreError> {
        dispatch!(self, s => s.delivered(rows, fbtrace_id).await)
    }
    /// Schedules rows for another attempt.
    pub async fn retry(
        &self,
        rows: &[Leased],
        at: Vec<RetryAt>,
        reason: &str,
    ) -> Result<(), StoreError> {
        dispatch!(self, s => s.retry(rows, at, reason).await)
    }
    /// Moves rows to the dead-letter state.
    pub async fn dead_letter(&self, rows: &[Leased], reason: &str) -> Result<(), StoreError> {
        dispatch!(self, s => s.dead_letter(rows, reason).await)
    }
    /// Moves dead letters (of one pixel, or all) back to the queue; returns how many.
    pub async fn replay(&self, pixel_id: Option<String>) -> Result<u64, StoreError> {
        dispatch!(self, s => s.replay(pixel_id).await)
    }
    /// Stores a consent record under each of its lookup keys.
    pub async fn put_consent(
        &self,
        keys: Vec<String>,
        record: String,
        audit: AuditEntry,
    ) -> Result<(), StoreError> {
        dispatch!(self, s => s.put_consent(keys, record, audit).await)
    }
    /// For each event's lookup keys, the newest consent record stored under any of them.
    pub async fn consent_many(
        &self,
        keys: Vec<Vec<String>>,
    ) -> Result<Vec<Option<String>>, StoreError> {
        dispatch!(self, s => s.consent_many(keys).await)
    }
    /// Deletes dedup keys created before `before_ms`; returns how many.
    pub async fn prune_dedup(&self, before_ms: i64) -> Result<u64, StoreError> {
        dispatch!(self, s => s.prune_dedup(before_ms).await)
    }
    /// Pending (not dead) events, as last counted.
    pub fn depth(&self) -> i64 {
        dispatch!(self, s => s.depth.load(Ordering::Relaxed))
    }
    /// Dead letters.
    pub async fn dead_count(&self) -> Result<i64, StoreError> {
        dispatch!(self, s => s.dead_count().await)
    }
    /// Recounts the queue (several instances share a PostgreSQL queue).
    pub async fn refresh_depth(&self) -> Result<i64, StoreError> {
        dispatch!(self, s => s.refresh_depth().await)
    }
    /// Whether the store answers (`/readyz`).
    pub async fn ping(&self) -> Result<(), StoreError> {
        dispatch!(self, s => s.ping().await)
    }
    /// Audit records passing `filter`, in order, at most `limit`.
    pub async fn audit_records(
        &self,
        filter: AuditFilter,
        limit: usize,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        dispatch!(self, s => s.audit_records(filter, limit).await)
    }
    /// Verifies the whole audit chain.
    pub async fn audit_verify(&self) -> Result<VerifyReport, StoreError> {
        dispatch!(self, s => s.audit_verify().await)
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
