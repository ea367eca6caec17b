//! leakscope-policy: the privacy gateway's policy engine. Pure: no I/O, no
//! async. The gateway compiles a [`Policy`] once from the `[policy]` section
//! of its TOML and calls [`Policy::evaluate`] for every incoming Conversions
//! API event; the [`Decision`] says whether to forward it and, if so, the
//! rewritten event, with every change listed (never a value).
//!
//! Rules, in order (docs/gateway-policy.md has the reference):
//! 1. consent, fail-closed: a positive advertising signal on the event
//!    (`leakscope_consent`, stripped before forwarding) or a stored
//!    [`ConsentRecord`]; otherwise blocked;
//! 2. per-event validation ([`validate_event`]);
//! 3. top-level fields Meta documents, and the `custom_data` allowlist;
//! 4. health detection on every forwarded value with the analysis engine's
//!    detector (`leakscope_detect::HealthMatcher`): block, redact the value,
//!    or generalise the page URL;
//! 5. identifiers hashed with Meta's normalisation, never twice; plain
//!    only where Meta requires it; forbidden plaintext blocks;
//! 6. optional Limited Data Use flags.

mod config;
mod decision;
mod engine;
mod ident;
mod validate;

pub use config::{
    ConfigError, ConsentRule, DEFAULT_CONTENTS_ALLOW, DEFAULT_CUSTOM_DATA_ALLOW, DestinationPolicy,
    HealthAction, HealthActions, Ldu, PageTypeRule, PolicyConfig, SECRET_KEYS, UrlMode,
};
pub use decision::{BlockReason, ConsentRecord, Decision, Redaction, RedactionAction, Verdict};
pub use engine::{CONSENT_FIELD, Policy, scalar_consent};
pub use ident::{
    HASHED_KEYS, PLAIN_KEYS, is_hashed, normalize as normalize_identifier, sha256_hex,
};
pub use leakscope_detect::HealthCategory;
pub use validate::{ACTION_SOURCES, Invalid, dedup_key, validate_event, validate_event_at};

/// Seconds since the Unix epoch (0 if the clock is before it).
pub(crate) fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests;
