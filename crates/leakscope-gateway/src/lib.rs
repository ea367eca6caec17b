//! leakscope-gateway: a fail-closed privacy firewall between a site's
//! servers and Meta's Conversions API.
//!
//! A thin async shell (axum, tokio) around the pure policy
//! (leakscope-policy): Graph-API-compatible ingress (`server`), a durable
//! queue with dedup and consent records (`store`), retrying batched delivery
//! (`delivery`), a hash-chained audit log (`audit`), Prometheus metrics and
//! a mock Graph API for tests (`mock`). See docs/gateway.md.

pub mod audit;
pub mod config;
pub mod delivery;
pub mod graph;
pub mod ingress;
pub mod metrics;
pub mod mock;
pub mod ops;
pub mod policy;
pub mod server;
pub mod store;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

/// Dedup pruning runs at start and then every this many 2-second upkeep
/// ticks (10 minutes): the window is hours, so finer pruning buys nothing.
const PRUNE_EVERY_TICKS: u64 = 300;

pub use config::GatewayConfig;
pub use server::{AppState, app};
pub use store::Store;

/// Gateway start-up and run errors.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// Configuration.
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    /// The policy did not compile.
    #[error("policy: {0}")]
    Policy(String),
    /// The store did not open.
    #[error("store: {0}")]
    Store(#[from] store::StoreError),
    /// Listening or serving failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// A refusal to start in an unsafe setup.
    #[error("{0}")]
    Unsafe(String),
    /// The HTTP client did not build.
    #[error("http client: {0}")]
    Client(#[from] reqwest::Error),
}

/// Opens the configured store.
pub async fn open_store(cfg: &GatewayConfig) -> Result<Store, GatewayError> {
    match &cfg.store.postgres {
        Some(url) => Ok(Store::Postgres(Arc::new(
            store::postgres::PgStore::connect(url).await?,
        ))),
        None => Ok(Store::Sqlite(Arc::new(store::sqlite::SqliteStore::open(
            &cfg.store.sqlite,
            cfg.store.synchronous,
            true,
        )?))),
    }
}

/// Compiles the configured policy.
pub fn compile_policy(cfg: &GatewayConfig) -> Result<policy::Policy, GatewayError> {
    policy::Policy::compile(cfg.policy.clone()).map_err(|e| GatewayError::Policy(e.to_string()))
}

/// Runs the gateway on `listener` until `shutdown` resolves: then it stops
/// accepting, answers the requests in flight (their events are already
/// durable), lets the delivery workers finish their batches (bounded by
/// `delivery.drain_timeout_ms`) and returns. Nothing accepted is lost: what
/// was not delivered stays queued for the next start.
pub async fn serve(
    cfg: GatewayConfig,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), GatewayError> {
    let local = listener.local_addr()?;
    if cfg.keys.is_empty() && !local.ip().is_loopback() {
        return Err(GatewayError::Unsafe(format!(
            "no [[keys]] configured: refusing to listen on {local}, which is not loopback \
             (anyone could post events). Add a key (leakscope gateway hash-key) or listen on 127.0.0.1"
        )));
    }
    let token = cfg.upstream.resolve_token();
    if token.is_empty() && !cfg.upstream.is_loopback() {
        tracing::warn!(
            env = %cfg.upstream.access_token_env,
            "no upstream access token configured: Meta will refuse deliveries (they stay queued)"
        );
    }
    let policy = compile_policy(&cfg)?;
    let store = open_store(&cfg).await?;
    let state = AppState::new(cfg.clone(), policy, store.clone());
    let deliverer = delivery::Deliverer::new(
        cfg.delivery.clone(),
        cfg.upstream.clone(),
        token,
        store.clone(),
        state.metrics(),
        state.queued_notify(),
    )?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let workers = tokio::spawn(deliverer.run(stop_rx.clone()));
    // Upkeep: several instances may share a PostgreSQL queue, so recount now
    // and then; and forget dedup keys older than Meta's own dedup window.
    let depth_store = store.clone();
    let mut depth_stop = stop_rx.clone();
    let window_ms =
        i64::try_from(cfg.store.dedup_window_hours.saturating_mul(3_600_000)).unwrap_or(i64::MAX);
    let depth_task = tokio::spawn(async move {
        let mut tick = 0u64;
        loop {
            if tick.is_multiple_of(PRUNE_EVERY_TICKS) {
                match depth_store
                    .prune_dedup(store::now_ms().saturating_sub(window_ms))
                    .await
                {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(pruned = n, "dedup keys past the window removed"),
                    Err(e) => tracing::warn!(error = %e, "dedup pruning failed; retried later"),
                }
            }
            tick += 1;
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(2)) => {
                    let _ = depth_store.refresh_depth().await;
                }
                _ = depth_stop.changed() => return,
            }
        }
    });
    // The first thing a new user needs: where to send events, and where
    // the queue and audit log live.
    let store_desc = cfg.store_description();
    tracing::info!(
        "listening on http://{local}, store: {store_desc}, upstream: {}/{}",
        cfg.upstream.base_url,
        cfg.upstream.version,
    );
    axum::serve(listener, app(state))
        .with_graceful_shutdown(shutdown)
        .await?;
    tracing::info!("stopped accepting; draining deliveries");
    let _ = stop_tx.send(true);
    let drain = Duration::from_millis(cfg.delivery.drain_timeout_ms);
    if tokio::time::timeout(drain, workers).await.is_err() {
        tracing::warn!(
            "deliveries still in flight after the drain timeout: they stay queued and are retried on the next start"
        );
    }
    let _ = depth_task.await;
    if let Store::Sqlite(s) = &store {
        s.close();
    }
    tracing::info!("gateway stopped");
    Ok(())
}

/// Resolves on SIGTERM or SIGINT.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
