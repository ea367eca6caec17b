//! `leakscope analyze` as a user runs it: output contract and exit codes.

use std::io::Write;
use std::process::{Command, Output};

fn leakscope(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_leakscope"))
        .args(args)
        .output()
        .expect("binary runs")
}

fn corpus(rel: &str) -> String {
    format!(
        "{}/../../../shared/corpus/{rel}",
        env!("CARGO_MANIFEST_DIR")
    )
}

#[test]
fn json_document_has_the_contracted_fields() {
    let file = corpus("health/fb-pixel-inspector/mylabbox.requests-merged.har");
    let out = leakscope(&["analyze", "--format", "json", &file]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert!(doc["findings"].is_array());
    let events = doc["events"].as_array().unwrap();
    assert!(!events.is_empty());
    for e in events {
        for k in ["vendor", "event", "request_url", "method", "source"] {
            assert!(!e[k].is_null(), "event lacks {k}: {e}");
        }
        assert_eq!(e["source"]["file"], file.as_str());
        assert!(e["source"]["entry"].is_u64());
    }
    assert!(events.iter().any(|e| {
        e["vendor"] == "meta_pixel"
            && e["page_url"]
                .as_str()
                .is_some_and(|u| u.contains("mylabbox.com"))
    }));
}

#[test]
fn jsonl_is_one_event_per_line() {
    let file = corpus("meta_pixel_urls.txt");
    let out = leakscope(&["analyze", "--format", "jsonl", &file]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let mut n = 0;
    for l in text.lines() {
        let e: serde_json::Value = serde_json::from_str(l).expect("each line is JSON");
        // Finding lines follow the events, each wrapped as {"finding": {...}}.
        if let Some(f) = e.get("finding") {
            assert!(f["severity"].is_string() && f["id"].is_string(), "{f}");
            continue;
        }
        assert_eq!(e["vendor"], "meta_pixel");
        // An event sent twice (privacy-sandbox twin) is one line listing its twin.
        n += 1 + e["twins"].as_array().map_or(0, Vec::len);
    }
    assert!(n >= 145);
}

#[test]
fn table_groups_by_page() {
    let out = leakscope(&["demo", "--offline"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("page https://www.northwind-pharmacy.example/pharmacy/refill"),
        "{text}"
    );
    assert!(text.contains("button \"Refill prescription\""), "{text}");
}

#[test]
fn unreadable_input_exits_2_naming_the_file() {
    let out = leakscope(&["analyze", "/nonexistent/capture.har"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent/capture.har"), "{err}");
}

#[test]
fn bad_usage_exits_2() {
    assert_eq!(leakscope(&["analyze"]).status.code(), Some(2));
    assert_eq!(
        leakscope(&["analyze", "--format", "xml", "x"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn truncated_har_exits_2_naming_the_position() {
    let dir = std::env::temp_dir().join(format!("leakscope-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("cut.har");
    let mut f = std::fs::File::create(&path).unwrap();
    f.write_all(br#"{"log":{"version":"1.2","entries":[{"request":{"method":"GET","url":"https://www.facebook.com/tr/?id=1234567890123456&ev=PageView","headers":[]},"response":{"status":200,"headers":[]}},{"request":{"method":"GE"#).unwrap();
    drop(f);
    let out = leakscope(&["analyze", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cut.har"), "{err}");
    assert!(err.contains("byte") || err.contains("entry"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn malformed_entry_is_skipped_with_a_warning() {
    let dir = std::env::temp_dir().join(format!("leakscope-cli-w-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bad-entry.har");
    std::fs::write(&path, br#"{"log":{"version":"1.2","entries":[{"request":{"method":"GET"}},{"request":{"method":"GET","url":"https://www.facebook.com/tr/?id=1234567890123456&ev=PageView","headers":[]},"response":{"status":200,"headers":[]}}]}}"#).unwrap();
    let out = leakscope(&["analyze", "--format", "json", path.to_str().unwrap()]);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("warning") && err.contains("entry 0"), "{err}");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["events"].as_array().unwrap().len(), 1);
    assert_eq!(doc["events"][0]["source"]["entry"], 1);
    std::fs::remove_dir_all(&dir).ok();
}

fn fixture(name: &str) -> String {
    format!(
        "{}/../../tests/fixtures/cases/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

#[test]
fn canary_flag_finds_the_planted_email_hashed() {
    let dir = std::env::temp_dir().join(format!("leakscope-canary-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let list = dir.join("canaries.txt");
    std::fs::write(&list, "# planted by the test\njane.canary@example.com\n").unwrap();
    let out = leakscope(&[
        "analyze",
        "--format",
        "json",
        "--canary-file",
        list.to_str().unwrap(),
        "--canary",
        "+1 555 010 0199",
        &fixture("kroger-refill.har"),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let chains: Vec<String> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["canaries"].as_array().cloned().unwrap_or_default())
        .map(|c| {
            format!(
                "{} {}",
                c["value_kind"].as_str().unwrap(),
                c["chain"].as_str().unwrap()
            )
        })
        .collect();
    assert!(
        chains
            .iter()
            .any(|c| c.starts_with("email") && c.contains("sha256")),
        "{chains:?}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn markdown_report_lists_findings_with_explanations() {
    let out = leakscope(&["analyze", "--format", "md", &fixture("kroger-refill.har")]);
    assert!(out.status.success());
    let md = String::from_utf8(out.stdout).unwrap();
    assert!(md.starts_with("# leakscope report"), "{md}");
    assert!(md.contains("## Findings"));
    assert!(md.contains("| **critical** |"), "{md}");
    assert!(md.contains("HIPAA"), "{md}");
}

#[test]
fn no_color_when_not_a_terminal() {
    let out = leakscope(&["demo", "--offline"]);
    assert!(!String::from_utf8_lossy(&out.stdout).contains('\x1b'));
}
