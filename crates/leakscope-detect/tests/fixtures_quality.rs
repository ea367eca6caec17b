//! leakscope's own fixture suite (tests/fixtures/cases, written by
//! scripts/gen-fixtures.py): made-up people on realistic captures.
//!
//! For every case it checks (a) the exact expected findings: each one present
//! (vendor, event, entry, severity at least `min_severity`, categories among
//! the finding's counted health categories) and nothing else above
//! `max_severity_elsewhere`; and (b) the quality figures: precision and recall
//! per health category over the hand-labelled events, printed as a table,
//! with (c) the micro-averaged figures held to the thresholds below; (d) the
//! site profile a case expects (`"site"`: category, least confidence); and
//! (e) precision and recall of findings (an expected finding found is a true
//! positive, one missing a false negative, an unexpected finding above the
//! case's ceiling a false positive), with and without the site-context rules
//! (`sensitive_site_*`), so the table shows what site context adds.
//!
//! Run `scripts/quality.sh` to see the table; set
//! `LEAKSCOPE_FIXTURE_DUMP=<case name>` to print that case's decoded events.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use leakscope_core::{Engine, Event};
use leakscope_detect::{
    Detector, Finding, HealthEvidence, Pipeline, Severity, SiteProfile, Strength,
};
use serde_json::Value;

/// Micro-averaged precision the health detector must reach on the suite.
const MIN_MICRO_PRECISION: f64 = 0.9;
/// Micro-averaged recall the health detector must reach on the suite.
const MIN_MICRO_RECALL: f64 = 0.8;

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/cases")
}

/// Evidence that counts toward a verdict: strong terms, or weak ones with a
/// second signal (the same rule as `verdict::judge`).
fn counts(e: &HealthEvidence) -> bool {
    e.strength == Strength::Strong || !e.signals.is_empty()
}

fn categories(evidence: &[HealthEvidence]) -> BTreeSet<String> {
    evidence
        .iter()
        .filter(|e| counts(e))
        .map(|e| e.category.as_str().to_owned())
        .collect()
}

/// One case: the capture beside `<name>.expected.json`.
struct Case {
    name: String,
    capture: PathBuf,
    expected: Value,
}

fn load_cases() -> Vec<Case> {
    let dir = cases_dir();
    let mut out = Vec::new();
    let entries = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}; run scripts/gen-fixtures.py", dir.display()));
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str().map(str::to_owned))
        .filter_map(|f| f.strip_suffix(".expected.json").map(str::to_owned))
        .collect();
    names.sort();
    for name in names {
        let capture = ["har", "jsonl"]
            .iter()
            .map(|ext| dir.join(format!("{name}.{ext}")))
            .find(|p| p.exists())
            .unwrap_or_else(|| {
                panic!("{name}: no {name}.har or {name}.jsonl beside the expectations")
            });
        let text = std::fs::read_to_string(dir.join(format!("{name}.expected.json")))
            .unwrap_or_else(|e| panic!("{name}.expected.json: {e}"));
        let expected: Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}.expected.json: {e}"));
        out.push(Case {
            name,
            capture,
            expected,
        });
    }
    assert!(
        !out.is_empty(),
        "no fixture cases in {}; run scripts/gen-fixtures.py",
        dir.display()
    );
    out
}

fn analyse(
    case: &Case,
    engine: &Engine,
    detector: &Detector,
    problems: &mut Vec<String>,
) -> (Vec<Event>, Vec<Finding>, Vec<SiteProfile>) {
    let mut pipeline = Pipeline::new(engine, detector);
    let file = case
        .capture
        .file_name()
        .and_then(|f| f.to_str())
        .unwrap_or("capture")
        .to_owned();
    let mut warnings = Vec::new();
    leakscope_ingest::read_path(
        &case.capture,
        &file,
        &mut |ex| pipeline.feed(&ex),
        &mut |w| warnings.push(w.to_string()),
    )
    .unwrap_or_else(|e| panic!("{}: {e}", case.name));
    for w in warnings {
        problems.push(format!("{}: ingest warning: {w}", case.name));
    }
    let report = pipeline.finish();
    for e in &report.errors {
        problems.push(format!("{}: decode error: {e}", case.name));
    }
    (report.events, report.findings, report.sites)
}

