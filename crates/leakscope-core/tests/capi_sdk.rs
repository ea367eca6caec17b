//! The Conversions API as Meta's own Python Business SDK (`facebook-business`,
//! pinned in tests/sdk/requirements.txt) really sends it: tests/sdk/capi_capture.py
//! points the SDK at a loopback server and writes each captured request as
//! leakscope JSONL; this test decodes them.
//!
//! Needs Python with `facebook_business` importable: `.venv/` (made by
//! scripts/setup.sh), `$LEAKSCOPE_PYTHON` or `python3`. Without it the test
//! skips loudly, or fails when `CI` is set.

use std::path::{Path, PathBuf};
use std::process::Command;

use leakscope_core::{Engine, Event, Exchange, HashAlgo, HashEncoding, Header, Source, Vendor};
use serde_json::Value;
use sha2::{Digest, Sha256};

// The canaries tests/sdk/capi_capture.py sends (keep in step).
const PIXEL_ID: &str = "1234567891234567";
const ACCESS_TOKEN: &str = "EAAB-canary-token-DO-NOT-LEAK-0123456789abcdef";
const APPSECRET_PROOF: &str = "51644b1c597504627c413a1452cbb1eecbae9a5281c4fe1dd05802cac653e61c";
const SOURCE_URL: &str = "https://pharmacy.example/rx/refill?drug=levonorgestrel";
const CONTENT_NAME: &str = "Levonorgestrel 1.5 mg tablet";
const CONTENT_TITLE: &str = "Levonorgestrel 1.5 mg (emergency contraceptive), 1 tablet";
const IP: &str = "203.0.113.7";
const FBP: &str = "fb.1.1707905062143.381974684";
const FBC: &str = "fb.1.1707905062143.IwAR2canaryClickId";

/// The canaries after Meta's normalisation (wire-formats.md §3.3): the script
/// sends `Jane.Doe.Canary@Example.com ` and `+1 555 010 0199`.
const NORMALISED: &[(&str, &str)] = &[
    ("em", "jane.doe.canary@example.com"),
    ("ph", "15550100199"),
    ("fn", "jane"),
    ("ln", "doe"),
    ("ct", "springfield"),
    ("zp", "62704"),
];

fn sha256_hex(s: &str) -> String {
    Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The project's virtual environment (`scripts/setup.sh` makes it), else
/// `$LEAKSCOPE_PYTHON`, else `python3` on the PATH.
fn python(root: &Path) -> PathBuf {
    if let Some(p) = std::env::var_os("LEAKSCOPE_PYTHON") {
        return p.into();
    }
    let venv = root.join(".venv/bin/python");
    if venv.exists() {
        venv
    } else {
        "python3".into()
    }
}

/// Runs the capture script; `None` when the SDK is not available here.
fn capture() -> Option<Vec<Value>> {
    let root = workspace_root();
    let py = python(&root);
    let probe = Command::new(&py)
        .args(["-c", "import facebook_business"])
        .output();
    if !matches!(&probe, Ok(o) if o.status.success()) {
        let why = match probe {
            Ok(o) => String::from_utf8_lossy(&o.stderr)
                .lines()
                .last()
                .unwrap_or_default()
                .to_owned(),
            Err(e) => format!("python3 not runnable: {e}"),
        };
        let msg = format!(
            "the CAPI SDK test needs python3 with Meta's Business SDK: \
             run `scripts/setup.sh` (installs it into .venv/). ({why})"
        );
        if std::env::var_os("CI").is_some() {
            panic!("{msg}");
        }
        eprintln!("\n!!!!!!!! SKIPPED capi_sdk: {msg}\n");
        return None;
    }
    let out_path =
        std::env::temp_dir().join(format!("leakscope-capi-sdk-{}.jsonl", std::process::id()));
    let run = Command::new(&py)
        .arg("tests/sdk/capi_capture.py")
        .arg(&out_path)
        .current_dir(&root)
        .output()
        .expect("run tests/sdk/capi_capture.py");
    assert!(
        run.status.success(),
        "capi_capture.py failed ({}):\n{}\n{}",
        run.status,
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    let text = std::fs::read_to_string(&out_path).expect("read captured JSONL");
    let _ = std::fs::remove_file(&out_path);
    Some(
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).expect("captured line is JSON"))
            .collect(),
    )
}

/// One JSONL record as leakscope's JSONL input describes it (method, url,
/// headers object, body text, mime).
fn exchange(rec: &Value, entry: u64) -> Exchange {
    let s = |k: &str| rec.get(k).and_then(Value::as_str).map(str::to_owned);
    // An empty mime leaves the body without a content type: the request's
    // `Content-Type` header then speaks for it.
    let mut ex = Exchange::post(
        Source::new("capi_sdk.jsonl", entry),
        s("url").expect("url"),
        &s("mime").unwrap_or_default(),
        s("body").unwrap_or_default(),
    );
    ex.method = s("method").expect("method");
    if let Some(Value::Object(h)) = rec.get("headers") {
        ex.request_headers = h
            .iter()
            .map(|(k, v)| Header::new(k.clone(), v.as_str().unwrap_or_default()))
            .collect();
    }
    ex
}

