//! The story before the detail: at most five plain lines at the top of every
//! report (table, Markdown, HTML), built from the findings alone so it works
//! for any site and any vendor; plus the header line in words and each scan
//! run's status.

use std::collections::BTreeSet;

use leakscope_core::scan::{RunInfo, RunStatus};
use leakscope_detect::{Finding, Severity};

use crate::Results;
use crate::explain::{self, identity_rank, identity_words};

/// At most this many headlines.
pub const MAX_HEADLINES: usize = 5;

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// What the results come from, in words: "leakscope 0.1.0 · analysed 1
/// capture (demo/x.har): 44 requests" or "leakscope 0.1.0 · scanned
/// clinic.example in 3 runs, 2026-01-02T10:00:00Z to …".
pub fn provenance(r: &Results) -> String {
    let mut s = format!("leakscope {}", r.version);
    match &r.scan {
        Some(scan) => {
            let sites: BTreeSet<&str> = scan.runs.iter().map(|x| x.site.as_str()).collect();
            let sites: Vec<&str> = sites.into_iter().collect();
            let what = if sites.len() <= 2 {
                sites.join(" and ")
            } else {
                plural(sites.len(), "site", "sites")
            };
            s.push_str(&format!(
                " · scanned {} in {}",
                crate::clip(&what, 200),
                plural(scan.runs.len(), "run", "runs")
            ));
            if !scan.started.is_empty() {
                s.push_str(&format!(
                    ", {} to {}",
                    crate::clip(&scan.started, 40),
                    crate::clip(&scan.finished, 40)
                ));
            }
        }
        None => {
            let names: Vec<String> = r
                .inputs
                .iter()
                .take(3)
                .map(|i| crate::clip(&i.file, 120))
                .collect();
            let more = r.inputs.len().saturating_sub(3);
            let list = if more > 0 {
                format!("{} and {more} more", names.join(", "))
            } else {
                names.join(", ")
            };
            s.push_str(&format!(
                " · analysed {}",
                plural(r.inputs.len(), "capture", "captures")
            ));
            if !list.is_empty() {
                s.push_str(&format!(" ({list})"));
            }
        }
    }
    let requests: u64 = r.inputs.iter().map(|i| i.exchanges).sum();
    s.push_str(&format!(
        ": {} requests, {} tracker events",
        requests,
        r.events.len()
    ));
    s
}

/// A run's status in words: "loaded: 6 steps, 120 requests" or "could not
/// load: DNS lookup failed for https://… (net::ERR_NAME_NOT_RESOLVED)".
/// "Who the site is", one line per site: its category, confidence and
/// strongest evidence (`leakscope_detect::site`). Health sites first.
pub fn site_lines(r: &Results) -> Vec<String> {
    let mut sites: Vec<&leakscope_detect::SiteProfile> = r.sites.iter().collect();
    sites.sort_by_key(|p| (!p.category.is_sensitive(), std::cmp::Reverse(p.confidence)));
    sites
        .into_iter()
        .map(|p| {
            if p.category.is_sensitive() {
                let mut line = p.summary();
                if !p.is_sensitive() {
                    line.push_str("; too little evidence to judge events by who the site is");
                }
                line
            } else {
                format!("{}: no sign of a health site", p.site)
            }
        })
        .collect()
}

pub fn run_status(run: &RunInfo) -> String {
    match run.status {
        RunStatus::Loaded => format!(
            "loaded: {}, {}",
            plural(run.steps.len(), "step", "steps"),
            plural(run.requests as usize, "request", "requests")
        ),
        RunStatus::NotLoaded => format!("could not load: {}", failure_text(run)),
    }
}

fn failure_text(run: &RunInfo) -> String {
    match &run.failure {
        Some(f) if !f.message.trim().is_empty() => crate::clip(&f.message, 300),
        Some(f) => format!("{} for {}", f.kind_words(), crate::clip(&run.site, 200)),
        None => format!("{} did not load", crate::clip(&run.site, 200)),
    }
}

/// True when the results come from captures with no request at all.
pub fn no_requests(r: &Results) -> bool {
    r.scan.is_none() && r.inputs.iter().all(|i| i.exchanges == 0)
}

/// The words for an empty EVENTS section: why there is nothing to list.
pub fn no_events(r: &Results) -> String {
    if no_requests(r) {
        if r.inputs.len() > 1 {
            "No requests in these captures.".into()
        } else {
            "No requests in this capture.".into()
        }
    } else {
        let n: u64 = r.inputs.iter().map(|i| i.exchanges).sum();
        format!(
            "No tracker events: none of the {n} requests went to a tracker leakscope knows{}.",
            refused(r)
        )
    }
}

