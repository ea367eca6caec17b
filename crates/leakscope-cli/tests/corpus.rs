//! The engine on the whole shared corpus of real captured traffic:
//! every capture reads and decodes, and leakscope finds every Meta Pixel
//! event that Blacklight labelled in the same capture.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use leakscope_core::{Analysis, Engine, Event, Vendor};

fn corpus() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/corpus"
    ))
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut items: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    items.sort();
    for p in items {
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// Capture files: everything but labels (Blacklight inspections, the label
/// CSV) and the corpus's own metadata.
fn captures() -> Vec<PathBuf> {
    let mut all = Vec::new();
    walk(&corpus(), &mut all);
    all.into_iter()
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            !(name.ends_with("inspection.json")
                || name.ends_with(".csv")
                || name.ends_with(".md")
                || name == "manifest.json"
                || name == "vendor_counts.json"
                || name == "meta_pixel_urls.sources.tsv")
        })
        .collect()
}

fn analyze(engine: &Engine, path: &Path) -> (Analysis, u64) {
    let label = path.strip_prefix(corpus()).unwrap().display().to_string();
    let mut analyzer = engine.analyzer();
    let mut warnings = 0;
    leakscope_ingest::read_path(path, &label, &mut |ex| analyzer.feed(&ex), &mut |w| {
        eprintln!("warning: {w}");
        warnings += 1;
    })
    .unwrap_or_else(|e| panic!("{label}: {e}"));
    (analyzer.finish(), warnings)
}

#[test]
fn whole_corpus_analyzes_without_error() {
    let engine = Engine::new();
    let files = captures();
    assert!(
        files.len() >= 50,
        "expected the corpus captures, found {}",
        files.len()
    );
    let mut totals: BTreeMap<Vendor, usize> = BTreeMap::new();
    let mut requests = 0;
    let mut decode_errors = Vec::new();
    let mut empty = 0;
    for f in &files {
        let (a, _warnings) = analyze(&engine, f);
        requests += a.exchanges;
        for e in &a.events {
            *totals.entry(e.vendor).or_default() += 1;
        }
        for e in &a.errors {
            match e.kind {
                leakscope_core::DecodeErrorKind::Malformed => decode_errors.push(e.to_string()),
                leakscope_core::DecodeErrorKind::Empty => empty += 1,
            }
        }
    }
    println!(
        "corpus: {} files, {} requests, {} events",
        files.len(),
        requests,
        totals.values().sum::<usize>()
    );
    for (v, n) in &totals {
        println!("  {:<18} {n:>6}", v.as_str());
    }
    println!(
        "{empty} tracker requests carried nothing to decode (truncated list URLs, bodies not captured)"
    );
    for e in &decode_errors {
        println!("decode error: {e}");
    }
    assert!(requests > 40_000, "read {requests} requests");
    for v in [
        Vendor::MetaPixel,
        Vendor::Ga4,
        Vendor::GoogleUa,
        Vendor::GoogleAds,
        Vendor::Tiktok,
        Vendor::Linkedin,
        Vendor::Pinterest,
        Vendor::Snap,
        Vendor::Bing,
        Vendor::X,
        Vendor::Adobe,
        Vendor::Hotjar,
    ] {
        assert!(
            totals.get(&v).copied().unwrap_or(0) > 0,
            "no {v} events in the whole corpus"
        );
    }
    assert!(
        decode_errors.is_empty(),
        "{} decode errors",
        decode_errors.len()
    );
}

/// `(pixel id, event, ts)` of a pixel URL: the identity of one pixel event.
fn pixel_key(url: &str) -> Option<(String, String, String)> {
    let q = url.split_once('?')?.1;
    let mut id = String::new();
    let mut ev = String::new();
    let mut ts = String::new();
    for (k, v) in url::form_urlencoded::parse(q.as_bytes()) {
        match &*k {
            "id" if id.is_empty() => id = v.into_owned(),
            "ev" if ev.is_empty() => ev = v.into_owned(),
            "ts" if ts.is_empty() => ts = v.into_owned(),
            _ => {}
        }
    }
    Some((id, ev, ts))
}

fn event_key(e: &Event) -> (String, String, String) {
    let ts = e
        .raw
        .iter()
        .find(|(k, _)| k == "ts")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    (
        e.account_id.clone().unwrap_or_default(),
        e.event.clone(),
        ts,
    )
}

#[test]
fn finds_every_meta_pixel_event_blacklight_found() {
    let engine = Engine::new();
    let mut inspections = Vec::new();
    walk(&corpus(), &mut inspections);
    inspections.retain(|p| {
        p.file_name().is_some_and(|n| n == "inspection.json")
            && p.with_file_name("requests.har").exists()
    });
    assert!(
        inspections.len() >= 30,
        "found {} inspections",
        inspections.len()
    );
    let (mut labelled, mut found, mut beyond) = (0, 0, 0);
    for insp in &inspections {
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(insp).unwrap()).unwrap();
        let labels: BTreeSet<_> = v["reports"]["fb_pixel_events"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|e| e["raw"].as_str().and_then(pixel_key))
                    .collect()
            })
            .unwrap_or_default();
        let (a, _) = analyze(&engine, &insp.with_file_name("requests.har"));
        let ours: BTreeSet<_> = a
            .events
            .iter()
            .filter(|e| e.vendor == Vendor::MetaPixel)
            .map(event_key)
            .collect();
        let site = insp
            .parent()
            .unwrap()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .to_string();
        let missing: Vec<_> = labels.difference(&ours).collect();
        assert!(
            missing.is_empty(),
            "{site}: Blacklight labelled pixel events leakscope missed: {missing:?}"
        );
        // Twins are reported once: no pixel event appears twice.
        let pixel_events = a
            .events
            .iter()
            .filter(|e| e.vendor == Vendor::MetaPixel)
            .count();
        assert_eq!(
            pixel_events,
            ours.len(),
            "{site}: a pixel event was counted twice"
        );
        labelled += labels.len();
        found += labels.len();
        let extra: Vec<_> = a
            .events
            .iter()
            .filter(|e| e.vendor == Vendor::MetaPixel && !labels.contains(&event_key(e)))
            .collect();
        for e in &extra {
            println!(
                "{site}: beyond Blacklight: {} {} via {} {}",
                e.event,
                e.account_id.as_deref().unwrap_or("-"),
                e.method,
                e.transport.format
            );
        }
        beyond += extra.len();
    }
    println!(
        "Blacklight recall: {found}/{labelled} labelled pixel events (100%); {beyond} more pixel events found beyond its labels"
    );
    assert!(labelled > 50);
}

