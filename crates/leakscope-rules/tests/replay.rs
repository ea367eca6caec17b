//! Rules from findings, replayed against the captures they came from: the
//! built-in demo and the real captures of `../shared/corpus` (read in place;
//! sources and licences in its README).

use std::path::{Path, PathBuf};

use leakscope_core::engine::Engine;
use leakscope_core::model::Exchange;
use leakscope_detect::{Detector, Pipeline, Report};
use leakscope_rules::{BlockList, Blocker, FixPlan, Query, TagFixDb, Verdict, plan};

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus");

fn read(path: &Path) -> (Report, Vec<Exchange>, Engine, Detector) {
    let engine = Engine::new();
    let detector = Detector::new(&[]).unwrap();
    let mut seen = Vec::new();
    let report = {
        let mut pipe = Pipeline::new(&engine, &detector);
        leakscope_ingest::read_path(
            path,
            &path.display().to_string(),
            &mut |ex| {
                pipe.feed(&ex);
                seen.push(ex);
            },
            &mut |_| {},
        )
        .unwrap();
        pipe.finish()
    };
    (report, seen, engine, detector)
}

fn plan_for(path: &Path) -> (Report, Vec<Exchange>, FixPlan) {
    let (report, seen, engine, detector) = read(path);
    let p = plan(
        &report.findings,
        &report.events,
        &seen,
        &engine,
        &detector,
        &TagFixDb::builtin(),
    );
    (report, seen, p)
}

fn demo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../demo/northwind-pharmacy.har")
}

#[test]
fn every_demo_finding_gets_a_rule_that_blocks_it_and_spares_the_site() {
    let (report, seen, p) = plan_for(&demo());
    assert!(!report.findings.is_empty());
    let answered: Vec<&str> = p
        .filters
        .iter()
        .flat_map(|r| r.findings.iter().map(String::as_str))
        .collect();
    for f in &report.findings {
        assert!(
            answered.contains(&f.id.as_str()),
            "no rule for {} ({})",
            f.id,
            f.request_url
        );
    }
    assert!(p.check.passed(), "{:#?}", p.check);
    assert!(p.check.own_origin > 10, "{:?}", p.check);
    assert_eq!(p.check.blocked, p.check.leaking);
    // Scoped to the pharmacy, on the vendors' event endpoints.
    for r in &p.filters {
        assert!(
            r.text.contains("domain=northwind-pharmacy.example"),
            "{}",
            r.text
        );
    }
    assert!(
        p.filters
            .iter()
            .any(|r| r.text.starts_with("||facebook.com/tr^"))
    );

    // Replayed through the whole list as a user would load it: every
    // leaking request is blocked, the site's own requests are not, and the
    // tags' scripts still load.
    let text: String = p.filters.iter().map(|r| format!("{}\n", r.text)).collect();
    let BlockList::Filters(b) = BlockList::parse("filters.txt", &text).unwrap() else {
        panic!("not a filter list")
    };
    let mut own = 0;
    for x in &seen {
        let page = x.page_url.as_deref().unwrap_or(&x.url);
        let v = b.check(&Query {
            url: &x.url,
            source_url: page,
            resource_type: leakscope_rules::resource_type(
                x.resource_type.as_deref().unwrap_or("other"),
                false,
            ),
            method: &x.method,
        });
        let host = url::Url::parse(&x.url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned));
        let own_host = host.is_some_and(|h| h.ends_with("northwind-pharmacy.example"));
        if own_host || x.url.split('?').next().unwrap_or("").ends_with(".js") {
            own += 1;
            assert_eq!(v, Verdict::Allow, "{}", x.url);
        }
    }
    assert!(own > 10);

    // The CSP keeps the tags' scripts and refuses Meta's endpoint.
    let csp = p.csp.as_ref().expect("captures give a CSP");
    assert!(
        csp.sources("script-src")
            .iter()
            .any(|s| s.contains("connect.facebook.net"))
    );
    for d in leakscope_rules::SEND_DIRECTIVES {
        assert!(
            !csp.sources(d)
                .iter()
                .any(|s| s == "https://www.facebook.com"),
            "{d}: {:?}",
            csp.sources(d)
        );
    }
    // Tag-level fixes for every tag that leaked.
    for v in ["meta_pixel", "ga4", "tiktok"] {
        assert!(
            p.tag_fixes.iter().any(|t| t.vendor == v),
            "no tag fix for {v}"
        );
    }
}

