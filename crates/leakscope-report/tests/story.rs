//! What a reader meets first and what a lawyer reads: the headlines at the
//! top, legal frameworks stated once, the glossary, collapsed health
//! evidence, runs whose page never loaded and captures with no request.

mod common;

use leakscope_core::scan::{BrowserInfo, LoadFailure, RunInfo, RunStatus, ScanInfo};
use leakscope_report::{Results, explain, html, story};
use serde_json::{Value, json};

fn har(entries: Vec<Value>) -> Vec<u8> {
    serde_json::to_vec(
        &json!({"log": {"version": "1.2", "creator": {"name": "t", "version": "1"},
        "pages": [], "entries": entries}}),
    )
    .expect("har")
}

fn get(url: &str, cookie: &str) -> Value {
    json!({
        "startedDateTime": "2024-01-01T00:00:01Z", "time": 1,
        "request": {"method": "GET", "url": url, "httpVersion": "HTTP/2",
            "headers": [{"name": "Cookie", "value": cookie}], "queryString": [], "cookies": [],
            "headersSize": -1, "bodySize": 0},
        "response": {"status": 200, "statusText": "OK", "httpVersion": "HTTP/2", "headers": [], "cookies": [],
            "content": {"size": 0, "mimeType": "image/gif"}, "redirectURL": "", "headersSize": -1, "bodySize": 0},
        "cache": {}, "timings": {"send": 0, "wait": 1, "receive": 0}
    })
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The longest stretch of `text` that HTML escaping leaves alone, so it can
/// be searched for in the rendered page.
fn plain_run(text: &str) -> &str {
    text.split(['<', '>', '&', '"', '\'', '/'])
        .max_by_key(|s| s.len())
        .unwrap_or("")
}

#[test]
fn demo_headlines_tell_the_story_in_five_lines() {
    let r = common::demo();
    let lines = story::headlines(&r);
    assert!(
        !lines.is_empty() && lines.len() <= story::MAX_HEADLINES,
        "{lines:#?}"
    );
    // Every recipient that got health information is named, and the totals.
    assert!(lines[0].contains("findings on"), "{lines:#?}");
    for org in ["Meta Platforms", "Google", "TikTok", "LinkedIn"] {
        assert!(
            lines.iter().any(|l| l.contains(org)),
            "{org} missing: {lines:#?}"
        );
    }
    insta::assert_snapshot!(lines.join("\n"));
}

#[test]
fn the_header_says_what_was_analysed_in_words() {
    let r = common::demo();
    let p = story::provenance(&r);
    assert_eq!(
        p,
        "leakscope [version] · analysed 1 capture (demo/northwind-pharmacy.har): 44 requests, 19 tracker events"
    );
    let page = html::render(&r, &html::Assets::default()).expect("renders");
    assert!(
        !page.contains("leakscope-results/1"),
        "schema id in the page"
    );
}

#[test]
fn legal_paragraphs_are_stated_once_and_cited_by_every_finding() {
    let r = common::demo();
    let legal = explain::legal(&r);
    assert!(legal.len() >= 5, "{legal:#?}");
    assert!(r.findings.len() >= 10);
    let page = html::render(&r, &html::Assets::default()).expect("renders");
    for fw in &legal {
        for p in &fw.paragraphs {
            let needle = plain_run(&p.why);
            assert!(needle.len() >= 20, "{needle:?}");
            assert_eq!(
                page.matches(needle).count(),
                1,
                "{} paragraph {:?} not exactly once",
                fw.short,
                p.label
            );
        }
    }
    // Each finding cites every framework it touches, by label.
    for f in &r.findings {
        let refs = explain::legal_refs(f, &legal);
        assert_eq!(refs.len(), f.frameworks.len(), "{}", f.id);
    }
    // HIPAA's reason depends on the page: its variants get letters.
    let hipaa = legal.iter().find(|x| x.id == "hipaa").expect("HIPAA");
    if hipaa.paragraphs.len() > 1 {
        assert_eq!(hipaa.paragraphs[0].label, "HIPAA (a)");
    }
    let total: usize = hipaa.paragraphs.iter().map(|p| p.findings).sum();
    assert_eq!(
        total,
        r.findings
            .iter()
            .filter(|f| f.frameworks.iter().any(|x| x.id == "hipaa"))
            .count()
    );
    let text: Vec<String> = legal
        .iter()
        .flat_map(|fw| {
            fw.paragraphs
                .iter()
                .map(move |p| format!("{} — {} ({} findings)", p.label, fw.name, p.findings))
        })
        .collect();
    insta::assert_snapshot!(text.join("\n"));
}

#[test]
fn the_glossary_explains_the_jargon_the_report_shows() {
    let r = common::demo();
    let terms: Vec<&str> = explain::glossary(&r).iter().map(|(t, _)| *t).collect();
    for t in ["hashed", "c_user", "fbp (_fbp)", "ga_client_id (cid, _ga)"] {
        assert!(terms.contains(&t), "{t} missing from {terms:?}");
    }
    // Nothing the demo does not show.
    assert!(!terms.contains(&"(no en)"), "{terms:?}");
    let (_, hashed) = explain::glossary(&r)
        .into_iter()
        .find(|(t, _)| *t == "hashed")
        .expect("hashed");
    assert!(
        hashed.contains("SHA-256") && hashed.contains("not anonymisation"),
        "{hashed}"
    );
    insta::assert_snapshot!(terms.join("\n"));
}

/// A schema.org product list: the same test in the name, the url and every
/// offer's url, as a shop's JSON-LD repeats it.
fn product_list_capture() -> Vec<u8> {
    let jsonld = json!([{"@type": "ItemList", "itemListElement": [
        {"item": {"name": "HIV test kit", "url": "https://clinic.example/hiv-test-kit",
            "offers": [{"url": "https://clinic.example/hiv-test-kit?o=1"},
                       {"url": "https://clinic.example/hiv-test-kit?o=2"},
                       {"url": "https://clinic.example/hiv-test-kit?o=3"}]}}]}]);
    let url = format!(
        "https://www.facebook.com/tr/?id=1234567890123456&ev=Microdata&dl={}&cd[JSON-LD]={}&fbp=fb.1.1.1",
        enc("https://clinic.example/hiv-test-kit"),
        enc(&jsonld.to_string())
    );
    har(vec![get(&url, "c_user=100000000000001")])
}

#[test]
fn repeated_evidence_collapses_to_one_line_per_term() {
    let r = common::analyze_bytes(&product_list_capture(), "captures/list.har");
    let f = r.findings.first().expect("a finding");
    let raw = f.health.iter().filter(|h| explain::counts(h)).count();
    let lines = explain::health_lines(f);
    assert!(
        lines.len() < raw,
        "{raw} evidence items became {} lines",
        lines.len()
    );
    // No term on two lines.
    let mut keys: Vec<_> = lines.iter().map(|l| (l.category, l.term.clone())).collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), lines.len());
    // The three offers' urls are one field, counted.
    let hiv = lines
        .iter()
        .find(|l| {
            l.fields
                .iter()
                .any(|(x, n)| x.ends_with("offers[i].url") && *n == 3)
        })
        .unwrap_or_else(|| panic!("no offers[i].url ×3 in {lines:#?}"));
    assert!(hiv.count >= 5, "{hiv:#?}");
    assert_eq!(hiv.all.len(), hiv.count);
    assert!(hiv.fields_text(8).contains("offers[i].url ×3"), "{hiv:#?}");
    // The HTML shows the line once with its count, every place behind a toggle.
    let page = html::render(&r, &html::Assets::default()).expect("renders");
    assert!(
        page.contains(&format!("{} places: ", hiv.count)),
        "count missing"
    );
}

