//! A survey worker: one browser, a few sites at once, each leased from the
//! database, scanned within its time budget, and stored with the end of its
//! lease. Any number of workers (processes, machines) can share a database.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use leakscope_core::survey::{SiteRow, SiteStatus};
use leakscope_scan::{NoProgress, ScanOptions, Session};

use crate::SurveyError;
use crate::queue::{self, Counts, Lease, Outcome};
use crate::store::Store;

/// How a worker scans and when it gives up on a site.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    pub survey: String,
    /// The scan every site gets (`urls`, `out_dir` and `site_categories`
    /// are set per site).
    pub scan: ScanOptions,
    /// Evidence root: each site's folder is `sites/<id>-<domain>` under it.
    /// `None` keeps no evidence (rows only).
    pub out_dir: Option<PathBuf>,
    /// Sites scanned at once.
    pub parallel: usize,
    /// Attempts per site for transient failures (timeout, crash, refused,
    /// budget), the first included.
    pub max_attempts: u32,
    /// Wait before the first retry; doubled for each further one.
    pub backoff: Duration,
    /// Wall-clock limit for one site, every run included.
    pub site_budget: Duration,
    /// A lease not renewed for this long returns the site to the queue.
    pub lease_ttl: Duration,
    /// Write each site's HTML report beside its evidence.
    pub site_reports: bool,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        WorkerOptions {
            survey: String::new(),
            scan: ScanOptions::default(),
            out_dir: None,
            parallel: 2,
            max_attempts: 3,
            backoff: Duration::from_secs(30),
            site_budget: Duration::from_secs(120),
            lease_ttl: Duration::from_secs(60),
            site_reports: true,
        }
    }
}

/// Progress of the whole survey (every worker), for a progress bar.
pub trait SurveyProgress: Send {
    /// Counts, about once a second and after every site.
    fn counts(&mut self, _c: &Counts) {}
    /// A site this worker finished (any final status).
    fn site(&mut self, _site: &SiteRow) {}
    /// A transient failure sent back to the queue.
    fn retry(&mut self, _url: &str, _kind: &str, _attempt: u32) {}
}

pub struct NoSurveyProgress;
impl SurveyProgress for NoSurveyProgress {}

/// What this worker did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WorkSummary {
    pub finished: u64,
    pub retried: u64,
    /// Results dropped because the lease was lost (another worker has the site).
    pub lost: u64,
    /// Stopped by the caller before the queue was empty.
    pub interrupted: bool,
}

