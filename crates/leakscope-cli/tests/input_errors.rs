//! `leakscope analyze` on inputs that are not captures, as a user meets them:
//! each error names the file once, says what it is and what to do, and exits 2.

use std::path::Path;
use std::process::{Command, Output};

fn analyze(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_leakscope"))
        .arg("analyze")
        .args(args)
        .output()
        .expect("binary runs")
}

/// The error line, after checking it is the only output and the exit code is 2.
fn failure(args: &[&str]) -> String {
    let out = analyze(args);
    let stderr = String::from_utf8(out.stderr).expect("stderr is UTF-8");
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(out.stdout.is_empty(), "no results on error");
    assert!(
        stderr.starts_with("leakscope: error: ") && stderr.lines().count() == 1,
        "one error line: {stderr}"
    );
    assert!(
        !stderr
            .chars()
            .any(|c| c == '\u{fffd}' || (c.is_control() && c != '\n')),
        "garbled: {stderr:?}"
    );
    stderr.trim_end().to_string()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let p = dir.join(name);
    std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
    std::fs::write(&p, bytes).expect("write");
    p.display().to_string()
}

/// A gzip member with stored (uncompressed) deflate blocks, so this test needs
/// no compression crate: header, one stored block per 65535 bytes, CRC32, size.
fn gzip(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    let mut chunks = data.chunks(65535).peekable();
    if chunks.peek().is_none() {
        out.extend_from_slice(&[1, 0, 0, 0xff, 0xff]);
    }
    while let Some(c) = chunks.next() {
        let last = u8::from(chunks.peek().is_none());
        let len = c.len() as u16;
        out.push(last);
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(c);
    }
    out.extend_from_slice(&crc32(data).to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A HAR with one Meta Pixel request per `event` name.
fn har(events: &[&str]) -> String {
    let entries: Vec<String> = events
        .iter()
        .map(|ev| {
            format!(
                r#"{{"request": {{"method": "GET", "url": "https://www.facebook.com/tr/?id=1234567890&ev={ev}&dl=https%3A%2F%2Fclinic.example%2F", "headers": []}}, "response": {{"status": 200, "headers": []}}}}"#
            )
        })
        .collect();
    format!(
        r#"{{"log": {{"version": "1.2", "creator": {{"name": "t", "version": "1"}}, "entries": [{}]}}}}"#,
        entries.join(",\n")
    )
}

#[test]
fn a_missing_file_prints_the_os_error_once() {
    let d = tempfile::tempdir().expect("tempdir");
    let missing = d.path().join("missing.har").display().to_string();
    let err = failure(&[&missing]);
    assert_eq!(
        err,
        format!(
            "leakscope: error: {missing}: cannot read: No such file or directory (os error 2); check the path"
        )
    );
}

#[test]
fn gzip_advice_only_for_gzip() {
    let d = tempfile::tempdir().expect("tempdir");
    let text = write(
        d.path(),
        "sites.csv",
        b"organization,domain\nNorthwind,northwind.test\n",
    );
    let err = failure(&[&text]);
    assert!(
        err.contains(": unknown capture format (it starts with \"organization,domain"),
        "{err}"
    );
    for hint in [".gz", "gzip-compressed", "damaged or cut short"] {
        assert!(!err.contains(hint), "{err}");
    }

    let misnamed = write(d.path(), "capture.har.gz", b"organization,domain\n");
    let err = failure(&[&misnamed]);
    assert!(
        err.contains("The name ends in .gz but the content is not gzip-compressed"),
        "{err}"
    );

    // A gzip download cut short.
    let gz = gzip(har(&["PageView"]).as_bytes());
    let cut = write(d.path(), "cut.har.gz", &gz[..gz.len() - 40]);
    let err = failure(&[&cut]);
    assert!(
        err.starts_with(&format!("leakscope: error: {cut}: ")),
        "{err}"
    );
    assert!(
        err.contains("gzip-compressed and its data is damaged or cut short")
            || err.contains("truncated"),
        "{err}"
    );
}

#[test]
fn binary_files_are_named_not_dumped() {
    let d = tempfile::tempdir().expect("tempdir");
    let cases: [(&str, &[u8], &str); 4] = [
        (
            "shot.png",
            b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\x01\0",
            "this is a PNG image, not a capture; pass the capture file itself",
        ),
        (
            "capture.zip",
            b"PK\x03\x04\x14\0\0\0\x08\0\x9c\x8e",
            "this is a ZIP archive, not a capture; if it holds a capture, extract it and pass the .har inside",
        ),
        (
            "leakscope-copy",
            b"\x7fELF\x02\x01\x01\0\0\0\0\0",
            "this is a program (ELF executable), not a capture",
        ),
        (
            "blob.har",
            b"\x13\x00\xf1\x9c\xff\xfe\x80\x81 junk",
            "this is a binary file, not a capture; pass the capture file itself",
        ),
    ];
    for (name, bytes, want) in cases {
        let f = write(d.path(), name, bytes);
        let err = failure(&[&f]);
        assert!(
            err.starts_with(&format!("leakscope: error: {f}: {want}")),
            "{err}"
        );
    }
}

#[test]
fn a_scan_folder_is_read_har_by_har() {
    let d = tempfile::tempdir().expect("tempdir");
    write(
        d.path(),
        "reject.har",
        har(&["PageView", "Lead"]).as_bytes(),
    );
    write(d.path(), "accept.har", har(&["PageView"]).as_bytes());
    // What else a scan folder holds is left alone.
    write(
        d.path(),
        "results.json",
        br#"{"scan": {}, "findings": [], "events": []}"#,
    );
    write(d.path(), "steps/accept-01.png", b"\x89PNG\r\n\x1a\n");
    let dir = d.path().display().to_string();
    let out = analyze(&["--format", "json", &dir]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    let mut sources: Vec<(String, u64)> = doc["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| {
            (
                e["source"]["file"].as_str().expect("file").to_string(),
                e["source"]["entry"].as_u64().expect("entry"),
            )
        })
        .collect();
    sources.sort();
    assert_eq!(
        sources,
        vec![
            (format!("{dir}/accept.har"), 0),
            (format!("{dir}/reject.har"), 0),
            (format!("{dir}/reject.har"), 1),
        ]
    );
}

#[test]
fn a_folder_without_hars_says_what_it_looked_for() {
    let d = tempfile::tempdir().expect("tempdir");
    write(d.path(), "results.json", b"{}");
    let dir = d.path().display().to_string();
    let err = failure(&[&dir]);
    assert_eq!(
        err,
        format!(
            "leakscope: error: {dir}: no HAR files in this folder; leakscope looked for {dir}/*.har \
(the HARs `leakscope scan --out` writes), not in subfolders. It holds {dir}/results.json: to show those \
results, run `leakscope report {dir}/results.json`. Pass a capture file, or a folder that holds .har files"
        )
    );
}