fn raw<'a>(e: &'a Event, key: &str) -> Option<&'a str> {
    e.raw
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

#[test]
fn python_business_sdk_capi_requests_decode() {
    let Some(records) = capture() else {
        return;
    };
    let variants: Vec<&str> = records
        .iter()
        .map(|r| r["variant"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(variants, ["sdk_sync", "sdk_async", "sdk_http_client_json"]);

    let engine = Engine::new();
    for (i, rec) in records.iter().enumerate() {
        let variant = variants[i];
        let ex = exchange(rec, i as u64);

        // Where the SDK put the token: the query (sync, via the requests
        // session's params) or the body (async and http_client paths).
        let (url_has_token, body_has_token) = (
            ex.url.contains(ACCESS_TOKEN),
            String::from_utf8_lossy(&ex.body.as_ref().unwrap().bytes).contains(ACCESS_TOKEN),
        );
        match variant {
            "sdk_sync" => assert!(url_has_token && !body_has_token, "{variant}"),
            _ => assert!(!url_has_token && body_has_token, "{variant}"),
        }

        let events = engine
            .events(&ex)
            .unwrap_or_else(|e| panic!("{variant}: {e}"));
        let names: Vec<&str> = events.iter().map(|e| e.event.as_str()).collect();
        assert_eq!(names, ["ViewContent", "Purchase"], "{variant}");

        let want_format = if variant == "sdk_http_client_json" {
            "json"
        } else {
            "form"
        };
        for (j, e) in events.iter().enumerate() {
            let ctx = format!("{variant} event {j}");
            assert_eq!(e.vendor, Vendor::MetaCapi, "{ctx}");
            assert!(e.server_side, "{ctx}");
            assert_eq!(e.transport.format, want_format, "{ctx}");
            assert_eq!(e.account_id.as_deref(), Some(PIXEL_ID), "{ctx}");
            assert_eq!(e.page_url.as_deref(), Some(SOURCE_URL), "{ctx}");
            assert_eq!(
                raw(e, &format!("data[{j}].event_id")),
                Some(format!("evt-canary-000{}", j + 1).as_str()),
                "{ctx}"
            );
            assert_eq!(e.custom_data["content_name"], CONTENT_NAME, "{ctx}");
            assert_eq!(
                e.custom_data["contents"][0]["title"], CONTENT_TITLE,
                "{ctx}"
            );
            assert_eq!(
                e.custom_data["search_string"], "morning after pill",
                "{ctx}"
            );

            for (key, normalised) in NORMALISED {
                let d = e
                    .user_data
                    .iter()
                    .find(|d| d.key == *key)
                    .unwrap_or_else(|| panic!("{ctx}: no user_data {key}"));
                assert!(d.hashed, "{ctx}: {key}");
                assert_eq!(d.algorithm, Some(HashAlgo::Sha256), "{ctx}: {key}");
                assert_eq!(d.encoding, Some(HashEncoding::Hex), "{ctx}: {key}");
                assert_eq!(d.value, sha256_hex(normalised), "{ctx}: {key}");
            }
            let ip = e
                .user_data
                .iter()
                .find(|d| d.key == "client_ip_address")
                .unwrap_or_else(|| panic!("{ctx}: no client_ip_address"));
            assert!(!ip.hashed && ip.algorithm.is_none(), "{ctx}");
            assert_eq!(ip.value, IP, "{ctx}");
            let ua = e
                .user_data
                .iter()
                .find(|d| d.key == "client_user_agent")
                .unwrap_or_else(|| panic!("{ctx}: no client_user_agent"));
            assert!(!ua.hashed && ua.value.starts_with("Mozilla/5.0"), "{ctx}");
            let id = |kind: &str| {
                e.ids
                    .iter()
                    .find(|i| i.kind == kind)
                    .map(|i| i.value.as_str())
            };
            assert_eq!(id("fbp"), Some(FBP), "{ctx}");
            assert_eq!(id("fbc"), Some(FBC), "{ctx}");
        }

        // Neither the token nor the proof reaches any output, wherever the
        // SDK put them.
        let out = serde_json::to_string(&events).expect("events serialise");
        assert!(
            !out.contains(ACCESS_TOKEN),
            "{variant}: token leaked: {out}"
        );
        assert!(
            !out.contains(APPSECRET_PROOF),
            "{variant}: proof leaked: {out}"
        );
    }
}
