//! `leakscope offmeta`: a made-up person's export in, the health businesses
//! out, in every format; unreadable exports exit 2 naming the file; the
//! HTML report loads nothing.

use std::path::Path;
use std::process::Command;

fn leakscope(args: &[&str]) -> (i32, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_leakscope"))
        .args(args)
        .output()
        .expect("binary runs");
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn fixture(rel: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/offmeta")
        .join(rel)
        .display()
        .to_string()
}

#[test]
fn table_json_and_html_name_the_health_businesses() {
    let zip = fixture("v2-2023/export.zip");
    let (code, table, err) = leakscope(&["offmeta", &zip]);
    assert_eq!(code, 0, "{err}");
    assert!(table.contains("HEALTH BUSINESSES"), "{table}");
    assert!(
        table.contains("CVS Pharmacy  [pharmacy, high confidence"),
        "{table}"
    );

    let (code, json, err) = leakscope(&["offmeta", "--format", "json", &zip]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["schema"], "leakscope-offmeta/1");
    let health: Vec<&str> = v["health"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap())
        .collect();
    assert!(
        health.contains(&"CVS Pharmacy") && health.contains(&"BetterHelp"),
        "{health:?}"
    );
    assert!(!health.contains(&"Target"));

    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report.html");
    let (code, _, err) = leakscope(&[
        "offmeta",
        "--format",
        "html",
        "-o",
        out.to_str().unwrap(),
        "--jurisdiction",
        "mhmda",
        "--name",
        "Jane <Canary>",
        &zip,
    ]);
    assert_eq!(code, 0, "{err}");
    let page = std::fs::read_to_string(&out).unwrap();
    assert!(page.contains("Content-Security-Policy"));
    assert!(page.contains("My Health My Data Act"));
    assert!(
        page.contains("Request to delete my personal data: Jane &lt;Canary&gt;"),
        "escaped"
    );
    assert!(!page.contains("<script"), "no script");
    assert!(
        !page.contains("src=\"http") && !page.contains("href=\"http"),
        "loads nothing"
    );
}

#[test]
fn unreadable_exports_exit_2_naming_the_file() {
    for (f, says) in [
        ("bad/not-a-zip.zip", "not a zip archive"),
        ("bad/zip-bomb.zip", "would inflate to more than"),
        ("bad/other-zip.zip", "no off-Meta activity"),
    ] {
        let p = fixture(f);
        let (code, _, err) = leakscope(&["offmeta", &p]);
        assert_eq!(code, 2, "{f}: {err}");
        assert!(err.contains(&p) && err.contains(says), "{f}: {err}");
    }
}
