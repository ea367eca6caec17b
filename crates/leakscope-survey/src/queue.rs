//! The survey's work queue, kept in the `sites` table: create a survey from
//! a list, lease sites (with an expiry a live worker keeps renewing),
//! store a finished site's results atomically with the end of its lease,
//! put transient failures back with backoff. A worker that dies simply
//! stops renewing; its sites return to the queue when the lease expires.
//! The database is the only meeting point between workers.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use leakscope_core::survey::{
    EventRow, FindingRow, RunRow, SiteRow, SiteStatus, SurveyData, SurveyMeta,
};

use crate::SurveyError;
use crate::list::SiteList;
use crate::store::{Store, Val};

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A site a worker holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Lease {
    pub site_id: i64,
    pub url: String,
    pub domain: String,
    pub category: Option<String>,
    /// This attempt's number, from 1.
    pub attempt: u32,
    pub token: String,
}

/// What a worker reports for a site it held.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Finished for good: the site row (status done, unreachable or error)
    /// and what was found.
    Final {
        site: Box<SiteRow>,
        runs: Vec<RunRow>,
        events: Vec<EventRow>,
        findings: Vec<FindingRow>,
    },
    /// A transient failure: back to the queue, not before `retry_after`.
    Retry {
        kind: String,
        message: String,
        retry_after: Duration,
    },
}

/// Counts for progress lines and `survey status`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Counts {
    pub total: u64,
    pub pending: u64,
    pub running: u64,
    pub done: u64,
    pub unreachable: u64,
    pub error: u64,
    /// Pending sites waiting out a backoff.
    pub waiting: u64,
    /// Sites finished in the last hour, by every worker.
    pub finished_last_hour: u64,
}

impl Counts {
    pub fn finished(&self) -> u64 {
        self.done + self.unreachable + self.error
    }
    pub fn left(&self) -> u64 {
        self.pending + self.running
    }
}

/// Creates the survey `name` from `list` unless it exists; returns whether
/// it was created. An existing survey keeps its sites and results (adding
/// the list again never scans a site twice).
pub async fn create(
    store: &Store,
    meta: &SurveyMeta,
    list: &SiteList,
) -> Result<bool, SurveyError> {
    let mut tx = store.begin().await?;
    let exists = !tx
        .query(
            "SELECT name FROM surveys WHERE name = $1",
            &[meta.name.as_str().into()],
        )
        .await?
        .is_empty();
    if exists {
        tx.rollback().await?;
        return Ok(false);
    }
    let settings = serde_json::to_string(&meta.settings).unwrap_or_default();
    let columns = serde_json::to_string(&meta.columns).unwrap_or_default();
    tx.exec(
        "INSERT INTO surveys (name, list, created, settings, list_columns, browser, tool_version) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            meta.name.as_str().into(),
            meta.list.as_str().into(),
            meta.created.as_str().into(),
            settings.into(),
            columns.into(),
            meta.browser.as_str().into(),
            meta.tool_version.as_str().into(),
        ],
    )
    .await?;
    for (i, site) in list.sites.iter().enumerate() {
        let id = i as i64 + 1;
        tx.exec(
            "INSERT INTO sites (survey, id, url, domain, category) VALUES ($1, $2, $3, $4, $5)",
            &[
                meta.name.as_str().into(),
                id.into(),
                site.url.as_str().into(),
                site.domain.as_str().into(),
                site.category.map(|c| c.as_str()).into(),
            ],
        )
        .await?;
        for (name, value) in &site.columns {
            tx.exec(
                "INSERT INTO site_columns (survey, site_id, name, value) VALUES ($1, $2, $3, $4)",
                &[
                    meta.name.as_str().into(),
                    id.into(),
                    name.as_str().into(),
                    value.as_str().into(),
                ],
            )
            .await?;
        }
    }
    tx.commit().await?;
    Ok(true)
}

