//! Reports, evidence bundles and the CI gate as a user runs them: exit codes,
//! what is named on failure, and secrets kept out of every copy.

use std::path::Path;
use std::process::{Command, Output};

fn leakscope(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_leakscope"))
        .args(args)
        .output()
        .expect("binary runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn p(path: &Path) -> &str {
    path.to_str().expect("utf-8 temp path")
}

/// A capture with a CAPI request carrying an access token, an Authorization
/// header and a session cookie: none may reach any output.
fn secret_capture(dir: &Path) -> std::path::PathBuf {
    let body = serde_json::json!({"data": [{"event_name": "Purchase", "event_source_url": "https://pharmacy.example/refill/hiv-prep",
        "custom_data": {"content_name": "Truvada HIV PrEP refill"},
        "user_data": {"em": ["5f4dcc3b5aa765d61d8327deb882cf995f4dcc3b5aa765d61d8327deb882cf99"]}}],
        "access_token": "EAABsecretCANARYtoken123"});
    let har = serde_json::json!({"log": {"version": "1.2", "creator": {"name": "t", "version": "1"}, "entries": [{
        "startedDateTime": "2024-01-01T00:00:00Z", "time": 1,
        "request": {"method": "POST", "url": "https://graph.facebook.com/v21.0/1234567890123456/events?access_token=EAABsecretCANARYtoken123",
            "httpVersion": "HTTP/2",
            "headers": [{"name": "Authorization", "value": "Bearer AUTHsecretCANARY"},
                        {"name": "Cookie", "value": "sessionid=SESSsecretCANARY; _fbp=fb.1.1.1"},
                        {"name": "Content-Type", "value": "application/json"}],
            "queryString": [{"name": "access_token", "value": "EAABsecretCANARYtoken123"}],
            "cookies": [{"name": "sessionid", "value": "SESSsecretCANARY"}],
            "postData": {"mimeType": "application/json", "text": body.to_string()},
            "headersSize": -1, "bodySize": -1},
        "response": {"status": 200, "statusText": "OK", "httpVersion": "HTTP/2", "headers": [], "cookies": [],
            "content": {"size": 0, "mimeType": "application/json"}, "redirectURL": "", "headersSize": -1, "bodySize": 0},
        "cache": {}, "timings": {"send": 0, "wait": 1, "receive": 0}}]}});
    let path = dir.join("capi.har");
    std::fs::write(&path, serde_json::to_vec_pretty(&har).expect("json")).expect("write");
    path
}

const SECRETS: [&str; 3] = [
    "EAABsecretCANARYtoken123",
    "AUTHsecretCANARY",
    "SESSsecretCANARY",
];

fn assert_no_secrets(text: &str, what: &str) {
    for s in SECRETS {
        assert!(!text.contains(s), "{what} contains the secret {s}");
    }
}

#[test]
fn every_format_and_the_bundle_keep_secrets_out() {
    let t = tempfile::tempdir().expect("tmp");
    let cap = secret_capture(t.path());
    for format in ["table", "json", "jsonl", "md", "html", "sarif", "csv"] {
        let o = leakscope(&["analyze", "--format", format, p(&cap)]);
        assert!(o.status.success(), "{format}: {}", stderr(&o));
        assert_no_secrets(&stdout(&o), format);
    }
    let dir = t.path().join("bundle");
    let o = leakscope(&[
        "analyze",
        p(&cap),
        "--format",
        "json",
        "--evidence",
        p(&dir),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let mut n = 0;
    for e in walk(&dir) {
        n += 1;
        let text = String::from_utf8_lossy(&std::fs::read(&e).expect("read")).into_owned();
        assert_no_secrets(&text, &e.display().to_string());
    }
    assert!(n >= 5, "bundle has {n} files");
    let har = std::fs::read_to_string(dir.join("captures/capi.har")).expect("HAR copy");
    assert!(
        har.contains("[redacted authorization header: "),
        "note of the kind kept"
    );
    assert!(har.contains("[redacted session cookie: "));
    assert!(
        har.contains("fb.1.1.1"),
        "tracker ids are evidence and stay"
    );
    let manifest = std::fs::read_to_string(dir.join("manifest.json")).expect("manifest");
    assert!(
        manifest.contains("\"kind\": \"authorization header\""),
        "{manifest}"
    );
    // The private key went beside the bundle, not into it.
    assert!(t.path().join("bundle.signing-key.pem").exists());
    assert!(!dir.join("bundle.signing-key.pem").exists());
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).expect("dir").flatten() {
        if e.path().is_dir() {
            out.extend(walk(&e.path()));
        } else {
            out.push(e.path());
        }
    }
    out
}

#[test]
fn tampering_is_named_and_exits_3() {
    let t = tempfile::tempdir().expect("tmp");
    let dir = t.path().join("ev");
    let key = t.path().join("my.pem");
    // First a key of our own, then a bundle signed with it.
    let o = leakscope(&[
        "demo",
        "--offline",
        "--format",
        "json",
        "-o",
        p(&t.path().join("r.json")),
        "--evidence",
        p(&t.path().join("first")),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    std::fs::rename(t.path().join("first.signing-key.pem"), &key).expect("key");
    let o = leakscope(&[
        "demo",
        "--offline",
        "--evidence",
        p(&dir),
        "--signing-key",
        p(&key),
        "-o",
        p(&t.path().join("t.txt")),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let pubkey = t.path().join("first").join("signing-key.pub");

    let o = leakscope(&["verify", p(&dir), "--key", p(&pubkey)]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("matches the key given"));

    // One byte changed in the capture copy.
    let har = dir.join("captures/northwind-pharmacy.har");
    let mut bytes = std::fs::read(&har).expect("har");
    let i = bytes.len() / 2;
    bytes[i] ^= 0x01;
    std::fs::write(&har, bytes).expect("write");
    // One file added, one removed.
    std::fs::write(dir.join("captures/extra.txt"), b"planted").expect("write");
    std::fs::remove_file(dir.join("report.html")).expect("rm");

    let o = leakscope(&["verify", p(&dir)]);
    assert_eq!(o.status.code(), Some(3), "{}", stdout(&o));
    let out = stdout(&o);
    assert!(
        out.contains("changed   captures/northwind-pharmacy.har"),
        "{out}"
    );
    assert!(out.contains("added     captures/extra.txt"), "{out}");
    assert!(out.contains("missing   report.html"), "{out}");
    assert!(
        out.contains("signature valid"),
        "the manifest itself was not touched: {out}"
    );

    let o = leakscope(&["verify", p(&dir), "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(
        v["changed"],
        serde_json::json!(["captures/northwind-pharmacy.har"])
    );

    // A different key: named as untrusted even for an intact manifest.
    let other = t.path().join("other");
    let o = leakscope(&[
        "demo",
        "--offline",
        "--evidence",
        p(&other),
        "-o",
        p(&t.path().join("u.txt")),
    ]);
    assert!(o.status.success());
    let o = leakscope(&["verify", p(&other), "--key", p(&pubkey)]);
    assert_eq!(o.status.code(), Some(3));
    assert!(stdout(&o).contains("NOT the key given"));

    // An edited manifest breaks the signature.
    let m = dir.join("manifest.json");
    let text = std::fs::read_to_string(&m)
        .expect("manifest")
        .replacen("leakscope", "leakscopf", 1);
    std::fs::write(&m, text).expect("write");
    let o = leakscope(&["verify", p(&dir)]);
    assert_eq!(o.status.code(), Some(3));
    assert!(stdout(&o).contains("signature INVALID"), "{}", stdout(&o));
}

#[test]
fn gate_baseline_and_diff() {
    let t = tempfile::tempdir().expect("tmp");
    let o = leakscope(&["demo", "--offline", "--fail-on", "high"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("gate failed"), "{}", stderr(&o));
    let o = leakscope(&[
        "demo",
        "--offline",
        "--fail-on",
        "CRITICAL",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let o = leakscope(&["demo", "--offline", "--fail-on", "severe"]);
    assert_eq!(o.status.code(), Some(2), "bad severity is a usage error");

    // Accept today's findings; the gate then passes on the same input.
    let base = t.path().join("baseline.json");
    let o = leakscope(&[
        "demo",
        "--offline",
        "--write-baseline",
        p(&base),
        "-o",
        p(&t.path().join("x")),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = leakscope(&[
        "demo",
        "--offline",
        "--fail-on",
        "low",
        "--baseline",
        p(&base),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("accepted in the baseline"));

    // Drop one accepted finding: exactly that one fails the gate.
    let mut b: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&base).expect("b")).expect("json");
    let removed = b["findings"].as_array_mut().expect("list").remove(0)["id"]
        .as_str()
        .expect("id")
        .to_owned();
    std::fs::write(&base, b.to_string()).expect("write");
    let o = leakscope(&[
        "demo",
        "--offline",
        "--fail-on",
        "info",
        "--baseline",
        p(&base),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains(&removed), "{}", stderr(&o));

    // diff: save two runs, drop a finding from the old one.
    let new = t.path().join("new.json");
    assert!(
        leakscope(&["demo", "--offline", "--format", "json", "-o", p(&new)])
            .status
            .success()
    );
    let mut old: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&new).expect("r")).expect("json");
    let gone = old["findings"].as_array_mut().expect("f").remove(0)["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let oldp = t.path().join("old.json");
    std::fs::write(&oldp, old.to_string()).expect("write");
    let o = leakscope(&["diff", p(&oldp), p(&new), "--format", "json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let d: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(d["new"].as_array().expect("new").len(), 1);
    assert_eq!(d["new"][0]["id"], gone.as_str());
    assert!(d["fixed"].as_array().expect("fixed").is_empty());
    let o = leakscope(&["diff", p(&new), p(&oldp)]);
    assert!(stdout(&o).starts_with("0 new, 1 fixed"), "{}", stdout(&o));
    // Not a results document: a clear error, exit 2.
    std::fs::write(t.path().join("junk.json"), b"{\"events\": []}").expect("w");
    let o = leakscope(&["diff", p(&t.path().join("junk.json")), p(&new)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("junk.json"), "{}", stderr(&o));
}

#[test]
fn report_renders_saved_results() {
    let t = tempfile::tempdir().expect("tmp");
    let json = t.path().join("results.json");
    assert!(
        leakscope(&["demo", "--offline", "--format", "json", "-o", p(&json)])
            .status
            .success()
    );
    let html = t.path().join("report.html");
    let o = leakscope(&["report", p(&json), "-o", p(&html)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let page = std::fs::read_to_string(&html).expect("html");
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.contains("Northwind"));
    let o = leakscope(&["report", p(&json), "--format", "sarif"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("sarif json");
    assert_eq!(v["version"], "2.1.0");
    // The same findings from the saved file as from a fresh analysis.
    let o = leakscope(&["report", p(&json), "--format", "json"]);
    let again: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let saved: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&json).expect("r")).expect("json");
    assert_eq!(again, saved);
}