/// Findings over one capture, with the full detector pipeline.
fn findings(path: &str) -> Vec<leakscope_detect::Finding> {
    let engine = Engine::new();
    let detector = leakscope_detect::Detector::new(&[]).unwrap();
    let mut p = leakscope_detect::Pipeline::new(&engine, &detector);
    let full = corpus().join(path);
    leakscope_ingest::read_path(&full, path, &mut |ex| p.feed(&ex), &mut |_| {})
        .unwrap_or_else(|e| panic!("{path}: {e}"));
    p.finish().findings
}

fn counted_categories(f: &leakscope_detect::Finding) -> Vec<&'static str> {
    f.health
        .iter()
        .filter(|h| h.strength == leakscope_detect::Strength::Strong || !h.signals.is_empty())
        .map(|h| h.category.as_str())
        .collect()
}

/// A finding at or above `min` whose health evidence includes `category`
/// (and `term`, when given).
fn assert_finding(path: &str, min: leakscope_detect::Severity, category: &str, term: Option<&str>) {
    let fs = findings(path);
    let hit = fs.iter().find(|f| {
        f.severity >= min
            && counted_categories(f).contains(&category)
            && term.is_none_or(|t| f.health.iter().any(|h| h.term == t))
    });
    match hit {
        Some(f) => println!(
            "{path}: {} {} {} on {}",
            f.severity,
            f.vendor,
            f.event,
            f.page_url.as_deref().unwrap_or("?")
        ),
        None => panic!(
            "{path}: no finding >= {min} with {category} {term:?}; got {:?}",
            fs.iter()
                .map(|f| (f.severity, counted_categories(f)))
                .collect::<Vec<_>>()
        ),
    }
}

#[test]
fn health_captures_yield_findings() {
    use leakscope_detect::Severity::*;
    // At-home fertility, HIV and pregnancy test shops, browsed logged in to Facebook.
    assert_finding(
        "health/fb-pixel-inspector/mylabbox.requests-merged.har",
        Critical,
        "repro.fertility",
        None,
    );
    assert_finding(
        "health/fb-pixel-inspector/oraquick.requests-merged.har",
        Critical,
        "sexual.sti_hiv",
        None,
    );
    assert_finding(
        "health/fb-pixel-inspector/personalabs.requests-merged.har",
        Critical,
        "repro.pregnancy",
        None,
    );
    // Cancer and heart-failure pages.
    assert_finding(
        "health/markup-nonprofit-privacy/cityofhope.org/requests.har",
        Critical,
        "condition.diagnosis",
        None,
    );
    assert_finding(
        "health/markup-high-cost-of-free/www.everydayhealth.com/requests.har",
        High,
        "condition.diagnosis",
        Some("heart failure"),
    );
    // Reproductive health and addiction treatment.
    assert_finding(
        "health/markup-nonprofit-privacy/www.ppgulfcoast.org/requests.har",
        Critical,
        "repro.contraception",
        None,
    );
    assert_finding(
        "health/markup-nonprofit-privacy/www.gatewayrehab.org/requests.har",
        High,
        "substance.use",
        None,
    );
    // State exchanges: the corpus holds page loads only (no drug searches), so
    // what reaches the trackers is coverage shopping, tied to ad cookies.
    for ex in [
        "idaho-yourhealthidaho.org",
        "new-mexico-bewellnm.com",
        "connecticut-accesshealthct.com",
    ] {
        assert_finding(
            &format!("health/markup-healthcare-exchange-tracking/{ex}/requests.har"),
            Medium,
            "insurance.billing",
            None,
        );
    }
}

#[test]
fn non_health_controls_yield_nothing_above_low() {
    let mut controls = vec![
        "health/markup-high-cost-of-free/usmint.gov/requests.har".to_owned(),
        "health/markup-high-cost-of-free/www.suntrust.com/requests.har".to_owned(),
    ];
    for dir in ["general", "edtech"] {
        let mut files = Vec::new();
        walk(&corpus().join(dir), &mut files);
        for f in files {
            let name = f.file_name().unwrap().to_string_lossy().to_string();
            if name.ends_with(".har") || name.contains("devtoolslog") || name.contains("perflog") {
                controls.push(f.strip_prefix(corpus()).unwrap().display().to_string());
            }
        }
    }
    assert!(controls.len() >= 18, "{controls:?}");
    for c in &controls {
        let bad: Vec<_> = findings(c)
            .into_iter()
            .filter(|f| f.severity >= leakscope_detect::Severity::Medium)
            .map(|f| (f.severity, counted_categories(&f), f.event, f.page_url))
            .collect();
        assert!(bad.is_empty(), "{c}: {bad:?}");
    }
    println!(
        "{} non-health controls: no finding at medium or above",
        controls.len()
    );
}
