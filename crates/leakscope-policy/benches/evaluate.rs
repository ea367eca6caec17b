//! `Policy::evaluate` throughput (events/s) on made-up events: a clean
//! sign-up, a Plan B purchase (default policy: allowlist drops the text, URL
//! generalised) and the same under a permissive policy (detector redacts).
//! The gateway needs > 20k events/s overall on 2 cores.
//!
//! `cargo bench -p leakscope-policy --bench evaluate`; add `-- --cpu` for
//! events per CPU-second (user + system time from /proc/self/stat), which
//! stays meaningful when other jobs share the cores.

use criterion::{Criterion, Throughput, criterion_group};
use leakscope_policy::{Policy, PolicyConfig};
use serde_json::{Value, json};
use std::hint::black_box;

// As in the `leakscope` binary that runs the gateway.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn clean(t: i64) -> Value {
    json!({
        "event_name": "Lead", "event_time": t - 60, "event_id": "lead-31337",
        "action_source": "website",
        "event_source_url": "https://northwind-pharmacy.example/newsletter/thanks?src=footer",
        "leakscope_consent": "granted",
        "user_data": {
            "em": "sam.canary@example.org", "ph": "1 555 010 0142", "zp": "94025",
            "client_user_agent": "Mozilla/5.0 (X11; Linux x86_64) Canary/1.0",
            "client_ip_address": "203.0.113.7", "fbp": "fb.1.1700000000000.1234567890"
        },
        "custom_data": {"value": 0, "currency": "USD"}
    })
}

fn plan_b(t: i64) -> Value {
    json!({
        "event_name": "Purchase", "event_time": t - 60, "event_id": "order-77120",
        "action_source": "website",
        "event_source_url": "https://shop.northwind-pharmacy.example/pharmacy/emergency-contraception/plan-b-one-step?utm_source=mail",
        "leakscope_consent": "granted",
        "user_data": {
            "em": "jane.canary@example.com", "ph": "+1 (555) 010-0199", "fn": "Jane",
            "external_id": "cust-0042", "client_ip_address": "203.0.113.7",
            "client_user_agent": "Mozilla/5.0 (X11; Linux x86_64) Canary/1.0",
            "fbp": "fb.1.1700000000000.1234567890"
        },
        "custom_data": {
            "value": 49.99, "currency": "USD",
            "content_name": "Plan B One-Step emergency contraceptive",
            "content_category": "Family Planning", "content_ids": ["sku-1188"],
            "contents": [{"id": "sku-1188", "quantity": 1, "item_price": 49.99,
                          "title": "Plan B One-Step 1.5 mg tablet"}],
            "num_items": 1, "search_string": "morning after pill"
        }
    })
}

fn bench(c: &mut Criterion) {
    let t = now();
    let default = Policy::compile(PolicyConfig::default()).expect("default policy");
    let permissive = Policy::from_toml(
        r#"
[default]
custom_data_allow = ["value", "currency", "content_name", "content_category", "contents",
                     "content_ids", "search_string", "num_items"]
contents_allow = ["id", "quantity", "item_price", "title"]
url_mode = "keep-if-clean"
[[page_types]]
name = "pharmacy-page"
prefix = "/pharmacy"
"#,
    )
    .expect("permissive policy");
    let (clean, plan_b) = (clean(t), plan_b(t));
    assert!(default.evaluate("1", &clean, None).is_forward());
    assert!(permissive.evaluate("1", &plan_b, None).is_forward());

    let mut g = c.benchmark_group("evaluate");
    g.throughput(Throughput::Elements(1));
    g.bench_function("clean_default", |b| {
        b.iter(|| default.evaluate("1", black_box(&clean), None))
    });
    g.bench_function("plan_b_default", |b| {
        b.iter(|| default.evaluate("1", black_box(&plan_b), None))
    });
    g.bench_function("clean_permissive", |b| {
        b.iter(|| permissive.evaluate("1", black_box(&clean), None))
    });
    g.bench_function("plan_b_permissive", |b| {
        b.iter(|| permissive.evaluate("1", black_box(&plan_b), None))
    });
    g.finish();
}

criterion_group!(benches, bench);

/// User + system CPU seconds of this process (Linux; 0 elsewhere).
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the `(comm)`: utime and stime are the 12th and 13th.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

fn cpu_mode() {
    let t = now();
    let default = Policy::compile(PolicyConfig::default()).expect("default policy");
    let (clean, plan_b) = (clean(t), plan_b(t));
    for (name, ev) in [("clean_default", &clean), ("plan_b_default", &plan_b)] {
        let start = cpu_seconds();
        let wall = std::time::Instant::now();
        let mut n = 0u64;
        while wall.elapsed().as_secs_f64() < 5.0 {
            for _ in 0..100 {
                black_box(default.evaluate("1", black_box(ev), None));
            }
            n += 100;
        }
        let cpu = cpu_seconds() - start;
        println!(
            "{name}: {n} events in {cpu:.2} CPU s = {:.0} events per CPU-second ({:.1} us each)",
            n as f64 / cpu,
            cpu * 1e6 / n as f64
        );
    }
}

fn main() {
    if std::env::args().any(|a| a == "--cpu") {
        cpu_mode();
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
