//! Load generator and test processes for scripts/bench-gateway.sh (not CI).
//!
//!   bench mock ADDR                      mock Graph API
//!   bench gateway CONFIG                 the gateway (as `leakscope gateway --config`)
//!   bench batch URL KEY EVENTS CONC SECS batched requests, closed loop: events/s
//!   bench rate URL KEY RPS SECS          single-event requests at a fixed rate: latency
//!
//! URL is a full events endpoint, e.g. http://127.0.0.1:8787/v25.0/1234/events.
//! Prints one JSON line of results.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;

fn event(i: u64) -> serde_json::Value {
    json!({
        "event_name": "Purchase",
        "event_time": std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs(),
        "event_id": format!("bench-{}-{i}", std::process::id()),
        "action_source": "website",
        "event_source_url": "https://shop.northwind-pharmacy.example/pharmacy/refill?drug=descovy",
        "leakscope_consent": "granted",
        "user_data": {"em": "jane.canary@example.com", "external_id": "cust-1", "client_ip_address": "203.0.113.7", "client_user_agent": "Mozilla/5.0 bench"},
        "custom_data": {"currency": "USD", "value": 12.5, "content_name": "Descovy 200 mg", "contents": [{"id": "sku-1", "quantity": 1}]}
    })
}

/// A request body of `n` events with ids from `base`, spliced into one
/// serialised event: the generator shares the cores with the gateway, so it
/// must not spend them building JSON trees.
fn batch_body(key: &str, base: u64, n: u64) -> Vec<u8> {
    use std::sync::OnceLock;
    static TEMPLATE: OnceLock<(String, String)> = OnceLock::new();
    let (head, tail) = TEMPLATE.get_or_init(|| {
        let one = event(u64::MAX).to_string();
        let mark = format!("-{}\"", u64::MAX);
        let at = one.find(&mark).expect("event id in the template");
        (
            one[..at + 1].to_owned(),
            one[at + mark.len() - 1..].to_owned(),
        )
    });
    let mut out = String::with_capacity((head.len() + tail.len() + 12) * n as usize + 64);
    out.push_str(&format!("{{\"access_token\":{},\"data\":[", json!(key)));
    for i in base..base + n {
        if i > base {
            out.push(',');
        }
        out.push_str(head);
        out.push_str(&i.to_string());
        out.push_str(tail);
    }
    out.push_str("]}");
    out.into_bytes()
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main]
async fn main() {
    let a: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| {
        a.get(i)
            .cloned()
            .unwrap_or_else(|| panic!("missing argument {i}; see the file header"))
    };
    match arg(0).as_str() {
        "mock" => {
            let m = leakscope_gateway::mock::MockGraph::start(arg(1).parse().unwrap())
                .await
                .unwrap();
            eprintln!("mock on {}", m.base_url());
            leakscope_gateway::shutdown_signal().await;
        }
        "gateway" => {
            let cfg =
                leakscope_gateway::GatewayConfig::from_file(std::path::Path::new(&arg(1))).unwrap();
            let l = tokio::net::TcpListener::bind(cfg.listen).await.unwrap();
            leakscope_gateway::serve(cfg, l, leakscope_gateway::shutdown_signal())
                .await
                .unwrap();
        }
        "batch" => {
            let (url, key) = (arg(1), arg(2));
            let per: u64 = arg(3).parse().unwrap();
            let conc: usize = arg(4).parse().unwrap();
            let secs: u64 = arg(5).parse().unwrap();
            let http = reqwest::Client::builder().no_proxy().build().unwrap();
            let sent = Arc::new(AtomicU64::new(0));
            let errors = Arc::new(AtomicU64::new(0));
            let next = Arc::new(AtomicU64::new(0));
            let end = Instant::now() + Duration::from_secs(secs);
            let start = Instant::now();
            let mut tasks = Vec::new();
            for _ in 0..conc {
                let (http, url, key, sent, errors, next) = (
                    http.clone(),
                    url.clone(),
                    key.clone(),
                    sent.clone(),
                    errors.clone(),
                    next.clone(),
                );
                tasks.push(tokio::spawn(async move {
                    while Instant::now() < end {
                        let base = next.fetch_add(per, Ordering::Relaxed);
                        let body = batch_body(&key, base, per);
                        match http
                            .post(&url)
                            .header("content-type", "application/json")
                            .body(body)
                            .send()
                            .await
                        {
                            Ok(r) if r.status().is_success() => {
                                sent.fetch_add(per, Ordering::Relaxed);
                            }
                            _ => {
                                errors.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                    }
                }));
            }
            for t in tasks {
                t.await.unwrap();
            }
            let el = start.elapsed().as_secs_f64();
            let n = sent.load(Ordering::Relaxed);
            println!(
                "{}",
                json!({"mode": "batch", "events_per_request": per, "concurrency": conc, "seconds": el, "events_acked": n, "events_per_sec": n as f64 / el, "failed_requests": errors.load(Ordering::Relaxed)})
            );
        }
        "rate" => {
            let (url, key) = (arg(1), arg(2));
            let rps: u64 = arg(3).parse().unwrap();
            let secs: u64 = arg(4).parse().unwrap();
            let http = reqwest::Client::builder()
                .no_proxy()
                .pool_max_idle_per_host(256)
                .build()
                .unwrap();
            let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / rps));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
            let lat = Arc::new(std::sync::Mutex::new(Vec::with_capacity(
                (rps * secs) as usize,
            )));
            let errors = Arc::new(AtomicU64::new(0));
            let mut tasks = Vec::new();
            for i in 0..rps * secs {
                tick.tick().await;
                let body =
                    serde_json::to_vec(&json!({"data": [event(i)], "access_token": key})).unwrap();
                let (http, url, lat, errors) =
                    (http.clone(), url.clone(), lat.clone(), errors.clone());
                tasks.push(tokio::spawn(async move {
                    let t = Instant::now();
                    match http
                        .post(&url)
                        .header("content-type", "application/json")
                        .body(body)
                        .send()
                        .await
                    {
                        Ok(r) if r.status().is_success() => {
                            let _ = r.bytes().await;
                            lat.lock().unwrap().push(t.elapsed().as_secs_f64() * 1000.0);
                        }
                        _ => {
                            errors.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }));
            }
            for t in tasks {
                t.await.unwrap();
            }
            let mut v = lat.lock().unwrap().clone();
            let (p50, p99, max) = (pct(&mut v, 0.5), pct(&mut v, 0.99), pct(&mut v, 1.0));
            println!(
                "{}",
                json!({"mode": "rate", "target_rps": rps, "seconds": secs, "ok": v.len(), "failed": errors.load(Ordering::Relaxed), "p50_ms": p50, "p99_ms": p99, "max_ms": max})
            );
        }
        other => panic!("unknown mode {other}"),
    }
}
