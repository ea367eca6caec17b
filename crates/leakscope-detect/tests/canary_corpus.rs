//! The canary scan over every real capture in the shared corpus: made-up
//! canaries are never "found" in other people's traffic, and the scan stays
//! cheap on requests that carry none (printed: requests per second).

use std::path::{Path, PathBuf};
use std::time::Instant;

use leakscope_core::{Engine, Exchange};
use leakscope_detect::identity::identify;
use leakscope_detect::{Canary, CanaryMatcher, IdClass};

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus");

fn captures(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            captures(&p, out);
        } else if p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
            n.ends_with(".har") || n.ends_with(".devtoolslog.json") || n == "meta_pixel_posts.jsonl"
        }) {
            out.push(p);
        }
    }
}

fn exchanges() -> Vec<Exchange> {
    let mut files = Vec::new();
    captures(Path::new(CORPUS), &mut files);
    files.sort();
    let mut out = Vec::new();
    for f in &files {
        let name = f.to_string_lossy().into_owned();
        let _ = leakscope_ingest::read_path(f, &name, &mut |e| out.push(e), &mut |_| {});
    }
    out
}

#[test]
fn made_up_canaries_are_never_found_in_real_traffic() {
    let exs = exchanges();
    if exs.is_empty() {
        eprintln!("corpus not present at {CORPUS}: skipped");
        return;
    }
    assert!(exs.len() > 5_000, "{} requests", exs.len());
    let m = CanaryMatcher::new(&[
        Canary::new("jane.canary+rx7@example.com"),
        Canary::new("+1 (555) 010-0199"),
        Canary::new("Zephyrine Quillfeather"),
        Canary::new("canary morning pill"),
    ])
    .unwrap();
    let t = Instant::now();
    let mut hits = Vec::new();
    for ex in &exs {
        hits.extend(m.scan(ex).into_iter().map(|h| (ex.url.clone(), h)));
    }
    let secs = t.elapsed().as_secs_f64();
    eprintln!(
        "canary scan: {} requests in {secs:.3}s ({:.0} requests/s)",
        exs.len(),
        exs.len() as f64 / secs
    );
    assert!(hits.is_empty(), "{hits:#?}");
}

#[test]
fn identity_on_real_traffic_finds_no_phones_in_ids_and_timestamps() {
    let exs = exchanges();
    if exs.is_empty() {
        return;
    }
    let engine = Engine::new();
    let mut evs = Vec::new();
    for ex in &exs {
        let _ = engine.decode(ex, &mut evs);
    }
    let t = Instant::now();
    let mut phones = Vec::new();
    let mut direct_emails = 0;
    for ev in &evs {
        for x in identify(ev) {
            if x.kind == "phone" && x.class == IdClass::Direct && !x.field.contains("ph") {
                phones.push((ev.request_url.clone(), x.field.clone()));
            }
            if x.kind == "email" && x.class == IdClass::Direct {
                // The one in the corpus is a clicked mailto: link: not the visitor.
                assert!(!x.counts || !x.field.contains("destination"), "{x:?}");
                direct_emails += 1;
            }
        }
    }
    eprintln!(
        "identify: {} events in {:.3}s; plain emails: {direct_emails}",
        evs.len(),
        t.elapsed().as_secs_f64()
    );
    assert!(phones.is_empty(), "{phones:#?}");
}
