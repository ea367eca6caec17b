//! Prints every exchange of a capture as one JSON line (warnings to stderr).
//! Usage: cargo run -p leakscope-ingest --example dump -- FILE

use std::io::Write;
use std::path::Path;

fn main() {
    let Some(arg) = std::env::args().nth(1) else {
        eprintln!("usage: dump FILE");
        std::process::exit(2);
    };
    let out = std::io::stdout();
    let mut out = std::io::BufWriter::new(out.lock());
    let res = leakscope_ingest::read_path(
        Path::new(&arg),
        &arg,
        &mut |ex| {
            let _ = serde_json::to_writer(&mut out, &ex);
            let _ = out.write_all(b"\n");
        },
        &mut |w| eprintln!("warning: {w}"),
    );
    let _ = out.flush();
    if let Err(e) = res {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
