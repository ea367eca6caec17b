//! Every format on the fixture suite and the demo capture: snapshots (a
//! change shows up as a diff to review with `cargo insta review`), results
//! validated against our schema, SARIF against the OASIS 2.1.0 schema, and
//! ids stable across runs.

mod common;

use leakscope_report::{Results, csv_out, html, jsonl, sarif};
use serde_json::Value;

fn schema(name: &str) -> jsonschema::Validator {
    let text =
        std::fs::read_to_string(common::root().join("schemas").join(name)).expect("schema file");
    let v: Value = serde_json::from_str(&text).expect("schema is JSON");
    jsonschema::validator_for(&v).expect("schema compiles")
}

fn assert_valid(v: &jsonschema::Validator, doc: &Value, what: &str) {
    let errors: Vec<String> = v
        .iter_errors(doc)
        .take(10)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(errors.is_empty(), "{what}: {errors:#?}");
}

fn render_all(r: &Results) -> [(&'static str, String); 5] {
    let json = serde_json::to_string_pretty(r).expect("json");
    let mut l = Vec::new();
    jsonl::write(&mut l, r).expect("jsonl");
    let sarif = serde_json::to_string_pretty(&sarif::to_value(r)).expect("sarif");
    let mut c = Vec::new();
    csv_out::write(&mut c, r).expect("csv");
    let page = html::render(r, &html::Assets::default()).expect("html");
    [
        ("json", json),
        ("jsonl", String::from_utf8(l).expect("utf-8")),
        ("sarif", sarif),
        ("csv", String::from_utf8(c).expect("utf-8")),
        ("html", page),
    ]
}

fn check(name: &str, r: &Results) {
    let results_schema = schema("results-v1.schema.json");
    let sarif_schema = schema("sarif-2.1.0.schema.json");
    let doc = serde_json::to_value(r).expect("results serialise");
    assert_valid(&results_schema, &doc, &format!("{name} results"));
    assert_valid(&sarif_schema, &sarif::to_value(r), &format!("{name} SARIF"));
    // What we write, we read back unchanged.
    let back =
        Results::from_json(&serde_json::to_string(r).expect("json"), name).expect("reads back");
    assert_eq!(&back, r, "{name}: results do not round-trip");
    for (ext, text) in render_all(r) {
        insta::assert_snapshot!(format!("{name}.{ext}"), text);
    }
}

#[test]
fn demo_in_every_format() {
    check("demo", &common::demo());
}

#[test]
fn fixture_suite_in_every_format() {
    let cases = common::fixture_cases();
    assert!(cases.len() >= 20, "fixture suite shrank: {}", cases.len());
    for (name, path) in cases {
        check(&name, &common::fixture(&path, &name));
    }
}

#[test]
fn ids_are_stable_across_runs() {
    let a = common::demo();
    let b = common::demo();
    let ids = |r: &Results| r.findings.iter().map(|f| f.id.clone()).collect::<Vec<_>>();
    assert!(!ids(&a).is_empty());
    assert_eq!(ids(&a), ids(&b));
    // And the SARIF fingerprints follow them.
    let fp = |r: &Results| {
        sarif::to_value(r)["runs"][0]["results"]
            .as_array()
            .expect("results")
            .iter()
            .map(|x| {
                x["partialFingerprints"]["leakscopeFindingId/v1"]
                    .as_str()
                    .unwrap_or("")
                    .to_owned()
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(fp(&a), ids(&a));
}

#[test]
fn sarif_rules_are_referenced_correctly() {
    let r = common::demo();
    let s = sarif::to_value(&r);
    let run = &s["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
    for res in run["results"].as_array().expect("results") {
        let idx = res["ruleIndex"].as_u64().expect("index") as usize;
        assert_eq!(rules[idx]["id"], res["ruleId"]);
        assert!(!res["ruleId"].as_str().unwrap_or("+").contains('+'));
    }
    // Levels follow severities.
    let crit = run["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["properties"]["severity"] == "critical")
        .expect("a critical");
    assert_eq!(crit["level"], "error");
}

#[test]
fn the_schema_rejects_what_it_should() {
    let v = schema("results-v1.schema.json");
    let mut doc = serde_json::to_value(common::demo()).expect("json");
    doc["findings"][0]["severity"] = Value::from("catastrophic");
    assert!(!v.is_valid(&doc));
    let mut doc = serde_json::to_value(common::demo()).expect("json");
    doc["schema"] = Value::from("leakscope-results/2");
    assert!(!v.is_valid(&doc));
}
