//! Output formats of `leakscope analyze`: a human table per page, one JSON
//! document, or JSON Lines.

use std::collections::BTreeMap;
use std::io::{self, Write};

use leakscope_core::{Analysis, Event};
use serde::Serialize;

#[derive(Debug, Clone, Copy)]
pub enum Format {
    Table,
    Json,
    Jsonl,
}

#[derive(Debug, Clone, Serialize)]
pub struct InputSummary {
    pub file: String,
    pub format: String,
    pub exchanges: u64,
    pub skipped: u64,
}

/// The JSON document. `findings` is filled by the verdict engine (next
/// stage); it is part of the contract already so consumers can rely on it.
#[derive(Serialize)]
struct Document<'a> {
    version: &'static str,
    inputs: &'a [InputSummary],
    events: &'a [Event],
    findings: [(); 0],
    decode_errors: &'a [leakscope_core::DecodeError],
}

pub fn write(
    w: &mut dyn Write,
    format: Format,
    a: &Analysis,
    inputs: &[InputSummary],
) -> io::Result<()> {
    match format {
        Format::Json => {
            let doc = Document {
                version: env!("CARGO_PKG_VERSION"),
                inputs,
                events: &a.events,
                findings: [],
                decode_errors: &a.errors,
            };
            serde_json::to_writer_pretty(&mut *w, &doc)?;
            writeln!(w)
        }
        Format::Jsonl => {
            for e in &a.events {
                serde_json::to_writer(&mut *w, e)?;
                writeln!(w)?;
            }
            Ok(())
        }
        Format::Table => table(w, a, inputs),
    }
}

fn table(w: &mut dyn Write, a: &Analysis, inputs: &[InputSummary]) -> io::Result<()> {
    let exchanges: u64 = inputs.iter().map(|i| i.exchanges).sum();
    let mut by_vendor: BTreeMap<&str, usize> = BTreeMap::new();
    for e in &a.events {
        *by_vendor.entry(e.vendor.as_str()).or_default() += 1;
    }
    writeln!(
        w,
        "{} requests read from {} input(s); {} tracker events",
        exchanges,
        inputs.len(),
        a.events.len()
    )?;
    if !by_vendor.is_empty() {
        let list: Vec<String> = by_vendor.iter().map(|(v, n)| format!("{v} {n}")).collect();
        writeln!(w, "by vendor: {}", list.join(", "))?;
    }
    // Pages in order of first appearance.
    let mut pages: Vec<(&str, Vec<&Event>)> = Vec::new();
    for e in &a.events {
        let page = e.page_url.as_deref().unwrap_or("(page unknown)");
        match pages.iter_mut().find(|(p, _)| *p == page) {
            Some((_, v)) => v.push(e),
            None => pages.push((page, vec![e])),
        }
    }
    for (page, events) in pages {
        writeln!(w)?;
        writeln!(w, "page {}", clip(page, 160))?;
        if let Some(t) = events.iter().find_map(|e| e.page_title.as_deref()) {
            writeln!(w, "  title \"{}\"", clip(t, 100))?;
        }
        for e in events {
            writeln!(
                w,
                "  {:<18} {:<28} {:<22} {}",
                e.vendor.as_str(),
                clip(&e.event, 28),
                clip(e.account_id.as_deref().unwrap_or("-"), 22),
                party(e)
            )?;
            for line in carries(e) {
                writeln!(w, "      {line}")?;
            }
        }
    }
    Ok(())
}

fn party(e: &Event) -> &'static str {
    match e.party {
        leakscope_core::Party::ThirdParty => "third party",
        leakscope_core::Party::FirstParty => "first party",
        leakscope_core::Party::FirstPartyProxy => "first-party proxy",
        leakscope_core::Party::Unknown => "party unknown",
    }
}

/// What an event carries, one short line per kind of data.
fn carries(e: &Event) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(b) = &e.ui.button_text {
        out.push(format!("button \"{}\"", clip(b, 80)));
    }
    if let Some(d) = &e.ui.destination {
        out.push(format!("link to {}", clip(d, 100)));
    }
    if !e.ui.form_fields.is_empty() {
        let names: Vec<&str> =
            e.ui.form_fields
                .iter()
                .filter_map(|f| {
                    f.name
                        .as_deref()
                        .or(f.id.as_deref())
                        .or(f.placeholder.as_deref())
                })
                .collect();
        out.push(format!("form fields: {}", clip(&names.join(", "), 100)));
    }
    if !e.custom_data.is_empty() {
        let items: Vec<String> = e
            .custom_data
            .iter()
            .map(|(k, v)| match v {
                serde_json::Value::String(s) => format!("{k}=\"{}\"", clip(s, 40)),
                serde_json::Value::Array(a) if a.is_empty() => format!("{k}=[]"),
                serde_json::Value::Object(_) | serde_json::Value::Array(_) => format!("{k}={{…}}"),
                other => format!("{k}={}", clip(&other.to_string(), 40)),
            })
            .collect();
        out.push(format!("data: {}", clip(&items.join(", "), 140)));
    }
    if !e.user_data.is_empty() {
        let items: Vec<String> = e
            .user_data
            .iter()
            .map(|d| match d.algorithm {
                Some(a) => format!(
                    "{}({})",
                    d.key,
                    serde_json::to_value(a)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default()
                ),
                None => format!("{}(plain)", d.key),
            })
            .collect();
        out.push(format!("user data: {}", items.join(", ")));
    }
    if !e.ids.is_empty() {
        let mut kinds: Vec<&str> = e.ids.iter().map(|i| i.kind.as_str()).collect();
        kinds.dedup();
        out.push(format!("ids: {}", kinds.join(", ")));
    }
    if !e.twins.is_empty() {
        out.push(format!(
            "also sent {} more time(s) (privacy-sandbox twin)",
            e.twins.len()
        ));
    }
    out
}

/// Shortens to `max` characters on a char boundary, control characters
/// shown as spaces: captured text is hostile and must not drive the terminal.
fn clip(s: &str, max: usize) -> String {
    let mut out: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(max)
        .collect();
    if s.chars().count() > max {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clip_strips_terminal_escapes() {
        assert_eq!(clip("a\x1b[31mb", 10), "a [31mb");
        assert_eq!(clip("abcdef", 3), "abc…");
    }
}
