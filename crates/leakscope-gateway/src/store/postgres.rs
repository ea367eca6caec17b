//! PostgreSQL backend: several gateway instances share one queue. Batches
//! are leased with `FOR UPDATE SKIP LOCKED`, so instances never take the
//! same rows; the audit chain is appended under a transaction-scoped
//! advisory lock, so it stays one chain whichever instance writes.

use std::sync::atomic::{AtomicI64, Ordering};

use serde_json::{Value, json};
use tokio::sync::Mutex;
use tokio_postgres::{Client, NoTls, Transaction};

use super::{Accept, ItemOutcome, Leased, RetryAt, StoreError, now_ms};
use crate::audit::{
    AuditEntry, AuditFilter, AuditKind, AuditRecord, GENESIS, Verifier, VerifyReport,
};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS queue (
    id BIGSERIAL PRIMARY KEY,
    pixel_id TEXT NOT NULL,
    test_event_code TEXT NOT NULL DEFAULT '',
    event TEXT NOT NULL,
    event_id TEXT,
    event_name TEXT,
    page TEXT,
    dead BOOLEAN NOT NULL DEFAULT false,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at BIGINT NOT NULL DEFAULT 0,
    lease_until BIGINT NOT NULL DEFAULT 0,
    created_ms BIGINT NOT NULL,
    last_error TEXT
);
-- next_at: when the row may be leased (arrival time, lease end, or backoff
-- end), so leasing walks queue_due in order (see the SQLite schema).
CREATE INDEX IF NOT EXISTS queue_due ON queue (dead, next_at, id);
CREATE TABLE IF NOT EXISTS dedup (
    pixel_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    event_name TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    PRIMARY KEY (pixel_id, event_id, event_name)
);
CREATE INDEX IF NOT EXISTS dedup_age ON dedup (created_ms);
CREATE TABLE IF NOT EXISTS consent (
    key TEXT PRIMARY KEY,
    record TEXT NOT NULL,
    updated_ms BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS audit (
    seq BIGINT PRIMARY KEY,
    ts_ms BIGINT NOT NULL,
    kind TEXT NOT NULL,
    pixel_id TEXT NOT NULL,
    event_id TEXT,
    event_name TEXT,
    page TEXT,
    detail TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
";

/// Advisory lock key for the audit chain ("LEAK").
const CHAIN_LOCK: i64 = 0x4c45_414b;

/// The PostgreSQL store.
pub struct PgStore {
    client: Mutex<Client>,
    pub(crate) depth: AtomicI64,
}

struct Chain {
    seq: i64,
    hash: String,
}

async fn chain(tx: &Transaction<'_>) -> Result<Chain, StoreError> {
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&CHAIN_LOCK])
        .await?;
    let row = tx
        .query_opt("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1", &[])
        .await?;
    Ok(match row {
        Some(r) => Chain {
            seq: r.get(0),
            hash: r.get(1),
        },
        None => Chain {
            seq: 0,
            hash: GENESIS.into(),
        },
    })
}

async fn append(
    tx: &Transaction<'_>,
    c: &mut Chain,
    e: AuditEntry,
    ts: i64,
) -> Result<(), StoreError> {
    let r = AuditRecord::chain(c.seq + 1, ts, e, &c.hash);
    tx.execute(
        "INSERT INTO audit (seq, ts_ms, kind, pixel_id, event_id, event_name, page, detail, prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        &[
            &r.seq,
            &r.ts_ms,
            &r.kind.as_str(),
            &r.pixel_id,
            &r.event_id,
            &r.event_name,
            &r.page,
            &r.detail.to_string(),
            &r.prev_hash,
            &r.hash,
        ],
    )
    .await?;
    c.seq = r.seq;
    c.hash = r.hash;
    Ok(())
}

