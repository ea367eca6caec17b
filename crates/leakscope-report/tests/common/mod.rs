//! Shared helpers: run the real pipeline over fixture captures.

#![allow(dead_code)]

pub mod chromium;

use std::path::{Path, PathBuf};

use leakscope_core::Engine;
use leakscope_detect::{Detector, Pipeline};
use leakscope_report::{InputSummary, Results};

/// The repository root (tests run with the crate as the working directory).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Analyses one capture file as `leakscope analyze` does, labelled by `label`.
pub fn analyze_bytes(bytes: &[u8], label: &str) -> Results {
    let engine = Engine::new();
    let detector = Detector::new(&[]).expect("detector");
    let mut pipeline = Pipeline::new(&engine, &detector);
    let summary =
        leakscope_ingest::read_reader(bytes, label, &mut |ex| pipeline.feed(&ex), &mut |_| {})
            .expect("capture reads");
    let inputs = vec![InputSummary {
        file: label.to_owned(),
        format: summary.format.as_str().to_owned(),
        exchanges: summary.exchanges,
        skipped: summary.skipped,
    }];
    Results::new(pipeline.finish(), inputs, None, "[version]")
}

/// The fixture cases (`tests/fixtures/cases/*`, captures only), sorted.
pub fn fixture_cases() -> Vec<(String, PathBuf)> {
    let dir = root().join("tests/fixtures/cases");
    let mut out: Vec<(String, PathBuf)> = std::fs::read_dir(&dir)
        .expect("fixture dir")
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let n = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            !n.ends_with(".expected.json")
        })
        .map(|p| {
            let n = p
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("")
                .to_owned();
            (n, p)
        })
        .collect();
    out.sort();
    out
}

pub fn fixture(path: &Path, name: &str) -> Results {
    let bytes = std::fs::read(path).expect("fixture reads");
    analyze_bytes(&bytes, &format!("tests/fixtures/cases/{name}"))
}

pub fn demo() -> Results {
    let bytes = std::fs::read(root().join("demo/northwind-pharmacy.har")).expect("demo HAR");
    analyze_bytes(&bytes, "demo/northwind-pharmacy.har")
}