/// The survey's metadata; `None` picks the most recently created one.
pub async fn meta(store: &Store, name: Option<&str>) -> Result<SurveyMeta, SurveyError> {
    let rows = match name {
        Some(n) => {
            store
                .query(
                    "SELECT name, list, created, settings, list_columns, browser, tool_version FROM surveys WHERE name = $1",
                    &[n.into()],
                )
                .await?
        }
        None => {
            store
                .query(
                    "SELECT name, list, created, settings, list_columns, browser, tool_version FROM surveys ORDER BY created DESC, name LIMIT 1",
                    &[],
                )
                .await?
        }
    };
    let Some(r) = rows.into_iter().next() else {
        return Err(SurveyError::NoSurvey {
            location: store.location.clone(),
            name: name.map(str::to_owned),
        });
    };
    Ok(SurveyMeta {
        name: r[0].str(),
        list: r[1].str(),
        created: r[2].str(),
        settings: serde_json::from_str(&r[3].str()).unwrap_or_default(),
        columns: serde_json::from_str(&r[4].str()).unwrap_or_default(),
        browser: r[5].str(),
        tool_version: r[6].str(),
    })
}

pub async fn set_browser(store: &Store, survey: &str, browser: &str) -> Result<(), SurveyError> {
    store
        .exec(
            "UPDATE surveys SET browser = $1 WHERE name = $2",
            &[browser.into(), survey.into()],
        )
        .await
        .map(|_| ())
}

/// Leases up to `n` sites: pending ones whose backoff is over, and running
/// ones whose lease expired (their worker died). Sites that already used
/// `max_attempts` are ended as errors instead of being leased again.
pub async fn lease(
    store: &Store,
    survey: &str,
    owner: &str,
    n: usize,
    ttl: Duration,
    max_attempts: u32,
) -> Result<Vec<Lease>, SurveyError> {
    let now = now_ms();
    let lock = if store.is_postgres {
        "FOR UPDATE SKIP LOCKED"
    } else {
        ""
    };
    let mut tx = store.begin().await?;
    // A site whose worker died on it again and again (it kills the browser,
    // or the machine): stop here rather than take down every worker.
    tx.exec(
        "UPDATE sites SET status = 'error', failure_kind = 'scanner', failure_message = 'the worker scanning it stopped every time (lease expired on each attempt)', lease_owner = NULL, lease_token = NULL, lease_until = NULL, finished = $1 WHERE survey = $2 AND status = 'running' AND lease_until < $3 AND attempts >= $4",
        &[
            leakscope_core::time::rfc3339_millis(now).into(),
            survey.into(),
            now.into(),
            i64::from(max_attempts).into(),
        ],
    )
    .await?;
    let candidates = tx
        .query(
            &format!(
                "SELECT id FROM sites WHERE survey = $1 AND ((status = 'pending' AND not_before <= $2) OR (status = 'running' AND lease_until < $2)) ORDER BY id LIMIT $3 {lock}"
            ),
            &[survey.into(), now.into(), (n as i64).into()],
        )
        .await?;
    let mut out = Vec::new();
    for c in candidates {
        let id = c[0].int();
        let token = format!("{:016x}", rand::random::<u64>());
        let rows = tx
            .query(
                "UPDATE sites SET status = 'running', lease_owner = $1, lease_token = $2, lease_until = $3, attempts = attempts + 1, started = $4 WHERE survey = $5 AND id = $6 RETURNING url, domain, category, attempts",
                &[
                    owner.into(),
                    token.as_str().into(),
                    (now + ttl.as_millis() as i64).into(),
                    leakscope_core::time::rfc3339_millis(now).into(),
                    survey.into(),
                    id.into(),
                ],
            )
            .await?;
        if let Some(r) = rows.into_iter().next() {
            out.push(Lease {
                site_id: id,
                url: r[0].str(),
                domain: r[1].str(),
                category: r[2].text(),
                attempt: r[3].int().max(1) as u32,
                token,
            });
        }
    }
    tx.commit().await?;
    Ok(out)
}

/// Extends every lease `owner` holds; returns how many it still holds.
pub async fn heartbeat(
    store: &Store,
    survey: &str,
    owner: &str,
    ttl: Duration,
) -> Result<u64, SurveyError> {
    store
        .exec(
            "UPDATE sites SET lease_until = $1 WHERE survey = $2 AND lease_owner = $3 AND status = 'running'",
            &[
                (now_ms() + ttl.as_millis() as i64).into(),
                survey.into(),
                owner.into(),
            ],
        )
        .await
}