/// Works on the survey until no site is left (or `stop` resolves: the
/// leases held are given back). Errors only when the database fails or
/// the browser cannot be started at all.
pub async fn work(
    store: &Store,
    opts: &WorkerOptions,
    progress: &mut dyn SurveyProgress,
    stop: impl std::future::Future<Output = ()>,
) -> Result<WorkSummary, SurveyError> {
    let owner = queue::worker_id();
    let freed = queue::reclaim_local(store, &opts.survey).await?;
    if freed > 0 {
        tracing::info!(
            "{freed} site(s) left running by a stopped worker on this machine: back in the queue"
        );
    }
    let session = Session::start(opts.scan.chrome.clone(), opts.scan.chrome_args.clone())
        .await
        .map_err(|e| SurveyError::Browser(e.to_string()))?;
    let browser = session.browser_info();
    queue::set_browser(store, &opts.survey, &browser.product).await?;
    let parallel = opts.parallel.max(1);
    // Each site is its own task: the analysis and report of one site use
    // the other core while the next site's page loads, and the heartbeat
    // below never waits behind them.
    let session = Arc::new(session);
    let shared = Arc::new(opts.clone());
    let mut summary = WorkSummary::default();
    let mut inflight = FuturesUnordered::new();
    let mut aborts: Vec<tokio::task::AbortHandle> = Vec::new();
    let mut heartbeat = tokio::time::interval(opts.lease_ttl / 3);
    heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tokio::pin!(stop);
    loop {
        if inflight.len() < parallel {
            let leases = queue::lease(
                store,
                &opts.survey,
                &owner,
                parallel - inflight.len(),
                opts.lease_ttl,
                opts.max_attempts,
            )
            .await?;
            for lease in leases {
                tracing::debug!(
                    "leased site {} ({}), attempt {}",
                    lease.site_id,
                    lease.url,
                    lease.attempt
                );
                let (session, o, w, l) = (
                    session.clone(),
                    shared.clone(),
                    owner.clone(),
                    lease.clone(),
                );
                let task = tokio::spawn(async move { scan_site(&session, &o, l, w).await });
                aborts.push(task.abort_handle());
                let backoff = opts.backoff;
                inflight.push(async move {
                    match task.await {
                        Ok(done) => done,
                        // A panic in a scan is our bug: the site is retried
                        // (and ends as an error after its attempts).
                        Err(e) => (
                            lease,
                            Outcome::Retry {
                                kind: "scanner".into(),
                                message: format!("the scan stopped: {e}"),
                                retry_after: backoff,
                            },
                        ),
                    }
                });
            }
        }
        if inflight.is_empty() {
            let c = queue::counts(store, &opts.survey).await?;
            progress.counts(&c);
            // Done when every site is final. Otherwise the rest is held by
            // other workers (whose leases expire if they died) or waits out
            // a backoff: keep polling, so no site is left behind.
            if c.left() == 0 {
                break;
            }
        }
        tokio::select! {
            // A stop wins over a scan that ended at the same moment (Ctrl-C
            // on a terminal reaches Chromium too, and its crash is no
            // verdict on the site).
            biased;
            _ = &mut stop => {
                summary.interrupted = true;
                for a in &aborts {
                    a.abort();
                }
                drop(std::mem::take(&mut inflight));
                queue::release(store, &opts.survey, &owner).await?;
                break;
            }
            Some((lease, outcome)) = inflight.next(), if !inflight.is_empty() => {
                aborts.retain(|a| !a.is_finished());
                let stored = queue::complete(store, &opts.survey, &lease, &outcome).await?;
                progress.counts(&queue::counts(store, &opts.survey).await?);
                match stored {
                    false => {
                        summary.lost += 1;
                        tracing::warn!("site {} ({}): lease lost while scanning; another worker has it, this result is dropped", lease.site_id, lease.url);
                    }
                    true => match &outcome {
                        Outcome::Final { site, .. } => {
                            summary.finished += 1;
                            progress.site(site);
                        }
                        Outcome::Retry { kind, .. } => {
                            summary.retried += 1;
                            progress.retry(&lease.url, kind, lease.attempt);
                        }
                    },
                }
            }
            _ = heartbeat.tick() => {
                queue::heartbeat(store, &opts.survey, &owner, opts.lease_ttl).await?;
            }
            _ = tick.tick() => {
                progress.counts(&queue::counts(store, &opts.survey).await?);
            }
        }
    }
    drop(inflight);
    match Arc::try_unwrap(session) {
        Ok(s) => s.close().await,
        // Aborted scans still hold it: dropping it kills Chromium.
        Err(s) => drop(s),
    }
    Ok(summary)
}

/// Failure kinds worth another attempt: the site or the browser may do
/// better next time. DNS, TLS, HTTP errors and redirect loops will not.
fn transient(kind: &str) -> bool {
    matches!(
        kind,
        "timeout" | "connection" | "refused" | "crash" | "budget" | "scanner" | "other"
    )
}

