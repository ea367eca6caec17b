//! Sector surveys: scan every site of a list (thousands), resumable after
//! any stop, on one machine or many.
//!
//! - [`list`]: the site list (plain URLs or domains, or a CSV whose other
//!   columns are kept with the results).
//! - [`store`]: the results database, SQLite by default, PostgreSQL for
//!   many machines; one schema (`schema.sql`) and its views (`views.sql`).
//! - [`queue`]: the work queue in the `sites` table: leases that expire
//!   unless renewed, results stored in the transaction that ends a lease.
//! - [`worker`]: one browser, a few sites at once, time budgets, retries
//!   with backoff for transient failures.
//! - [`rows`]: a scan's output as the survey's flat rows
//!   (`leakscope_core::survey`).
//!
//! The database is the only meeting point: no coordinator, no protocol
//! between workers.

pub mod list;
pub mod queue;
pub mod rows;
pub mod settings;
pub mod store;
pub mod worker;

pub use list::{ListedSite, SiteList};
pub use queue::{Counts, Lease, Outcome};
pub use settings::Settings;
pub use store::Store;
pub use worker::{NoSurveyProgress, SurveyProgress, WorkSummary, WorkerOptions, work};

#[derive(Debug, thiserror::Error)]
pub enum SurveyError {
    #[error("site list {name}{}: {reason}", if *.line > 0 { format!(", line {line}") } else { String::new() })]
    List {
        name: String,
        line: usize,
        reason: String,
    },
    #[error("database: {what}: {message}")]
    Db { what: String, message: String },
    #[error("no survey{} in {location}: start one with `leakscope survey LIST`", .name.as_ref().map(|n| format!(" named {n:?}")).unwrap_or_default())]
    NoSurvey {
        location: String,
        name: Option<String>,
    },
    #[error("browser: {0}")]
    Browser(String),
}
