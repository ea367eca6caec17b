//! What the `leakscope gateway` and `leakscope audit` subcommands do, so
//! the CLI stays a thin layer of argument parsing.

use std::net::SocketAddr;
use std::path::Path;

use serde_json::{Value, json};

use crate::audit::{AuditFilter, AuditRecord, VerifyReport};
use crate::config::GatewayConfig;
use crate::store::{Store, StoreError};
use crate::{GatewayError, compile_policy, open_store};

/// Loads the configuration (or the defaults) and applies command-line overrides.
pub fn load_config(
    path: Option<&Path>,
    upstream: Option<&str>,
    listen: Option<SocketAddr>,
) -> Result<GatewayConfig, GatewayError> {
    let mut cfg = match path {
        Some(p) => GatewayConfig::from_file(p)?,
        None => GatewayConfig::default(),
    };
    if let Some(u) = upstream {
        cfg.upstream.base_url = u.trim_end_matches('/').to_owned();
    }
    if let Some(l) = listen {
        cfg.listen = l;
    }
    cfg.validate(path.unwrap_or(Path::new("<command line>")))?;
    Ok(cfg)
}

/// `leakscope gateway check`: the configuration and its policy compile.
/// Returns a short summary.
pub fn check(cfg: &GatewayConfig) -> Result<String, GatewayError> {
    compile_policy(cfg)?;
    let token = if !cfg.upstream.resolve_token().is_empty() {
        "token set".to_owned()
    } else if cfg.upstream.is_loopback() {
        "no token; none needed on this machine".to_owned()
    } else {
        format!(
            "token not set: Meta will refuse deliveries; set upstream.access_token or ${}",
            cfg.upstream.access_token_env
        )
    };
    Ok(format!(
        "configuration OK\n  listen: {}\n  upstream: {}/{} ({token})\n  store: {}\n  keys: {}\n  pixels with their own policy: {}\n",
        cfg.listen,
        cfg.upstream.base_url,
        cfg.upstream.version,
        cfg.store_description(),
        cfg.keys.len(),
        cfg.policy.pixels.len(),
    ))
}

/// `leakscope gateway check --dry-run EVENT.json` (also `leakscope gateway
/// --dry-run EVENT.json`): the decision for each event of a file holding one
/// event, an array of events, or a request body `{"data": [...]}`, made
/// exactly as the running gateway makes it: consent lifted from
/// `custom_data`, and the consent records the site posted looked up in the
/// configured store (when it exists; nothing is written to it).
pub async fn dry_run(
    cfg: &GatewayConfig,
    pixel_id: &str,
    text: &str,
) -> Result<Value, GatewayError> {
    let policy = compile_policy(cfg)?;
    let v: Value = serde_json::from_str(text)
        .map_err(|e| GatewayError::Unsafe(format!("the event file is not JSON: {e}")))?;
    let mut events = match v {
        Value::Array(a) => a,
        Value::Object(ref m) if m.contains_key("data") => match m.get("data") {
            Some(Value::Array(a)) => a.clone(),
            _ => {
                return Err(GatewayError::Unsafe(
                    "data must be an array of events".into(),
                ));
            }
        },
        Value::Object(_) => vec![v],
        _ => {
            return Err(GatewayError::Unsafe(
                "expected an event object, an array, or {\"data\": [...]}".into(),
            ));
        }
    };
    for ev in &mut events {
        crate::server::lift_consent(ev);
    }
    let lookups: Vec<Vec<String>> = events
        .iter()
        .map(crate::server::record_lookup_keys)
        .collect();
    let has_store = cfg.store.postgres.is_some() || cfg.store.sqlite.exists();
    let stored = if has_store && lookups.iter().any(|k| !k.is_empty()) {
        open_side_store(cfg).await?.consent_many(lookups).await?
    } else {
        vec![None; events.len()]
    };
    let decisions: Vec<Value> = events
        .iter()
        .zip(stored)
        .enumerate()
        .map(|(i, (e, rec))| {
            let valid = crate::policy::validate_event(e)
                .err()
                .map(|x| x.to_string());
            let rec = rec.as_deref().and_then(crate::server::consent_record);
            let d = policy.evaluate(pixel_id, e, rec.as_ref());
            json!({
                "index": i,
                "invalid": valid,
                "consent_record": rec.map(|r| json!({"advertising": r.advertising, "at": r.at, "source": r.source})),
                "decision": d,
            })
        })
        .collect();
    Ok(json!({
        "pixel_id": pixel_id,
        "consent_records_from": if has_store { cfg.store_description() } else { "none (no store yet)".to_owned() },
        "events": decisions,
    }))
}

/// `leakscope gateway replay`: dead letters back to the queue.
pub async fn replay(cfg: &GatewayConfig, pixel: Option<String>) -> Result<u64, GatewayError> {
    let store = open_side_store(cfg).await?;
    Ok(store.replay(pixel).await?)
}

/// `leakscope audit verify`.
pub async fn audit_verify(cfg: &GatewayConfig) -> Result<VerifyReport, GatewayError> {
    let store = open_side_store(cfg).await?;
    Ok(store.audit_verify().await?)
}

/// `leakscope audit show`.
pub async fn audit_show(
    cfg: &GatewayConfig,
    filter: AuditFilter,
    limit: usize,
) -> Result<Vec<AuditRecord>, GatewayError> {
    let store = open_side_store(cfg).await?;
    Ok(store.audit_records(filter, limit).await?)
}

/// Opens the store beside a possibly running gateway: SQLite leases are
/// left alone (they may belong to the running process).
async fn open_side_store(cfg: &GatewayConfig) -> Result<Store, GatewayError> {
    match &cfg.store.postgres {
        Some(_) => open_store(cfg).await,
        None => {
            if !cfg.store.sqlite.exists() {
                return Err(GatewayError::Store(StoreError::Corrupt(format!(
                    "{} does not exist (store.sqlite in the configuration)",
                    cfg.store.sqlite.display()
                ))));
            }
            Ok(Store::Sqlite(std::sync::Arc::new(
                crate::store::sqlite::SqliteStore::open(
                    &cfg.store.sqlite,
                    cfg.store.synchronous,
                    false,
                )?,
            )))
        }
    }
}
