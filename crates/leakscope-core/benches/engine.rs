//! Engine throughput on the shared corpus (`../shared/corpus`, or
//! `$LEAKSCOPE_CORPUS`): classification of non-tracker and all requests,
//! decoding of the corpus mix, and engine build time.
//!
//! `cargo bench -p leakscope-core --bench engine`
//! Targets (issue 2): classify non-trackers >= 1,000,000 requests/s; decode
//! the corpus mix >= 200,000 requests/s.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use leakscope_core::{Engine, Exchange};

// The allocator the `leakscope` binary uses, so the numbers are what users get.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

// The benchmark-only corpus loader lives in leakscope-bench; compiled in here
// by path because leakscope-bench itself depends on this crate.
#[allow(dead_code)]
#[path = "../../leakscope-bench/src/corpus.rs"]
mod corpus;

struct Data {
    non_tracker_urls: Vec<String>,
    all_urls: Vec<String>,
    mix: Vec<Exchange>,
    meta: Vec<Exchange>,
}

fn load(engine: &Engine) -> Data {
    let dir = corpus::corpus_dir(env!("CARGO_MANIFEST_DIR"));
    let fail = |what: &str, e: std::io::Error| -> ! {
        panic!("loading {what} from {}: {e}", dir.display())
    };
    let mut lists = corpus::qutebrowser_list(&dir).unwrap_or_else(|e| fail("qutebrowser list", e));
    lists.extend(corpus::brave_list(&dir).unwrap_or_else(|e| fail("adblock-rust list", e)));
    let non_tracker_urls: Vec<String> = lists
        .iter()
        .map(|r| r.ex.url.clone())
        .filter(|u| engine.classify(u).is_none())
        .collect();
    let mix: Vec<Exchange> = corpus::decode_mix(&dir)
        .unwrap_or_else(|e| fail("corpus captures", e))
        .into_iter()
        .map(|r| r.ex)
        .collect();
    let meta: Vec<Exchange> = corpus::meta_pixel(&dir)
        .unwrap_or_else(|e| fail("Meta Pixel requests", e))
        .into_iter()
        .map(|r| r.ex)
        .collect();
    let all_urls = lists
        .iter()
        .map(|r| &r.ex)
        .chain(&mix)
        .map(|ex| ex.url.clone())
        .collect();
    Data {
        non_tracker_urls,
        all_urls,
        mix,
        meta,
    }
}

fn classify(c: &mut Criterion, engine: &Engine, d: &Data) {
    let mut g = c.benchmark_group("classify");
    for (name, urls) in [("non_tracker", &d.non_tracker_urls), ("all", &d.all_urls)] {
        g.throughput(Throughput::Elements(urls.len() as u64));
        g.bench_function(name, |b| {
            b.iter(|| {
                let mut n = 0usize;
                for u in urls {
                    n += usize::from(engine.classify(black_box(u)).is_some());
                }
                n
            })
        });
    }
    g.finish();
}

fn decode(c: &mut Criterion, engine: &Engine, d: &Data) {
    let mut g = c.benchmark_group("decode");
    for (name, exs) in [("corpus_mix", &d.mix), ("meta_pixel", &d.meta)] {
        g.throughput(Throughput::Elements(exs.len() as u64));
        g.bench_function(name, |b| {
            let mut out = Vec::new();
            b.iter(|| {
                let mut n = 0usize;
                for ex in exs {
                    out.clear();
                    let _ = engine.decode(black_box(ex), &mut out);
                    n += out.len();
                }
                n
            })
        });
    }
    g.finish();
}

fn build(c: &mut Criterion) {
    c.bench_function("engine_new", |b| b.iter(Engine::new));
}

fn benches(c: &mut Criterion) {
    let engine = Engine::new();
    let d = load(&engine);
    eprintln!(
        "corpus: {} non-tracker list URLs, {} URLs in all, {} exchanges in the decode mix ({} Meta Pixel)",
        d.non_tracker_urls.len(),
        d.all_urls.len(),
        d.mix.len(),
        d.meta.len()
    );
    classify(c, &engine, &d);
    decode(c, &engine, &d);
    build(c);
}

criterion_group! {
    name = engine;
    // Short runs: the machine is shared, and the sets are large enough that
    // one iteration already averages over thousands of requests.
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = benches
}
criterion_main!(engine);
