//! Delivery workers: lease a batch (≤ 1,000 events of one pixel), send it,
//! and record the outcome in one transaction. Retries use exponential
//! backoff with jitter; a batch Meta rejects as invalid is split in halves
//! until the bad events are isolated and dead-lettered alone.
//!
//! Exactly-once window: an event is deleted from the queue (and its
//! `delivered` record written) in the transaction that follows the
//! upstream 2xx. If the process dies between that 2xx and the commit, the
//! lease expires and the event is sent again: at-least-once, with Meta's own
//! dedup on `event_id` + `event_name` (48 h) collapsing the repeat.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::Rng;
use tokio::sync::{Notify, watch};

use crate::config::{DeliveryConfig, Secret, UpstreamConfig};
use crate::graph::{UpstreamOutcome, classify};
use crate::metrics::Metrics;
use crate::store::{Leased, RetryAt, Store, now_ms};

/// Sends queued events upstream.
#[derive(Clone)]
pub struct Deliverer {
    inner: Arc<DInner>,
}

struct DInner {
    client: reqwest::Client,
    cfg: DeliveryConfig,
    upstream: UpstreamConfig,
    token: Secret,
    store: Store,
    metrics: Arc<Metrics>,
    wake: Arc<Notify>,
    paused_until: Mutex<Option<Instant>>,
}

impl Deliverer {
    /// A deliverer for `store`, sending to `upstream` with `token`.
    pub fn new(
        cfg: DeliveryConfig,
        upstream: UpstreamConfig,
        token: Secret,
        store: Store,
        metrics: Arc<Metrics>,
        wake: Arc<Notify>,
    ) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_millis(upstream.timeout_ms))
            .connect_timeout(Duration::from_millis(upstream.timeout_ms.min(5000)))
            .pool_max_idle_per_host(cfg.workers * 2)
            // Never follow redirects with a token in the body.
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self {
            inner: Arc::new(DInner {
                client,
                cfg,
                upstream,
                token,
                store,
                metrics,
                wake,
                paused_until: Mutex::new(None),
            }),
        })
    }

    /// Runs the workers until `shutdown` turns true; each finishes the batch
    /// it holds before returning.
    pub async fn run(self, shutdown: watch::Receiver<bool>) {
        let mut tasks = Vec::new();
        for _ in 0..self.inner.cfg.workers {
            let me = self.clone();
            let sd = shutdown.clone();
            tasks.push(tokio::spawn(async move { me.worker(sd).await }));
        }
        for t in tasks {
            let _ = t.await;
        }
    }

    async fn worker(self, mut shutdown: watch::Receiver<bool>) {
        let i = &self.inner;
        loop {
            if *shutdown.borrow() {
                return;
            }
            let pause = i
                .paused_until
                .lock()
                .ok()
                .and_then(|g| *g)
                .and_then(|t| t.checked_duration_since(Instant::now()));
            if let Some(p) = pause {
                tokio::select! {
                    _ = tokio::time::sleep(p) => {}
                    _ = shutdown.changed() => {}
                }
                continue;
            }
            let rows = match i.store.lease(i.cfg.batch_size, i.cfg.lease_ms as i64).await {
                Ok(r) => r,
                Err(e) => {
                    tracing::warn!(error = %e, "lease failed; retrying");
                    tokio::time::sleep(Duration::from_millis(i.cfg.poll_ms.max(100))).await;
                    continue;
                }
            };
            if rows.is_empty() {
                let notified = i.wake.notified();
                tokio::select! {
                    _ = notified => {}
                    _ = tokio::time::sleep(Duration::from_millis(i.cfg.poll_ms)) => {}
                    _ = shutdown.changed() => {}
                }
                continue;
            }
            self.deliver(rows).await;
        }
    }

    fn deliver(&self, rows: Vec<Leased>) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(async move {
            let i = &self.inner;
            let outcome = self.send(&rows).await;
            match outcome {
                UpstreamOutcome::Delivered { fbtrace_id } => {
                    i.metrics.delivered.inc_by(rows.len() as u64);
                    i.metrics.batch_size.observe(rows.len() as f64);
                    self.record(i.store.delivered(&rows, fbtrace_id).await, "delivered");
                }
                UpstreamOutcome::Invalid { reason } if rows.len() > 1 => {
                    // Meta rejects a whole batch for one bad event: split to find it.
                    tracing::info!(events = rows.len(), %reason, "batch rejected as invalid; splitting");
                    let mut a = rows;
                    let b = a.split_off(a.len() / 2);
                    self.deliver(a).await;
                    self.deliver(b).await;
                }
                UpstreamOutcome::Invalid { reason } => {
                    i.metrics.dead_lettered.inc_by(rows.len() as u64);
                    tracing::warn!(event_id = ?rows[0].event_id, %reason, "event rejected by upstream: dead-lettered");
                    self.record(i.store.dead_letter(&rows, &reason).await, "dead_letter");
                }
                UpstreamOutcome::Retry { reason, throttled } => {
                    let class = if throttled { "throttled" } else { "transient" };
                    let (dead, retry): (Vec<Leased>, Vec<Leased>) = rows
                        .into_iter()
                        .partition(|r| r.attempts + 1 >= i.cfg.max_attempts);
                    if !dead.is_empty() {
                        i.metrics.dead_lettered.inc_by(dead.len() as u64);
                        let why =
                            format!("gave up after {} attempts: {reason}", i.cfg.max_attempts);
                        self.record(i.store.dead_letter(&dead, &why).await, "dead_letter");
                    }
                    if retry.is_empty() {
                        return;
                    }
                    i.metrics
                        .retried
                        .get_or_create(&Metrics::reason(class))
                        .inc_by(retry.len() as u64);
                    let now = now_ms();
                    let delay = self.backoff(retry[0].attempts);
                    if throttled && let Ok(mut g) = i.paused_until.lock() {
                        *g = Some(Instant::now() + delay);
                    }
                    let at = retry
                        .iter()
                        .map(|r| RetryAt {
                            id: r.id,
                            next_at_ms: now + self.backoff(r.attempts).as_millis() as i64,
                        })
                        .collect();
                    tracing::info!(events = retry.len(), %reason, delay_ms = delay.as_millis() as u64, "upstream failed; will retry");
                    self.record(i.store.retry(&retry, at, &reason).await, "retry");
                }
            }
        })
    }

    fn record(&self, r: Result<(), crate::store::StoreError>, what: &str) {
        if let Err(e) = r {
            // The lease expires and the rows are tried again: at-least-once.
            tracing::error!(error = %e, what, "could not record a delivery outcome");
        }
    }

    /// Exponential backoff with jitter: a random delay in [d/2, d] where
    /// d = initial × 2^attempts, capped.
    pub fn backoff(&self, attempts: u32) -> Duration {
        backoff(&self.inner.cfg, attempts)
    }

    async fn send(&self, rows: &[Leased]) -> UpstreamOutcome {
        let i = &self.inner;
        let url = format!(
            "{}/{}/{}/events",
            i.upstream.base_url.trim_end_matches('/'),
            i.upstream.version,
            rows[0].pixel_id
        );
        // The events are stored as JSON text: splice them, no re-encoding.
        let mut body =
            String::with_capacity(rows.iter().map(|r| r.event.len() + 1).sum::<usize>() + 128);
        body.push_str("{\"data\":[");
        for (n, r) in rows.iter().enumerate() {
            if n > 0 {
                body.push(',');
            }
            body.push_str(&r.event);
        }
        body.push(']');
        if !rows[0].test_event_code.is_empty() {
            body.push_str(",\"test_event_code\":");
            body.push_str(&serde_json::Value::String(rows[0].test_event_code.clone()).to_string());
        }
        // The token rides in the body, never the URL, so no URL in a log or
        // an error message can carry it.
        body.push_str(",\"access_token\":");
        body.push_str(&serde_json::Value::String(i.token.expose().to_owned()).to_string());
        body.push('}');
        let start = Instant::now();
        let res = i
            .client
            .post(&url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await;
        let out = match res {
            Ok(resp) => {
                let status = resp.status().as_u16();
                match resp.bytes().await {
                    Ok(b) => classify(status, &b),
                    Err(e) => UpstreamOutcome::Retry {
                        reason: format!("HTTP {status}, body unreadable: {}", error_class(&e)),
                        throttled: false,
                    },
                }
            }
            Err(e) => UpstreamOutcome::Retry {
                reason: error_class(&e),
                throttled: false,
            },
        };
        i.metrics
            .upstream_seconds
            .observe(start.elapsed().as_secs_f64());
        out
    }
}

