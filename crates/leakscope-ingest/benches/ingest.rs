//! HAR ingest throughput: every corpus HAR (read from ../shared/corpus into
//! memory, each parsed on its own) and one ~200 MB synthetic HAR with big
//! response bodies.

#[path = "../tests/support/synth.rs"]
mod synth;

use std::hint::black_box;
use std::path::{Path, PathBuf};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

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

fn ingest(bytes: &[u8]) -> u64 {
    let mut n = 0u64;
    let s = leakscope_ingest::read_reader(
        bytes,
        "bench.har",
        &mut |e| {
            n += black_box(e).url.len() as u64;
        },
        &mut |_| {},
    )
    .expect("reads");
    s.exchanges + n
}

fn bench(c: &mut Criterion) {
    let mut paths = Vec::new();
    hars(Path::new(CORPUS), &mut paths);
    paths.sort();
    let corpus: Vec<Vec<u8>> = paths.iter().filter_map(|p| std::fs::read(p).ok()).collect();
    let total: usize = corpus.iter().map(Vec::len).sum();

    let mut g = c.benchmark_group("har");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(total as u64));
    g.bench_function(
        format!("corpus_{}_files_{}MB", corpus.len(), total >> 20),
        |b| b.iter(|| corpus.iter().map(|f| ingest(f)).sum::<u64>()),
    );

    let mut big = Vec::with_capacity(210 << 20);
    synth::write_har(&mut big, 200 << 20, 7).expect("synth");
    g.throughput(Throughput::Bytes(big.len() as u64));
    g.bench_function(format!("synthetic_{}MB", big.len() >> 20), |b| {
        b.iter(|| ingest(&big))
    });

    // Same bytes gzip-compressed: includes inflate.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &big[..50 << 20]).expect("gz");
    std::io::Write::write_all(&mut gz, b"]}}").expect("gz");
    let gz = gz.finish().expect("gz");
    g.throughput(Throughput::Bytes((50 << 20) as u64));
    g.bench_function("synthetic_50MB_gzip_uncompressed_rate", |b| {
        b.iter(|| {
            let mut n = 0u64;
            // The cut HAR ends mid-entry: only the throughput matters here.
            let _ = leakscope_ingest::read_reader(
                &gz[..],
                "bench.har.gz",
                &mut |_| n += 1,
                &mut |_| {},
            );
            n
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
