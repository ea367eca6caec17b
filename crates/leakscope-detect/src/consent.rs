//! Tracking after the user said no: the `consent.ignored` rule.
//!
//! The scanner stamps every captured request with the consent state in force
//! when it left (`Exchange::consent`, copied to `Event::consent`): `none`
//! until a refusal succeeded, `rejected` after the banner's reject click
//! succeeded, `gpc` for a whole run with Global Privacy Control on, and
//! `accepted` after an accept click. HAR files carry it as `_consent`, so the
//! same analysis runs on a scan's HAR read back by `analyze`.
//!
//! Rule: every tracker (vendor, organisation, account) that still received
//! events from a site after a refusal (`rejected` or `gpc`) is one finding,
//! per site and per refusal state. Events that go to the site itself or to a
//! consent platform (which must be told of the refusal) are not tracking.
//! Severity is high when any of those events carries counted health content,
//! medium otherwise. When the same capture holds an `accepted` run, the
//! finding also lists what the same tracker received there: a tracker that
//! fires the same way whether the user accepts or refuses ignores the choice.
//!
//! The finding id depends only on the rule, the refusal state, the site and
//! the tracker, so a scan and `analyze` of its HAR give the same id.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use leakscope_core::{Category, Event, Party, Source, engine::split_url, party};
use serde::{Deserialize, Serialize};

use crate::finding::{
    Context, Finding, Framework, HealthEvidence, IdentityEvidence, Severity, Strength,
};
use crate::{Detector, identity};

/// Rule id of a tracking-after-refusal finding.
pub const RULE: &str = "consent.ignored";

/// Requests listed per state as examples; the counts cover all of them.
const MAX_EXAMPLES: usize = 5;

/// Evidence of tracking after refusal, from each consent state the capture has.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConsentEvidence {
    /// The refusal: `rejected` or `gpc`.
    pub state: String,
    /// The site (registrable domain of the pages).
    pub site: String,
    /// What the tracker received after the refusal.
    pub after_refusal: StateEvidence,
    /// What the same tracker received on the same site after consent was
    /// given, when the capture has an `accepted` run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted: Option<StateEvidence>,
}

/// Events one tracker received in one consent state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StateEvidence {
    pub events: u64,
    /// Distinct event names, in first-seen order.
    pub event_names: Vec<String>,
    /// The first requests (at most five).
    pub examples: Vec<RequestRef>,
}

/// One request, enough to find it in the capture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestRef {
    pub event: String,
    pub request_url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_url: Option<String>,
    pub source: Source,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
}

/// Is this event tracking a refusal should have stopped?
fn is_tracking(ev: &Event) -> bool {
    ev.party != Party::FirstParty && !matches!(ev.category, Category::Consent | Category::Cdn)
}

fn site_of_event(ev: &Event) -> Option<String> {
    let page = ev.page_url.as_deref()?;
    let host = split_url(page)?.host;
    (!host.is_empty()).then(|| party::site_of(host))
}