/// (d) The site profile the case expects, if it names one.
fn check_site(case: &Case, sites: &[SiteProfile], problems: &mut Vec<String>) {
    let Some(want) = case.expected.get("site") else {
        return;
    };
    let name = &case.name;
    let site = str_of(want, "site");
    let Some(p) = sites.iter().find(|p| p.site == site) else {
        problems.push(format!("{name}: no site profile for {site}"));
        return;
    };
    let min = match str_of(want, "min_confidence") {
        "high" => leakscope_detect::Confidence::High,
        "medium" => leakscope_detect::Confidence::Medium,
        _ => leakscope_detect::Confidence::Low,
    };
    if p.category.as_str() != str_of(want, "category") || p.confidence < min {
        problems.push(format!(
            "{name}: expected {site} to be {} (≥ {min:?}), got {}",
            str_of(want, "category"),
            p.summary()
        ));
    }
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

fn severity_of(v: &Value, key: &str, case: &str) -> Option<Severity> {
    v.get(key).and_then(Value::as_str).map(|s| {
        Severity::parse(s).unwrap_or_else(|| panic!("{case}: {key}: unknown severity {s:?}"))
    })
}

fn cats_of(v: &Value) -> BTreeSet<String> {
    v.get("categories")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn describe(f: &Finding) -> String {
    format!(
        "{} {} entry {} [{}] ({})",
        f.vendor.as_str(),
        f.event,
        f.source.entry,
        f.severity,
        categories(&f.health)
            .into_iter()
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// (a) The expected findings, and nothing else above the ceiling. Returns
/// the finding-level tally (e).
fn check_findings(case: &Case, findings: &[Finding], problems: &mut Vec<String>) -> Tally {
    let mut tally = Tally::default();
    let name = &case.name;
    let expected = case
        .expected
        .get("findings")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let ceiling = severity_of(&case.expected, "max_severity_elsewhere", name)
        .or_else(|| severity_of(&case.expected, "max_severity", name))
        .unwrap_or(Severity::Low);
    let mut claimed = vec![false; findings.len()];
    for want in &expected {
        let vendor = str_of(want, "vendor");
        let event = str_of(want, "event");
        let entry = want.get("entry").and_then(Value::as_u64);
        let min = severity_of(want, "min_severity", name).unwrap_or(Severity::Low);
        let cats = cats_of(want);
        let rule = want.get("rule").and_then(Value::as_str);
        let candidates: Vec<usize> = findings
            .iter()
            .enumerate()
            .filter(|(_, f)| {
                f.vendor.as_str() == vendor
                    && f.event == event
                    // One finding per id: a repeated request is an occurrence.
                    && entry.is_none_or(|e| {
                        f.source.entry == e || f.occurrences.iter().any(|o| o.source.entry == e)
                    })
            })
            .map(|(i, _)| i)
            .collect();
        let good = candidates.iter().copied().find(|&i| {
            let f = &findings[i];
            f.severity >= min
                && cats.is_subset(&categories(&f.health))
                && rule.is_none_or(|r| f.rule == r)
        });
        if good.is_some() {
            tally.tp += 1;
        } else {
            tally.fn_ += 1;
        }
        let at = entry.map_or(String::new(), |e| format!(" entry {e}"));
        let want_cats = cats.iter().cloned().collect::<Vec<_>>().join(", ");
        match (good, candidates.first()) {
            (Some(i), _) => claimed[i] = true,
            (None, Some(&i)) => {
                claimed[i] = true;
                problems.push(format!(
                    "{name}: expected {vendor} {event}{at} ≥ {min} with [{want_cats}], got {}",
                    describe(&findings[i])
                ));
            }
            (None, None) => problems.push(format!(
                "{name}: MISSING finding {vendor} {event}{at} ≥ {min} with [{want_cats}]"
            )),
        }
    }
    for (i, f) in findings.iter().enumerate() {
        if !claimed[i] && f.severity > ceiling {
            tally.fp += 1;
            problems.push(format!(
                "{name}: UNEXPECTED {} above {ceiling}: {}",
                describe(f),
                f.explanation
            ));
        }
    }
    tally
}

#[derive(Default, Clone, Copy)]
struct Tally {
    tp: u64,
    fp: u64,
    fn_: u64,
}

impl Tally {
    fn add(&mut self, t: Tally) {
        self.tp += t.tp;
        self.fp += t.fp;
        self.fn_ += t.fn_;
    }
}

fn ratio(num: u64, den: u64) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

fn fmt_ratio(r: Option<f64>) -> String {
    r.map_or("   n/a".to_owned(), |r| format!("{r:>6.3}"))
}

/// (b) Labelled categories against predicted ones, event by event.
fn tally_case(
    case: &Case,
    events: &[Event],
    detector: &Detector,
    tallies: &mut BTreeMap<String, Tally>,
    problems: &mut Vec<String>,
    misses: &mut Vec<String>,
) -> u64 {
    let name = &case.name;
    // (entry, vendor, event) -> labelled categories.
    let mut labels: BTreeMap<(u64, String, String), BTreeSet<String>> = BTreeMap::new();
    for l in case
        .expected
        .get("labels")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
    {
        let entry = l.get("entry").and_then(Value::as_u64).unwrap_or(u64::MAX);
        labels
            .entry((
                entry,
                str_of(&l, "vendor").to_owned(),
                str_of(&l, "event").to_owned(),
            ))
            .or_default()
            .extend(cats_of(&l));
    }
    let mut seen = BTreeSet::new();
    let mut n = 0;
    for ev in events {
        let key = (
            ev.source.entry,
            ev.vendor.as_str().to_owned(),
            ev.event.clone(),
        );
        let Some(truth) = labels.get(&key) else {
            // Every tracker event must be labelled, or the figures mean nothing.
            problems.push(format!(
                "{name}: UNLABELLED event {} {} at entry {} (add a label in scripts/gen-fixtures.py)",
                key.1, key.2, key.0
            ));
            continue;
        };
        seen.insert(key.clone());
        n += 1;
        let predicted = categories(&detector.health.match_event(ev));
        for c in truth.union(&predicted) {
            let t = tallies.entry(c.clone()).or_default();
            match (truth.contains(c), predicted.contains(c)) {
                (true, true) => t.tp += 1,
                (false, true) => {
                    t.fp += 1;
                    misses.push(format!(
                        "FP {c:<22} {name} entry {} {} {}",
                        key.0, key.1, key.2
                    ));
                }
                (true, false) => {
                    t.fn_ += 1;
                    misses.push(format!(
                        "FN {c:<22} {name} entry {} {} {}",
                        key.0, key.1, key.2
                    ));
                }
                (false, false) => {}
            }
        }
    }
    for key in labels.keys() {
        if !seen.contains(key) {
            problems.push(format!(
                "{name}: label for {} {} at entry {} matches no decoded event",
                key.1, key.2, key.0
            ));
        }
    }
    n
}

#[test]
fn fixture_suite_findings_and_quality() {
    let engine = Engine::new();
    let detector = Detector::new(&[]).expect("built-in detector");
    let cases = load_cases();
    let mut problems = Vec::new();
    let mut tallies: BTreeMap<String, Tally> = BTreeMap::new();
    let mut misses = Vec::new();
    let mut labelled = 0;
    // Finding-level tallies: all rules, and without the site-context rules
    // (what leakscope found before site context).
    let mut with_site = Tally::default();
    let mut without_site = Tally::default();
    println!("\nleakscope fixture suite: {} cases", cases.len());
    for case in &cases {
        let before = problems.len();
        let (events, findings, sites) = analyse(case, &engine, &detector, &mut problems);
        if std::env::var_os("LEAKSCOPE_FIXTURE_DUMP").is_some_and(|v| v == case.name.as_str()) {
            // Debugging a case: every decoded event, as the detectors see it.
            for ev in &events {
                println!("{}", serde_json::to_string(ev).unwrap_or_default());
            }
        }
        let t = check_findings(case, &findings, &mut problems);
        with_site.add(t);
        let health_only: Vec<Finding> = findings
            .iter()
            .filter(|f| !f.rule.starts_with("sensitive_site_"))
            .cloned()
            .collect();
        without_site.add(check_findings(case, &health_only, &mut Vec::new()));
        check_site(case, &sites, &mut problems);
        let site = sites
            .iter()
            .filter(|p| p.is_sensitive())
            .map(|p| format!("{} {} ({})", p.site, p.category, p.confidence.as_str()))
            .collect::<Vec<_>>()
            .join(", ");
        labelled += tally_case(
            case,
            &events,
            &detector,
            &mut tallies,
            &mut problems,
            &mut misses,
        );
        let status = if problems.len() == before {
            "ok"
        } else {
            "FAIL"
        };
        println!(
            "  {status:<4} {:<32} {:>3} events {:>3} findings (max {}){}",
            case.name,
            events.len(),
            findings.len(),
            findings
                .iter()
                .map(|f| f.severity)
                .max()
                .map_or("-".to_owned(), |s| s.to_string()),
            if site.is_empty() {
                String::new()
            } else {
                format!("  site: {site}")
            }
        );
    }

    println!("\nQuality per category over {labelled} labelled events");
    println!(
        "{:<24} {:>5} {:>5} {:>5} {:>9} {:>7}",
        "category", "TP", "FP", "FN", "precision", "recall"
    );
    let mut total = Tally::default();
    for (cat, t) in &tallies {
        total.tp += t.tp;
        total.fp += t.fp;
        total.fn_ += t.fn_;
        println!(
            "{cat:<24} {:>5} {:>5} {:>5} {:>9} {:>7}",
            t.tp,
            t.fp,
            t.fn_,
            fmt_ratio(ratio(t.tp, t.tp + t.fp)),
            fmt_ratio(ratio(t.tp, t.tp + t.fn_))
        );
    }
    let precision = ratio(total.tp, total.tp + total.fp);
    let recall = ratio(total.tp, total.tp + total.fn_);
    println!(
        "{:<24} {:>5} {:>5} {:>5} {:>9} {:>7}",
        "micro-average",
        total.tp,
        total.fp,
        total.fn_,
        fmt_ratio(precision),
        fmt_ratio(recall)
    );
    println!(
        "\nFindings against expectations (TP expected and found, FN missing, FP unexpected above the case's ceiling)"
    );
    println!(
        "{:<24} {:>5} {:>5} {:>5} {:>9} {:>7}",
        "rules", "TP", "FP", "FN", "precision", "recall"
    );
    for (label, t) in [
        ("health rules only", without_site),
        ("with site context", with_site),
    ] {
        println!(
            "{label:<24} {:>5} {:>5} {:>5} {:>9} {:>7}",
            t.tp,
            t.fp,
            t.fn_,
            fmt_ratio(ratio(t.tp, t.tp + t.fp)),
            fmt_ratio(ratio(t.tp, t.tp + t.fn_))
        );
    }
    if !misses.is_empty() {
        println!("\nMisclassified (FP: predicted, not labelled; FN: labelled, not predicted):");
        for m in &misses {
            println!("  {m}");
        }
    }
    // No prediction at all has no false positive: precision 1, and recall says the rest.
    let precision = precision.unwrap_or(1.0);
    let recall = recall.unwrap_or(1.0);
    if precision < MIN_MICRO_PRECISION {
        problems.push(format!(
            "micro precision {precision:.3} < {MIN_MICRO_PRECISION}"
        ));
    }
    if recall < MIN_MICRO_RECALL {
        problems.push(format!("micro recall {recall:.3} < {MIN_MICRO_RECALL}"));
    }
    if !problems.is_empty() {
        println!("\n{} problem(s):", problems.len());
        for p in &problems {
            println!("  {p}");
        }
    }
    assert!(
        problems.is_empty(),
        "{} problem(s) in the fixture suite; run scripts/quality.sh for the table and the list",
        problems.len()
    );
}
