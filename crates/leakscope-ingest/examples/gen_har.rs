//! Writes a synthetic HAR of about N MB (tracker GETs, form and JSON POSTs,
//! large script responses) for load and memory tests.
//! Usage: cargo run --release -p leakscope-ingest --example gen_har -- OUT.har MEGABYTES [SEED]

#[path = "../tests/support/synth.rs"]
mod synth;

use std::io::{BufWriter, Write};

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(path), Some(mb)) = (args.get(1), args.get(2).and_then(|m| m.parse::<u64>().ok()))
    else {
        eprintln!("usage: gen_har OUT.har MEGABYTES [SEED]");
        std::process::exit(2);
    };
    let seed = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(42);
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    let (bytes, entries) = synth::write_har(&mut w, mb << 20, seed)?;
    w.flush()?;
    println!("{path}: {bytes} bytes, {entries} entries");
    Ok(())
}