/// Stores what became of a leased site. Returns false when the lease was
/// lost meanwhile (expired and taken by another worker): then nothing is
/// stored, so no site is ever finished twice.
pub async fn complete(
    store: &Store,
    survey: &str,
    lease: &Lease,
    outcome: &Outcome,
) -> Result<bool, SurveyError> {
    let mut tx = store.begin().await?;
    let now = now_ms();
    let held = match outcome {
        Outcome::Retry {
            kind,
            message,
            retry_after,
        } => {
            tx.exec(
                "UPDATE sites SET status = 'pending', not_before = $1, failure_kind = $2, failure_message = $3, lease_owner = NULL, lease_token = NULL, lease_until = NULL WHERE survey = $4 AND id = $5 AND lease_token = $6 AND status = 'running'",
                &[
                    (now + retry_after.as_millis() as i64).into(),
                    kind.as_str().into(),
                    message.as_str().into(),
                    survey.into(),
                    lease.site_id.into(),
                    lease.token.as_str().into(),
                ],
            )
            .await?
        }
        Outcome::Final {
            site,
            runs,
            events,
            findings,
        } => {
            let status = site.status.unwrap_or(SiteStatus::Error);
            let n = tx
                .exec(
                    "UPDATE sites SET status = $1, lease_owner = NULL, lease_token = NULL, lease_until = NULL, finished = $2, duration_ms = $3, worker = $4, evidence = $5, failure_kind = $6, failure_message = $7, requests = $8, vendors = $9, meta_pixel = $10, findings = $11, max_severity = $12, health_with_identity = $13, tracking_after_reject = $14, category = COALESCE(category, $15), completions = completions + 1 WHERE survey = $16 AND id = $17 AND lease_token = $18 AND status = 'running'",
                    &[
                        status.as_str().into(),
                        site.finished.clone().into(),
                        site.duration_ms.into(),
                        site.worker.clone().into(),
                        site.evidence.clone().into(),
                        site.failure_kind.clone().into(),
                        site.failure_message.clone().into(),
                        site.requests.into(),
                        site.vendors.join(";").into(),
                        site.meta_pixel.into(),
                        u64::from(site.findings).into(),
                        site.max_severity.clone().into(),
                        site.health_with_identity.into(),
                        site.tracking_after_reject.into(),
                        site.category.clone().into(),
                        survey.into(),
                        lease.site_id.into(),
                        lease.token.as_str().into(),
                    ],
                )
                .await?;
            if n == 1 {
                store_rows(&mut tx, survey, lease.site_id, runs, events, findings).await?;
            }
            n
        }
    };
    if held == 1 {
        tx.commit().await?;
        Ok(true)
    } else {
        tx.rollback().await?;
        Ok(false)
    }
}

