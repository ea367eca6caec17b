//! Snapshots of what a user sees on the demo capture: the table and the JSON
//! document. A change to any decoder's output shows up here as a diff to review
//! (`cargo insta review`), never silently.

use std::process::Command;

fn demo(format: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_leakscope"))
        .args(["demo", "--offline", "--format", format])
        .output()
        .expect("binary runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// The version in the header line, masked so a release does not move it.
fn masked(text: String) -> String {
    text.replace(
        &format!("leakscope {} ·", env!("CARGO_PKG_VERSION")),
        "leakscope [version] ·",
    )
}

#[test]
fn demo_table() {
    insta::assert_snapshot!(masked(demo("table")));
}

#[test]
fn demo_markdown() {
    // Headlines, findings with collapsed evidence, the legal frameworks
    // once and the glossary, as a reader of the Markdown report sees them.
    insta::assert_snapshot!(masked(demo("md")));
}

#[test]
fn demo_json_document() {
    // Snapshot the bytes as printed (the version line masked), so number
    // formatting and key order are part of what is checked.
    let text = demo("json").replace(
        &format!("\"version\": \"{}\"", env!("CARGO_PKG_VERSION")),
        "\"version\": \"[version]\"",
    );
    insta::assert_snapshot!(text);
}