/// A scan with `--block` rules: the requests they refused never left, so
/// they are in no count; say so beside "none", or it reads as a clean site.
fn refused(r: &Results) -> String {
    let n: u64 = r
        .scan
        .as_ref()
        .map_or(0, |s| s.runs.iter().map(|run| run.blocked).sum());
    if n == 0 {
        String::new()
    } else {
        format!(
            " ({} refused in the browser by the --block rules, never sent)",
            plural(n as usize, "more request", "more requests")
        )
    }
}

/// The story in at most five lines, most important first: pages that never
/// loaded, the totals, trackers that kept going after a refusal, and per
/// recipient the most telling finding (what health information, tied to
/// whom). Empty only for empty results of nothing (no inputs, no scan).
pub fn headlines(r: &Results) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    if let Some(scan) = &r.scan
        && !scan.runs.is_empty()
    {
        let failed: Vec<&RunInfo> = scan.not_loaded().collect();
        if !scan.loaded_any() {
            // Each reason once: several runs of one site fail the same way.
            let mut why: Vec<String> = Vec::new();
            for f in &failed {
                let t = failure_text(f);
                if !why.contains(&t) {
                    why.push(t);
                }
            }
            let more = why.len().saturating_sub(2);
            why.truncate(2);
            if more > 0 {
                why.push(format!("and {more} more"));
            }
            out.push(format!(
                "No page loaded: nothing was checked ({}).",
                why.join("; ")
            ));
            if r.findings.is_empty() {
                return out;
            }
        } else if let Some(first) = failed.first() {
            out.push(format!(
                "{} of {} could not load, so nothing was checked there: {}.",
                failed.len(),
                plural(scan.runs.len(), "run", "runs"),
                failure_text(first)
            ));
        }
    }
    out.push(totals(r));
    let mut stories: Vec<(String, String)> = consent_lines(r);
    stories.extend(recipient_lines(r));
    let room = MAX_HEADLINES.saturating_sub(out.len());
    if stories.len() <= room {
        out.extend(stories.into_iter().map(|(_, l)| l));
    } else if room > 0 {
        let rest: Vec<String> = stories[room - 1..]
            .iter()
            .map(|(org, _)| org.clone())
            .collect::<Vec<_>>();
        let mut names: Vec<String> = Vec::new();
        for n in rest {
            if !names.contains(&n) {
                names.push(n);
            }
        }
        out.extend(stories.into_iter().take(room - 1).map(|(_, l)| l));
        out.push(format!(
            "Also in the findings below: {}.",
            crate::clip(&names.join(", "), 200)
        ));
    }
    out
}

fn totals(r: &Results) -> String {
    if r.findings.is_empty() {
        if no_requests(r) {
            return if r.inputs.len() > 1 {
                "No requests in these captures: nothing was checked.".into()
            } else {
                "No requests in this capture: nothing was checked.".into()
            };
        }
        let requests: u64 = r.inputs.iter().map(|i| i.exchanges).sum();
        if r.events.is_empty() {
            return format!(
                "No findings: none of the {requests} requests went to a tracker leakscope knows{}.",
                refused(r)
            );
        }
        return format!(
            "No findings: {} in {requests} requests, none carrying health information to another party.",
            plural(r.events.len(), "tracker event", "tracker events")
        );
    }
    let pages: BTreeSet<&str> = r
        .findings
        .iter()
        .filter_map(|f| f.page_url.as_deref())
        .collect();
    let sites = &r.summary.sites;
    let of = match sites.len() {
        0 => String::new(),
        1 => format!(" of {}", crate::clip(&sites[0], 120)),
        n => format!(" of {n} sites"),
    };
    let by: Vec<String> = Severity::ALL
        .iter()
        .map(|s| (s, r.findings.iter().filter(|f| f.severity == *s).count()))
        .filter(|(_, n)| *n > 0)
        .map(|(s, n)| format!("{n} {s}"))
        .collect();
    format!(
        "{} on {}{of}: {}.",
        plural(r.findings.len(), "finding", "findings"),
        plural(pages.len().max(1), "page", "pages"),
        by.join(", ")
    )
}

/// Trackers that kept receiving events after a refusal, one line each.
fn consent_lines(r: &Results) -> Vec<(String, String)> {
    let mut fs: Vec<&Finding> = r
        .findings
        .iter()
        .filter(|f| f.consent_evidence.is_some())
        .collect();
    fs.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.organisation.cmp(&b.organisation))
    });
    fs.into_iter()
        .filter_map(|f| {
            let c = f.consent_evidence.as_ref()?;
            let refusal = match c.state.as_str() {
                "gpc" => "although the browser asked not to be tracked (Global Privacy Control)",
                _ => "after the visitor refused consent",
            };
            let health = if f.health.iter().any(explain::counts) {
                ", some with health information"
            } else {
                ""
            };
            let org = crate::clip(&f.organisation, 80);
            Some((
                org.clone(),
                format!(
                    "{org} kept receiving events on {} {refusal}: {}{health}.",
                    crate::clip(&c.site, 120),
                    plural(c.after_refusal.events as usize, "event", "events")
                ),
            ))
        })
        .collect()
}

