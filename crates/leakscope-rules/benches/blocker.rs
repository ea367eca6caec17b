//! The adblock engine's time per request, as the scanner asks it (one
//! `Blocker::check` per intercepted request): the published health-trackers
//! list against real request URLs from ../shared/corpus, and a small
//! site-scoped list like `leakscope rules` writes.
//!
//! `cargo bench -p leakscope-rules --bench blocker`

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use leakscope_rules::{Blocker, Query, health_trackers_list};

/// Request URLs from the corpus's Meta Pixel URL list and request lists, or
/// a made-up mix when ../shared is absent.
fn urls() -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(&dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "txt")
                && let Ok(t) = std::fs::read_to_string(&p)
            {
                out.extend(
                    t.lines()
                        .map(str::trim)
                        .filter(|l| l.starts_with("http"))
                        .map(str::to_owned),
                );
            }
        }
    }
    if out.is_empty() {
        for i in 0..500 {
            out.push(format!(
                "https://cdn{}.example-cdn.test/assets/app-{i}.js",
                i % 7
            ));
            out.push(format!(
                "https://www.facebook.com/tr/?id=1&ev=PageView&dl=x{i}"
            ));
        }
    }
    out
}

fn bench(c: &mut Criterion) {
    let urls = urls();
    let list = Blocker::parse("health-trackers.txt", &health_trackers_list("bench")).unwrap();
    let site = Blocker::parse(
        "filters.txt",
        "||facebook.com/tr^$domain=northwind-pharmacy.test\n||google-analytics.com*/g/collect^$domain=northwind-pharmacy.test\n||tiktok.com/api/v2/pixel^$domain=northwind-pharmacy.test\n",
    )
    .unwrap();
    let mut g = c.benchmark_group("blocker");
    g.throughput(criterion::Throughput::Elements(urls.len() as u64));
    for (name, b) in [("health-trackers", &list), ("site-rules", &site)] {
        g.bench_function(name, |bch| {
            bch.iter(|| {
                let mut n = 0usize;
                for u in &urls {
                    let v = b.check(&Query {
                        url: u,
                        source_url: "https://northwind-pharmacy.test/drugs/truvada",
                        resource_type: "image",
                        method: "GET",
                    });
                    n += matches!(v, leakscope_rules::Verdict::Block { .. }) as usize;
                }
                black_box(n)
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
