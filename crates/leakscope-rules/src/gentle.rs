//! `$removeparam` rules: take the health field out of a tracker request and
//! let the rest go, so the site keeps its measurement. A rule is offered
//! only when it is proved: the adblock engine rewrites each leaking request,
//! and the detector, reading the rewritten request as the tracker would
//! receive it, finds no health information in it.

use leakscope_core::engine::{Engine, split_url};
use leakscope_core::model::{Exchange, Header, Source};
use leakscope_detect::{Detector, Finding};

use crate::csp::origin_of;
use crate::filters::{Blocker, Query, Verdict};
use crate::plan::Leak;

/// The adblock engine removes only parameters with plain names.
fn plain(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Query parameters of a leak that carry what the finding matched.
fn suspects(f: &Finding, l: &Leak<'_>) -> Option<Vec<String>> {
    let parts = split_url(l.url)?;
    let needles: Vec<String> = f
        .health
        .iter()
        .map(|h| h.matched.trim().to_lowercase())
        .filter(|m| m.len() >= 3)
        .collect();
    let page_path = l
        .page
        .and_then(split_url)
        .map(|p| p.path)
        .filter(|p| p.len() > 1);
    let from_page = f
        .health
        .iter()
        .any(|h| h.field.starts_with("page_url") || h.field.starts_with("referrer"));
    let mut out = Vec::new();
    for (k, v) in url::form_urlencoded::parse(parts.query.as_bytes()) {
        let v = v.to_lowercase();
        let hit = needles.iter().any(|n| v.contains(n.as_str()))
            || (from_page && page_path.is_some_and(|p| v.contains(&p.to_lowercase())));
        if hit {
            if !plain(&k) {
                return None;
            }
            if !out.contains(&k.to_string()) {
                out.push(k.into_owned());
            }
        }
    }
    (!out.is_empty()).then_some(out)
}

/// Proved `$removeparam` rules for a finding, or `None`.
pub(crate) fn removeparam_rules(
    engine: &Engine,
    detector: &Detector,
    f: &Finding,
    leaks: &[Leak<'_>],
    site: Option<&str>,
) -> Option<Vec<String>> {
    if leaks.iter().any(|l| l.method != "GET") {
        return None;
    }
    let mut rules: Vec<String> = Vec::new();
    for l in leaks {
        for p in suspects(f, l)? {
            let lsite = l
                .page
                .and_then(split_url)
                .map(|u| leakscope_core::party::site_of(u.host));
            let site = lsite.as_deref().or(site);
            let r = crate::plan::candidates(
                engine,
                l.url,
                site, // Without types the engine applies removeparam to documents and
                // XHR only; beacons go as images and pings.
                &format!("removeparam={p},image,ping,xmlhttprequest,other"),
            )
            .into_iter()
            .next()?;
            if !rules.contains(&r) {
                rules.push(r);
            }
        }
    }
    let b = Blocker::from_rules(rules.iter().map(String::as_str));
    for (i, l) in leaks.iter().enumerate() {
        let source = l.page.unwrap_or(l.url);
        let q = Query {
            url: l.url,
            source_url: source,
            resource_type: l.rtype,
            method: l.method,
        };
        let Verdict::Rewrite { url, .. } = b.check(&q) else {
            return None;
        };
        // What the tracker receives: the rewritten URL, and under Chromium's
        // default referrer policy only the site's origin as Referer.
        let mut ex = Exchange::get(Source::new("removeparam-check", i as u64), url);
        if let Some(o) = l.page.and_then(origin_of) {
            ex.request_headers
                .push(Header::new("Referer", format!("{o}/")));
        }
        // Health, not the finding: without the original cookies the
        // identifiers could vanish and "no finding" would prove nothing.
        let events = engine.events(&ex).ok()?;
        if events.is_empty()
            || events
                .iter()
                .any(|e| !detector.health.match_event(e).is_empty())
        {
            return None;
        }
    }
    Some(rules)
}