async fn store_rows(
    tx: &mut crate::store::Tx<'_>,
    survey: &str,
    site_id: i64,
    runs: &[RunRow],
    events: &[EventRow],
    findings: &[FindingRow],
) -> Result<(), SurveyError> {
    // Rows of an earlier attempt cannot exist (results are written in the
    // transaction that ends the lease; `retry` deletes them): this is a
    // guard, not a path taken.
    for table in ["runs", "events", "findings", "finding_categories"] {
        tx.exec(
            &format!("DELETE FROM {table} WHERE survey = $1 AND site_id = $2"),
            &[survey.into(), site_id.into()],
        )
        .await?;
    }
    for r in runs {
        tx.exec(
            "INSERT INTO runs (survey, site_id, name, consent, status, failure_kind, failure_message, requests, consent_note) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            &[
                survey.into(),
                site_id.into(),
                r.name.as_str().into(),
                r.consent.as_str().into(),
                r.status.as_str().into(),
                r.failure_kind.clone().into(),
                r.failure_message.clone().into(),
                r.requests.into(),
                r.consent_note.clone().into(),
            ],
        )
        .await?;
    }
    for (seq, e) in events.iter().enumerate() {
        tx.exec(
            "INSERT INTO events (survey, site_id, seq, run, vendor, organisation, event, account_id, page_url, request_url, method, consent, identifiers) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
            &[
                survey.into(),
                site_id.into(),
                (seq as i64).into(),
                e.run.as_str().into(),
                e.vendor.as_str().into(),
                e.organisation.as_str().into(),
                e.event.as_str().into(),
                e.account_id.clone().into(),
                e.page_url.clone().into(),
                e.request_url.as_str().into(),
                e.method.as_str().into(),
                e.consent.clone().into(),
                e.identifiers.join(";").into(),
            ],
        )
        .await?;
    }
    for f in findings {
        tx.exec(
            "INSERT INTO findings (survey, site_id, id, rule, severity, vendor, organisation, event, page_url, health_categories, health_terms, identifiers, run, explanation) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
            &[
                survey.into(),
                site_id.into(),
                f.id.as_str().into(),
                f.rule.as_str().into(),
                f.severity.as_str().into(),
                f.vendor.as_str().into(),
                f.organisation.as_str().into(),
                f.event.as_str().into(),
                f.page_url.clone().into(),
                f.health_categories.join(";").into(),
                f.health_terms.join(";").into(),
                f.identifiers.join(";").into(),
                f.run.clone().into(),
                f.explanation.as_str().into(),
            ],
        )
        .await?;
        for c in &f.health_categories {
            tx.exec(
                "INSERT INTO finding_categories (survey, site_id, finding_id, category) VALUES ($1, $2, $3, $4)",
                &[survey.into(), site_id.into(), f.id.as_str().into(), c.as_str().into()],
            )
            .await?;
        }
    }
    Ok(())
}

/// Gives back every lease `owner` holds (a worker stopping cleanly): the
/// sites go back to the queue at once, the attempt not counted.
pub async fn release(store: &Store, survey: &str, owner: &str) -> Result<u64, SurveyError> {
    store
        .exec(
            "UPDATE sites SET status = 'pending', attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END, lease_owner = NULL, lease_token = NULL, lease_until = NULL WHERE survey = $1 AND lease_owner = $2 AND status = 'running'",
            &[survey.into(), owner.into()],
        )
        .await
}

/// Frees the leases of workers on this machine that are no longer running
/// (killed, crashed): on one machine there is no need to wait for expiry.
pub async fn reclaim_local(store: &Store, survey: &str) -> Result<u64, SurveyError> {
    let owners = store
        .query(
            "SELECT DISTINCT lease_owner FROM sites WHERE survey = $1 AND status = 'running' AND lease_owner IS NOT NULL",
            &[survey.into()],
        )
        .await?;
    let host = hostname();
    let mut freed = 0;
    for o in owners {
        let owner = o[0].str();
        let Some((h, pid)) = owner_parts(&owner) else {
            continue;
        };
        // Same machine, not this worker, and its process is gone (or this
        // process has its pid now: it was restarted).
        let gone = pid == std::process::id() || !process_alive(pid);
        if h == host && owner != worker_id() && gone {
            freed += store
                .exec(
                    "UPDATE sites SET status = 'pending', lease_owner = NULL, lease_token = NULL, lease_until = NULL WHERE survey = $1 AND lease_owner = $2 AND status = 'running'",
                    &[survey.into(), owner.as_str().into()],
                )
                .await?;
        }
    }
    Ok(freed)
}

/// Puts finished sites back in the queue: `unreachable` and `error` ones
/// (`failed`), or every site (`all`); attempts start again.
pub async fn retry(store: &Store, survey: &str, all: bool) -> Result<u64, SurveyError> {
    let which = if all {
        "status IN ('done', 'unreachable', 'error')"
    } else {
        "status IN ('unreachable', 'error')"
    };
    let mut tx = store.begin().await?;
    // The old results go with the old status: views and reports must not
    // count a site being scanned again.
    for table in ["runs", "events", "findings", "finding_categories"] {
        tx.exec(
            &format!(
                "DELETE FROM {table} WHERE survey = $1 AND site_id IN (SELECT id FROM sites WHERE survey = $1 AND {which})"
            ),
            &[survey.into()],
        )
        .await?;
    }
    let n = tx
        .exec(
            &format!(
                "UPDATE sites SET status = 'pending', attempts = 0, not_before = 0, failure_kind = NULL, failure_message = NULL, finished = NULL, duration_ms = NULL, worker = NULL, evidence = NULL, requests = 0, vendors = '', meta_pixel = 0, findings = 0, max_severity = NULL, health_with_identity = 0, tracking_after_reject = 0, completions = 0 WHERE survey = $1 AND {which}"
            ),
            &[survey.into()],
        )
        .await?;
    tx.commit().await?;
    Ok(n)
}

