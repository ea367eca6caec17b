//! Output formats: a table for people (findings first, grouped per page and
//! vendor, most severe first) and Markdown live here; the results document
//! (JSON), JSON Lines, HTML, SARIF and CSV come from `leakscope-report`.
//! Captured text is hostile: it is clipped and stripped of control
//! characters before it reaches a terminal, and Markdown-escaped in `md`.

use std::collections::BTreeMap;
use std::io::{self, Write};

use leakscope_core::{Event, Party};
use leakscope_detect::{Finding, Severity};
// `clip` shows control characters as spaces: captured text is hostile and
// must not drive the terminal.
use leakscope_report::{InputSummary, Results, clip, html};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Jsonl,
    Markdown,
    Html,
    Sarif,
    Csv,
}

pub fn input_summary(file: String, s: &leakscope_ingest::Summary) -> InputSummary {
    InputSummary {
        file,
        format: s.format.as_str().to_owned(),
        exchanges: s.exchanges,
        skipped: s.skipped,
    }
}

/// Writes `r` in `format`. `assets` says where scan screenshots are read
/// from for the HTML report.
pub fn write(
    w: &mut dyn Write,
    format: Format,
    r: &Results,
    assets: &html::Assets,
    color: bool,
) -> io::Result<()> {
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *w, r)?;
            writeln!(w)
        }
        Format::Jsonl => leakscope_report::jsonl::write(w, r),
        Format::Table => table(w, r, &Style::new(color)),
        Format::Markdown => markdown(w, r),
        Format::Html => {
            let page = html::render(r, assets).map_err(io::Error::other)?;
            w.write_all(page.as_bytes())
        }
        Format::Sarif => {
            serde_json::to_writer_pretty(&mut *w, &leakscope_report::sarif::to_value(r))?;
            writeln!(w)
        }
        Format::Csv => leakscope_report::csv_out::write(w, r).map_err(io::Error::other),
    }
}

/// ANSI styles, or nothing when colour is off.
struct Style {
    on: bool,
}

impl Style {
    fn new(on: bool) -> Style {
        Style { on }
    }

    fn paint(&self, code: &str, s: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_owned()
        }
    }

    fn severity(&self, s: Severity) -> String {
        let code = match s {
            Severity::Critical => "1;97;41",
            Severity::High => "1;31",
            Severity::Medium => "33",
            Severity::Low => "36",
            Severity::Info => "2",
        };
        self.paint(code, &format!("{:<8}", s.as_str().to_uppercase()))
    }

    fn bold(&self, s: &str) -> String {
        self.paint("1", s)
    }

    fn dim(&self, s: &str) -> String {
        self.paint("2", s)
    }
}

