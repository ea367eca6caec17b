//! Reads capture files and prints the format, exchange count and warnings count.
//! Usage: cargo run --release -p leakscope-ingest --example count -- FILE...

use std::path::Path;
use std::time::Instant;

fn main() {
    let mut failed = false;
    for arg in std::env::args().skip(1) {
        let t = Instant::now();
        let mut n = 0u64;
        let mut warnings = 0u64;
        let res = leakscope_ingest::read_path(Path::new(&arg), &arg, &mut |_ex| n += 1, &mut |w| {
            warnings += 1;
            if warnings <= 5 {
                eprintln!("warning: {w}");
            }
        });
        match res {
            Ok(s) => println!(
                "{arg}\t{}\t{} exchanges\t{} skipped\t{} warnings\t{:.3}s",
                s.format,
                s.exchanges,
                s.skipped,
                warnings,
                t.elapsed().as_secs_f64()
            ),
            Err(e) => {
                failed = true;
                println!("{arg}\terror: {e}");
            }
        }
    }
    if failed {
        std::process::exit(1);
    }
}