pub async fn counts(store: &Store, survey: &str) -> Result<Counts, SurveyError> {
    let now = now_ms();
    let rows = store
        .query(
            "SELECT status, COUNT(*), SUM(CASE WHEN not_before > $2 THEN 1 ELSE 0 END) FROM sites WHERE survey = $1 GROUP BY status",
            &[survey.into(), now.into()],
        )
        .await?;
    let mut c = Counts::default();
    for r in rows {
        let n = r[1].int() as u64;
        c.total += n;
        match SiteStatus::parse(&r[0].str()) {
            Some(SiteStatus::Pending) => {
                c.pending = n;
                c.waiting = r[2].int() as u64;
            }
            Some(SiteStatus::Running) => c.running = n,
            Some(SiteStatus::Done) => c.done = n,
            Some(SiteStatus::Unreachable) => c.unreachable = n,
            Some(SiteStatus::Error) => c.error = n,
            None => {}
        }
    }
    let hour_ago = leakscope_core::time::rfc3339_millis(now - 3_600_000);
    let r = store
        .query(
            // Fixed-width RFC 3339 UTC text sorts as time does.
            "SELECT COUNT(*) FROM sites WHERE survey = $1 AND status IN ('done', 'unreachable', 'error') AND finished >= $2",
            &[survey.into(), hour_ago.into()],
        )
        .await?;
    c.finished_last_hour = r.first().map(|r| r[0].int() as u64).unwrap_or(0);
    Ok(c)
}

