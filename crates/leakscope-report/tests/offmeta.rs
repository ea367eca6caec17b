//! The offmeta report in headless Chromium: a made-up person's export with
//! a hostile business name renders its health businesses, letters and
//! steps; the name stays text; the page makes no request at all.

use std::path::Path;
use std::time::Duration;

use leakscope_offmeta::{Business, Classifier, Limits, analyze, read};
use leakscope_report::offmeta::{Jurisdiction, html};

mod common;
use common::chromium::{CHROMIUM, dump_dom, requests_from_page, sink};

#[test]
fn offmeta_report_in_chromium_shows_the_findings_and_sends_nothing() {
    if !Path::new(CHROMIUM).exists() {
        panic!("{CHROMIUM} is missing: run scripts/setup.sh");
    }
    let zip = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/offmeta/v2-2023/export.zip");
    let mut export = read(&zip, &Limits::default()).expect("fixture reads");
    // Business names come from the export: hostile text must stay text.
    export.businesses.push(Business {
        name: "<img src=http://evil.test/p.png> Pharmacy</title><script>document.title='PWNED'</script>".into(),
        events: vec![("PURCHASE".into(), 1_700_000_000)],
    });
    let report = analyze(export, &Classifier::builtin());
    let page = html(&report, Jurisdiction::Gdpr, "Jane Canary").expect("renders");
    let t = tempfile::tempdir().expect("tmp");
    let file = t.path().join("offmeta.html");
    std::fs::write(&file, &page).expect("write");
    let (port, seen) = sink();
    let profile = tempfile::tempdir().expect("profile");
    let dom = dump_dom(&file, port, profile.path());
    assert!(
        dom.contains("<title>Who told Meta about you"),
        "{}",
        &dom[..dom.len().min(400)]
    );
    for want in [
        "CVS Pharmacy",
        "BetterHelp",
        "Accounts Centre",
        "Article 17 GDPR",
        "Request to delete my personal data: Jane Canary",
    ] {
        assert!(dom.contains(want), "missing {want}");
    }
    let lower = dom.to_ascii_lowercase();
    assert!(!lower.contains("<img"), "a payload became markup");
    assert!(!lower.contains("<script"), "a script in the page");
    std::thread::sleep(Duration::from_millis(300));
    let from_page = requests_from_page(&seen);
    assert!(
        from_page.is_empty(),
        "the page made requests: {from_page:#?}"
    );
}
