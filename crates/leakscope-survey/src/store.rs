//! The results database: SQLite (one file, WAL) by default, PostgreSQL for
//! many machines. One schema (`schema.sql`), one set of views (`views.sql`)
//! and the same queries for both: SQL is written with `$n` parameters and
//! rewritten to `?n` for SQLite. The only difference is how a worker leases
//! sites: `FOR UPDATE SKIP LOCKED` on PostgreSQL, a write transaction on
//! SQLite (which has one writer at a time anyway).

use std::sync::Arc;

use tokio::sync::{Mutex, MutexGuard};

use crate::SurveyError;

const SCHEMA: &str = include_str!("schema.sql");
/// Bump when schema.sql or views.sql change: a database at this version is
/// used as it is (no DDL, so `status`, `report` and `export` need no rights
/// to create, and users' own views on ours are left alone).
const SCHEMA_VERSION: i64 = 1;
const VIEWS: &str = include_str!("views.sql");
/// Any constant: serialises schema set-up between workers starting at once.
const PG_SETUP_LOCK: i64 = 0x1ea6_5c09e;

/// A value bound to or read from a query.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Null,
    Int(i64),
    Text(String),
}

impl Val {
    pub fn int(&self) -> i64 {
        match self {
            Val::Int(i) => *i,
            Val::Text(t) => t.parse().unwrap_or(0),
            Val::Null => 0,
        }
    }
    pub fn text(&self) -> Option<String> {
        match self {
            Val::Text(t) => Some(t.clone()),
            Val::Int(i) => Some(i.to_string()),
            Val::Null => None,
        }
    }
    pub fn str(&self) -> String {
        self.text().unwrap_or_default()
    }
}

impl From<i64> for Val {
    fn from(v: i64) -> Val {
        Val::Int(v)
    }
}
impl From<u64> for Val {
    fn from(v: u64) -> Val {
        Val::Int(i64::try_from(v).unwrap_or(i64::MAX))
    }
}
impl From<bool> for Val {
    fn from(v: bool) -> Val {
        Val::Int(v as i64)
    }
}
impl From<&str> for Val {
    fn from(v: &str) -> Val {
        Val::Text(v.to_owned())
    }
}
impl From<String> for Val {
    fn from(v: String) -> Val {
        Val::Text(v)
    }
}
impl From<&String> for Val {
    fn from(v: &String) -> Val {
        Val::Text(v.clone())
    }
}
impl<T: Into<Val>> From<Option<T>> for Val {
    fn from(v: Option<T>) -> Val {
        v.map(Into::into).unwrap_or(Val::Null)
    }
}

impl rusqlite::ToSql for Val {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(match self {
            Val::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Val::Int(i) => ToSqlOutput::Borrowed(ValueRef::Integer(*i)),
            Val::Text(t) => ToSqlOutput::Borrowed(ValueRef::Text(t.as_bytes())),
        })
    }
}

impl tokio_postgres::types::ToSql for Val {
    fn to_sql(
        &self,
        ty: &tokio_postgres::types::Type,
        out: &mut tokio_postgres::types::private::BytesMut,
    ) -> Result<tokio_postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        use tokio_postgres::types::{IsNull, Type};
        match self {
            Val::Null => Ok(IsNull::Yes),
            Val::Int(i) => match *ty {
                Type::INT4 => i32::try_from(*i)?.to_sql(ty, out),
                _ => i.to_sql(ty, out),
            },
            Val::Text(t) => t.as_str().to_sql(ty, out),
        }
    }
    fn accepts(ty: &tokio_postgres::types::Type) -> bool {
        use tokio_postgres::types::Type;
        matches!(
            *ty,
            Type::INT8 | Type::INT4 | Type::TEXT | Type::VARCHAR | Type::UNKNOWN
        )
    }
    tokio_postgres::types::to_sql_checked!();
}

/// `$1` → `?1`: SQLite's numbered parameters, same numbers.
fn sqlite_sql(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('?');
        } else {
            out.push(c);
        }
    }
    out
}

enum Conn {
    Sqlite(rusqlite::Connection),
    Postgres {
        client: tokio_postgres::Client,
        /// A transaction was dropped open; roll it back before the next use
        /// (`Drop` cannot wait for the server).
        dirty: bool,
    },
}

