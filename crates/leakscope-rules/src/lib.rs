//! What stops each leak a scan proved, for each audience, and the checks
//! that the answer is right.
//!
//! - [`plan`] turns findings (and, when given, every request the capture
//!   saw) into a [`FixPlan`]: filter rules in uBlock Origin / AdGuard /
//!   Adblock Plus syntax scoped to the leaking site, parameter-removing
//!   alternatives proved by re-running the detector, a hosts file, a
//!   Content-Security-Policy that keeps the site's own traffic, tag-level
//!   fixes per vendor (`data/fixes.toml`) and gateway policy lines for
//!   server-side leaks.
//! - Every filter rule is parsed, compiled and matched by Brave's `adblock`
//!   engine ([`Blocker`]); the plan replays the rules against the requests
//!   they came from ([`Check`]): each leaking request blocked, no request to
//!   the site's own origin touched. There is no filter parser or matcher of
//!   our own.
//! - [`BlockList`] is what `scan --block` applies in Chromium: a filter list
//!   or a CSP.
//! - [`health_trackers_list`] is the published list: the event endpoints of
//!   the vendor database, not whole hosts.
//!
//! Pure: no I/O, no async. Files are written by the CLI with
//! `leakscope-report`'s renderers.

mod csp;
mod filters;
mod gentle;
mod list;
mod plan;
mod tags;

pub use csp::{Csp, SEND_DIRECTIVES};
pub use filters::{BlockList, Blocker, Query, Verdict, resource_type};
pub use list::health_trackers_list;
pub use plan::{
    Check, FixPlan, GatewayFix, HostRule, Miss, Rule, RuleKind, TagFixUse, Unanswered, plan,
};
pub use tags::{TagFix, TagFixDb};

/// Errors name the list, the line and what was wrong with it.
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    #[error("{list}:{line}: {rule:?} is not a rule the adblock engine accepts: {message}")]
    Rule {
        list: String,
        line: usize,
        rule: String,
        message: String,
    },
    #[error(
        "{list}: no blocking rule in it (a filter list in uBlock Origin / Adblock Plus syntax, a hosts file, or a `Content-Security-Policy: …` line)"
    )]
    Empty { list: String },
    #[error("{list}:{line}: {message}")]
    Csp {
        list: String,
        line: usize,
        message: String,
    },
    #[error("data/fixes.toml: {0}")]
    FixDb(String),
}
