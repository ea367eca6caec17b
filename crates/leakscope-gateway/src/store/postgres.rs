//! PostgreSQL backend (placeholder until implemented).

use std::sync::atomic::AtomicI64;

use super::{Accept, ItemOutcome, Leased, RetryAt, StoreError};
use crate::audit::{AuditEntry, AuditFilter, AuditRecord, VerifyReport};

/// The PostgreSQL store.
pub struct PgStore {
    pub(crate) depth: AtomicI64,
}

impl PgStore {
    /// Connects and creates the schema.
    pub async fn connect(_url: &str) -> Result<Self, StoreError> {
        Err(StoreError::Closed)
    }
    pub(crate) async fn accept(&self, _a: Accept) -> Result<Vec<ItemOutcome>, StoreError> {
        Err(StoreError::Closed)
    }
    pub(crate) async fn lease(&self, _max: usize, _l: i64) -> Result<Vec<Leased>, StoreError> {
        Err(StoreError::Closed)
    }
    pub(crate) async fn delivered(&self, _r: &[Leased], _t: Option<String>) -> Result<(), StoreError> {
        Err(StoreError::Closed)
    }
    pub(crate) async fn retry(&self, _r: &[Leased], _a: Vec<RetryAt>, _w: &str) -> Result<(), StoreError> {
        Err(StoreError::Closed)
    }
    pub(crate) async fn dead_letter(&self, _r: &[Leased], _w: &str) -> Result<(), StoreError> {
        Err(StoreError::Closed)
    }
    pub(crate) async fn replay(&self, _p: Option<String>) -> Result<u64, StoreError> {
        Err(StoreError::Closed)
    }
    pub(crate) async fn put_consent(&self, _k: Vec<String>, _r: String, _a: AuditEntry) -> Result<(), StoreError> {
        Err(StoreError::Closed)
    }
    pub(crate) async fn consent_many(&self, _k: Vec<Vec<String>>) -> Result<Vec<Option<String>>, StoreError> {
        Err(StoreError::Closed)
    }
    pub(crate) async fn dead_count(&self) -> Result<i64, StoreError> {
        Err(StoreError::Closed)
    }
    pub(crate) async fn refresh_depth(&self) -> Result<i64, StoreError> {
        Err(StoreError::Closed)
    }
    pub(crate) async fn ping(&self) -> Result<(), StoreError> {
        Err(StoreError::Closed)
    }
    pub(crate) async fn audit_records(&self, _f: AuditFilter, _l: usize) -> Result<Vec<AuditRecord>, StoreError> {
        Err(StoreError::Closed)
    }
    pub(crate) async fn audit_verify(&self) -> Result<VerifyReport, StoreError> {
        Err(StoreError::Closed)
    }
}
