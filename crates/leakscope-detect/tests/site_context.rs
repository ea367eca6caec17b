//! Site context end to end: who the site is turns identified care-seeking
//! on a health site into findings (`sensitive_site_*`), from the site's own
//! pages, the known-domain list or an override; and real captures of health
//! organisations in `../shared/corpus`, read in place.
//!
//! The corpus holds no capture of a crisis line's contact page (The Markup's
//! `meta-pixel-988` captures have no licence and were not copied); its shape
//! is the fixture `tests/fixtures/cases/site-crisis-line-contact.har`,
//! checked here and in `fixtures_quality.rs`.

use std::path::Path;

use leakscope_core::Engine;
use leakscope_detect::{Detector, Pipeline, Report, Severity, SiteCategory, SiteKnowledge};

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus");

fn cases() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/cases")
}

fn analyse(path: &Path, detector: &Detector) -> Report {
    let engine = Engine::new();
    let mut p = Pipeline::new(&engine, detector);
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    leakscope_ingest::read_path(path, &name, &mut |ex| p.feed(&ex), &mut |_| {})
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    p.finish()
}

#[test]
fn the_crisis_line_contact_form_is_a_critical_finding() {
    let det = Detector::new(&[]).unwrap();
    let r = analyse(&cases().join("site-crisis-line-contact.har"), &det);
    let p = r
        .sites
        .iter()
        .find(|p| p.site == "nightharbor.example")
        .unwrap();
    assert_eq!(p.category, SiteCategory::CrisisMentalHealth);
    let f = r
        .findings
        .iter()
        .find(|f| f.event == "SubscribedButtonClick")
        .expect("the Submit click is a finding");
    assert_eq!(f.rule, "sensitive_site_care_action");
    assert_eq!(f.severity, Severity::Critical);
    assert!(f.health.is_empty(), "no health word: {:?}", f.health);
    for kind in ["first_name", "last_name", "email"] {
        assert!(
            f.identifiers.iter().any(|i| i.kind == kind && i.hashed),
            "{kind} hashed in {:?}",
            f.identifiers
        );
    }
    assert!(f.explanation.contains("crisis line"), "{}", f.explanation);
    assert!(
        f.explanation.contains("My Health My Data"),
        "{}",
        f.explanation
    );
    assert!(f.frameworks.iter().any(|x| x.id == "wa_mhmda"));
    assert_eq!(
        f.site.as_ref().unwrap().category,
        SiteCategory::CrisisMentalHealth
    );
    // Stable ids: the same capture gives the same ids.
    let again = analyse(&cases().join("site-crisis-line-contact.har"), &det);
    let ids = |r: &Report| r.findings.iter().map(|f| f.id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&r), ids(&again));
}

#[test]
fn an_override_decides_who_the_site_is() {
    let news = cases().join("neg-recipes.har");
    let plain = analyse(&news, &Detector::new(&[]).unwrap());
    assert!(plain.findings.is_empty());
    let site = plain.sites[0].site.clone();
    let det = Detector::new(&[])
        .unwrap()
        .with_site_categories(&[(site.clone(), SiteCategory::CrisisMentalHealth)]);
    let r = analyse(&news, &det);
    assert_eq!(r.sites[0].category, SiteCategory::CrisisMentalHealth);
    assert_eq!(r.sites[0].evidence[0].source.as_str(), "override");
    assert!(
        r.findings
            .iter()
            .all(|f| f.rule.starts_with("sensitive_site_")),
        "{:?}",
        r.findings.iter().map(|f| &f.rule).collect::<Vec<_>>()
    );
    assert!(
        !r.findings.is_empty(),
        "identified page views on a crisis line"
    );
    // And the other way: a crisis line said to be no health site.
    let contact = cases().join("site-crisis-line-contact.har");
    let (d, c) =
        SiteKnowledge::parse_override("https://www.nightharbor.example/=non_health").unwrap();
    let r = analyse(
        &contact,
        &Detector::new(&[]).unwrap().with_site_categories(&[(d, c)]),
    );
    assert!(r.findings.is_empty(), "{:?}", r.findings);
}

#[test]
fn not_care_pages_of_a_hospital_stay_out() {
    let det = Detector::new(&[]).unwrap();
    for case in [
        "neg-site-hospital-careers",
        "neg-site-hospital-gift-shop",
        "neg-site-hospital-parking",
        "neg-site-hospital-donation",
    ] {
        let r = analyse(&cases().join(format!("{case}.har")), &det);
        assert_eq!(r.sites[0].category, SiteCategory::Hospital, "{case}");
        assert!(r.findings.is_empty(), "{case}: {:?}", r.findings);
    }
}

#[test]
fn real_health_organisations_in_the_corpus() {
    let corpus = Path::new(CORPUS);
    if !corpus.join("README.md").exists() {
        eprintln!("corpus not present at {CORPUS}: skipped");
        return;
    }
    let det = Detector::new(&[]).unwrap();
    // (capture, site, category, sensitive_site_* findings expected)
    for (file, site, cat, expect_site_findings) in [
        (
            "health/markup-nonprofit-privacy/plannedparenthood.org/requests.har",
            "plannedparenthood.org",
            SiteCategory::ReproductiveHealth,
            true,
        ),
        (
            "health/fb-pixel-inspector/oraquick.requests-merged.har",
            "oraquick.com",
            SiteCategory::HivSexualHealth,
            true,
        ),
        (
            "health/markup-nonprofit-privacy/www.gatewayrehab.org/requests.har",
            "gatewayrehab.org",
            SiteCategory::AddictionTreatment,
            false,
        ),
    ] {
        let r = analyse(&corpus.join(file), &det);
        let p = r
            .sites
            .iter()
            .find(|p| p.site == site)
            .unwrap_or_else(|| panic!("{file}: no profile for {site}"));
        assert_eq!(p.category, cat, "{file}: {}", p.summary());
        let site_findings: Vec<_> = r
            .findings
            .iter()
            .filter(|f| f.rule.starts_with("sensitive_site_"))
            .collect();
        assert_eq!(!site_findings.is_empty(), expect_site_findings, "{file}");
        for f in site_findings {
            // A page view on a special-category site: medium, with its evidence.
            assert_eq!(
                f.rule, "sensitive_site_page_view",
                "{file}: {}",
                f.explanation
            );
            assert_eq!(f.severity, Severity::Medium, "{file}");
            assert!(f.explanation.contains(site), "{}", f.explanation);
        }
        // Findings the health rules made on such a site name it.
        assert!(
            r.findings.iter().all(|f| f.site.is_some()),
            "{file}: every finding on {site} cites the site"
        );
    }
    // A health exchange is not on the list and its pages were not kept:
    // no profile of a health site from nothing.
    let r = analyse(
        &corpus
            .join("health/markup-healthcare-exchange-tracking/minnesota-mnsure.org/requests.har"),
        &det,
    );
    assert!(
        r.findings
            .iter()
            .all(|f| !f.rule.starts_with("sensitive_site_"))
    );
}
