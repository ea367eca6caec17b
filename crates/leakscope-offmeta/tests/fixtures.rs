//! Every layout of the made-up exports written by
//! `scripts/gen-offmeta-fixtures.py` (zipped, unpacked, the single file,
//! split): exactly the expected businesses, events and classes. Bad inputs:
//! the expected error, in bounded memory.

use std::path::{Path, PathBuf};

use leakscope_offmeta::{Class, Classifier, Limits, ReadError, analyze, read};
use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/offmeta")
}

fn expected_files() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                if !p.ends_with("bad") && !p.ends_with("unpacked") {
                    stack.push(p);
                }
            } else if p.to_string_lossy().ends_with(".expected.json") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The input an `.expected.json` describes: its `fixture` beside it.
fn input_of(exp: &Path, v: &Value) -> PathBuf {
    exp.parent().unwrap().join(v["fixture"].as_str().unwrap())
}

#[test]
fn every_layout_gives_exactly_the_expected_businesses() {
    let c = Classifier::builtin();
    let files = expected_files();
    assert!(files.len() >= 15, "{files:?}");
    let mut checked = 0;
    for exp in files {
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&exp).unwrap()).unwrap();
        if v.get("expect").and_then(Value::as_str) == Some("error") {
            continue;
        }
        let input = input_of(&exp, &v);
        let r =
            read(&input, &Limits::default()).unwrap_or_else(|e| panic!("{}: {e}", input.display()));
        let report = analyze(r, &c);
        let all: Vec<_> = report
            .health
            .iter()
            .chain(&report.sensitive)
            .chain(&report.ordinary)
            .collect();
        let want = v["businesses"].as_array().unwrap();
        assert_eq!(all.len(), want.len(), "{}: {all:#?}", input.display());
        for w in want {
            let name = w["name"].as_str().unwrap();
            let got = all
                .iter()
                .find(|b| b.name == name)
                .unwrap_or_else(|| panic!("{}: {name} missing", input.display()));
            assert_eq!(
                got.events as u64,
                w["events"].as_u64().unwrap(),
                "{}: {name}",
                input.display()
            );
            assert_eq!(
                got.classified.class.as_str(),
                w["expected_class"].as_str().unwrap(),
                "{}: {name}: {:?}",
                input.display(),
                got.classified
            );
            if let Some(cat) = w["expected_category"].as_str() {
                assert_eq!(got.classified.category.as_deref(), Some(cat), "{name}");
            }
            if let Some(first) = w["first"].as_str() {
                assert_eq!(
                    got.first.as_deref(),
                    Some(first),
                    "{}: {name}",
                    input.display()
                );
                assert_eq!(got.last.as_deref(), w["last"].as_str(), "{name}");
            }
            if got.classified.class == Class::Health {
                assert_eq!(got.timeline.len(), got.events.min(200));
            }
        }
        checked += 1;
    }
    assert!(checked >= 15, "{checked}");
}

#[test]
fn bad_inputs_give_the_expected_error() {
    let c = Classifier::builtin();
    let bad = root().join("bad");
    for (file, kind) in [
        ("not-a-zip.zip", "not_a_zip"),
        ("other-zip.zip", "no_activity"),
        ("truncated.zip", "corrupt"),
        ("zip-bomb.zip", "too_large"),
        ("zip-bomb-lying.zip", "too_large_or_corrupt"),
        ("bad-json.json", "bad_json"),
        ("bad-json.zip", "bad_json"),
        ("html-index-only.html", "html_pages_missing"),
    ] {
        let p = bad.join(file);
        let err = read(&p, &Limits::default()).expect_err(file);
        let msg = err.to_string();
        assert!(msg.starts_with(&p.display().to_string()), "{file}: {msg}");
        let ok = match (kind, &err) {
            ("not_a_zip", ReadError::NotAZip { .. }) => true,
            ("no_activity", ReadError::NoActivity { .. }) => true,
            ("corrupt", ReadError::CorruptZip { .. }) => true,
            ("too_large", ReadError::TooLarge { .. }) => true,
            // The zip reader stops at the size the header declares: what it
            // hands over is then not the JSON the name promises.
            (
                "too_large_or_corrupt",
                ReadError::TooLarge { .. }
                | ReadError::CorruptZip { .. }
                | ReadError::BadJson { .. },
            ) => true,
            ("bad_json", ReadError::BadJson { .. }) => true,
            ("html_pages_missing", ReadError::HtmlPagesMissing { .. }) => true,
            _ => false,
        };
        assert!(ok, "{file}: expected {kind}, got {msg}");
    }
    // Valid, and empty: no business, no error.
    let r = read(&bad.join("empty-activity.json"), &Limits::default()).unwrap();
    assert_eq!(analyze(r, &c).businesses, 0);
}

#[test]
fn a_bomb_is_refused_under_a_small_limit_too() {
    let limits = Limits {
        max_entry: 1 << 20,
        max_total: 1 << 20,
        max_entries: 100,
    };
    let err = read(&root().join("bad/zip-bomb.zip"), &limits).unwrap_err();
    assert!(
        matches!(err, ReadError::TooLarge { limit, .. } if limit == 1 << 20),
        "{err}"
    );
}

/// The JSON document matches its published schema, for every layout.
#[test]
fn json_report_matches_its_schema() {
    let schema: Value =
        serde_json::from_str(include_str!("../schema/offmeta-v1.schema.json")).unwrap();
    let v = jsonschema::validator_for(&schema).expect("a valid schema");
    let c = Classifier::builtin();
    for exp in expected_files() {
        let e: Value = serde_json::from_str(&std::fs::read_to_string(&exp).unwrap()).unwrap();
        if e.get("expect").and_then(Value::as_str) == Some("error") {
            continue;
        }
        let r = analyze(read(&input_of(&exp, &e), &Limits::default()).unwrap(), &c);
        let doc = serde_json::to_value(&r).unwrap();
        let errors: Vec<String> = v.iter_errors(&doc).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{}: {errors:?}", exp.display());
    }
}
