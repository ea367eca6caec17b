//! Full analysis throughput (issue 3 target: ≥ 100,000 requests/s per core on
//! the corpus mix): decode, health and identity detection, verdict, over every
//! capture in ../shared/corpus held in memory. Also with four canaries, which
//! adds a scan of every request in every encoding.
//!
//! `cargo bench -p leakscope-detect --bench pipeline`

use std::hint::black_box;
use std::path::{Path, PathBuf};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use leakscope_core::{Engine, Exchange};
use leakscope_detect::{Canary, Detector, Pipeline};

// The allocator the `leakscope` binary uses, so the numbers are what users get.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus");

fn captures(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        let name = p
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        if p.is_dir() {
            captures(&p, out);
        } else if name.ends_with(".har")
            || name.contains("devtoolslog")
            || name.contains("perflog")
            || name.starts_with("meta_pixel_") && !name.ends_with(".tsv")
        {
            out.push(p);
        }
    }
}

fn corpus_mix() -> Vec<Exchange> {
    let mut paths = Vec::new();
    captures(Path::new(CORPUS), &mut paths);
    paths.sort();
    let mut out = Vec::new();
    for p in &paths {
        let label = p.display().to_string();
        let _ = leakscope_ingest::read_path(p, &label, &mut |ex| out.push(ex), &mut |_| {});
    }
    out
}

fn run(engine: &Engine, detector: &Detector, mix: &[Exchange]) -> usize {
    let mut p = Pipeline::new(engine, detector);
    for ex in mix {
        p.feed(ex);
    }
    p.finish().findings.len()
}

fn bench(c: &mut Criterion) {
    let mix = corpus_mix();
    let engine = Engine::new();
    let plain = Detector::new(&[]).expect("detector");
    let canaries = [
        "jane.canary@example.com",
        "+1 555 010 0199",
        "Jane Canary",
        "plan b morning after pill",
    ]
    .map(Canary::new);
    let with_canaries = Detector::new(&canaries).expect("canaries");
    eprintln!(
        "pipeline bench: {} requests, {} findings",
        mix.len(),
        run(&engine, &plain, &mix)
    );
    let mut g = c.benchmark_group("pipeline");
    g.throughput(Throughput::Elements(mix.len() as u64));
    g.sample_size(10);
    g.bench_function("full_analysis_corpus_mix", |b| {
        b.iter(|| black_box(run(&engine, &plain, &mix)))
    });
    g.bench_function("full_analysis_with_4_canaries", |b| {
        b.iter(|| black_box(run(&engine, &with_canaries, &mix)))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
