//! Captured content is hostile. Markup and script payloads go through every
//! channel a capture offers (page URL, title, button text, event names,
//! custom JSON fields, scan step actions and errors), the report is opened in
//! headless Chromium with every name resolving to a loopback sink and a
//! loopback proxy, and we check that no payload became markup, no script ran
//! and no request left the page. The page is checked twice: as written (with
//! its Content-Security-Policy) and with the CSP removed, so escaping alone
//! is shown to hold.

mod common;

use std::path::Path;
use std::time::Duration;

use leakscope_core::scan::{BrowserInfo, LoadFailure, RunInfo, RunStatus, ScanInfo, StepInfo};
use leakscope_report::html;

use common::chromium::{CHROMIUM, dump_dom, requests_from_page, sink};

/// Each payload, if it ran or became markup, would set the title to PWNED
/// and/or fetch from the sink host.
const PAYLOADS: &[&str] = &[
    "<script>document.title='PWNED'</script>",
    "\"><img src=x onerror=\"document.title='PWNED'\">",
    "'><svg onload=document.title='PWNED'>",
    "<img src=\"http://sink.evil.test/img.gif\">",
    "<link rel=stylesheet href=\"http://sink.evil.test/x.css\">",
    "</pre></details></section><iframe src=\"http://sink.evil.test/frame\"></iframe>",
    "javascript:document.title='PWNED'",
    "{{ 7*7 }}{% raw %}<b>tpl</b>",
    "<style>body{background:url(http://sink.evil.test/bg.png)}</style>",
];

fn hostile_capture() -> Vec<u8> {
    let p = PAYLOADS.join(" ");
    let enc = |s: &str| -> String {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect()
    };
    let page = format!("https://clinic.example/hiv-test?q={}", enc(&p));
    let url = format!(
        "https://www.facebook.com/tr/?id=1234567890123456&ev={ev}&dl={dl}&cd[buttonText]={bt}&cd[content_name]={cn}&pmd[title]={t}&ud[em]=jane.canary%40example.com&fbp=fb.1.1.1",
        ev = enc(&format!("Book HIV test {p}")),
        dl = enc(&page),
        bt = enc(&format!("Book HIV test {p}")),
        cn = enc(&format!("{{\"x\":\"{}\"}}", p.replace('"', "'"))),
        t = enc(&format!("HIV testing {p}")),
    );
    let har = serde_json::json!({"log": {"version": "1.2", "creator": {"name": "t", "version": "1"},
    "pages": [{"id": "p1", "title": format!("HIV testing {p}"), "startedDateTime": "2024-01-01T00:00:00Z", "pageTimings": {}}],
    "entries": [{
        "pageref": "p1", "startedDateTime": "2024-01-01T00:00:01Z", "time": 1,
        "request": {"method": "GET", "url": url, "httpVersion": "HTTP/2",
            "headers": [{"name": "Referer", "value": page}], "queryString": [], "cookies": [],
            "headersSize": -1, "bodySize": 0},
        "response": {"status": 200, "statusText": "OK", "httpVersion": "HTTP/2", "headers": [], "cookies": [],
            "content": {"size": 0, "mimeType": "image/gif"}, "redirectURL": "", "headersSize": -1, "bodySize": 0},
        "cache": {}, "timings": {"send": 0, "wait": 1, "receive": 0}
    }]}});
    serde_json::to_vec(&har).expect("har")
}

