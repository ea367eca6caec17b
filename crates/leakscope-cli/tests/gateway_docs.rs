//! The gateway as docs/gateway.md shows it to a first-time user, on the
//! shipped binary (loopback only, every wait bounded): the start-up line
//! names the address and the store, the mock logs each request and lists it
//! at `GET /__mock/events`, no token warning for a loopback upstream, and
//! the dry-run commands of docs/gateway.md and docs/gateway-policy.md run
//! as written and print the decision.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const PIXEL: &str = "1234567891234567";
const WAIT: Duration = Duration::from_secs(30);

/// A child process, killed when the test ends (pass or fail).
struct Proc {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Proc {
    /// `leakscope ARGS` in `cwd`, with its stderr read line by line.
    fn start(args: &[&str], cwd: &Path) -> Proc {
        let mut child = Command::new(env!("CARGO_BIN_EXE_leakscope"))
            .args(args)
            .current_dir(cwd)
            .env_remove("LEAKSCOPE_LOG")
            .env_remove("LEAKSCOPE_META_ACCESS_TOKEN")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let err = child.stderr.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for l in std::io::BufReader::new(err).lines() {
                let Ok(l) = l else { return };
                if tx.send(l).is_err() {
                    return;
                }
            }
        });
        Proc {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// The first stderr line (from now on) that contains `needle`.
    fn line_with(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(l) => {
                    self.seen.push(l.clone());
                    if l.contains(needle) {
                        return l;
                    }
                }
                Err(_) => panic!(
                    "no stderr line with {needle:?} within {WAIT:?}; seen:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
    }
}

/// The `http://ADDR` in a log line.
fn url_in(line: &str) -> String {
    let i = line.find("http://").expect("a URL in the line");
    line[i..]
        .split(|c: char| c == ',' || c.is_whitespace())
        .next()
        .unwrap()
        .to_owned()
}

fn tempdir() -> (tempfile::TempDir, PathBuf) {
    let d = tempfile::tempdir().unwrap();
    // The gateway prints the store's absolute path as the OS resolves it.
    let p = d.path().canonicalize().unwrap();
    (d, p)
}

#[test]
fn first_run_says_where_it_listens_and_stores_and_the_mock_logs_requests() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (_d, dir) = tempdir();
    let mut mock = Proc::start(&["gateway", "mock", "--listen", "127.0.0.1:0"], &dir);
    let mock_url = url_in(&mock.line_with("mock Graph API on http://"));

    let mut gw = Proc::start(
        &[
            "gateway",
            "--upstream",
            &mock_url,
            "--listen",
            "127.0.0.1:0",
            "--log-format",
            "text",
        ],
        &dir,
    );
    let start = gw.line_with("listening on http://127.0.0.1:");
    let store = format!(
        "store: {} (SQLite)",
        dir.join("leakscope-gateway.db").display()
    );
    assert!(start.contains(&store), "{start}\nshould name {store}");
    assert!(
        !start.contains('\u{1b}'),
        "no colour codes in a log that is not a terminal: {start:?}"
    );
    let gw_url = url_in(&start);

    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let event = json!({
        "event_name": "Purchase", "event_time": now, "event_id": "order-1001",
        "action_source": "website", "event_source_url": "https://shop.example/pharmacy/checkout",
        "user_data": {"em": "jane.canary@example.com", "client_user_agent": "Mozilla/5.0"},
        "custom_data": {"value": 12.5, "currency": "USD", "content_name": "Sertraline 50 mg",
                        "leakscope_consent": "granted"}
    });
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let (status, body) = rt.block_on(async {
        let r = http
            .post(format!("{gw_url}/v25.0/{PIXEL}/events"))
            .json(&json!({"data": [event]}))
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    });
    assert_eq!(status, 200, "{body}");

    // The mock logs the delivery: method, path, pixel, count, names, answer.
    let line = mock.line_with("/events: pixel");
    assert!(
        line.contains(&format!(
            "POST /v25.0/{PIXEL}/events: pixel {PIXEL}, 1 event: Purchase -> 200"
        )),
        "{line}"
    );

    // GET /__mock/events: what Meta would have received, as documented.
    let got: Value = rt.block_on(async {
        http.get(format!("{mock_url}/__mock/events"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    });
    let got = got.as_array().expect("a JSON array");
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["pixel_id"], PIXEL);
    assert_eq!(got[0]["event_id"], "order-1001");
    assert_eq!(got[0]["event_name"], "Purchase");
    assert!(got[0]["access_token"].is_null(), "no token was configured");
    let sent = got[0]["event"]
        .as_str()
        .expect("the event as a JSON string");
    let sent: Value = serde_json::from_str(sent).unwrap();
    assert_eq!(sent["event_source_url"], "https://shop.example/");
    assert!(sent["custom_data"].get("content_name").is_none(), "{sent}");
    assert!(
        sent["custom_data"].get("leakscope_consent").is_none(),
        "{sent}"
    );
    assert!(sent.get("leakscope_consent").is_none(), "{sent}");
    drop(mock);

    // A loopback upstream needs no Meta token: no warning that Meta refuses.
    let _ = gw.child.kill();
    while let Ok(l) = gw.lines.recv_timeout(Duration::from_secs(5)) {
        gw.seen.push(l);
    }
    assert!(
        !gw.seen
            .iter()
            .any(|l| l.contains("WARN") || l.contains("refuse")),
        "{}",
        gw.seen.join("\n")
    );
}

#[test]
fn a_remote_upstream_without_a_token_still_warns() {
    let (_d, dir) = tempdir();
    let mut gw = Proc::start(
        &["gateway", "--listen", "127.0.0.1:0", "--log-format", "text"],
        &dir,
    );
    gw.line_with("listening on http://127.0.0.1:");
    assert!(
        gw.seen
            .iter()
            .any(|l| l.contains("WARN") && l.contains("Meta will refuse deliveries")),
        "{}",
        gw.seen.join("\n")
    );
    assert!(
        gw.seen
            .iter()
            .any(|l| l.contains("upstream: https://graph.facebook.com/v25.0")),
        "{}",
        gw.seen.join("\n")
    );
}

/// The lines of the fenced `sh` blocks of a doc.
fn sh_blocks(doc: &str) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../docs")
            .join(doc),
    )
    .unwrap();
    let mut blocks = Vec::new();
    let mut cur: Option<Vec<String>> = None;
    for l in text.lines() {
        match (&mut cur, l.trim_start().strip_prefix("```")) {
            (None, Some(info)) if info.trim() == "sh" => cur = Some(Vec::new()),
            (None, _) => {}
            (Some(_), Some(_)) => blocks.push(cur.take().unwrap()),
            (Some(b), None) => b.push(l.to_owned()),
        }
    }
    blocks
}