impl Conn {
    async fn pg_clean(&mut self) {
        if let Conn::Postgres { client, dirty } = self
            && *dirty
        {
            let _ = client.batch_execute("ROLLBACK").await;
            *dirty = false;
        }
    }
}

/// A survey database. Cheap to clone; every query goes through one
/// connection in turn (queries are tiny next to a scan).
#[derive(Clone)]
pub struct Store {
    conn: Arc<Mutex<Conn>>,
    /// Where it is, for messages (a PostgreSQL URL's password removed).
    pub location: String,
    pub is_postgres: bool,
}

/// One transaction: holds the connection until `commit` or `rollback`
/// (dropped without either: rolled back).
pub struct Tx<'a> {
    conn: MutexGuard<'a, Conn>,
    open: bool,
}

impl Store {
    /// Opens (creating if need be) the database at `target`: a
    /// `postgres://…` / `postgresql://…` URL, a libpq `host=… dbname=…`
    /// string, or a SQLite file path.
    pub async fn open(target: &str) -> Result<Store, SurveyError> {
        let is_pg = target.starts_with("postgres://")
            || target.starts_with("postgresql://")
            || (target.contains("host=") && target.contains('='));
        if is_pg {
            let (client, conn) = tokio_postgres::connect(target, tokio_postgres::NoTls)
                .await
                .map_err(|e| SurveyError::Db {
                    what: format!("connecting to PostgreSQL at {}", redact_url(target)),
                    message: e.to_string(),
                })?;
            tokio::spawn(async move {
                if let Err(e) = conn.await {
                    tracing::error!("PostgreSQL connection ended: {e}");
                }
            });
            let store = Store {
                conn: Arc::new(Mutex::new(Conn::Postgres {
                    client,
                    dirty: false,
                })),
                location: redact_url(target),
                is_postgres: true,
            };
            store.setup().await?;
            Ok(store)
        } else {
            if let Some(parent) = std::path::Path::new(target).parent()
                && !parent.as_os_str().is_empty()
            {
                std::fs::create_dir_all(parent).map_err(|e| SurveyError::Db {
                    what: format!("creating the folder of {target}"),
                    message: e.to_string(),
                })?;
            }
            let c = rusqlite::Connection::open(target).map_err(|e| SurveyError::Db {
                what: format!("opening {target}"),
                message: e.to_string(),
            })?;
            // WAL: readers (status, report) never block the worker; NORMAL
            // sync is durable across a killed process (not a power cut
            // between checkpoints, which a survey can re-run).
            c.execute_batch(
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000; PRAGMA foreign_keys=ON;",
            )
            .map_err(|e| SurveyError::Db {
                what: format!("setting up {target}"),
                message: e.to_string(),
            })?;
            let store = Store {
                conn: Arc::new(Mutex::new(Conn::Sqlite(c))),
                location: target.to_owned(),
                is_postgres: false,
            };
            store.setup().await?;
            Ok(store)
        }
    }

    async fn setup(&self) -> Result<(), SurveyError> {
        let current = self
            .query("SELECT version FROM survey_schema", &[])
            .await
            .ok()
            .and_then(|r| r.first().map(|r| r[0].int()));
        if current == Some(SCHEMA_VERSION) {
            return Ok(());
        }
        let stamp = format!(
            "CREATE TABLE IF NOT EXISTS survey_schema (version BIGINT NOT NULL); DELETE FROM survey_schema; INSERT INTO survey_schema (version) VALUES ({SCHEMA_VERSION});"
        );
        let mut c = self.conn.lock().await;
        let r = match &mut *c {
            Conn::Sqlite(c) => c
                .execute_batch(&format!("BEGIN IMMEDIATE; {SCHEMA} {VIEWS} {stamp} COMMIT;"))
                .map_err(|e| e.to_string()),
            Conn::Postgres { client: c, .. } => c
                .batch_execute(&format!(
                    "BEGIN; SELECT pg_advisory_xact_lock({PG_SETUP_LOCK}); {SCHEMA} {VIEWS} {stamp} COMMIT;"
                ))
                .await
                .map_err(|e| pg_message(&e)),
        };
        r.map_err(|message| SurveyError::Db {
            what: format!("creating the survey tables in {}", self.location),
            message,
        })
    }

