//! Health detector throughput over events decoded from every corpus HAR
//! (read from ../shared/corpus), plus the cost of compiling the lexicon.
//! Prints the event count and the automata's heap size once.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Instant;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use leakscope_core::{Engine, Event};
use leakscope_detect::HealthMatcher;
use leakscope_detect::health::BUILTIN_LEXICON;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus");

fn hars(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            hars(&p, out);
        } else if p.extension().is_some_and(|x| x == "har") {
            out.push(p);
        }
    }
}

fn corpus_events() -> Vec<Event> {
    let mut paths = Vec::new();
    hars(Path::new(CORPUS), &mut paths);
    paths.sort();
    let engine = Engine::new();
    let mut an = engine.analyzer();
    for p in &paths {
        let label = p.display().to_string();
        let _ = leakscope_ingest::read_path(p, &label, &mut |ex| an.feed(&ex), &mut |_| {});
    }
    an.finish().events
}

fn bench(c: &mut Criterion) {
    let events = corpus_events();
    let t = Instant::now();
    let m = HealthMatcher::from_tsv(&BUILTIN_LEXICON).expect("lexicon");
    let build = t.elapsed();
    let evidence: usize = events.iter().map(|e| m.match_event(e).len()).sum();
    eprintln!(
        "health bench: {} events, {} evidence, {} terms, build {:.1} ms, automata {} KiB",
        events.len(),
        evidence,
        m.len(),
        build.as_secs_f64() * 1e3,
        m.memory_usage() >> 10
    );

    let mut g = c.benchmark_group("health");
    g.throughput(Throughput::Elements(events.len() as u64));
    g.bench_function(format!("match_event_corpus_{}_events", events.len()), |b| {
        b.iter(|| {
            events
                .iter()
                .map(|e| m.match_event(black_box(e)).len())
                .sum::<usize>()
        })
    });
    g.throughput(Throughput::Elements(1));
    g.sample_size(10);
    g.bench_function("build_lexicon", |b| {
        b.iter(|| HealthMatcher::from_tsv(black_box(&BUILTIN_LEXICON)).map(|m| m.len()))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