fn scan_with(runs: Vec<RunInfo>) -> ScanInfo {
    ScanInfo {
        runs,
        canaries: vec![],
        browser: BrowserInfo {
            product: "Chrome/1".into(),
            user_agent: "ua".into(),
            flags: vec![],
        },
        started: "2026-01-01T00:00:00Z".into(),
        finished: "2026-01-01T00:00:05Z".into(),
    }
}

fn dns_failure(site: &str) -> RunInfo {
    RunInfo {
        site: site.into(),
        consent: "none".into(),
        device: "desktop".into(),
        status: RunStatus::NotLoaded,
        failure: Some(LoadFailure::from_net_error(
            site,
            "net::ERR_NAME_NOT_RESOLVED",
        )),
        ..RunInfo::default()
    }
}

fn not_loaded_results() -> Results {
    let mut r = common::analyze_bytes(&har(vec![]), "scan");
    r.inputs.clear();
    r.scan = Some(scan_with(vec![dns_failure("https://nowhere.invalid/")]));
    r.summary = r.compute_summary();
    r
}

#[test]
fn a_scan_whose_page_never_loaded_never_reads_as_clean() {
    let r = not_loaded_results();
    let lines = story::headlines(&r);
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert!(
        lines[0].starts_with("No page loaded: nothing was checked"),
        "{lines:#?}"
    );
    assert!(
        lines[0].contains("DNS lookup failed for https://nowhere.invalid/"),
        "{lines:#?}"
    );
    let run = &r.scan.as_ref().expect("scan").runs[0];
    assert_eq!(
        story::run_status(run),
        "could not load: DNS lookup failed for https://nowhere.invalid/ (net::ERR_NAME_NOT_RESOLVED)"
    );
    let page = html::render(&r, &html::Assets::default()).expect("renders");
    assert!(
        page.contains("could not load: DNS lookup failed for https:&#x2f;&#x2f;nowhere.invalid")
            || page.contains("could not load: DNS lookup failed for https://nowhere.invalid"),
        "status missing from the HTML"
    );
    assert!(page.contains("No page loaded: nothing was checked"));
    assert!(page.contains("class=\"failed\""));
    // Nothing on the page may read as a clean result.
    for clean in ["No findings", "No health information reached", "<b>0</b>"] {
        assert!(!page.contains(clean), "the page says {clean:?}");
    }
}