    /// Starts a transaction.
    pub async fn begin(&self) -> Result<Tx<'_>, SurveyError> {
        let mut conn = self.conn.lock().await;
        conn.pg_clean().await;
        let r = match &mut *conn {
            // IMMEDIATE: take the write lock now, so a lease read and its
            // update cannot interleave with another process's.
            Conn::Sqlite(c) => c
                .execute_batch("BEGIN IMMEDIATE")
                .map_err(|e| e.to_string()),
            Conn::Postgres { client, .. } => client
                .batch_execute("BEGIN")
                .await
                .map_err(|e| pg_message(&e)),
        };
        r.map_err(|message| SurveyError::Db {
            what: "starting a transaction".into(),
            message,
        })?;
        Ok(Tx { conn, open: true })
    }

    /// One statement in its own transaction; rows affected.
    pub async fn exec(&self, sql: &str, params: &[Val]) -> Result<u64, SurveyError> {
        let mut conn = self.conn.lock().await;
        conn.pg_clean().await;
        exec_on(&mut conn, sql, params).await
    }

    /// Rows of a query, each a vector of values in column order.
    pub async fn query(&self, sql: &str, params: &[Val]) -> Result<Vec<Vec<Val>>, SurveyError> {
        let mut conn = self.conn.lock().await;
        conn.pg_clean().await;
        query_on(&mut conn, sql, params).await
    }
}

impl Tx<'_> {
    pub async fn exec(&mut self, sql: &str, params: &[Val]) -> Result<u64, SurveyError> {
        exec_on(&mut self.conn, sql, params).await
    }
    pub async fn query(&mut self, sql: &str, params: &[Val]) -> Result<Vec<Vec<Val>>, SurveyError> {
        query_on(&mut self.conn, sql, params).await
    }
    pub async fn commit(mut self) -> Result<(), SurveyError> {
        self.open = false;
        exec_on(&mut self.conn, "COMMIT", &[]).await.map(|_| ())
    }
    pub async fn rollback(mut self) -> Result<(), SurveyError> {
        self.open = false;
        exec_on(&mut self.conn, "ROLLBACK", &[]).await.map(|_| ())
    }
}

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        if !self.open {
            return;
        }
        // An error or a cancelled future left it open: undo it so the
        // connection is usable again (PostgreSQL: the next statement
        // sent on this client goes after this one).
        match &mut *self.conn {
            Conn::Sqlite(c) => {
                let _ = c.execute_batch("ROLLBACK");
            }
            Conn::Postgres { dirty, .. } => *dirty = true,
        }
    }
}

async fn exec_on(conn: &mut Conn, sql: &str, params: &[Val]) -> Result<u64, SurveyError> {
    let r = match conn {
        Conn::Sqlite(c) => {
            let p: Vec<&dyn rusqlite::ToSql> =
                params.iter().map(|v| v as &dyn rusqlite::ToSql).collect();
            c.execute(&sqlite_sql(sql), p.as_slice())
                .map(|n| n as u64)
                .map_err(|e| e.to_string())
        }
        Conn::Postgres { client: c, .. } => {
            let p: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = params
                .iter()
                .map(|v| v as &(dyn tokio_postgres::types::ToSql + Sync))
                .collect();
            c.execute(sql, p.as_slice())
                .await
                .map_err(|e| pg_message(&e))
        }
    };
    r.map_err(|message| SurveyError::Db {
        what: first_words(sql),
        message,
    })
}

