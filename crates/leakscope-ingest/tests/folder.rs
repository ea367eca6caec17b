//! A folder as input: the HARs `leakscope scan --out DIR` writes, read in name
//! order, each under its own label with entries numbered per file.

use std::path::Path;

use leakscope_ingest::{Format, IngestError, capture_files, read_path};

fn har(urls: &[&str]) -> String {
    let entries: Vec<String> = urls
        .iter()
        .map(|u| format!(r#"{{"request": {{"method": "GET", "url": "{u}", "headers": []}}}}"#))
        .collect();
    format!(
        r#"{{"log": {{"version": "1.2", "creator": {{"name": "t", "version": "1"}}, "entries": [{}]}}}}"#,
        entries.join(",")
    )
}

fn write(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
    std::fs::write(p, text).expect("write");
}

/// A scan folder: two runs' HARs written out of order, results.json, steps/,
/// and things that are not HARs.
fn scan_folder() -> tempfile::TempDir {
    let d = tempfile::tempdir().expect("tempdir");
    write(
        d.path(),
        "reject.har",
        &har(&["https://a.example/r0", "https://a.example/r1"]),
    );
    write(d.path(), "accept.har", &har(&["https://a.example/a0"]));
    write(
        d.path(),
        "results.json",
        r#"{"scan": {}, "findings": [], "events": []}"#,
    );
    write(d.path(), "steps/accept-01.png", "\u{89}PNG");
    write(
        d.path(),
        "steps/inner.har",
        &har(&["https://a.example/nested"]),
    );
    write(
        d.path(),
        "._accept.har",
        "\0\u{5}\u{16}\u{7}\0\u{2}\0\0Mac OS X",
    );
    write(d.path(), "notes.txt", "not a capture");
    d
}

#[test]
fn a_scan_folder_reads_its_hars_in_name_order() {
    let d = scan_folder();
    let label = d.path().display().to_string();
    let mut seen = Vec::new();
    let mut warnings = Vec::new();
    let s = read_path(
        d.path(),
        &label,
        &mut |ex| seen.push((ex.source.file.to_string(), ex.source.entry, ex.url)),
        &mut |w| warnings.push(w),
    )
    .expect("reads the folder");
    assert_eq!(s.format, Format::Har);
    assert_eq!((s.exchanges, s.skipped), (3, 0));
    assert!(warnings.is_empty(), "{warnings:?}");
    let acc = format!("{label}/accept.har");
    let rej = format!("{label}/reject.har");
    assert_eq!(
        seen,
        vec![
            (acc, 0, "https://a.example/a0".to_string()),
            (rej.clone(), 0, "https://a.example/r0".to_string()),
            (rej, 1, "https://a.example/r1".to_string()),
        ]
    );
}

#[test]
fn a_trailing_slash_does_not_double() {
    let d = scan_folder();
    let label = format!("{}/", d.path().display());
    let mut files = Vec::new();
    read_path(
        d.path(),
        &label,
        &mut |ex| files.push(ex.source.file.to_string()),
        &mut |_| {},
    )
    .expect("reads");
    assert_eq!(files[0], format!("{}/accept.har", d.path().display()));
}

#[test]
fn capture_files_lists_only_hars_directly_in_the_folder() {
    let d = scan_folder();
    let names: Vec<String> = capture_files(d.path(), "out")
        .expect("lists")
        .iter()
        .map(|p| p.file_name().expect("name").to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["accept.har", "reject.har"]);
    // A file stands for itself.
    let f = d.path().join("notes.txt");
    assert_eq!(capture_files(&f, "notes.txt").expect("file"), vec![f]);
}

#[test]
fn warnings_and_errors_name_the_har_inside_the_folder() {
    let d = tempfile::tempdir().expect("tempdir");
    write(
        d.path(),
        "a.har",
        r#"{"log": {"entries": [{"request": {"method": "GET"}}, {"request": {"method": "GET", "url": "https://a.example/"}}]}}"#,
    );
    write(d.path(), "b.har", r#"{"log": {"entries": [{"request": "#);
    let mut warnings = Vec::new();
    let e = read_path(d.path(), "out", &mut |_| {}, &mut |w| {
        warnings.push(w.to_string())
    })
    .expect_err("b.har is cut");
    assert_eq!(warnings.len(), 1);
    assert!(
        warnings[0].starts_with("out/a.har: entry 0"),
        "{warnings:?}"
    );
    let shown = e.to_string();
    assert!(shown.starts_with("out/b.har: "), "{shown}");
    assert!(shown.contains("truncated"), "{shown}");
}

#[test]
fn a_folder_without_hars_says_what_was_looked_for() {
    let d = tempfile::tempdir().expect("tempdir");
    write(d.path(), "steps/inner.har", &har(&["https://a.example/"]));
    let e = read_path(d.path(), "out", &mut |_| {}, &mut |_| {}).expect_err("no HARs");
    assert!(matches!(e, IngestError::NoCaptures { .. }), "{e:?}");
    assert_eq!(
        e.to_string(),
        "out: no HAR files in this folder; leakscope looked for out/*.har (the HARs \
`leakscope scan --out` writes), not in subfolders. Pass a capture file, or a folder that holds .har files"
    );
    // With a results.json beside, point to `report`.
    write(d.path(), "results.json", "{}");
    let shown = read_path(d.path(), "out", &mut |_| {}, &mut |_| {})
        .expect_err("no HARs")
        .to_string();
    assert!(
        shown.contains("It holds out/results.json: to show those results, run `leakscope report out/results.json`."),
        "{shown}"
    );
}

#[test]
fn an_unlistable_path_names_the_path() {
    let e = read_path(
        Path::new("/nonexistent-leakscope/out"),
        "out",
        &mut |_| {},
        &mut |_| {},
    )
    .expect_err("missing");
    let shown = e.to_string();
    assert!(shown.starts_with("out: cannot read: "), "{shown}");
    assert!(shown.ends_with("; check the path"), "{shown}");
    assert!(
        std::error::Error::source(&e).is_none(),
        "the OS error is in the text, once"
    );
}