/// Scans one leased site; never fails (trouble is the outcome).
async fn scan_site(
    session: &Session,
    opts: &WorkerOptions,
    lease: Lease,
    worker: String,
) -> (Lease, Outcome) {
    let started = Instant::now();
    let started_at = leakscope_core::time::rfc3339_millis(queue::now_ms());
    let mut so = opts.scan.clone();
    so.urls = vec![lease.url.clone()];
    so.parallel = so.consent.len().max(1);
    let folder = format!("{:05}-{}", lease.site_id, safe_name(&lease.domain));
    let evidence_rel = format!("sites/{folder}");
    so.out_dir = opts.out_dir.as_ref().map(|d| d.join(&evidence_rel));
    if let Some(cat) = lease
        .category
        .as_deref()
        .and_then(leakscope_detect::SiteCategory::parse)
    {
        so.site_categories.push((lease.domain.clone(), cat));
    }
    let retry_after = opts.backoff * 2u32.saturating_pow(lease.attempt.saturating_sub(1));
    let last_attempt = lease.attempt >= opts.max_attempts;
    let fail = |kind: &str, message: String| -> Outcome {
        if !last_attempt && transient(kind) {
            Outcome::Retry {
                kind: kind.into(),
                message,
                retry_after,
            }
        } else {
            Outcome::Final {
                site: Box::new(SiteRow {
                    id: lease.site_id,
                    status: Some(if kind == "scanner" {
                        SiteStatus::Error
                    } else {
                        SiteStatus::Unreachable
                    }),
                    failure_kind: Some(kind.into()),
                    failure_message: Some(message),
                    ..finished_row(&lease, &worker, &started_at, started)
                }),
                runs: Vec::new(),
                events: Vec::new(),
                findings: Vec::new(),
            }
        }
    };
    let scanned = tokio::time::timeout(opts.site_budget, session.scan(&so, &mut NoProgress)).await;
    let out = match scanned {
        Err(_) => {
            return (
                lease.clone(),
                fail(
                    "budget",
                    format!(
                        "the scan took longer than its budget of {} s",
                        opts.site_budget.as_secs()
                    ),
                ),
            );
        }
        Ok(Err(e)) => return (lease.clone(), fail("scanner", e.to_string())),
        Ok(Ok(out)) => out,
    };
    let (mut site, runs, events, findings) =
        crate::rows::of_scan(&out, lease.site_id, &lease.domain);
    if site.status == Some(SiteStatus::Unreachable) {
        let kind = site
            .failure_kind
            .clone()
            .unwrap_or_else(|| "connection".into());
        let message = site.failure_message.clone().unwrap_or_default();
        if !last_attempt && transient(&kind) {
            return (lease.clone(), fail(&kind, message));
        }
    }
    if opts.site_reports
        && let Some(dir) = &so.out_dir
    {
        let html = leakscope_report::html::render(
            &out.results(),
            &leakscope_report::html::Assets {
                base: Some(dir.clone()),
                ..Default::default()
            },
        );
        match html {
            Ok(h) => {
                if let Err(e) = std::fs::write(dir.join("report.html"), h) {
                    tracing::warn!("{}: report not written: {e}", dir.display());
                }
            }
            Err(e) => tracing::warn!("{}: report not rendered: {e}", lease.url),
        }
    }
    let base = finished_row(&lease, &worker, &started_at, started);
    site.url = base.url.clone();
    site.domain = base.domain.clone();
    site.attempts = base.attempts;
    site.started = base.started.clone();
    site.finished = base.finished.clone();
    site.duration_ms = base.duration_ms;
    site.worker = base.worker.clone();
    site.evidence = so.out_dir.as_ref().map(|_| evidence_rel);
    (
        lease,
        Outcome::Final {
            site: Box::new(site),
            runs,
            events,
            findings,
        },
    )
}

fn finished_row(lease: &Lease, worker: &str, started_at: &str, started: Instant) -> SiteRow {
    SiteRow {
        id: lease.site_id,
        url: lease.url.clone(),
        domain: lease.domain.clone(),
        attempts: lease.attempt,
        started: Some(started_at.to_owned()),
        finished: Some(leakscope_core::time::rfc3339_millis(queue::now_ms())),
        duration_ms: Some(started.elapsed().as_millis() as u64),
        worker: Some(worker.to_owned()),
        ..SiteRow::default()
    }
}

/// A domain as a folder name: letters, digits, dots and dashes only.
fn safe_name(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(80)
        .collect()
}
