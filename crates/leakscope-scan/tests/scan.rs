//! Real Chromium against the made-up sites on loopback (leakscope-sites).
//! Every test is bounded by a timeout; nothing leaves the machine.

use std::time::Duration;

use leakscope_core::Vendor;
use leakscope_core::scan::RunStatus;
use leakscope_detect::{Detector, Pipeline, consent};
use leakscope_scan::{ConsentState, Persona, ScanOptions, ScanOutput, journey, scan};
use leakscope_sites::{PHARMACY_HOST, SiteServer, pharmacy};

const BOUND: Duration = Duration::from_secs(240);

async fn site() -> SiteServer {
    SiteServer::start(pharmacy()).await.expect("loopback site")
}

fn opts(server: &SiteServer, paths: &[&str], states: &[ConsentState]) -> ScanOptions {
    ScanOptions {
        urls: paths.iter().map(|p| server.url(PHARMACY_HOST, p)).collect(),
        consent: states.to_vec(),
        max_pages: 0,
        chrome_args: server.chrome_args(),
        page_timeout: Duration::from_secs(15),
        settle: Duration::from_secs(2),
        ..ScanOptions::default()
    }
}

async fn run(o: ScanOptions) -> ScanOutput {
    tokio::time::timeout(BOUND, scan(o, &mut leakscope_scan::NoProgress))
        .await
        .expect("scan finished in time")
        .expect("scan ran")
}