/// Everything the survey holds, for reports and exports.
pub async fn read(store: &Store, name: Option<&str>) -> Result<SurveyData, SurveyError> {
    let meta = meta(store, name).await?;
    let s: Val = meta.name.as_str().into();
    let mut columns: std::collections::HashMap<i64, Vec<(String, String)>> = Default::default();
    for r in store
        .query(
            "SELECT site_id, name, value FROM site_columns WHERE survey = $1 ORDER BY site_id",
            std::slice::from_ref(&s),
        )
        .await?
    {
        columns
            .entry(r[0].int())
            .or_default()
            .push((r[1].str(), r[2].str()));
    }
    let split = |v: &Val| -> Vec<String> {
        v.str()
            .split(';')
            .filter(|x| !x.is_empty())
            .map(str::to_owned)
            .collect()
    };
    let sites = store
        .query(
            "SELECT id, url, domain, status, failure_kind, failure_message, attempts, category, started, finished, duration_ms, worker, evidence, requests, vendors, meta_pixel, findings, max_severity, health_with_identity, tracking_after_reject FROM sites WHERE survey = $1 ORDER BY id",
            std::slice::from_ref(&s),
        )
        .await?
        .into_iter()
        .map(|r| {
            let id = r[0].int();
            let mut cols = columns.remove(&id).unwrap_or_default();
            // The list's column order, whatever order the rows came back in.
            cols.sort_by_key(|(n, _)| meta.columns.iter().position(|c| c == n));
            SiteRow {
                id,
                url: r[1].str(),
                domain: r[2].str(),
                columns: cols,
                status: SiteStatus::parse(&r[3].str()),
                failure_kind: r[4].text(),
                failure_message: r[5].text(),
                attempts: r[6].int() as u32,
                category: r[7].text(),
                started: r[8].text(),
                finished: r[9].text(),
                duration_ms: r[10].text().map(|_| r[10].int() as u64),
                worker: r[11].text(),
                evidence: r[12].text(),
                requests: r[13].int() as u64,
                vendors: split(&r[14]),
                meta_pixel: r[15].int() != 0,
                findings: r[16].int() as u32,
                max_severity: r[17].text(),
                health_with_identity: r[18].int() != 0,
                tracking_after_reject: r[19].int() != 0,
            }
        })
        .collect();
    let runs = store
        .query(
            "SELECT site_id, name, consent, status, failure_kind, failure_message, requests, consent_note FROM runs WHERE survey = $1 ORDER BY site_id, name",
            std::slice::from_ref(&s),
        )
        .await?
        .into_iter()
        .map(|r| RunRow {
            site_id: r[0].int(),
            name: r[1].str(),
            consent: r[2].str(),
            status: r[3].str(),
            failure_kind: r[4].text(),
            failure_message: r[5].text(),
            requests: r[6].int() as u64,
            consent_note: r[7].text(),
        })
        .collect();
    let events = store
        .query(
            "SELECT site_id, run, vendor, organisation, event, account_id, page_url, request_url, method, consent, identifiers FROM events WHERE survey = $1 ORDER BY site_id, seq",
            std::slice::from_ref(&s),
        )
        .await?
        .into_iter()
        .map(|r| EventRow {
            site_id: r[0].int(),
            run: r[1].str(),
            vendor: r[2].str(),
            organisation: r[3].str(),
            event: r[4].str(),
            account_id: r[5].text(),
            page_url: r[6].text(),
            request_url: r[7].str(),
            method: r[8].str(),
            consent: r[9].text(),
            identifiers: split(&r[10]),
        })
        .collect();
    let findings = store
        .query(
            "SELECT site_id, id, rule, severity, vendor, organisation, event, page_url, health_categories, health_terms, identifiers, run, explanation FROM findings WHERE survey = $1 ORDER BY site_id, id",
            &[s],
        )
        .await?
        .into_iter()
        .map(|r| FindingRow {
            site_id: r[0].int(),
            id: r[1].str(),
            rule: r[2].str(),
            severity: r[3].str(),
            vendor: r[4].str(),
            organisation: r[5].str(),
            event: r[6].str(),
            page_url: r[7].text(),
            health_categories: split(&r[8]),
            health_terms: split(&r[9]),
            identifiers: split(&r[10]),
            run: r[11].text(),
            explanation: r[12].str(),
        })
        .collect();
    Ok(SurveyData {
        meta,
        sites,
        runs,
        events,
        findings,
    })
}

/// This worker's name in leases: `host:pid:nonce`. The nonce tells a
/// restarted process that got the same pid (PID 1 in a container) from its
/// dead predecessor, whose leases it must not renew.
pub fn worker_id() -> String {
    static ID: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ID.get_or_init(|| {
        format!(
            "{}:{}:{:08x}",
            hostname(),
            std::process::id(),
            rand::random::<u32>()
        )
    })
    .clone()
}

/// `host:pid:nonce` (or an older `host:pid`) → (host, pid).
fn owner_parts(owner: &str) -> Option<(&str, u32)> {
    let mut parts = owner.rsplitn(3, ':');
    let last = parts.next()?;
    let mid = parts.next()?;
    match (parts.next(), mid.parse::<u32>(), last.parse::<u32>()) {
        (Some(host), Ok(pid), _) => Some((host, pid)),
        (None, _, Ok(pid)) => Some((mid, pid)),
        _ => None,
    }
}

fn hostname() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| {
            std::fs::read_to_string("/proc/sys/kernel/hostname")
                .ok()
                .map(|h| h.trim().to_owned())
        })
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

fn process_alive(pid: u32) -> bool {
    // Linux: a zombie still has its /proc entry, but its state is Z.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
        Err(_) => !std::path::Path::new("/proc/self").exists(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worker_names_carry_host_pid_and_a_nonce() {
        let me = worker_id();
        assert_eq!(me, worker_id(), "one name per process");
        let (host, pid) = owner_parts(&me).unwrap();
        assert_eq!((host, pid), (hostname().as_str(), std::process::id()));
        assert_eq!(owner_parts("box:42"), Some(("box", 42)));
        assert_eq!(owner_parts("a:b:c"), None);
    }
}
