//! A scan's output as the survey's flat rows.

use leakscope_core::Party;
use leakscope_core::scan::RunStatus;
use leakscope_core::survey::{EventRow, FindingRow, RunRow, SiteRow, SiteStatus};
use leakscope_scan::ScanOutput;

/// The run a finding or event came from: its HAR's name without `.har`.
fn run_of(file: &str) -> String {
    file.strip_suffix(".har").unwrap_or(file).to_owned()
}

fn dedup(mut v: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    v.retain(|x| seen.insert(x.clone()));
    v
}

/// Runs, events, findings and the site's summary (status `Done`, or
/// `Unreachable` when no run loaded: the caller decides on retries).
pub fn of_scan(
    out: &ScanOutput,
    site_id: i64,
    domain: &str,
) -> (SiteRow, Vec<RunRow>, Vec<EventRow>, Vec<FindingRow>) {
    let runs: Vec<RunRow> = out
        .info
        .runs
        .iter()
        .map(|r| RunRow {
            site_id,
            name: r.name.clone(),
            consent: r.consent.clone(),
            status: match r.status {
                RunStatus::Loaded => "loaded",
                RunStatus::NotLoaded => "not_loaded",
            }
            .into(),
            failure_kind: r.failure.as_ref().map(|f| f.kind.clone()),
            failure_message: r.failure.as_ref().map(|f| f.message.clone()),
            requests: r.requests,
            consent_note: r.consent_note.clone(),
        })
        .collect();
    let events: Vec<EventRow> = out
        .report
        .events
        .iter()
        .map(|e| EventRow {
            site_id,
            run: run_of(&e.source.file),
            vendor: e.vendor.as_str().into(),
            organisation: e.organisation.clone(),
            event: e.event.clone(),
            account_id: e.account_id.clone(),
            page_url: e.page_url.clone(),
            request_url: e.request_url.clone(),
            method: e.method.clone(),
            consent: e.consent.clone(),
            identifiers: dedup(
                e.ids
                    .iter()
                    .map(|i| i.kind.clone())
                    .chain(e.user_data.iter().map(|u| u.key.clone()))
                    .collect(),
            ),
        })
        .collect();
    let findings: Vec<FindingRow> = out
        .report
        .findings
        .iter()
        .map(|f| FindingRow {
            site_id,
            id: f.id.clone(),
            rule: f.rule.clone(),
            severity: f.severity.as_str().into(),
            vendor: f.vendor.as_str().into(),
            organisation: f.organisation.clone(),
            event: f.event.clone(),
            page_url: f.page_url.clone(),
            health_categories: dedup(
                f.health
                    .iter()
                    .map(|h| h.category.as_str().to_owned())
                    .collect(),
            ),
            health_terms: dedup(f.health.iter().map(|h| h.term.clone()).collect()),
            identifiers: dedup(
                f.identifiers
                    .iter()
                    .filter(|i| i.counts)
                    .map(|i| i.kind.clone())
                    .collect(),
            ),
            run: Some(run_of(&f.source.file)),
            explanation: f.explanation.clone(),
        })
        .collect();
    let loaded = out.info.loaded_any();
    let failure = out.info.runs.iter().find_map(|r| r.failure.clone());
    let vendors = dedup(
        out.report
            .events
            .iter()
            .filter(|e| {
                matches!(
                    e.party,
                    Party::ThirdParty | Party::FirstPartyProxy | Party::Unknown
                )
            })
            .map(|e| e.vendor.as_str().to_owned())
            .collect(),
    );
    let category = out
        .report
        .sites
        .iter()
        .find(|p| p.site == domain && p.is_sensitive())
        .map(|p| p.category.as_str().to_owned());
    let site = SiteRow {
        id: site_id,
        status: Some(if loaded {
            SiteStatus::Done
        } else {
            SiteStatus::Unreachable
        }),
        failure_kind: if loaded {
            None
        } else {
            failure.as_ref().map(|f| f.kind.clone())
        },
        failure_message: if loaded {
            None
        } else {
            failure.as_ref().map(|f| f.message.clone())
        },
        category,
        requests: out.info.runs.iter().map(|r| r.requests).sum(),
        meta_pixel: vendors.iter().any(|v| v == "meta_pixel"),
        vendors,
        findings: findings.len() as u32,
        max_severity: out
            .report
            .findings
            .iter()
            .map(|f| f.severity)
            .max()
            .map(|s| s.as_str().to_owned()),
        health_with_identity: out.report.findings.iter().any(|f| {
            f.rule != "consent.ignored"
                && !f.health.is_empty()
                && f.identifiers.iter().any(|i| i.counts)
        }),
        tracking_after_reject: out
            .report
            .findings
            .iter()
            .any(|f| f.rule == "consent.ignored"),
        ..SiteRow::default()
    };
    (site, runs, events, findings)
}
