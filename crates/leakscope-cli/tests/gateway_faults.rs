//! Fault tests on the real `leakscope gateway` process (loopback only,
//! bounded): kill -9 under load and restart, SIGTERM under load. The mock
//! Graph API runs in the test and records delivered events by event_id.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use leakscope_gateway::config::sha256_hex;
use leakscope_gateway::mock::MockGraph;
use serde_json::{Value, json};

const KEY: &str = "gw-fault-key-0001";
const TOKEN: &str = "EAAB-fault-test-meta-token-canary";
const PIXEL: &str = "1234567891234567";
const WORKERS: usize = 2;
const BATCH: usize = 50;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn write_config(dir: &Path, port: u16, upstream: &str) -> std::path::PathBuf {
    let cfg = format!(
        r#"listen = "127.0.0.1:{port}"
[upstream]
base_url = "{upstream}"
access_token = "{TOKEN}"
timeout_ms = 2000
[store]
sqlite = "{db}"
synchronous = "full"
[delivery]
batch_size = {BATCH}
workers = {WORKERS}
initial_backoff_ms = 20
max_backoff_ms = 200
poll_ms = 10
lease_ms = 3000
drain_timeout_ms = 10000
[[keys]]
name = "fault-test"
sha256 = "{key}"
"#,
        db = dir.join("gw.db").display(),
        key = sha256_hex(KEY.as_bytes()),
    );
    let p = dir.join("gateway.toml");
    std::fs::write(&p, cfg).unwrap();
    p
}

struct Proc(Child);
impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn(cfg: &Path, dir: &Path, n: u32) -> Proc {
    let log = std::fs::File::create(dir.join(format!("gateway-{n}.log"))).unwrap();
    Proc(
        Command::new(env!("CARGO_BIN_EXE_leakscope"))
            .args(["gateway", "--config"])
            .arg(cfg)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap(),
    )
}

async fn wait_healthy(http: &reqwest::Client, base: &str) {
    for _ in 0..300 {
        if let Ok(r) = http.get(format!("{base}/healthz")).send().await
            && r.status().is_success()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the gateway did not come up within 15 s");
}

fn event(id: &str) -> Value {
    json!({
        "event_name": "Purchase",
        "event_time": leakscope_gateway::store::now_ms() / 1000,
        "event_id": id,
        "action_source": "website",
        "event_source_url": "https://shop.example/checkout",
        "leakscope_consent": "granted",
        "user_data": {"external_id": "u1", "client_ip_address": "203.0.113.1", "client_user_agent": "UA"},
        "custom_data": {"currency": "USD", "value": 1.0}
    })
}

/// Sends 10-event requests in a loop; records the ids whose request got a 200.
fn load(
    http: reqwest::Client,
    base: String,
    acked: Arc<Mutex<BTreeSet<String>>>,
    stop: Arc<std::sync::atomic::AtomicBool>,
    tag: &'static str,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut n = 0u64;
        while !stop.load(std::sync::atomic::Ordering::Relaxed) {
            let ids: Vec<String> = (0..10).map(|i| format!("{tag}-{n:06}-{i}")).collect();
            n += 1;
            let body = json!({"access_token": KEY, "data": ids.iter().map(|i| event(i)).collect::<Vec<_>>()});
            match http
                .post(format!("{base}/v25.0/{PIXEL}/events"))
                .json(&body)
                .timeout(Duration::from_secs(5))
                .send()
                .await
            {
                Ok(r) if r.status().is_success() => acked.lock().unwrap().extend(ids),
                _ => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
    })
}

fn counts(m: &MockGraph) -> BTreeMap<String, usize> {
    let mut c = BTreeMap::new();
    for r in m.received() {
        if let Some(id) = r.event_id {
            *c.entry(id).or_insert(0) += 1;
        }
    }
    c
}

async fn wait_all_delivered(m: &MockGraph, acked: &BTreeSet<String>) {
    for _ in 0..600 {
        let c = counts(m);
        if acked.iter().all(|id| c.contains_key(id)) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let c = counts(m);
    let lost: Vec<_> = acked
        .iter()
        .filter(|id| !c.contains_key(*id))
        .take(10)
        .collect();
    panic!("accepted events never delivered (lost): {lost:?}…");
}

async fn run_fault(graceful: bool) {
    let dir = tempfile::tempdir().unwrap();
    let mock = MockGraph::start("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let cfg = write_config(dir.path(), port, &mock.base_url());
    let http = reqwest::Client::builder().no_proxy().build().unwrap();

    let mut gw = spawn(&cfg, dir.path(), 1);
    wait_healthy(&http, &base).await;
    let acked = Arc::new(Mutex::new(BTreeSet::new()));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let loaders: Vec<_> = ["a", "b", "c"]
        .into_iter()
        .map(|t| load(http.clone(), base.clone(), acked.clone(), stop.clone(), t))
        .collect();
    // Under load, with deliveries in flight.
    for _ in 0..200 {
        if acked.lock().unwrap().len() >= 1500 && !mock.received().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    if graceful {
        let pid = gw.0.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        let st = tokio::task::spawn_blocking(move || {
            let s = gw.0.wait();
            (gw, s)
        });
        let (g, s) = tokio::time::timeout(Duration::from_secs(20), st)
            .await
            .expect("SIGTERM exit within 20 s")
            .unwrap();
        gw = g;
        assert!(s.unwrap().success(), "graceful shutdown exits 0");
    } else {
        gw.0.kill().unwrap(); // SIGKILL
        gw.0.wait().unwrap();
    }
    let acked_at_kill = acked.lock().unwrap().len();
    tokio::time::sleep(Duration::from_millis(300)).await;
    drop(gw);
    let _gw2 = spawn(&cfg, dir.path(), 2);
    wait_healthy(&http, &base).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for l in loaders {
        l.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked_at_kill > 0 && acked.len() > acked_at_kill,
        "load ran on both sides of the restart"
    );
    wait_all_delivered(&mock, &acked).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let c = counts(&mock);
    let dups: Vec<_> = c
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(id, _)| id.clone())
        .collect();
    eprintln!(
        "{}: {} accepted, {} delivered, {} delivered twice",
        if graceful { "SIGTERM" } else { "kill -9" },
        acked.len(),
        c.len(),
        dups.len()
    );
    if graceful {
        assert!(
            dups.is_empty(),
            "graceful shutdown: delivered twice: {dups:?}"
        );
    } else {
        // The documented window: batches in flight when the process died
        // (upstream said 200, the commit had not happened) are sent again;
        // Meta's event_id + event_name dedup collapses them.
        assert!(
            dups.len() <= WORKERS * BATCH,
            "more duplicates than the in-flight batches: {}",
            dups.len()
        );
    }
    assert!(
        c.keys().all(|id| acked.contains(id) || id.len() > 2),
        "only real events upstream"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_under_load_loses_nothing() {
    run_fault(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_under_load_loses_nothing_and_sends_nothing_twice() {
    run_fault(true).await;
}