async fn query_on(
    conn: &mut Conn,
    sql: &str,
    params: &[Val],
) -> Result<Vec<Vec<Val>>, SurveyError> {
    let r = match conn {
        Conn::Sqlite(c) => (|| {
            let mut st = c.prepare_cached(&sqlite_sql(sql))?;
            let n = st.column_count();
            let p: Vec<&dyn rusqlite::ToSql> =
                params.iter().map(|v| v as &dyn rusqlite::ToSql).collect();
            let mut rows = st.query(p.as_slice())?;
            let mut out = Vec::new();
            while let Some(row) = rows.next()? {
                let mut vals = Vec::with_capacity(n);
                for i in 0..n {
                    use rusqlite::types::ValueRef;
                    vals.push(match row.get_ref(i)? {
                        ValueRef::Null => Val::Null,
                        ValueRef::Integer(v) => Val::Int(v),
                        ValueRef::Real(v) => Val::Int(v as i64),
                        ValueRef::Text(t) | ValueRef::Blob(t) => {
                            Val::Text(String::from_utf8_lossy(t).into_owned())
                        }
                    });
                }
                out.push(vals);
            }
            Ok(out)
        })()
        .map_err(|e: rusqlite::Error| e.to_string()),
        Conn::Postgres { client: c, .. } => {
            let p: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = params
                .iter()
                .map(|v| v as &(dyn tokio_postgres::types::ToSql + Sync))
                .collect();
            match c.query(sql, p.as_slice()).await {
                Ok(rows) => Ok(rows.iter().map(pg_row).collect()),
                Err(e) => Err(pg_message(&e)),
            }
        }
    };
    r.map_err(|message| SurveyError::Db {
        what: first_words(sql),
        message,
    })
}

/// Integers and text; anything else reads as text or NULL. `SUM` of a
/// BIGINT is NUMERIC on PostgreSQL: queries cast it back to BIGINT.
fn pg_row(row: &tokio_postgres::Row) -> Vec<Val> {
    use tokio_postgres::types::Type;
    (0..row.len())
        .map(|i| {
            match *row.columns()[i].type_() {
                Type::INT8 => row.get::<_, Option<i64>>(i).map(Val::Int),
                Type::INT4 => row.get::<_, Option<i32>>(i).map(|v| Val::Int(v.into())),
                Type::INT2 => row.get::<_, Option<i16>>(i).map(|v| Val::Int(v.into())),
                _ => row
                    .try_get::<_, Option<String>>(i)
                    .ok()
                    .flatten()
                    .map(Val::Text),
            }
            .unwrap_or(Val::Null)
        })
        .collect()
}

fn pg_message(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => e.to_string(),
    }
}

/// The statement's first words, for an error message.
fn first_words(sql: &str) -> String {
    let words: Vec<&str> = sql.split_whitespace().take(6).collect();
    format!("running `{}…`", words.join(" "))
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`; a
/// `password=…` pair likewise.
pub fn redact_url(target: &str) -> String {
    if let Ok(mut u) = url::Url::parse(target)
        && u.password().is_some()
    {
        let _ = u.set_password(Some("***"));
        return u.to_string();
    }
    target
        .split_whitespace()
        .map(|kv| {
            if kv.starts_with("password=") {
                "password=***"
            } else {
                kv
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_keep_their_numbers_for_sqlite() {
        assert_eq!(
            sqlite_sql("SELECT $2, '$x' WHERE a = $1 AND b = $10"),
            "SELECT ?2, '$x' WHERE a = ?1 AND b = ?10"
        );
    }

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(
            redact_url("postgres://survey:hunter2@db.internal:5432/leaks"),
            "postgres://survey:***@db.internal:5432/leaks"
        );
        assert_eq!(
            redact_url("host=db user=survey password=hunter2 dbname=leaks"),
            "host=db user=survey password=*** dbname=leaks"
        );
    }

    #[tokio::test]
    async fn sqlite_round_trip_and_rollback_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("s.db");
        let s = Store::open(db.to_str().unwrap()).await.unwrap();
        s.exec(
            "INSERT INTO surveys (name, list, created, settings, list_columns, tool_version) VALUES ($1, $2, $3, $4, $5, $6)",
            &["t".into(), "l.txt".into(), "now".into(), "{}".into(), "[]".into(), "0".into()],
        )
        .await
        .unwrap();
        {
            let mut tx = s.begin().await.unwrap();
            tx.exec("UPDATE surveys SET browser = $1", &["x".into()])
                .await
                .unwrap();
            // dropped: rolled back
        }
        let rows = s
            .query("SELECT name, browser FROM surveys", &[])
            .await
            .unwrap();
        assert_eq!(
            rows,
            vec![vec![Val::Text("t".into()), Val::Text(String::new())]]
        );
        // Views exist and run on an empty survey.
        for v in [
            "survey_progress",
            "sites_health_to_meta",
            "per_vendor",
            "per_health_category",
            "tracking_after_reject",
            "per_list_column",
            "failures",
        ] {
            s.query(&format!("SELECT * FROM {v}"), &[]).await.unwrap();
        }
    }
}