#[test]
fn a_scan_with_some_runs_not_loaded_says_which() {
    let mut r = common::demo();
    let ok = RunInfo {
        site: "https://www.northwind-pharmacy.example/".into(),
        consent: "none".into(),
        device: "desktop".into(),
        requests: 44,
        ..RunInfo::default()
    };
    r.scan = Some(scan_with(vec![
        ok,
        dns_failure("https://gone.northwind-pharmacy.invalid/"),
    ]));
    let lines = story::headlines(&r);
    assert!(lines.len() <= story::MAX_HEADLINES);
    assert!(
        lines[0].starts_with("1 of 2 runs could not load"),
        "{lines:#?}"
    );
    assert!(lines[0].contains("gone.northwind-pharmacy.invalid"));
    // The findings of the run that loaded are still told.
    assert!(lines[1].contains("findings on"), "{lines:#?}");
}

#[test]
fn a_capture_with_no_requests_says_so() {
    let r = common::analyze_bytes(&har(vec![]), "captures/empty.har");
    assert_eq!(
        story::headlines(&r),
        vec!["No requests in this capture: nothing was checked.".to_owned()]
    );
    assert_eq!(story::no_events(&r), "No requests in this capture.");
    let page = html::render(&r, &html::Assets::default()).expect("renders");
    assert!(page.contains("No requests in this capture"));
}

