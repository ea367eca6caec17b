//! leakscope-report: the outputs people act on and the evidence that holds up.
//!
//! - [`results`]: the versioned results document (`schemas/results-v1.schema.json`)
//!   every other output is rendered from, saved and read back by `leakscope report`.
//! - [`html`]: one self-contained HTML report for a compliance officer.
//! - [`story`] and [`explain`]: what every human-readable format shares: the
//!   headlines at the top, run status, legal frameworks stated once, a
//!   glossary, and health evidence collapsed to one line per term.
//! - [`sarif`], [`csv_out`], [`jsonl`]: machine outputs (SARIF 2.1.0, CSV, JSON Lines).
//! - [`redact`] and [`har`]: secrets out of every output and every HAR copy.
//! - [`bundle`]: signed, hash-chained evidence bundles and their verification.
//! - [`gate`]: CI gate (`--fail-on`), baselines of accepted findings, diffs of two runs.
//! - [`survey_html`] and [`survey_export`]: a survey of many sites as one HTML
//!   page, and its tables (sites, runs, events, findings) as CSV, JSON Lines
//!   or Parquet.

pub mod bundle;
pub mod csv_out;
pub mod explain;
pub mod fixes;
pub mod gate;
pub mod har;
pub mod html;
pub mod jsonl;
pub mod offmeta;
pub mod redact;
pub mod results;
pub mod sarif;
pub mod story;
pub mod survey_export;
pub mod survey_html;
mod time;

pub use html::clip;
pub use results::{InputSummary, Results, Summary};
pub use survey_export::{ExportFormat, write_exports};
pub use survey_html::{SurveyHtmlOptions, render_survey_html};

/// Everything that can go wrong producing or checking a report.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{what}: not valid JSON: {source}")]
    Json {
        what: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("{what}: {message}")]
    Invalid { what: String, message: String },
    #[error("HTML template: {0}")]
    Template(#[from] minijinja::Error),
    #[error("CSV: {0}")]
    Csv(#[from] csv::Error),
    #[error("{what}: Parquet: {source}")]
    Parquet {
        what: String,
        #[source]
        source: parquet::errors::ParquetError,
    },
    #[error("signing key {what}: {message}")]
    Key { what: String, message: String },
}

impl Error {
    pub(crate) fn io(what: impl Into<String>, source: std::io::Error) -> Error {
        Error::Io {
            what: what.into(),
            source,
        }
    }

    pub(crate) fn invalid(what: impl Into<String>, message: impl Into<String>) -> Error {
        Error::Invalid {
            what: what.into(),
            message: message.into(),
        }
    }
}