fn leased(r: &tokio_postgres::Row, pixel: Option<(&str, &str)>) -> Leased {
    let (pixel_id, tec) = match pixel {
        Some((p, t)) => (p.to_owned(), t.to_owned()),
        None => (r.get("pixel_id"), r.get("test_event_code")),
    };
    Leased {
        id: r.get("id"),
        pixel_id,
        test_event_code: tec,
        event: r.get("event"),
        attempts: u32::try_from(r.get::<_, i32>("attempts")).unwrap_or(0),
        event_id: r.get("event_id"),
        event_name: r.get("event_name"),
        page: r.get("page"),
    }
}

impl PgStore {
    /// Connects and creates the schema.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let (client, conn) = tokio_postgres::connect(url, NoTls).await?;
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::error!(error = %e, "postgres connection closed");
            }
        });
        // Instances starting together race on CREATE ... IF NOT EXISTS: serialise.
        client
            .execute("SELECT pg_advisory_lock($1)", &[&(CHAIN_LOCK + 1)])
            .await?;
        let created = client.batch_execute(SCHEMA).await;
        client
            .execute("SELECT pg_advisory_unlock($1)", &[&(CHAIN_LOCK + 1)])
            .await?;
        created?;
        let depth: i64 = client
            .query_one("SELECT count(*) FROM queue WHERE NOT dead", &[])
            .await?
            .get(0);
        Ok(Self {
            client: Mutex::new(client),
            depth: AtomicI64::new(depth),
        })
    }

    pub(crate) async fn accept(&self, a: Accept) -> Result<Vec<ItemOutcome>, StoreError> {
        let mut c = self.client.lock().await;
        let tx = c.transaction().await?;
        let now = now_ms();
        let mut ch = chain(&tx).await?;
        append(&tx, &mut ch, a.received, now).await?;
        let tec = a.test_event_code.unwrap_or_default();
        let mut out = Vec::with_capacity(a.items.len());
        for item in a.items {
            for e in item.audit {
                append(&tx, &mut ch, e, now).await?;
            }
            let Some(f) = item.forward else {
                out.push(ItemOutcome::Blocked);
                continue;
            };
            let fresh = match &f.dedup {
                Some((id, name)) => {
                    tx.execute(
                        "INSERT INTO dedup (pixel_id, event_id, event_name, created_ms) VALUES ($1, $2, $3, $4)
                         ON CONFLICT DO NOTHING",
                        &[&a.pixel_id, id, name, &now],
                    )
                    .await?
                        == 1
                }
                None => true,
            };
            let mut rec = f.record;
            if fresh {
                tx.execute(
                    "INSERT INTO queue (pixel_id, test_event_code, event, event_id, event_name, page, created_ms, next_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
                    &[&a.pixel_id, &tec, &f.event, &rec.event_id, &rec.event_name, &rec.page, &now],
                )
                .await?;
                append(&tx, &mut ch, rec, now).await?;
                out.push(ItemOutcome::Queued);
            } else {
                rec.kind = AuditKind::Duplicate;
                rec.detail = Value::Null;
                append(&tx, &mut ch, rec, now).await?;
                out.push(ItemOutcome::Duplicate);
            }
        }
        tx.commit().await?;
        let q = out.iter().filter(|o| **o == ItemOutcome::Queued).count() as i64;
        self.depth.fetch_add(q, Ordering::Relaxed);
        Ok(out)
    }

    pub(crate) async fn lease(&self, max: usize, lease_ms: i64) -> Result<Vec<Leased>, StoreError> {
        let mut c = self.client.lock().await;
        let tx = c.transaction().await?;
        let now = now_ms();
        let Some(g) = tx
            .query_opt(
                "SELECT pixel_id, test_event_code FROM queue
                 WHERE NOT dead AND next_at <= $1
                 ORDER BY next_at, id LIMIT 1 FOR UPDATE SKIP LOCKED",
                &[&now],
            )
            .await?
        else {
            tx.commit().await?;
            return Ok(Vec::new());
        };
        let (pixel, tec): (String, String) = (g.get(0), g.get(1));
        let rows = tx
            .query(
                "UPDATE queue SET lease_until = $2, next_at = $2 WHERE id IN (
                     SELECT id FROM queue
                     WHERE NOT dead AND next_at <= $1 AND pixel_id = $3 AND test_event_code = $4
                     ORDER BY next_at, id LIMIT $5 FOR UPDATE SKIP LOCKED)
                 RETURNING id, event, attempts, event_id, event_name, page",
                &[&now, &(now + lease_ms), &pixel, &tec, &(max as i64)],
            )
            .await?;
        tx.commit().await?;
        let mut out: Vec<Leased> = rows
            .iter()
            .map(|r| leased(r, Some((&pixel, &tec))))
            .collect();
        out.sort_by_key(|r| r.id);
        Ok(out)
    }

    async fn finish(
        &self,
        rows: &[Leased],
        sql: &str,
        entry: impl Fn(&Leased) -> AuditEntry,
    ) -> Result<(), StoreError> {
        let mut c = self.client.lock().await;
        let tx = c.transaction().await?;
        let now = now_ms();
        let mut ch = chain(&tx).await?;
        for r in rows {
            tx.execute(sql, &[&r.id]).await?;
            append(&tx, &mut ch, entry(r), now).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn delivered(
        &self,
        rows: &[Leased],
        t: Option<String>,
    ) -> Result<(), StoreError> {
        self.finish(rows, "DELETE FROM queue WHERE id = $1", |r| {
            r.entry(
                AuditKind::Delivered,
                json!({"fbtrace_id": t, "attempts": r.attempts + 1}),
            )
        })
        .await?;
        self.depth.fetch_sub(rows.len() as i64, Ordering::Relaxed);
        Ok(())
    }

    pub(crate) async fn retry(
        &self,
        rows: &[Leased],
        at: Vec<RetryAt>,
        why: &str,
    ) -> Result<(), StoreError> {
        let mut c = self.client.lock().await;
        let tx = c.transaction().await?;
        let now = now_ms();
        let mut ch = chain(&tx).await?;
        for (r, a) in rows.iter().zip(&at) {
            tx.execute(
                "UPDATE queue SET attempts = attempts + 1, next_at = $2, lease_until = 0, last_error = $3 WHERE id = $1",
                &[&a.id, &a.next_at_ms, &why],
            )
            .await?;
            append(
                &tx,
                &mut ch,
                r.entry(
                    AuditKind::Retried,
                    json!({"reason": why, "attempt": r.attempts + 1, "next_at_ms": a.next_at_ms}),
                ),
                now,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn dead_letter(&self, rows: &[Leased], why: &str) -> Result<(), StoreError> {
        let mut c = self.client.lock().await;
        let tx = c.transaction().await?;
        let now = now_ms();
        let mut ch = chain(&tx).await?;
        for r in rows {
            tx.execute(
                "UPDATE queue SET dead = true, lease_until = 0, attempts = attempts + 1, last_error = $2 WHERE id = $1",
                &[&r.id, &why],
            )
            .await?;
            append(
                &tx,
                &mut ch,
                r.entry(
                    AuditKind::DeadLettered,
                    json!({"reason": why, "attempts": r.attempts + 1}),
                ),
                now,
            )
            .await?;
        }
        tx.commit().await?;
        self.depth.fetch_sub(rows.len() as i64, Ordering::Relaxed);
        Ok(())
    }

    pub(crate) async fn replay(&self, pixel: Option<String>) -> Result<u64, StoreError> {
        let rows: Vec<Leased> = {
            let c = self.client.lock().await;
            c.query(
                "SELECT id, pixel_id, test_event_code, event, attempts, event_id, event_name, page FROM queue
                 WHERE dead AND ($1::TEXT IS NULL OR pixel_id = $1)",
                &[&pixel],
            )
            .await?
            .iter()
            .map(|r| leased(r, None))
            .collect()
        };
        self.finish(
            &rows,
            "UPDATE queue SET dead = false, attempts = 0, next_at = 0, lease_until = 0 WHERE id = $1",
            |r| r.entry(AuditKind::Replayed, json!({"previous_attempts": r.attempts})),
        )
        .await?;
        self.depth.fetch_add(rows.len() as i64, Ordering::Relaxed);
        Ok(rows.len() as u64)
    }

    pub(crate) async fn put_consent(
        &self,
        keys: Vec<String>,
        rec: String,
        a: AuditEntry,
    ) -> Result<(), StoreError> {
        let mut c = self.client.lock().await;
        let tx = c.transaction().await?;
        let now = now_ms();
        for k in &keys {
            tx.execute(
                "INSERT INTO consent (key, record, updated_ms) VALUES ($1, $2, $3)
                 ON CONFLICT (key) DO UPDATE SET record = excluded.record, updated_ms = excluded.updated_ms",
                &[k, &rec, &now],
            )
            .await?;
        }
        let mut ch = chain(&tx).await?;
        append(&tx, &mut ch, a, now).await?;
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn consent_many(
        &self,
        lookups: Vec<Vec<String>>,
    ) -> Result<Vec<Option<String>>, StoreError> {
        let c = self.client.lock().await;
        let mut out = Vec::with_capacity(lookups.len());
        for keys in &lookups {
            let r = c
                .query_opt(
                    "SELECT record FROM consent WHERE key = ANY($1) ORDER BY updated_ms DESC LIMIT 1",
                    &[keys],
                )
                .await?;
            out.push(r.map(|r| r.get(0)));
        }
        Ok(out)
    }

    pub(crate) async fn prune_dedup(&self, before_ms: i64) -> Result<u64, StoreError> {
        let c = self.client.lock().await;
        Ok(
            c.execute("DELETE FROM dedup WHERE created_ms < $1", &[&before_ms])
                .await?,
        )
    }

    pub(crate) async fn dead_count(&self) -> Result<i64, StoreError> {
        let c = self.client.lock().await;
        Ok(c.query_one("SELECT count(*) FROM queue WHERE dead", &[])
            .await?
            .get(0))
    }

    pub(crate) async fn refresh_depth(&self) -> Result<i64, StoreError> {
        let c = self.client.lock().await;
        let n: i64 = c
            .query_one("SELECT count(*) FROM queue WHERE NOT dead", &[])
            .await?
            .get(0);
        self.depth.store(n, Ordering::Relaxed);
        Ok(n)
    }

    pub(crate) async fn ping(&self) -> Result<(), StoreError> {
        let c = self.client.lock().await;
        c.query_one("SELECT 1", &[]).await?;
        Ok(())
    }

    async fn all_records(&self) -> Result<Vec<Result<AuditRecord, (i64, String)>>, StoreError> {
        let c = self.client.lock().await;
        let rows = c
            .query(
                "SELECT seq, ts_ms, kind, pixel_id, event_id, event_name, page, detail, prev_hash, hash FROM audit ORDER BY seq",
                &[],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| {
                let seq: i64 = r.get(0);
                let kind: String = r.get(2);
                let detail: String = r.get(7);
                let kind =
                    AuditKind::parse(&kind).ok_or((seq, format!("unknown kind {kind:?}")))?;
                let detail = serde_json::from_str(&detail)
                    .map_err(|e| (seq, format!("detail is not JSON ({e})")))?;
                Ok(AuditRecord {
                    seq,
                    ts_ms: r.get(1),
                    kind,
                    pixel_id: r.get(3),
                    event_id: r.get(4),
                    event_name: r.get(5),
                    page: r.get(6),
                    detail,
                    prev_hash: r.get(8),
                    hash: r.get(9),
                })
            })
            .collect())
    }

    pub(crate) async fn audit_records(
        &self,
        f: AuditFilter,
        limit: usize,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        let mut out = Vec::new();
        for r in self.all_records().await? {
            let r = r.map_err(|(s, w)| StoreError::Corrupt(format!("audit record {s}: {w}")))?;
            if f.matches(&r) {
                out.push(r);
                if out.len() >= limit {
                    break;
                }
            }
        }
        Ok(out)
    }

    pub(crate) async fn audit_verify(&self) -> Result<VerifyReport, StoreError> {
        let mut v = Verifier::default();
        for r in self.all_records().await? {
            if !v.push_stored(r) {
                break;
            }
        }
        Ok(v.finish())
    }
}