/// (site, vendor id, organisation, account) — one tracker on one site.
type Key = (String, &'static str, String, Option<String>);

fn key(ev: &Event) -> Option<Key> {
    Some((
        site_of_event(ev)?,
        ev.vendor.as_str(),
        ev.organisation.clone(),
        ev.account_id.clone(),
    ))
}

fn state_evidence(events: &[&Event]) -> StateEvidence {
    let mut names: Vec<String> = Vec::new();
    for e in events {
        if !names.contains(&e.event) {
            names.push(e.event.clone());
        }
    }
    StateEvidence {
        events: events.len() as u64,
        event_names: names,
        examples: events
            .iter()
            .take(MAX_EXAMPLES)
            .map(|e| RequestRef {
                event: e.event.clone(),
                request_url: e.request_url.clone(),
                page_url: e.page_url.clone(),
                source: e.source.clone(),
                step: e.step.clone(),
            })
            .collect(),
    }
}

/// `consent.ignored` findings over all events of a capture (any mix of
/// runs and states; events without a consent stamp are ignored). Ordered by
/// state, site and tracker.
pub fn ignored(events: &[Event], detector: &Detector) -> Vec<Finding> {
    let mut refused: BTreeMap<(String, Key), Vec<&Event>> = BTreeMap::new();
    let mut accepted: BTreeMap<Key, Vec<&Event>> = BTreeMap::new();
    for ev in events.iter().filter(|e| is_tracking(e)) {
        let Some(k) = key(ev) else { continue };
        match ev.consent.as_deref() {
            Some(s @ ("rejected" | "gpc")) => {
                refused.entry((s.to_owned(), k)).or_default().push(ev)
            }
            Some("accepted") => accepted.entry(k).or_default().push(ev),
            _ => {}
        }
    }
    refused
        .into_iter()
        .map(|((state, k), evs)| finding(&state, &k, &evs, accepted.get(&k), detector))
        .collect()
}

fn finding(
    state: &str,
    k: &Key,
    evs: &[&Event],
    accepted: Option<&Vec<&Event>>,
    detector: &Detector,
) -> Finding {
    let (site, vendor_id, organisation, account) = k;
    let first = evs[0];
    // Health content and identifiers across everything sent after refusal, once each.
    let mut health: Vec<HealthEvidence> = Vec::new();
    let mut identifiers: Vec<IdentityEvidence> = Vec::new();
    let mut canaries = Vec::new();
    for ev in evs {
        for h in detector.health.match_event(ev) {
            let counted = h.strength == Strength::Strong || !h.signals.is_empty();
            if counted
                && !health
                    .iter()
                    .any(|x| x.category == h.category && x.term == h.term)
            {
                health.push(h);
            }
        }
        for i in identity::identify(ev) {
            if !identifiers
                .iter()
                .any(|x| x.kind == i.kind && x.field == i.field)
            {
                identifiers.push(i);
            }
        }
        for c in &ev.canaries {
            if !canaries.contains(c) {
                canaries.push(c.clone());
            }
        }
    }
    // What ties these events to a person: when no identifier does, the
    // browser's requests still carried the visitor's IP address.
    if !identifiers.iter().any(IdentityEvidence::is_strong)
        && !identifiers
            .iter()
            .any(|x| x.counts && x.kind == "ip_address")
        && evs.iter().any(|e| !e.server_side)
    {
        identifiers.push(crate::verdict::visitor_ip());
    }
    let severity = if health.is_empty() {
        Severity::Medium
    } else {
        Severity::High
    };
    let after = state_evidence(evs);
    let acc = accepted.map(|a| state_evidence(a));
    let recipient = match account {
        Some(a) => format!("{organisation} ({}, account {a})", first.product),
        None => format!("{organisation} ({})", first.product),
    };
    let refusal = match state {
        "gpc" => "with Global Privacy Control on (an opt-out of sale and sharing)",
        _ => "after the user refused consent in the site's banner",
    };
    let mut explanation = format!(
        "On {site}, {recipient} kept receiving tracking events {refusal}: {} event(s) ({}).",
        after.events,
        after.event_names.join(", ")
    );
    if let Some(h) = health.first() {
        let _ = write!(
            explanation,
            " They carried health information: {} (\"{}\" in {}).",
            h.category.describe(),
            h.matched,
            h.field
        );
    }
    match &acc {
        Some(a) => {
            let _ = write!(
                explanation,
                " With consent given it received {} event(s); the refusal did not stop it.",
                a.events
            );
        }
        None => explanation.push_str(" No accepted run was captured for comparison."),
    }
    let _ = write!(
        explanation,
        " Severity {severity}: legal risk, not legal advice."
    );
    let frameworks = vec![
        Framework {
            id: "gdpr_eprivacy".into(),
            name: "GDPR and the ePrivacy Directive (Art. 5(3))".into(),
            why: "Reading or storing on the user's device for advertising needs prior consent; processing after a refusal has no legal basis.".into(),
        },
        Framework {
            id: "ccpa_cpra".into(),
            name: "California Consumer Privacy Act (as amended by CPRA)".into(),
            why: "A business must honour an opt-out of sale or sharing, including a Global Privacy Control signal.".into(),
        },
        Framework {
            id: "ftc_act".into(),
            name: "FTC Act Section 5".into(),
            why: "A consent banner whose refusal does not stop tracking misrepresents the user's choice.".into(),
        },
    ];
    Finding {
        id: stable_id(state, site, vendor_id, organisation, account.as_deref()),
        severity,
        rule: RULE.into(),
        base_severity: Some(severity),
        modifiers: Vec::new(),
        vendor: first.vendor,
        organisation: organisation.clone(),
        account_id: account.clone(),
        event: after.event_names.join(","),
        page_url: first.page_url.clone(),
        request_url: first.request_url.clone(),
        method: first.method.clone(),
        source: first.source.clone(),
        step: first.step.clone(),
        health,
        identifiers,
        canaries,
        context: Context {
            consent: Some(state.to_owned()),
            server_side: first.server_side,
            ..Context::default()
        },
        frameworks,
        explanation,
        consent_evidence: Some(ConsentEvidence {
            state: state.to_owned(),
            site: site.clone(),
            after_refusal: after,
            accepted: acc,
        }),
        // The requests are in `consent_evidence` (counts and examples).
        occurrences: Vec::new(),
        site: None,
    }
}

fn stable_id(state: &str, site: &str, vendor: &str, org: &str, account: Option<&str>) -> String {
    crate::finding::id_of_parts([RULE, state, site, vendor, org, account.unwrap_or("")])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Pipeline;
    use leakscope_core::{Engine, Exchange};

    const PAGE: &str = "https://pharmacy.example/refill";

    fn ex(n: u64, url: &str, consent: &str, step: &str) -> Exchange {
        let mut e = Exchange::get(Source::new("scan.har", n), url);
        e.page_url = Some(PAGE.into());
        e.consent = Some(consent.into());
        e.step = Some(step.into());
        e
    }

    fn meta(ev: &str, extra: &str) -> String {
        format!(
            "https://www.facebook.com/tr/?id=111222333&ev={ev}&dl=https%3A%2F%2Fpharmacy.example%2Frefill{extra}"
        )
    }
    fn ga4() -> String {
        "https://region1.google-analytics.com/g/collect?v=2&tid=G-TEST123&cid=1.2&en=page_view&dl=https%3A%2F%2Fpharmacy.example%2F".into()
    }

    fn run(exchanges: &[Exchange]) -> Vec<Finding> {
        let engine = Engine::new();
        let det = Detector::new(&[]).unwrap();
        let mut p = Pipeline::new(&engine, &det);
        for e in exchanges {
            p.feed(e);
        }
        p.finish()
            .findings
            .into_iter()
            .filter(|f| f.rule == RULE)
            .collect()
    }

    #[test]
    fn tracker_that_keeps_sending_after_reject_is_reported_with_both_states() {
        let found = run(&[
            // Before the click the state is `none`: not evidence.
            ex(0, &meta("PageView", ""), "none", "rejected/0-load"),
            ex(1, &meta("PageView", ""), "rejected", "rejected/1-consent"),
            ex(
                2,
                &meta(
                    "ViewContent",
                    "&cd%5Bcontent_name%5D=Insulin%20glargine%20refill",
                ),
                "rejected",
                "rejected/2-click",
            ),
            ex(3, &meta("PageView", ""), "accepted", "accepted/1-consent"),
        ]);
        assert_eq!(found.len(), 1, "{found:#?}");
        let f = &found[0];
        assert_eq!(f.severity, Severity::High, "health after refusal: {f:#?}");
        assert_eq!(f.account_id.as_deref(), Some("111222333"));
        let ev = f.consent_evidence.as_ref().unwrap();
        assert_eq!(ev.state, "rejected");
        assert_eq!(ev.site, "pharmacy.example");
        assert_eq!(ev.after_refusal.events, 2);
        assert_eq!(ev.after_refusal.examples[0].source.entry, 1);
        assert_eq!(
            ev.after_refusal.examples[1].step.as_deref(),
            Some("rejected/2-click")
        );
        assert_eq!(ev.accepted.as_ref().map(|a| a.events), Some(1));
        assert!(f.explanation.contains("refused"), "{}", f.explanation);
    }

    #[test]
    fn a_tracker_gated_by_the_banner_is_not_reported_and_gpc_counts_as_refusal() {
        // Meta only before the click and after accept; GA4 under GPC.
        let found = run(&[
            ex(0, &meta("PageView", ""), "none", "rejected/0-load"),
            ex(1, &meta("PageView", ""), "accepted", "accepted/1"),
            ex(2, &ga4(), "gpc", "gpc/0-load"),
        ]);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].severity, Severity::Medium, "no health: medium");
        assert_eq!(found[0].context.consent.as_deref(), Some("gpc"));
        assert!(
            found[0]
                .consent_evidence
                .as_ref()
                .unwrap()
                .accepted
                .is_none()
        );
    }

    #[test]
    fn unstamped_captures_and_first_party_requests_give_nothing() {
        let mut plain = ex(0, &meta("PageView", ""), "rejected", "s");
        plain.consent = None;
        let own = ex(1, "https://pharmacy.example/api/log?x=1", "rejected", "s");
        assert!(run(&[plain, own]).is_empty());
    }

    #[test]
    fn id_depends_on_state_site_and_tracker_only() {
        let a = run(&[ex(5, &meta("PageView", ""), "rejected", "a")]);
        let b = run(&[
            ex(9, &meta("Lead", ""), "rejected", "b"),
            ex(10, &meta("PageView", ""), "accepted", "c"),
        ]);
        assert_eq!(a[0].id, b[0].id);
        let g = run(&[ex(5, &meta("PageView", ""), "gpc", "a")]);
        assert_ne!(a[0].id, g[0].id);
    }
}
