//! JSON Lines: one event per line, then one `{"finding": {...}}` per line.
//! Each line is the same object as in the results document.

use std::io::{self, Write};

use crate::Results;

pub fn write(w: &mut dyn Write, r: &Results) -> io::Result<()> {
    for e in &r.events {
        serde_json::to_writer(&mut *w, e)?;
        writeln!(w)?;
    }
    for f in &r.findings {
        serde_json::to_writer(&mut *w, &serde_json::json!({ "finding": f }))?;
        writeln!(w)?;
    }
    Ok(())
}
