//! `leakscope demo`: the live scan of the made-up pharmacy on loopback
//! (real Chromium, nothing leaves the machine), bounded in time.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Runs the binary, killing it if it outlives `limit`.
fn run_bounded(args: &[&str], limit: Duration) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_leakscope"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary runs");
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut s).ok();
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut stderr, &mut s).ok();
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("leakscope {args:?} ran longer than {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    (
        status.code().unwrap_or(-1),
        out.join().unwrap(),
        err.join().unwrap(),
    )
}

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
