//! `leakscope demo`: the live scan of the made-up pharmacy on loopback
//! (real Chromium, nothing leaves the machine), bounded in time.

use std::time::Duration;

use serde_json::Value;

mod common;
use common::run_bounded;

#[test]
fn demo_scan_finds_every_tag_family_a_canary_and_tracking_after_reject() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().to_str().unwrap();
    let bundle = dir.path().join("bundle");
    let (code, stdout, stderr) = run_bounded(
        &[
            "demo",
            "--format",
            "json",
            "--out",
            out_dir,
            "--evidence",
            bundle.to_str().unwrap(),
        ],
        Duration::from_secs(420),
    );
    assert_eq!(code, 0, "{stderr}");
    let doc: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    let findings = doc["findings"].as_array().expect("findings");
    let health = |vendor: &str| {
        findings.iter().any(|f| {
            f["vendor"] == vendor
                && f["rule"] != "consent.ignored"
                && f["health"].as_array().is_some_and(|h| !h.is_empty())
        })
    };
    for v in ["meta_pixel", "ga4", "tiktok"] {
        assert!(health(v), "no health finding for {v}; stderr: {stderr}");
    }
    assert!(
        findings
            .iter()
            .any(|f| f["canaries"].as_array().is_some_and(|c| !c.is_empty())),
        "no canary leak"
    );
    let ignored: Vec<&Value> = findings
        .iter()
        .filter(|f| f["rule"] == "consent.ignored")
        .collect();
    assert!(
        ignored.iter().any(|f| f["vendor"] == "tiktok"),
        "TikTok keeps firing after reject: {ignored:#?}"
    );
    // Meta and GA4 are gated by the banner: no tracking-after-reject for them.
    assert!(
        !ignored
            .iter()
            .any(|f| f["vendor"] == "ga4" && f["context"]["consent"] == "rejected"),
        "{ignored:#?}"
    );
    assert!(dir.path().join("results.json").is_file());
    assert!(dir.path().join("reject.har").is_file());

    // Who the site is: a pharmacy, from its own pages (the DOM snapshots);
    // `analyze` of the scan folder reads the same snapshots and agrees.
    let sites = doc["sites"].as_array().expect("sites");
    assert!(
        sites
            .iter()
            .any(|p| p["category"] == "pharmacy" && p["confidence"] == "high"),
        "{sites:#?}"
    );
    let (code, again, err) = run_bounded(
        &["analyze", "--format", "json", out_dir],
        Duration::from_secs(120),
    );
    assert_eq!(code, 0, "{err}");
    let again: Value = serde_json::from_str(&again).unwrap_or_else(|e| panic!("{e}: {again}"));
    assert_eq!(again["sites"], doc["sites"]);

    // The results file the scan points to is a results document like any
    // other: `report`, `diff` and `--baseline` read it (issue 12, bug 1).
    let saved = dir.path().join("results.json");
    let saved = saved.to_str().unwrap();
    let on_disk: Value = serde_json::from_str(&std::fs::read_to_string(saved).unwrap()).unwrap();
    assert_eq!(on_disk["findings"], doc["findings"]);
    let html = dir.path().join("report.html");
    let (code, _, err) = run_bounded(
        &["report", saved, "-o", html.to_str().unwrap()],
        Duration::from_secs(60),
    );
    assert_eq!(code, 0, "{err}");
    let (code, diff, err) = run_bounded(&["diff", saved, saved], Duration::from_secs(60));
    assert_eq!(code, 0, "{err}");
    assert!(diff.contains("0 new"), "{diff}");
    let (code, _, err) = run_bounded(
        &[
            "report",
            saved,
            "--format",
            "json",
            "--fail-on",
            "info",
            "--baseline",
            saved,
        ],
        Duration::from_secs(60),
    );
    assert_eq!(
        code, 0,
        "a scan's own results accept all its findings: {err}"
    );

    // Live progress on stderr (not a terminal here: a line per step), and
    // each run names the capture its findings cite.
    assert!(stderr.contains("reject: goto"), "{stderr}");
    for run in ["none", "reject", "accept", "gpc"] {
        let har = dir.path().join(format!("{run}.har"));
        assert!(
            stderr.contains(&format!("capture {}", har.display())),
            "{run}: {stderr}"
        );
    }
    let cited: std::collections::BTreeSet<&str> = findings
        .iter()
        .filter_map(|f| f["source"]["file"].as_str())
        .collect();
    for file in &cited {
        assert!(
            dir.path().join(file).is_file(),
            "finding cites {file}, not on disk"
        );
    }

    // The refill form's CSRF token is in no DOM snapshot, on disk or in the
    // bundle, while the snapshots themselves are there.
    let token = leakscope_sites::pharmacy::REFILL_CSRF_TOKEN;
    let (mut doms, mut refill) = (0, 0);
    for root in [dir.path().join("steps"), bundle.join("steps")] {
        for f in walk(&root) {
            if f.extension().is_some_and(|e| e == "html") {
                doms += 1;
                let text = std::fs::read_to_string(&f).unwrap();
                assert!(
                    !text.contains(token),
                    "{} keeps the CSRF token",
                    f.display()
                );
                refill += usize::from(text.contains(r#"name="csrf_token" value="[redacted: "#));
            }
        }
    }
    assert!(doms > 10, "only {doms} DOM snapshots");
    assert!(refill > 0, "no snapshot of the refill form");
}

/// A scan whose start page never loads checked nothing: it says so per run,
/// keeps the reason in the results, and exits 4, not 0 (issue 12, bug 2).
#[test]
fn scan_that_loads_no_page_exits_4_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("scan");
    let (code, stdout, stderr) = run_bounded(
        &[
            "scan",
            "--load-only",
            "--consent",
            "none",
            "--out",
            out_dir.to_str().unwrap(),
            "--chrome-arg=--host-resolver-rules=MAP nowhere.test ~NOTFOUND, MAP refused.test 127.0.0.1:1",
            "http://nowhere.test/",
            "http://refused.test/",
        ],
        Duration::from_secs(120),
    );
    assert_eq!(code, 4, "stdout: {stdout}\nstderr: {stderr}");
    assert!(stderr.contains("no page loaded"), "{stderr}");
    assert!(stderr.contains("DNS lookup failed"), "{stderr}");
    assert!(stderr.contains("connection refused"), "{stderr}");
    assert!(
        !stderr.contains("canary persona"),
        "load-only types nothing: {stderr}"
    );
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("results.json")).unwrap())
            .unwrap();
    let runs = doc["scan"]["runs"].as_array().unwrap();
    let kinds: Vec<(&str, &str)> = runs
        .iter()
        .map(|r| {
            (
                r["status"].as_str().unwrap(),
                r["failure"]["kind"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(kinds, [("not_loaded", "dns"), ("not_loaded", "refused")]);
    // `report` renders it as not loaded, never as a clean site.
    let (code, md, err) = run_bounded(
        &[
            "report",
            out_dir.join("results.json").to_str().unwrap(),
            "--format",
            "md",
        ],
        Duration::from_secs(60),
    );
    assert_eq!(code, 0, "{err}");
    assert!(md.contains("DNS lookup failed"), "{md}");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if e.path().is_dir() {
            out.extend(walk(&e.path()));
        } else {
            out.push(e.path());
        }
    }
    out
}