/// Where a field sits, for choosing the evidence to quote: what the site
/// sent on purpose (event data, what the user typed or clicked) says more
/// than the page address, which says more than its title.
fn field_weight(field: &str) -> u8 {
    if field.starts_with("custom_data") || field.starts_with("ui.") || field == "event" {
        3
    } else if field.starts_with("page_url") {
        2
    } else {
        1
    }
}

/// Per recipient (organisation), its most telling finding in one line.
fn recipient_lines(r: &Results) -> Vec<(String, String)> {
    let fs: Vec<&Finding> = r
        .findings
        .iter()
        .filter(|f| f.consent_evidence.is_none())
        .collect();
    let mut orgs: Vec<&str> = Vec::new();
    for f in &fs {
        if !orgs.contains(&f.organisation.as_str()) {
            orgs.push(&f.organisation);
        }
    }
    let mut lines: Vec<(Severity, usize, usize, String, String)> = Vec::new();
    for org in orgs {
        let mine: Vec<&Finding> = fs
            .iter()
            .copied()
            .filter(|f| f.organisation == org)
            .collect();
        let Some(best) = mine.iter().copied().max_by_key(|f| {
            (
                f.severity,
                f.identifiers.iter().map(identity_rank).max().unwrap_or(0),
                f.health
                    .iter()
                    .filter(|h| explain::counts(h))
                    .map(|h| h.category.tier())
                    .max(),
                std::cmp::Reverse(f.id.clone()),
            )
        }) else {
            continue;
        };
        let worst = best.severity;
        let at_worst = mine.iter().filter(|f| f.severity == worst).count();
        let org = crate::clip(org, 80);
        let what = received(best);
        let tally = if mine.len() == 1 {
            format!("1 finding, {worst}")
        } else {
            format!("{} findings, {at_worst} {worst}", mine.len())
        };
        lines.push((
            worst,
            at_worst,
            mine.len(),
            org.clone(),
            format!("{org} received {what}: {tally}."),
        ));
    }
    // Worst severity first, then most findings at it, then most findings.
    lines.sort_by(|a, b| {
        b.0.cmp(&a.0)
            .then(b.1.cmp(&a.1))
            .then(b.2.cmp(&a.2))
            .then(a.3.cmp(&b.3))
    });
    lines.into_iter().map(|(_, _, _, o, l)| (o, l)).collect()
}

/// "\"levonorgestrel\" (contraception) with a hashed email address".
fn received(f: &Finding) -> String {
    let health = f
        .health
        .iter()
        .filter(|h| explain::counts(h))
        .max_by_key(|h| {
            (
                h.category.tier(),
                field_weight(&h.field),
                std::cmp::Reverse(h.term.len()),
            )
        });
    let mut s = match health {
        // "pregnancy" (pregnancy) says nothing twice.
        Some(h) if h.category.describe().eq_ignore_ascii_case(h.term.trim()) => {
            format!("\"{}\"", crate::clip(&h.term, 60))
        }
        Some(h) => format!(
            "\"{}\" ({})",
            crate::clip(&h.term, 60),
            h.category.describe()
        ),
        None if !f.canaries.is_empty() => {
            let kinds: BTreeSet<&str> = f.canaries.iter().map(|c| c.value_kind.as_str()).collect();
            format!(
                "planted test values ({})",
                kinds.into_iter().collect::<Vec<_>>().join(", ")
            )
        }
        None => format!("the \"{}\" event", crate::clip(&f.event, 60)),
    };
    let ids: Vec<_> = f.identifiers.iter().filter(|i| i.counts).collect();
    // The strongest, the first listed among equals.
    let mut strongest: Option<&leakscope_detect::IdentityEvidence> = None;
    for i in &ids {
        if strongest.is_none_or(|b| identity_rank(i) > identity_rank(b)) {
            strongest = Some(i);
        }
    }
    match strongest {
        Some(best) => {
            s.push_str(" with ");
            s.push_str(&identity_words(best));
            let others: BTreeSet<&str> = ids
                .iter()
                .filter(|i| i.kind != best.kind)
                .map(|i| i.kind.as_str())
                .collect();
            if !others.is_empty() {
                s.push_str(&format!(
                    " and {}",
                    plural(others.len(), "other identifier", "other identifiers")
                ));
            }
        }
        None if f
            .canaries
            .iter()
            .any(|c| matches!(c.value_kind.as_str(), "email" | "phone" | "name")) => {}
        None => s.push_str(", tied to no identifier of the visitor"),
    }
    s
}