#[test]
fn headlines_work_for_any_site_and_vendor() {
    // Every fixture, sites and vendors the headlines were not written for:
    // at most five lines, no line empty, and a finding-free capture never
    // reads as a leak.
    for (name, path) in common::fixture_cases() {
        let r = common::fixture(&path, &name);
        let lines = story::headlines(&r);
        assert!(
            !lines.is_empty() && lines.len() <= story::MAX_HEADLINES,
            "{name}: {lines:#?}"
        );
        assert!(lines.iter().all(|l| !l.trim().is_empty()), "{name}");
        if r.findings.is_empty() {
            assert!(lines[0].starts_with("No "), "{name}: {lines:#?}");
        } else {
            assert!(lines[0].contains("finding"), "{name}: {lines:#?}");
        }
    }
}

#[test]
fn a_tracker_that_ignores_a_refusal_leads_the_story() {
    // A pixel that keeps firing after "Reject all", on any site.
    let page = "https://shop.example/vitamins";
    let mut entries = Vec::new();
    for (n, consent) in ["accepted", "rejected", "rejected"].iter().enumerate() {
        let mut e = get(
            &format!(
                "https://analytics.tiktok.com/api/v2/pixel?sdkid=C1&event=Pageview{n}&url={}",
                enc(page)
            ),
            "",
        );
        e["_consent"] = Value::from(*consent);
        entries.push(e);
        let mut e = get(
            &format!(
                "https://www.facebook.com/tr/?id=1234567890123456&ev=PageView&dl={}",
                enc(page)
            ),
            "",
        );
        e["_consent"] = Value::from(*consent);
        entries.push(e);
    }
    let r = common::analyze_bytes(&har(entries), "scan.har");
    let refusals: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.consent_evidence.is_some())
        .collect();
    assert!(
        !refusals.is_empty(),
        "no consent finding: {:#?}",
        r.findings
    );
    let lines = story::headlines(&r);
    assert!(lines.len() <= story::MAX_HEADLINES, "{lines:#?}");
    for f in refusals {
        let line = lines
            .iter()
            .find(|l| l.starts_with(f.organisation.as_str()))
            .unwrap_or_else(|| panic!("{} not in {lines:#?}", f.organisation));
        assert!(
            line.contains(
                "kept receiving events on shop.example after the visitor refused consent"
            ),
            "{line}"
        );
    }
}

#[test]
fn a_leak_seen_twice_lists_its_occurrences() {
    // Two views of the same page: one finding, both requests listed.
    let url = format!(
        "https://www.facebook.com/tr/?id=1234567890123456&ev=PageView&dl={}&fbp=fb.1.1.1",
        enc("https://clinic.example/hiv-testing")
    );
    let r = common::analyze_bytes(
        &har(vec![
            get(&url, "c_user=100000000000001"),
            get(&url, "c_user=100000000000001"),
        ]),
        "twice.har",
    );
    let with_two: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.occurrences.len() == 2)
        .collect();
    assert_eq!(with_two.len(), 1, "{:#?}", r.findings);
    let text = explain::occurrences_text(with_two[0]).expect("text");
    assert!(text.starts_with("seen 2 times: twice.har#0"), "{text}");
    assert!(text.contains("twice.har#1"), "{text}");
    let page = html::render(&r, &html::Assets::default()).expect("renders");
    assert!(page.contains("seen 2 times: twice.har#0"));
}

#[test]
fn a_ga4_hit_without_an_event_name_is_explained() {
    let url = format!(
        "https://region1.google-analytics.com/g/collect?v=2&tid=G-TEST123&cid=1.2&dl={}",
        enc("https://clinic.example/")
    );
    let r = common::analyze_bytes(&har(vec![get(&url, "")]), "ga.har");
    assert!(
        r.events.iter().any(|e| e.event == "(no en)"),
        "{:#?}",
        r.events
    );
    let g = explain::glossary(&r);
    let (_, text) = g
        .iter()
        .find(|(t, _)| *t == "(no en)")
        .expect("(no en) explained");
    assert!(text.contains("named no event"), "{text}");
}