/// Groups items by page in order of first appearance.
fn by_page<'a, T>(
    items: impl Iterator<Item = &'a T>,
    page: impl Fn(&T) -> Option<&str>,
) -> Vec<(String, Vec<&'a T>)>
where
    T: 'a,
{
    let mut pages: Vec<(String, Vec<&T>)> = Vec::new();
    for it in items {
        let p = page(it).unwrap_or("(page unknown)").to_owned();
        match pages.iter_mut().find(|(q, _)| *q == p) {
            Some((_, v)) => v.push(it),
            None => pages.push((p, vec![it])),
        }
    }
    pages
}

fn table(w: &mut dyn Write, r: &Results, st: &Style) -> io::Result<()> {
    let s = &r.summary;
    let inputs = &r.inputs;
    let mut by_vendor: BTreeMap<&str, usize> = BTreeMap::new();
    for e in &r.events {
        *by_vendor.entry(e.vendor.as_str()).or_default() += 1;
    }
    writeln!(
        w,
        "{} requests read from {} input(s); {} tracker events; {} findings",
        s.requests,
        inputs.len(),
        s.events,
        r.findings.len()
    )?;
    let by_severity: Vec<String> = Severity::ALL
        .iter()
        .filter(|x| s.findings[x.as_str()] > 0)
        .map(|x| format!("{} {}", x.as_str(), s.findings[x.as_str()]))
        .collect();
    if !by_severity.is_empty() {
        writeln!(w, "findings: {}", by_severity.join(", "))?;
    }
    if !by_vendor.is_empty() {
        let list: Vec<String> = by_vendor.iter().map(|(v, n)| format!("{v} {n}")).collect();
        writeln!(w, "events by vendor: {}", list.join(", "))?;
    }

    if !r.findings.is_empty() {
        writeln!(w)?;
        writeln!(w, "{}", st.bold("FINDINGS (most severe first)"))?;
        // Pages ordered by their worst finding; within a page, per vendor.
        let mut pages = by_page(r.findings.iter(), |f| f.page_url.as_deref());
        pages.sort_by_key(|(_, fs)| std::cmp::Reverse(fs.iter().map(|f| f.severity).max()));
        for (page, mut fs) in pages {
            writeln!(w)?;
            writeln!(w, "page {}", st.bold(&clip(&page, 160)))?;
            fs.sort_by(|a, b| a.vendor.cmp(&b.vendor).then(b.severity.cmp(&a.severity)));
            let mut vendors: Vec<_> = fs.iter().map(|f| f.vendor).collect();
            vendors.dedup();
            vendors.sort_by_key(|v| {
                std::cmp::Reverse(
                    fs.iter()
                        .filter(|f| f.vendor == *v)
                        .map(|f| f.severity)
                        .max(),
                )
            });
            for v in vendors {
                let mut vf: Vec<&&Finding> = fs.iter().filter(|f| f.vendor == v).collect();
                vf.sort_by_key(|f| std::cmp::Reverse(f.severity));
                let org = &vf[0].organisation;
                writeln!(
                    w,
                    "  {} {}",
                    st.bold(v.as_str()),
                    st.dim(&format!("({org})"))
                )?;
                for f in vf {
                    writeln!(
                        w,
                        "    {} {:<26} {}",
                        st.severity(f.severity),
                        clip(&f.event, 26),
                        st.dim(&f.id)
                    )?;
                    for h in f.health.iter().filter(|h| counts(h)) {
                        writeln!(
                            w,
                            "        health   {} \"{}\" in {}: {}",
                            h.category.as_str(),
                            clip(&h.term, 40),
                            h.field,
                            st.dim(&clip(&h.matched, 70))
                        )?;
                    }
                    let ids: Vec<String> = f
                        .identifiers
                        .iter()
                        .filter(|i| i.counts)
                        .map(|i| i.label())
                        .collect();
                    if !ids.is_empty() {
                        writeln!(w, "        identity {}", clip(&dedup(ids).join(", "), 120))?;
                    }
                    for c in &f.canaries {
                        writeln!(
                            w,
                            "        canary   {} in {} via {}",
                            c.value_kind, c.field, c.chain
                        )?;
                    }
                    writeln!(
                        w,
                        "        {}",
                        st.dim(&format!("{}  [{}]", f.source, f.rule))
                    )?;
                }
            }
        }
    }

    writeln!(w)?;
    writeln!(w, "{}", st.bold("EVENTS"))?;
    for (page, events) in by_page(r.events.iter(), |e| e.page_url.as_deref()) {
        writeln!(w)?;
        writeln!(w, "page {}", clip(&page, 160))?;
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

/// `leakscope diff`: new, then fixed, then a count of unchanged.
pub fn diff(w: &mut dyn Write, d: &leakscope_report::gate::Diff, json: bool) -> io::Result<()> {
    if json {
        serde_json::to_writer_pretty(&mut *w, d)?;
        return writeln!(w);
    }
    writeln!(
        w,
        "{} new, {} fixed, {} unchanged",
        d.new.len(),
        d.fixed.len(),
        d.unchanged.len()
    )?;
    for (label, list) in [
        ("new", &d.new),
        ("fixed", &d.fixed),
        ("unchanged", &d.unchanged),
    ] {
        for e in list {
            let changed = e
                .old_severity
                .map(|o| format!(" (was {o})"))
                .unwrap_or_default();
            writeln!(
                w,
                "{label:<9} {:<8} {:<18} {:<14} {:<28} {}{changed}",
                e.severity.as_str(),
                e.id,
                e.vendor,
                clip(&e.event, 28),
                clip(e.page_url.as_deref().unwrap_or("?"), 100)
            )?;
        }
    }
    Ok(())
}

/// Health evidence the verdict counted (strong, or weak with a second signal).
fn counts(h: &leakscope_detect::HealthEvidence) -> bool {
    h.strength == leakscope_detect::Strength::Strong || !h.signals.is_empty()
}

fn dedup(mut v: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    v.retain(|x| seen.insert(x.clone()));
    v
}

fn markdown(w: &mut dyn Write, r: &Results) -> io::Result<()> {
    let s = &r.summary;
    let inputs = &r.inputs;
    writeln!(w, "# leakscope report")?;
    writeln!(w)?;
    writeln!(w, "| | |")?;
    writeln!(w, "|---|---|")?;
    let files: Vec<String> = inputs
        .iter()
        .map(|i| format!("`{}`", md_code(&i.file)))
        .collect();
    writeln!(w, "| inputs | {} |", files.join(", "))?;
    writeln!(w, "| requests | {} |", s.requests)?;
    writeln!(w, "| tracker events | {} |", s.events)?;
    for sev in Severity::ALL {
        writeln!(
            w,
            "| {} findings | {} |",
            sev.as_str(),
            s.findings[sev.as_str()]
        )?;
    }
    writeln!(w)?;
    if r.findings.is_empty() {
        writeln!(
            w,
            "No findings: no tracker event carried health information to another party."
        )?;
    } else {
        writeln!(w, "## Findings")?;
        writeln!(w)?;
        writeln!(
            w,
            "| severity | vendor | event | page | health | identity | id |"
        )?;
        writeln!(w, "|---|---|---|---|---|---|---|")?;
        for f in &r.findings {
            let cats: Vec<String> = dedup(
                f.health
                    .iter()
                    .filter(|h| counts(h))
                    .map(|h| h.category.as_str().to_owned())
                    .collect(),
            );
            let ids: Vec<String> = dedup(
                f.identifiers
                    .iter()
                    .filter(|i| i.counts)
                    .map(|i| i.kind.clone())
                    .collect(),
            );
            writeln!(
                w,
                "| **{}** | {} | {} | {} | {} | {} | `{}` |",
                f.severity,
                f.vendor,
                md_cell(&f.event, 40),
                md_cell(f.page_url.as_deref().unwrap_or("?"), 80),
                md_cell(&cats.join(", "), 80),
                md_cell(&ids.join(", "), 80),
                f.id
            )?;
        }
        writeln!(w)?;
        for f in &r.findings {
            writeln!(
                w,
                "### {} — {} {} ({})",
                f.severity.as_str().to_uppercase(),
                f.vendor,
                md_cell(&f.event, 60),
                f.id
            )?;
            writeln!(w)?;
            writeln!(w, "{}", md_cell(&f.explanation, 2000))?;
            writeln!(w)?;
            for h in f.health.iter().filter(|h| counts(h)) {
                writeln!(
                    w,
                    "- health: `{}` \"{}\" in `{}`: {}",
                    h.category.as_str(),
                    md_cell(&h.term, 60),
                    md_code(&h.field),
                    md_cell(&h.matched, 100)
                )?;
            }
            for i in f.identifiers.iter().filter(|i| i.counts) {
                writeln!(
                    w,
                    "- identity: `{}`{} in `{}`",
                    i.kind,
                    if i.hashed { " (hashed)" } else { "" },
                    md_code(&i.field)
                )?;
            }
            for c in &f.canaries {
                writeln!(
                    w,
                    "- canary: {} in `{}` via `{}`",
                    c.value_kind,
                    md_code(&c.field),
                    md_code(&c.chain)
                )?;
            }
            for fw in &f.frameworks {
                writeln!(w, "- risk: **{}**: {}", fw.name, fw.why)?;
            }
            writeln!(
                w,
                "- evidence: `{}`, request `{}`",
                md_code(&f.source.to_string()),
                md_code(&clip(&f.request_url, 200))
            )?;
            writeln!(w)?;
        }
    }
    Ok(())
}

/// Text safe inside a Markdown table cell: no pipes, no markup, no HTML.
fn md_cell(s: &str, max: usize) -> String {
    let mut out = String::new();
    for c in clip(s, max).chars() {
        match c {
            '|' | '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '!' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// Text safe inside a Markdown code span.
fn md_code(s: &str) -> String {
    clip(s, 300).replace('`', "'")
}

fn party(e: &Event) -> &'static str {
    match e.party {
        Party::ThirdParty => "third party",
        Party::FirstParty => "first party",
        Party::FirstPartyProxy => "first-party proxy",
        Party::Unknown => "party unknown",
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
    if !e.canaries.is_empty() {
        let c: Vec<String> = e
            .canaries
            .iter()
            .map(|c| format!("{} via {}", c.value_kind, c.chain))
            .collect();
        out.push(format!("canaries: {}", c.join("; ")));
    }
    if !e.twins.is_empty() {
        out.push(format!(
            "also sent {} more time(s) (privacy-sandbox twin or resend)",
            e.twins.len()
        ));
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

    #[test]
    fn markdown_cells_cannot_break_the_table() {
        assert_eq!(md_cell("a|b<script>", 50), "a\\|b\\<script\\>");
    }
}