fn hostile_results() -> leakscope_report::Results {
    let mut r = common::analyze_bytes(&hostile_capture(), &format!("captures/{}.har", PAYLOADS[0]));
    assert!(
        !r.findings.is_empty(),
        "the hostile capture must produce a finding to render"
    );
    let p = PAYLOADS.join(" ");
    let step = format!("run/1-{}", PAYLOADS[1]);
    for f in &mut r.findings {
        f.step = Some(step.clone());
    }
    r.scan = Some(ScanInfo {
        runs: vec![RunInfo {
            name: format!("run {p}"),
            site: format!("clinic.example {p}"),
            consent: format!("none {p}"),
            consent_note: Some(p.clone()),
            device: "desktop".into(),
            steps: vec![StepInfo {
                id: step,
                action: format!("click \"{p}\""),
                url: format!("https://clinic.example/?{p}"),
                screenshot: Some(format!("../{}", PAYLOADS[3])),
                dom: None,
                at: "2024-01-01T00:00:00Z".into(),
                error: Some(p.clone()),
            }],
            errors: vec![],
            har: None,
            requests: 1,
            // A failure message is captured text too (the browser's error, the URL).
            status: RunStatus::NotLoaded,
            failure: Some(LoadFailure {
                kind: p.clone(),
                message: p.clone(),
            }),
            blocked: 0,
            console_errors: vec![p.clone()],
        }],
        canaries: vec![],
        browser: BrowserInfo {
            product: p.clone(),
            user_agent: p.clone(),
            flags: vec![p.clone()],
        },
        started: p.clone(),
        finished: "2024".into(),
    });
    r
}

fn check_dom(dom: &str, what: &str) {
    assert!(
        dom.contains("<title>leakscope report"),
        "{what}: title changed or page missing:\n{}",
        &dom[..dom.len().min(600)]
    );
    assert!(!dom.contains("PWNED</title>"), "{what}: a script ran");
    let lower = dom.to_ascii_lowercase();
    // Text nodes serialise `<` as `&lt;`, so every raw `<` opens real markup.
    for tag in [
        "<script",
        "<iframe",
        "<link",
        "<img",
        "<svg onload",
        "<b>tpl</b>",
    ] {
        assert!(!lower.contains(tag), "{what}: payload became markup: {tag}");
    }
    for tag in lower
        .split('<')
        .skip(1)
        .map(|t| t.split('>').next().unwrap_or(""))
    {
        assert!(
            !tag.contains("onerror") && !tag.contains("onload") && !tag.contains("javascript:"),
            "{what}: a payload became an attribute: <{tag}>"
        );
    }
    // Exactly one <style>: ours.
    assert_eq!(
        lower.matches("<style").count(),
        1,
        "{what}: an injected <style>"
    );
    // The payloads are there, as text.
    assert!(
        dom.contains("&lt;script&gt;document.title='PWNED'&lt;/script&gt;"),
        "{what}: payload text not shown"
    );
    assert!(
        dom.contains("{{ 7*7 }}"),
        "{what}: template syntax in data was interpreted"
    );
}

#[test]
fn hostile_content_stays_text_and_the_report_makes_no_requests() {
    if !Path::new(CHROMIUM).exists() {
        panic!("{CHROMIUM} is missing: run scripts/setup.sh");
    }
    let r = hostile_results();
    let page = html::render(&r, &html::Assets::default()).expect("renders");
    let t = tempfile::tempdir().expect("tmp");
    let with_csp = t.path().join("report.html");
    std::fs::write(&with_csp, &page).expect("write");
    // Escaping alone, without the CSP's second line of defence.
    let csp_start = page
        .find("<meta http-equiv=\"Content-Security-Policy\"")
        .expect("CSP present");
    let csp_end = csp_start + page[csp_start..].find('>').expect("meta ends") + 1;
    let no_csp = t.path().join("report-no-csp.html");
    std::fs::write(
        &no_csp,
        format!("{}{}", &page[..csp_start], &page[csp_end..]),
    )
    .expect("write");

    let (port, seen) = sink();
    for (file, what) in [(&with_csp, "with CSP"), (&no_csp, "without CSP")] {
        let profile = tempfile::tempdir().expect("profile");
        let dom = dump_dom(file, port, profile.path());
        check_dom(&dom, what);
    }
    // Give a late request a moment to land before judging.
    std::thread::sleep(Duration::from_millis(300));
    let from_page = requests_from_page(&seen);
    assert!(
        from_page.is_empty(),
        "the report made requests: {from_page:#?}"
    );
    let seen = seen.lock().expect("lock").clone();
    assert!(
        !seen.iter().any(|r| r.contains("evil.test")),
        "a payload made a request: {seen:#?}"
    );
}