#[test]
fn a_rule_on_the_sites_own_host_blocks_its_captured_requests() {
    let (_, seen, _) = plan_for(&demo());
    let b = Blocker::parse("broad.txt", "||northwind-pharmacy.example^\n").unwrap();
    let blocked = seen
        .iter()
        .filter(|x| x.url.contains("northwind-pharmacy.example/"))
        .filter(|x| {
            matches!(
                b.check(&Query {
                    url: &x.url,
                    source_url: x.page_url.as_deref().unwrap_or(&x.url),
                    resource_type: "document",
                    method: &x.method,
                }),
                Verdict::Block { .. }
            )
        })
        .count();
    assert!(blocked > 0);
}

/// Every HAR in the corpus: each finding that a browser rule can answer gets
/// one, every leaking request is blocked, no own-origin request is.
#[test]
fn real_captures_replay_clean() {
    let dir = Path::new(CORPUS).join("health");
    if !dir.is_dir() {
        eprintln!("skipped: {} is not there", dir.display());
        return;
    }
    let mut hars = Vec::new();
    let mut stack = vec![dir];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "har") {
                hars.push(p);
            }
        }
    }
    hars.sort();
    let (mut findings, mut answered, mut leaking, mut own) = (0, 0, 0, 0);
    for h in &hars {
        let (report, _, p) = plan_for(h);
        assert!(p.check.passed(), "{}: {:#?}", h.display(), p.check);
        let ids: Vec<&str> = p
            .filters
            .iter()
            .flat_map(|r| r.findings.iter().map(String::as_str))
            .collect();
        for f in &report.findings {
            findings += 1;
            if ids.contains(&f.id.as_str()) {
                answered += 1;
            } else {
                for u in p.unanswered.iter().filter(|u| u.finding == f.id) {
                    eprintln!("{}: {} {}: {}", h.display(), f.id, u.by, u.why);
                }
                assert!(
                    p.unanswered
                        .iter()
                        .any(|u| u.finding == f.id && u.by == "filters"),
                    "{}: {} neither answered nor explained",
                    h.display(),
                    f.id
                );
            }
        }
        leaking += p.check.leaking;
        own += p.check.own_origin;
    }
    eprintln!(
        "{} captures: {answered}/{findings} findings answered by a rule, {leaking} leaking requests blocked, {own} own-origin requests untouched",
        hars.len()
    );
    assert!(
        findings > 20 && answered * 10 >= findings * 9,
        "{answered}/{findings}"
    );
}

/// A server-side leak (Conversions API) gets no browser rule but gateway
/// policy lines, and those lines are a policy the gateway accepts.
#[test]
fn server_side_findings_get_gateway_lines_the_gateway_accepts() {
    let case = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/cases/kroger-capi-purchase.jsonl");
    let (report, _, p) = plan_for(&case);
    assert!(!report.findings.is_empty());
    assert!(p.filters.is_empty(), "{:?}", p.filters);
    assert_eq!(p.gateway.len(), 1, "{:#?}", p.gateway);
    let g = &p.gateway[0];
    assert_eq!(g.findings.len(), report.findings.len());
    let doc: toml::Value = toml::from_str(&g.toml).expect("TOML");
    let section = toml::to_string(&doc["policy"]).unwrap();
    let policy = leakscope_policy::Policy::from_toml(&section).expect("the gateway accepts it");
    let pixel = g.account_id.as_deref().expect("the pixel id");
    assert!(policy.config().pixels.contains_key(pixel));
    for f in &report.findings {
        assert!(
            p.unanswered
                .iter()
                .any(|u| u.finding == f.id && u.by == "filters"),
            "{} not explained",
            f.id
        );
    }
}
