//! SQLite backend: WAL, one writer thread that group-commits whatever
//! requests arrived together (one fsync acknowledges many clients), and a
//! reader connection for lookups.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex, mpsc};

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde_json::{Value, json};
use tokio::sync::oneshot;

use super::{Accept, ItemOutcome, Leased, RetryAt, StoreError, now_ms};
use crate::audit::{
    AuditEntry, AuditFilter, AuditKind, AuditRecord, GENESIS, SealedEntry, Verifier, VerifyReport,
};
use crate::config::Synchronous;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS queue (
    id INTEGER PRIMARY KEY,
    pixel_id TEXT NOT NULL,
    test_event_code TEXT NOT NULL DEFAULT '',
    event TEXT NOT NULL,
    event_id TEXT,
    event_name TEXT,
    page TEXT,
    dead INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at INTEGER NOT NULL DEFAULT 0,
    lease_until INTEGER NOT NULL DEFAULT 0,
    created_ms INTEGER NOT NULL,
    last_error TEXT
);
-- next_at: when the row may be leased. Set to the arrival time on insert, to
-- the lease's end when leased, to the backoff's end on retry: so one index
-- walk in (next_at, id) order finds due rows first, oldest first, without
-- scanning the rows other workers hold.
CREATE INDEX IF NOT EXISTS queue_due ON queue (dead, next_at, id);
CREATE TABLE IF NOT EXISTS dedup (
    pixel_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    event_name TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    PRIMARY KEY (pixel_id, event_id, event_name)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS dedup_age ON dedup (created_ms);
CREATE TABLE IF NOT EXISTS consent (
    key TEXT PRIMARY KEY,
    record TEXT NOT NULL,
    updated_ms INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY,
    ts_ms INTEGER NOT NULL,
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

type Reply<T> = oneshot::Sender<Result<T, StoreError>>;

// Audit entries reach the writer sealed (their canonical JSON already made on
// the caller's thread): the one writer thread is the gateway's bottleneck.
enum Cmd {
    Accept(Box<SealedAccept>, Reply<Vec<ItemOutcome>>),
    Lease(usize, i64, Reply<Vec<Leased>>),
    /// Row ids to delete, each with its `delivered` entry.
    Delivered(Vec<(i64, SealedEntry)>, Reply<()>),
    /// Row id, when to try again, the `retried` entry; the reason.
    Retry(Vec<(i64, i64, SealedEntry)>, String, Reply<()>),
    /// Row ids to dead-letter, each with its entry; the reason.
    Dead(Vec<(i64, SealedEntry)>, String, Reply<()>),
    Replay(Option<String>, Reply<u64>),
    Consent(Vec<String>, String, Box<SealedEntry>, Reply<()>),
    Prune(i64, Reply<u64>),
}

struct SealedAccept {
    pixel_id: String,
    test_event_code: String,
    received: SealedEntry,
    items: Vec<(Vec<SealedEntry>, Option<SealedForward>)>,
}

struct SealedForward {
    event: String,
    dedup: Option<(String, String)>,
    record: SealedEntry,
}

impl From<Accept> for SealedAccept {
    fn from(a: Accept) -> Self {
        Self {
            pixel_id: a.pixel_id,
            test_event_code: a.test_event_code.unwrap_or_default(),
            received: a.received.seal(),
            items: a
                .items
                .into_iter()
                .map(|i| {
                    (
                        i.audit.into_iter().map(AuditEntry::seal).collect(),
                        i.forward.map(|f| SealedForward {
                            event: f.event,
                            dedup: f.dedup,
                            record: f.record.seal(),
                        }),
                    )
                })
                .collect(),
        }
    }
}

/// The SQLite store.
pub struct SqliteStore {
    tx: Mutex<Option<mpsc::Sender<Cmd>>>,
    reader: Arc<Mutex<Connection>>,
    path: PathBuf,
    pub(crate) depth: Arc<AtomicI64>,
    writer: Mutex<Option<std::thread::JoinHandle<()>>>,
    checkpointer: Mutex<Option<(Arc<AtomicBool>, std::thread::JoinHandle<()>)>>,
}

/// How often the checkpointer copies the WAL into the database.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(200);

fn open_conn(path: &Path, sync: Synchronous) -> Result<Connection, StoreError> {
    let c = Connection::open(path)?;
    c.busy_timeout(std::time::Duration::from_secs(10))?;
    c.pragma_update(None, "journal_mode", "WAL")?;
    // The per-command savepoints' journal stays in memory. (A larger page
    // cache was tried: SQLite walks the whole cache at every commit, which
    // cost more than the reads it saved.)
    c.pragma_update(None, "temp_store", "MEMORY")?;
    c.pragma_update(
        None,
        "synchronous",
        match sync {
            Synchronous::Normal => "NORMAL",
            Synchronous::Full => "FULL",
        },
    )?;
    Ok(c)
}

impl SqliteStore {
    /// Opens (creating) the database, and starts the writer thread.
    /// `owner`: this process is the only gateway on the file, so leases left
    /// by a previous (crashed) process are released at once.
    pub fn open(path: &Path, sync: Synchronous, owner: bool) -> Result<Self, StoreError> {
        let mut w = open_conn(path, sync)?;
        w.execute_batch(SCHEMA)?;
        if owner {
            w.execute(
                "UPDATE queue SET lease_until = 0, next_at = 0 WHERE lease_until > 0",
                [],
            )?;
        }
        let depth: i64 = w.query_row("SELECT count(*) FROM queue WHERE dead = 0", [], |r| {
            r.get(0)
        })?;
        let depth = Arc::new(AtomicI64::new(depth));
        // WAL checkpoints run on their own thread and connection (PASSIVE:
        // they never block the writer), not inside the writer's commits,
        // where they took a tenth of its time under batched load.
        w.pragma_update(None, "wal_autocheckpoint", 0)?;
        w.pragma_update(None, "journal_size_limit", 64 * 1024 * 1024)?;
        let ck_conn = open_conn(path, sync)?;
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = stop.clone();
        let checkpointer = std::thread::Builder::new()
            .name("leakscope-sqlite-checkpoint".into())
            .spawn(move || {
                let ck = || {
                    let _ = ck_conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
                };
                while !stop2.load(Ordering::Relaxed) {
                    std::thread::park_timeout(CHECKPOINT_EVERY);
                    ck();
                }
            })
            .map_err(|e| StoreError::Corrupt(format!("cannot start the checkpoint thread: {e}")))?;
        let reader = open_conn(path, sync)?;
        let (tx, rx) = mpsc::channel::<Cmd>();
        let d = depth.clone();
        let writer = std::thread::Builder::new()
            .name("leakscope-sqlite-writer".into())
            .spawn(move || writer_loop(&mut w, &rx, &d, sync))
            .map_err(|e| StoreError::Corrupt(format!("cannot start the writer thread: {e}")))?;
        Ok(Self {
            tx: Mutex::new(Some(tx)),
            reader: Arc::new(Mutex::new(reader)),
            path: path.to_owned(),
            depth,
            writer: Mutex::new(Some(writer)),
            checkpointer: Mutex::new(Some((stop, checkpointer))),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Stops the writer after the commands already sent (for shutdown).
    pub fn close(&self) {
        if let Ok(mut g) = self.tx.lock() {
            g.take();
        }
        let h = self.writer.lock().ok().and_then(|mut g| g.take());
        if let Some(h) = h {
            let _ = h.join();
        }
        // After the writer: the last checkpoint sees every commit.
        let c = self.checkpointer.lock().ok().and_then(|mut g| g.take());
        if let Some((stop, h)) = c {
            stop.store(true, Ordering::Relaxed);
            h.thread().unpark();
            let _ = h.join();
        }
    }

    async fn call<T>(&self, make: impl FnOnce(Reply<T>) -> Cmd) -> Result<T, StoreError> {
        let (tx, rx) = oneshot::channel();
        {
            let g = self.tx.lock().map_err(|_| StoreError::Closed)?;
            let s = g.as_ref().ok_or(StoreError::Closed)?;
            s.send(make(tx)).map_err(|_| StoreError::Closed)?;
        }
        rx.await.map_err(|_| StoreError::Closed)?
    }

    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let r = self.reader.clone();
        tokio::task::spawn_blocking(move || {
            let c = r.lock().map_err(|_| StoreError::Closed)?;
            f(&c)
        })
        .await
        .map_err(|_| StoreError::Closed)?
    }

    pub(crate) async fn accept(&self, a: Accept) -> Result<Vec<ItemOutcome>, StoreError> {
        let sealed = Box::new(SealedAccept::from(a));
        self.call(|r| Cmd::Accept(sealed, r)).await
    }
    pub(crate) async fn lease(&self, max: usize, lease_ms: i64) -> Result<Vec<Leased>, StoreError> {
        self.call(|r| Cmd::Lease(max, lease_ms, r)).await
    }
    pub(crate) async fn delivered(
        &self,
        rows: &[Leased],
        t: Option<String>,
    ) -> Result<(), StoreError> {
        let rows = seal_rows(
            rows,
            AuditKind::Delivered,
            |row| json!({"fbtrace_id": t, "attempts": row.attempts + 1}),
        );
        self.call(|r| Cmd::Delivered(rows, r)).await
    }
    pub(crate) async fn retry(
        &self,
        rows: &[Leased],
        at: Vec<RetryAt>,
        why: &str,
    ) -> Result<(), StoreError> {
        let rows = rows
            .iter()
            .zip(&at)
            .map(|(row, a)| {
                let e = row.entry(
                    AuditKind::Retried,
                    json!({"reason": why, "attempt": row.attempts + 1, "next_at_ms": a.next_at_ms}),
                );
                (a.id, a.next_at_ms, e.seal())
            })
            .collect();
        self.call(|r| Cmd::Retry(rows, why.to_owned(), r)).await
    }
    pub(crate) async fn dead_letter(&self, rows: &[Leased], why: &str) -> Result<(), StoreError> {
        let rows = seal_rows(
            rows,
            AuditKind::DeadLettered,
            |row| json!({"reason": why, "attempts": row.attempts + 1}),
        );
        self.call(|r| Cmd::Dead(rows, why.to_owned(), r)).await
    }
    pub(crate) async fn replay(&self, pixel: Option<String>) -> Result<u64, StoreError> {
        self.call(|r| Cmd::Replay(pixel, r)).await
    }
    pub(crate) async fn put_consent(
        &self,
        keys: Vec<String>,
        rec: String,
        a: AuditEntry,
    ) -> Result<(), StoreError> {
        let a = Box::new(a.seal());
        self.call(|r| Cmd::Consent(keys, rec, a, r)).await
    }
    pub(crate) async fn consent_many(
        &self,
        lookups: Vec<Vec<String>>,
    ) -> Result<Vec<Option<String>>, StoreError> {
        self.read(move |c| {
            let mut st =
                c.prepare_cached("SELECT record, updated_ms FROM consent WHERE key = ?1")?;
            let mut out = Vec::with_capacity(lookups.len());
            for keys in &lookups {
                let mut best: Option<(i64, String)> = None;
                for k in keys {
                    if let Some((rec, t)) = st
                        .query_row([k], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
                        .optional()?
                        && best.as_ref().is_none_or(|b| t > b.0)
                    {
                        best = Some((t, rec));
                    }
                }
                out.push(best.map(|b| b.1));
            }
            Ok(out)
        })
        .await
    }
    pub(crate) async fn prune_dedup(&self, before_ms: i64) -> Result<u64, StoreError> {
        self.call(|r| Cmd::Prune(before_ms, r)).await
    }
    pub(crate) async fn dead_count(&self) -> Result<i64, StoreError> {
        self.read(|c| {
            Ok(
                c.query_row("SELECT count(*) FROM queue WHERE dead = 1", [], |r| {
                    r.get(0)
                })?,
            )
        })
        .await
    }
    pub(crate) async fn refresh_depth(&self) -> Result<i64, StoreError> {
        let n: i64 = self
            .read(|c| {
                Ok(
                    c.query_row("SELECT count(*) FROM queue WHERE dead = 0", [], |r| {
                        r.get(0)
                    })?,
                )
            })
            .await?;
        self.depth.store(n, Ordering::Relaxed);
        Ok(n)
    }
    pub(crate) async fn ping(&self) -> Result<(), StoreError> {
        self.read(|c| Ok(c.query_row("SELECT 1", [], |_| Ok(()))?))
            .await
    }
    pub(crate) async fn audit_records(
        &self,
        f: AuditFilter,
        limit: usize,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        self.read(move |c| read_audit(c, &f, limit)).await
    }
    pub(crate) async fn audit_verify(&self) -> Result<VerifyReport, StoreError> {
        self.read(verify_audit).await
    }
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        self.close();
    }
}

fn writer_loop(c: &mut Connection, rx: &mpsc::Receiver<Cmd>, depth: &AtomicI64, sync: Synchronous) {
    // Group commit: take everything already waiting (up to a bound), run it in
    // one transaction, reply after the commit.
    const MAX_GROUP: usize = 256;
    let mut relaxed = false;
    while let Ok(first) = rx.recv() {
        let mut cmds = vec![first];
        while cmds.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(c) => cmds.push(c),
                Err(_) => break,
            }
        }
        // A group of only leases and delivery marks need not wait for an
        // fsync: losing it to a power cut means a batch is sent again, which
        // Meta deduplicates by event_id (delivery is at-least-once anyway).
        // The next synced commit's fsync covers its WAL frames too. This keeps
        // delivery's commits out of the way of accepts' acknowledgements.
        let relax = sync == Synchronous::Full
            && cmds
                .iter()
                .all(|c| matches!(c, Cmd::Lease(..) | Cmd::Delivered(..)));
        if relax != relaxed {
            let mode = if relax { "NORMAL" } else { "FULL" };
            if c.pragma_update(None, "synchronous", mode).is_ok() {
                relaxed = relax;
            }
        }
        run_group(c, cmds, depth);
    }
}

enum Done {
    Outcomes(
        Reply<Vec<ItemOutcome>>,
        Result<Vec<ItemOutcome>, StoreError>,
    ),
    Leased(Reply<Vec<Leased>>, Result<Vec<Leased>, StoreError>),
    Unit(Reply<()>, Result<(), StoreError>),
    Count(Reply<u64>, Result<u64, StoreError>),
}

fn run_group(c: &mut Connection, cmds: Vec<Cmd>, depth: &AtomicI64) {
    let tx = match c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate) {
        Ok(t) => t,
        Err(e) => {
            let msg = e.to_string();
            for cmd in cmds {
                fail(cmd, &msg);
            }
            return;
        }
    };
    let mut chain = match Chain::load(&tx) {
        Ok(ch) => ch,
        Err(e) => {
            let msg = e.to_string();
            drop(tx);
            for cmd in cmds {
                fail(cmd, &msg);
            }
            return;
        }
    };
    let mut done = Vec::with_capacity(cmds.len());
    let mut delta = 0i64;
    for (i, cmd) in cmds.into_iter().enumerate() {
        // A savepoint per command: one failing command does not undo the others.
        let sp = format!("c{i}");
        let _ = tx.execute_batch(&format!("SAVEPOINT {sp}"));
        let mark = chain.clone();
        let (d, ok, dd) = run_cmd(&tx, &mut chain, cmd);
        if ok {
            let _ = tx.execute_batch(&format!("RELEASE {sp}"));
            delta += dd;
        } else {
            let _ = tx.execute_batch(&format!("ROLLBACK TO {sp}; RELEASE {sp}"));
            chain = mark;
        }
        done.push(d);
    }
    match tx.commit() {
        Ok(()) => {
            depth.fetch_add(delta, Ordering::Relaxed);
            for d in done {
                reply(d);
            }
        }
        Err(e) => {
            let msg = e.to_string();
            for d in done {
                reply_err(d, &msg);
            }
        }
    }
}

fn fail(cmd: Cmd, msg: &str) {
    fn e<T>(msg: &str) -> Result<T, StoreError> {
        Err(StoreError::Corrupt(msg.to_owned()))
    }
    match cmd {
        Cmd::Accept(_, r) => drop(r.send(e(msg))),
        Cmd::Lease(_, _, r) => drop(r.send(e(msg))),
        Cmd::Delivered(_, r)
        | Cmd::Retry(_, _, r)
        | Cmd::Dead(_, _, r)
        | Cmd::Consent(_, _, _, r) => drop(r.send(e(msg))),
        Cmd::Replay(_, r) | Cmd::Prune(_, r) => drop(r.send(e(msg))),
    }
}

fn reply(d: Done) {
    match d {
        Done::Outcomes(r, v) => drop(r.send(v)),
        Done::Leased(r, v) => drop(r.send(v)),
        Done::Unit(r, v) => drop(r.send(v)),
        Done::Count(r, v) => drop(r.send(v)),
    }
}

fn reply_err(d: Done, msg: &str) {
    let e = || StoreError::Corrupt(format!("commit failed: {msg}"));
    match d {
        Done::Outcomes(r, _) => drop(r.send(Err(e()))),
        Done::Leased(r, _) => drop(r.send(Err(e()))),
        Done::Unit(r, _) => drop(r.send(Err(e()))),
        Done::Count(r, _) => drop(r.send(Err(e()))),
    }
}

/// The head of the audit chain inside the current transaction.
#[derive(Clone)]
struct Chain {
    seq: i64,
    hash: String,
}

impl Chain {
    fn load(tx: &Transaction<'_>) -> Result<Self, StoreError> {
        let head: Option<(i64, String)> = tx
            .query_row(
                "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        Ok(match head {
            Some((seq, hash)) => Self { seq, hash },
            None => Self {
                seq: 0,
                hash: GENESIS.into(),
            },
        })
    }

    fn append(&mut self, tx: &Transaction<'_>, s: &SealedEntry, ts: i64) -> Result<(), StoreError> {
        let seq = self.seq + 1;
        let hash = s.hash_at(seq, ts, &self.hash);
        let e = &s.entry;
        tx.prepare_cached(
            "INSERT INTO audit (seq, ts_ms, kind, pixel_id, event_id, event_name, page, detail, prev_hash, hash)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )?
        .execute(params![
            seq,
            ts,
            e.kind.as_str(),
            e.pixel_id,
            e.event_id,
            e.event_name,
            e.page,
            s.detail_json,
            self.hash,
            hash
        ])?;
        self.seq = seq;
        self.hash = hash;
        Ok(())
    }
}

/// Runs one command; returns its reply, whether it succeeded, and its change to the queue depth.
fn run_cmd(tx: &Transaction<'_>, chain: &mut Chain, cmd: Cmd) -> (Done, bool, i64) {
    let now = now_ms();
    match cmd {
        Cmd::Accept(a, r) => {
            let res = accept(tx, chain, *a, now);
            let dd = res
                .as_ref()
                .map(|v| v.iter().filter(|o| **o == ItemOutcome::Queued).count() as i64)
                .unwrap_or(0);
            let ok = res.is_ok();
            (Done::Outcomes(r, res), ok, dd)
        }
        Cmd::Lease(max, lease_ms, r) => {
            let res = lease(tx, max, lease_ms, now);
            let ok = res.is_ok();
            (Done::Leased(r, res), ok, 0)
        }
        Cmd::Delivered(rows, r) => {
            let res = finish_rows(tx, chain, &rows, now, "DELETE FROM queue WHERE id = ?1");
            let ok = res.is_ok();
            (Done::Unit(r, res), ok, -(rows.len() as i64))
        }
        Cmd::Retry(rows, why, r) => {
            let res = (|| {
                let mut st = tx.prepare_cached(
                    "UPDATE queue SET attempts = attempts + 1, next_at = ?2, lease_until = 0, last_error = ?3 WHERE id = ?1",
                )?;
                for (id, next_at, e) in &rows {
                    st.execute(params![id, next_at, why])?;
                    chain.append(tx, e, now)?;
                }
                Ok(())
            })();
            let ok = res.is_ok();
            (Done::Unit(r, res), ok, 0)
        }
        Cmd::Dead(rows, why, r) => {
            let res = finish_rows(
                tx,
                chain,
                &rows,
                now,
                "UPDATE queue SET dead = 1, lease_until = 0, attempts = attempts + 1 WHERE id = ?1",
            )
            .and_then(|()| {
                let mut st = tx.prepare_cached("UPDATE queue SET last_error = ?2 WHERE id = ?1")?;
                for (id, _) in &rows {
                    st.execute(params![id, why])?;
                }
                Ok(())
            });
            let ok = res.is_ok();
            (Done::Unit(r, res), ok, -(rows.len() as i64))
        }
        Cmd::Replay(pixel, r) => {
            let res = replay(tx, chain, pixel.as_deref(), now);
            let ok = res.is_ok();
            let dd = *res.as_ref().unwrap_or(&0) as i64;
            (Done::Count(r, res), ok, dd)
        }
        Cmd::Consent(keys, rec, audit, r) => {
            let res = (|| {
                let mut st = tx.prepare_cached(
                    "INSERT INTO consent (key, record, updated_ms) VALUES (?1, ?2, ?3)
                     ON CONFLICT(key) DO UPDATE SET record = excluded.record, updated_ms = excluded.updated_ms",
                )?;
                for k in &keys {
                    st.execute(params![k, rec, now])?;
                }
                chain.append(tx, &audit, now)
            })();
            let ok = res.is_ok();
            (Done::Unit(r, res), ok, 0)
        }
        Cmd::Prune(before, r) => {
            let res = tx
                .execute("DELETE FROM dedup WHERE created_ms < ?1", params![before])
                .map(|n| n as u64)
                .map_err(StoreError::from);
            let ok = res.is_ok();
            (Done::Count(r, res), ok, 0)
        }
    }
}

fn accept(
    tx: &Transaction<'_>,
    chain: &mut Chain,
    a: SealedAccept,
    now: i64,
) -> Result<Vec<ItemOutcome>, StoreError> {
    chain.append(tx, &a.received, now)?;
    let mut out = Vec::with_capacity(a.items.len());
    let tec = a.test_event_code;
    let mut dedup = tx.prepare_cached(
        "INSERT INTO dedup (pixel_id, event_id, event_name, created_ms) VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
    )?;
    let mut ins = tx.prepare_cached(
        "INSERT INTO queue (pixel_id, test_event_code, event, event_id, event_name, page, created_ms, next_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
    )?;
    for (audit, forward) in a.items {
        for e in &audit {
            chain.append(tx, e, now)?;
        }
        let Some(f) = forward else {
            out.push(ItemOutcome::Blocked);
            continue;
        };
        let fresh = match &f.dedup {
            Some((id, name)) => dedup.execute(params![a.pixel_id, id, name, now])? == 1,
            None => true,
        };
        if fresh {
            let rec = &f.record.entry;
            ins.execute(params![
                a.pixel_id,
                tec,
                f.event,
                rec.event_id,
                rec.event_name,
                rec.page,
                now
            ])?;
            chain.append(tx, &f.record, now)?;
            out.push(ItemOutcome::Queued);
        } else {
            // Rare: sealed again here, as a `duplicate` without detail.
            let mut rec = f.record.entry;
            rec.kind = AuditKind::Duplicate;
            rec.detail = Value::Null;
            chain.append(tx, &rec.seal(), now)?;
            out.push(ItemOutcome::Duplicate);
        }
    }
    Ok(out)
}

fn lease(
    tx: &Transaction<'_>,
    max: usize,
    lease_ms: i64,
    now: i64,
) -> Result<Vec<Leased>, StoreError> {
    let group: Option<(String, String)> = tx
        .prepare_cached(
            "SELECT pixel_id, test_event_code FROM queue
             WHERE dead = 0 AND next_at <= ?1 ORDER BY next_at, id LIMIT 1",
        )?
        .query_row([now], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let Some((pixel, tec)) = group else {
        return Ok(Vec::new());
    };
    let mut st = tx.prepare_cached(
        "SELECT id, event, attempts, event_id, event_name, page FROM queue
         WHERE dead = 0 AND next_at <= ?1 AND pixel_id = ?2 AND test_event_code = ?3
         ORDER BY next_at, id LIMIT ?4",
    )?;
    let rows: Vec<Leased> = st
        .query_map(params![now, pixel, tec, max as i64], |r| {
            Ok(Leased {
                id: r.get(0)?,
                pixel_id: pixel.clone(),
                test_event_code: tec.clone(),
                event: r.get(1)?,
                attempts: r.get(2)?,
                event_id: r.get(3)?,
                event_name: r.get(4)?,
                page: r.get(5)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    let mut up =
        tx.prepare_cached("UPDATE queue SET lease_until = ?2, next_at = ?2 WHERE id = ?1")?;
    for r in &rows {
        up.execute(params![r.id, now + lease_ms])?;
    }
    Ok(rows)
}

/// Each row's id with its sealed audit entry of `kind`.
fn seal_rows(
    rows: &[Leased],
    kind: AuditKind,
    detail: impl Fn(&Leased) -> Value,
) -> Vec<(i64, SealedEntry)> {
    rows.iter()
        .map(|row| (row.id, row.entry(kind, detail(row)).seal()))
        .collect()
}

fn finish_rows(
    tx: &Transaction<'_>,
    chain: &mut Chain,
    rows: &[(i64, SealedEntry)],
    now: i64,
    sql: &str,
) -> Result<(), StoreError> {
    let mut st = tx.prepare_cached(sql)?;
    for (id, e) in rows {
        st.execute([id])?;
        chain.append(tx, e, now)?;
    }
    Ok(())
}

fn replay(
    tx: &Transaction<'_>,
    chain: &mut Chain,
    pixel: Option<&str>,
    now: i64,
) -> Result<u64, StoreError> {
    let mut st = tx.prepare_cached(
        "SELECT id, pixel_id, test_event_code, event, attempts, event_id, event_name, page FROM queue
         WHERE dead = 1 AND (?1 IS NULL OR pixel_id = ?1)",
    )?;
    let rows: Vec<Leased> = st
        .query_map([pixel], |r| {
            Ok(Leased {
                id: r.get(0)?,
                pixel_id: r.get(1)?,
                test_event_code: r.get(2)?,
                event: r.get(3)?,
                attempts: r.get(4)?,
                event_id: r.get(5)?,
                event_name: r.get(6)?,
                page: r.get(7)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    let sealed = seal_rows(
        &rows,
        AuditKind::Replayed,
        |row| json!({"previous_attempts": row.attempts}),
    );
    finish_rows(
        tx,
        chain,
        &sealed,
        now,
        "UPDATE queue SET dead = 0, attempts = 0, next_at = 0, lease_until = 0 WHERE id = ?1",
    )?;
    Ok(rows.len() as u64)
}

fn row_to_record(r: &rusqlite::Row<'_>) -> rusqlite::Result<(AuditRecord, String)> {
    let kind: String = r.get(2)?;
    let detail: String = r.get(7)?;
    Ok((
        AuditRecord {
            seq: r.get(0)?,
            ts_ms: r.get(1)?,
            // An unknown kind is kept visible (and fails verification) rather than dropped.
            kind: AuditKind::parse(&kind).unwrap_or(AuditKind::Received),
            pixel_id: r.get(3)?,
            event_id: r.get(4)?,
            event_name: r.get(5)?,
            page: r.get(6)?,
            detail: Value::Null,
            prev_hash: r.get(8)?,
            hash: r.get(9)?,
        },
        format!("{kind}\u{0}{detail}"),
    ))
}

fn decode_record((mut rec, raw): (AuditRecord, String)) -> Result<AuditRecord, (i64, String)> {
    let (kind, detail) = raw.split_once('\u{0}').unwrap_or(("", ""));
    if AuditKind::parse(kind).is_none() {
        return Err((rec.seq, format!("unknown kind {kind:?}")));
    }
    rec.detail =
        serde_json::from_str(detail).map_err(|e| (rec.seq, format!("detail is not JSON ({e})")))?;
    Ok(rec)
}

const AUDIT_COLS: &str =
    "seq, ts_ms, kind, pixel_id, event_id, event_name, page, detail, prev_hash, hash";

/// Reads audit records (any SQLite connection, e.g. the CLI's).
pub fn read_audit(
    c: &Connection,
    f: &AuditFilter,
    limit: usize,
) -> Result<Vec<AuditRecord>, StoreError> {
    let mut st = c.prepare(&format!(
        "SELECT {AUDIT_COLS} FROM audit WHERE (?1 IS NULL OR ts_ms >= ?1) AND (?2 IS NULL OR ts_ms < ?2)
         AND (?3 IS NULL OR pixel_id = ?3) ORDER BY seq"
    ))?;
    let mut out = Vec::new();
    let mut rows = st.query(params![f.since_ms, f.until_ms, f.pixel_id])?;
    while let Some(r) = rows.next()? {
        let rec = decode_record(row_to_record(r)?)
            .map_err(|(seq, why)| StoreError::Corrupt(format!("audit record {seq}: {why}")))?;
        if f.matches(&rec) {
            out.push(rec);
            if out.len() >= limit {
                break;
            }
        }
    }
    Ok(out)
}

/// Verifies the audit chain (any SQLite connection).
pub fn verify_audit(c: &Connection) -> Result<VerifyReport, StoreError> {
    let mut st = c.prepare(&format!("SELECT {AUDIT_COLS} FROM audit ORDER BY seq"))?;
    let mut rows = st.query([])?;
    let mut v = Verifier::default();
    while let Some(r) = rows.next()? {
        if !v.push_stored(decode_record(row_to_record(r)?)) {
            break;
        }
    }
    Ok(v.finish())
}

/// Opens a database read-only for the CLI (`audit verify|show`).
pub fn open_read_only(path: &Path) -> Result<Connection, StoreError> {
    if !path.exists() {
        return Err(StoreError::Corrupt(format!(
            "{} does not exist",
            path.display()
        )));
    }
    Ok(Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?)
}