/// Runs shell text with the tested binary first on PATH, as `leakscope`.
fn sh(script: &str, dir: &Path) -> std::process::Output {
    let bin = Path::new(env!("CARGO_BIN_EXE_leakscope")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    Command::new("sh")
        .args(["-c", script])
        .current_dir(dir)
        .env("PATH", path)
        .env_remove("LEAKSCOPE_LOG")
        .output()
        .unwrap()
}

fn decisions(out: &std::process::Output, what: &str) -> Vec<Value> {
    assert!(
        out.status.success(),
        "{what}: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{what}: not JSON ({e}):\n{}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    v["events"].as_array().unwrap().clone()
}

#[test]
fn the_dry_run_the_docs_show_prints_the_decision() {
    let (_d, dir) = tempdir();
    // docs/gateway.md, "First run": the block that writes gateway.toml and
    // event.json and dry-runs them, run as written.
    let block = sh_blocks("gateway.md")
        .into_iter()
        .find(|b| {
            b.iter().any(|l| l.contains("--dry-run event.json"))
                && b.iter().any(|l| l.starts_with("cat > event.json"))
        })
        .expect("docs/gateway.md shows a dry-run block that writes event.json");
    let out = sh(&block.join("\n"), &dir);
    let ev = decisions(&out, "docs/gateway.md first-run dry-run");
    assert_eq!(ev.len(), 1);
    let d = &ev[0]["decision"];
    assert!(ev[0]["invalid"].is_null(), "{ev:?}");
    assert_eq!(d["verdict"]["verdict"], "forward", "{d}");
    assert_eq!(
        d["event"]["event_source_url"], "https://shop.example/",
        "{d}"
    );
    assert!(
        d["event"]["custom_data"].get("content_name").is_none(),
        "{d}"
    );
    assert!(
        d["event"]["custom_data"].get("leakscope_consent").is_none(),
        "{d}"
    );
    let fields: Vec<&str> = d["redactions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["field"].as_str())
        .collect();
    for f in [
        "leakscope_consent",
        "custom_data.content_name",
        "event_source_url",
        "user_data.em",
    ] {
        assert!(fields.contains(&f), "the docs name {f} as redacted: {d}");
    }
    assert!(
        d["notes"]
            .to_string()
            .contains("consent: granted on the event"),
        "{d}"
    );

    // Every `leakscope gateway check` line of both docs runs on those files.
    let mut ran = 0;
    for doc in ["gateway.md", "gateway-policy.md"] {
        for line in sh_blocks(doc).into_iter().flatten() {
            if !line.starts_with("leakscope gateway check") {
                continue;
            }
            let out = sh(&line, &dir);
            ran += 1;
            if line.contains("--dry-run") {
                let ev = decisions(&out, &format!("{doc}: {line}"));
                assert_eq!(
                    ev[0]["decision"]["verdict"]["verdict"], "forward",
                    "{doc}: {line}"
                );
            } else {
                let text = String::from_utf8_lossy(&out.stdout);
                // The docs' gateway.toml points at the loopback mock.
                assert!(
                    out.status.success()
                        && text.starts_with("configuration OK")
                        && text.contains("none needed on this machine")
                        && text.contains("leakscope-gateway.db (SQLite)"),
                    "{doc}: {line}: {text}{}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
        }
    }
    assert!(ran >= 5, "only {ran} check commands found in the docs");

    // A denial next to a grant blocks: consent is fail-closed wherever it rides.
    let mut e: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("event.json")).unwrap()).unwrap();
    e["leakscope_consent"] = json!("granted");
    e["custom_data"]["leakscope_consent"] = json!("denied");
    let mut silent = e.clone();
    silent["custom_data"]
        .as_object_mut()
        .unwrap()
        .remove("leakscope_consent");
    silent.as_object_mut().unwrap().remove("leakscope_consent");
    std::fs::write(dir.join("two.json"), json!([e, silent]).to_string()).unwrap();
    let out = sh(
        "leakscope gateway --config gateway.toml --dry-run two.json",
        &dir,
    );
    let ev = decisions(&out, "granted + denied, then no signal");
    for (i, e) in ev.iter().enumerate() {
        assert_eq!(
            e["decision"]["verdict"]["verdict"], "block",
            "event {i}: {e}"
        );
        assert_eq!(
            e["decision"]["verdict"]["reason"]["kind"], "no_consent",
            "event {i}: {e}"
        );
    }
}