/// Backoff for the `attempts`-th retry.
pub fn backoff(cfg: &DeliveryConfig, attempts: u32) -> Duration {
    let base = cfg
        .initial_backoff_ms
        .saturating_mul(1u64 << attempts.min(20))
        .min(cfg.max_backoff_ms)
        .max(1);
    let ms = rand::thread_rng().gen_range(base / 2..=base);
    Duration::from_millis(ms)
}

/// A reqwest error without its URL (ours never holds a secret, but the
/// message needs no more than the class).
fn error_class(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "upstream timeout".into()
    } else if e.is_connect() {
        "upstream unreachable (connect failed)".into()
    } else if e.is_body() || e.is_decode() {
        "upstream response broken".into()
    } else {
        "upstream request failed".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_jitter_and_caps() {
        let cfg = DeliveryConfig {
            initial_backoff_ms: 100,
            max_backoff_ms: 1000,
            ..DeliveryConfig::default()
        };
        for _ in 0..50 {
            let d0 = backoff(&cfg, 0).as_millis();
            assert!((50..=100).contains(&d0), "{d0}");
            let d3 = backoff(&cfg, 3).as_millis();
            assert!((400..=800).contains(&d3), "{d3}");
            let d9 = backoff(&cfg, 9).as_millis();
            assert!((500..=1000).contains(&d9), "{d9}");
        }
    }
}