fn trackers(out: &ScanOutput, consent: &str) -> Vec<String> {
    out.report
        .events
        .iter()
        .filter(|e| e.vendor != Vendor::Other && e.consent.as_deref() == Some(consent))
        .map(|e| {
            format!(
                "{} {} (step {:?}, page {:?})",
                e.vendor.as_str(),
                e.event,
                e.step,
                e.page_url
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn banner_that_gates_trackers_sends_nothing_after_reject() {
    let server = site().await;
    let out = run(opts(
        &server,
        &[leakscope_sites::pharmacy::FIXTURE_CONSENT_RESPECTED],
        &[ConsentState::Reject],
    ))
    .await;
    let run = &out.info.runs[0];
    assert!(
        run.consent_note
            .as_deref()
            .unwrap_or("")
            .contains("reject clicked"),
        "{run:#?}"
    );
    // Only the fixture page is gated: its links lead to the pharmacy, whose
    // TikTok tag ignores the banner.
    let on_fixture = |consent: &str| -> Vec<String> {
        trackers(&out, consent)
            .into_iter()
            .filter(|t| t.contains(leakscope_sites::pharmacy::FIXTURE_CONSENT_RESPECTED))
            .collect()
    };
    assert!(
        on_fixture("rejected").is_empty(),
        "{:?}",
        on_fixture("rejected")
    );
    assert!(on_fixture("none").is_empty(), "{:?}", on_fixture("none"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_banner_in_a_cross_site_frame_is_refused_and_accepted_there() {
    let server = site().await;
    let mut o = opts(
        &server,
        &[leakscope_sites::pharmacy::FIXTURE_CONSENT_FRAME],
        &[ConsentState::Reject, ConsentState::Accept],
    );
    o.parallel = 2;
    o.journey = Some(Vec::new());
    let out = run(o).await;
    let note = |i: usize| out.info.runs[i].consent_note.clone().unwrap_or_default();
    assert!(
        note(0).contains("reject clicked in piano.io"),
        "{:#?}",
        out.info.runs[0]
    );
    assert!(
        note(1).contains("accept clicked in piano.io"),
        "{:#?}",
        out.info.runs[1]
    );
    // The banner came from the consent vendor's own site.
    let frame_seen = out
        .exchanges
        .iter()
        .any(|e| e.url.contains(leakscope_sites::pharmacy::CMP_HOST));
    assert!(frame_seen, "the consent frame was never loaded");
    let meta = |consent: &str| -> Vec<String> {
        trackers(&out, consent)
            .into_iter()
            .filter(|t| t.starts_with("meta_pixel"))
            .collect()
    };
    assert!(meta("rejected").is_empty(), "{:?}", meta("rejected"));
    assert!(meta("none").is_empty(), "{:?}", meta("none"));
    assert!(!meta("accepted").is_empty(), "{:#?}", out.report.events);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tracking_after_reject_is_found_and_the_har_says_the_same() {
    let server = site().await;
    let dir = tempfile::tempdir().unwrap();
    let mut o = opts(
        &server,
        &[leakscope_sites::pharmacy::FIXTURE_CONSENT_IGNORED],
        &[ConsentState::Reject, ConsentState::Accept],
    );
    o.out_dir = Some(dir.path().to_owned());
    let out = run(o).await;
    assert!(!trackers(&out, "rejected").is_empty(), "{:#?}", out.info);
    let ignored: Vec<_> = out
        .report
        .findings
        .iter()
        .filter(|f| f.rule == consent::RULE)
        .collect();
    let vendors: Vec<&str> = ignored.iter().map(|f| f.vendor.as_str()).collect();
    for v in ["meta_pixel", "ga4", "tiktok"] {
        assert!(vendors.contains(&v), "{v} missing from {vendors:?}");
    }
    let meta = ignored
        .iter()
        .find(|f| f.vendor == Vendor::MetaPixel)
        .unwrap();
    let ev = meta.consent_evidence.as_ref().unwrap();
    assert_eq!(ev.state, "rejected");
    assert!(ev.after_refusal.events > 0);
    assert!(
        ev.accepted.as_ref().is_some_and(|a| a.events > 0),
        "{ev:#?}"
    );

    // Evidence on disk, and `analyze` of the HARs gives the same finding ids.
    assert!(dir.path().join("results.json").is_file());
    // The page's session cookie went out with later requests; no HAR keeps it.
    let sent_cookie = server.sink.all().iter().any(|r| {
        r.header("cookie")
            .is_some_and(|c| c.contains(leakscope_sites::pharmacy::FIXTURE_SESSION_COOKIE))
    });
    assert!(sent_cookie, "the fixture's session cookie was never sent");
    for run in &out.info.runs {
        let har = std::fs::read_to_string(dir.path().join(run.har.as_deref().unwrap())).unwrap();
        assert!(
            !har.contains(leakscope_sites::pharmacy::FIXTURE_SESSION_COOKIE),
            "{} keeps the session cookie",
            run.consent
        );
        assert!(
            har.contains("nw_session=[redacted session cookie: "),
            "{}",
            run.consent
        );
    }
    let reject = &out.info.runs[0];
    assert_eq!(reject.har.as_deref(), Some("reject.har"));
    let shot = reject.steps[0].screenshot.as_deref().expect("screenshot");
    assert!(dir.path().join(shot).is_file());
    assert!(
        dir.path()
            .join(reject.steps[0].dom.as_deref().unwrap())
            .is_file()
    );
    let engine = leakscope_core::Engine::new();
    let det = Detector::new(&out.persona.canaries()).unwrap();
    let mut p = Pipeline::new(&engine, &det);
    for run in &out.info.runs {
        let path = dir.path().join(run.har.as_deref().unwrap());
        leakscope_ingest::read_path(
            &path,
            &path.display().to_string(),
            &mut |ex| p.feed(&ex),
            &mut |_| {},
        )
        .unwrap();
    }
    let again = p.finish();
    let ids = |fs: &[leakscope_detect::Finding]| {
        let mut v: Vec<String> = fs.iter().map(|f| f.id.clone()).collect();
        v.sort();
        v
    };
    assert_eq!(ids(&again.findings), ids(&out.report.findings));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn button_text_sent_after_a_click_is_found() {
    let server = site().await;
    let mut o = opts(
        &server,
        &[leakscope_sites::pharmacy::FIXTURE_BUTTON_TEXT],
        &[ConsentState::None],
    );
    o.journey = Some(
        journey::parse(
            "[[step]]\nclick = \"Check my HIV test results\"\n[[step]]\nwait-for-request = \"SubscribedButtonClick\"\ntimeout = 5\n",
            "t.toml",
        )
        .unwrap(),
    );
    let out = run(o).await;
    let f = out
        .report
        .findings
        .iter()
        .find(|f| {
            f.event == "SubscribedButtonClick"
                && f.health.iter().any(|h| h.field.contains("buttonText"))
        })
        .unwrap_or_else(|| panic!("{:#?}", out.report.findings));
    assert!(
        f.step.as_deref().unwrap().contains("click-check-my-hiv"),
        "{f:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn canary_typed_into_a_form_leaks_hashed_and_in_base64() {
    let server = site().await;
    let mut o = opts(&server, &["/pharmacy/refill"], &[ConsentState::None]);
    let dir = tempfile::tempdir().unwrap();
    o.out_dir = Some(dir.path().to_owned());
    let persona = Persona::random();
    o.persona = Some(persona.clone());
    o.journey = Some(
        journey::parse(
            r##"
[[step]]
fill = { "#email" = "{canary.email}", "#phone" = "{canary.phone}" }
[[step]]
click = "Refill prescription"
[[step]]
wait = 1
"##,
            "t.toml",
        )
        .unwrap(),
    );
    let out = run(o).await;
    let chains: Vec<String> = out
        .report
        .findings
        .iter()
        .flat_map(|f| &f.canaries)
        .filter(|c| c.value == persona.email)
        .map(|c| c.chain.clone())
        .collect();
    assert!(chains.iter().any(|c| c.contains("sha256")), "{chains:?}");
    assert!(chains.iter().any(|c| c.contains("base64")), "{chains:?}");
    // Without --submit-forms the form never reached the site's server.
    assert!(
        !server
            .sink
            .all()
            .iter()
            .any(|r| r.method == "POST" && r.target.starts_with("/pharmacy/refill")),
        "the form was submitted"
    );
    // The DOM snapshots keep the typed canary but not the form's CSRF token.
    let mut doms = Vec::new();
    for step in &out.info.runs[0].steps {
        let html = std::fs::read_to_string(dir.path().join(step.dom.as_deref().unwrap())).unwrap();
        assert!(
            !html.contains(leakscope_sites::pharmacy::REFILL_CSRF_TOKEN),
            "{}",
            step.id
        );
        doms.push(html);
    }
    assert!(
        doms.iter()
            .any(|h| h.contains(r#"name="csrf_token" value="[redacted: 32 chars]""#))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_page_is_a_page_error_and_the_scan_goes_on() {
    use axum::Router;
    use axum::response::Html;
    use axum::routing::get;
    let hostile = Router::new()
        .route(
            "/hang",
            get(|| async { Html("<title>x</title><script>for(;;){}</script>") }),
        )
        .route(
            "/ok",
            get(|| async { Html("<title>fine</title><p>fine</p>") }),
        );
    let server =
        SiteServer::start(leakscope_sites::HostRouter::new().host("hostile.test", hostile))
            .await
            .unwrap();
    let o = ScanOptions {
        urls: vec![
            server.url("hostile.test", "/hang"),
            server.url("hostile.test", "/ok"),
        ],
        consent: vec![ConsentState::None],
        max_pages: 0,
        chrome_args: server.chrome_args(),
        page_timeout: Duration::from_secs(4),
        step_timeout: Duration::from_secs(3),
        settle: Duration::from_secs(1),
        ..ScanOptions::default()
    };
    let out = run(o).await;
    assert_eq!(out.info.runs.len(), 2);
    assert!(
        !out.info.runs[0].errors.is_empty(),
        "{:#?}",
        out.info.runs[0]
    );
    // The hanging page checked nothing: not loaded, with the reason.
    let hung = &out.info.runs[0];
    assert_eq!(hung.status, RunStatus::NotLoaded, "{hung:#?}");
    assert_eq!(
        hung.failure.as_ref().map(|f| f.kind.as_str()),
        Some("timeout")
    );
    let ok = &out.info.runs[1];
    assert!(ok.errors.is_empty(), "{ok:#?}");
    assert_eq!(ok.status, RunStatus::Loaded);
    assert!(ok.failure.is_none());
    assert!(ok.steps[0].url.ends_with("/ok"), "{ok:#?}");
    assert!(out.info.loaded_any());
}

/// What `leakscope demo` does: the whole pharmacy, every consent state.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_pharmacy_in_every_state() {
    let server = site().await;
    let mut o = opts(&server, &["/"], &ConsentState::ALL);
    o.max_pages = 5;
    let out = run(o).await;
    let f = &out.report.findings;
    for v in [Vendor::MetaPixel, Vendor::Ga4, Vendor::Tiktok] {
        assert!(
            f.iter()
                .any(|x| x.vendor == v && x.rule != consent::RULE && !x.health.is_empty()),
            "no health finding for {v:?}"
        );
    }
    assert!(f.iter().any(|x| !x.canaries.is_empty()), "no canary leak");
    let ignored: Vec<String> = f
        .iter()
        .filter(|x| x.rule == consent::RULE)
        .map(|x| {
            format!(
                "{} {} {}",
                x.severity,
                x.vendor.as_str(),
                x.context.consent.as_deref().unwrap_or("")
            )
        })
        .collect();
    assert!(
        ignored.iter().any(|s| s.contains("tiktok rejected")),
        "{ignored:?}"
    );
    let mut by_rule = std::collections::BTreeMap::<String, usize>::new();
    for x in f {
        *by_rule
            .entry(format!("{} {}", x.severity, x.vendor.as_str()))
            .or_default() += 1;
    }
    for r in &out.info.runs {
        eprintln!(
            "run {}: {} steps, {} requests, {} errors; {}",
            r.consent,
            r.steps.len(),
            r.requests,
            r.errors.len(),
            r.consent_note.as_deref().unwrap_or("")
        );
    }
    eprintln!("findings by severity/vendor: {by_rule:?}");
    eprintln!("consent.ignored: {ignored:?}");
}

/// A page without a banner does not hold the journey up; a banner that
/// appears later is still answered while the journey goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_banner_does_not_block_the_journey_and_is_still_answered() {
    let server = site().await;
    let mut o = opts(
        &server,
        &[pharmacy::FIXTURE_CONSENT_DELAYED],
        &[ConsentState::Reject, ConsentState::Accept],
    );
    o.parallel = 2;
    let wait = Duration::from_millis(u64::from(pharmacy::CONSENT_DELAY_MS) + 3000);
    o.journey = Some(
        journey::parse(
            &format!("[[step]]\nwait = {}\n", wait.as_secs_f64().ceil()),
            "t.toml",
        )
        .unwrap(),
    );
    let out = run(o).await;
    for (i, state) in ["rejected", "accepted"].into_iter().enumerate() {
        let run = &out.info.runs[i];
        // The consent step moved on before the banner existed…
        let step = run
            .steps
            .iter()
            .find(|s| s.action.starts_with("consent"))
            .unwrap_or_else(|| panic!("{run:#?}"));
        assert!(
            step.action.contains("no consent banner found"),
            "{state}: {step:#?}"
        );
        // …and the banner was answered when it came.
        let note = run.consent_note.clone().unwrap_or_default();
        let verb = if state == "rejected" {
            "reject"
        } else {
            "accept"
        };
        assert!(note.contains(&format!("{verb} clicked")), "{state}: {note}");
    }
    // The gated tags fire only once the late "Accept" was clicked.
    assert!(
        trackers(&out, "rejected").is_empty(),
        "{:?}",
        trackers(&out, "rejected")
    );
    assert!(
        !trackers(&out, "accepted").is_empty(),
        "{:#?}",
        out.info.runs[1]
    );
}
