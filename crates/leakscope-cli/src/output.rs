//! Output formats: a table for people (findings first, grouped per page and
//! vendor, most severe first) and Markdown live here; the results document
//! (JSON), JSON Lines, HTML, SARIF and CSV come from `leakscope-report`.
//! Captured text is hostile: it is clipped and stripped of control
//! characters before it reaches a terminal, and Markdown-escaped in `md`.

use std::collections::BTreeMap;
use std::io::{self, Write};

use leakscope_core::scan::RunStatus;
use leakscope_core::{Event, Party};
use leakscope_detect::{Finding, Severity};
// `clip` shows control characters as spaces: captured text is hostile and
// must not drive the terminal.
use leakscope_report::{InputSummary, Results, clip, explain, html, story};

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
        Format::Markdown => {
            markdown(w, r)?;
            match &assets.fixes {
                Some(p) => write!(w, "\n{}", leakscope_report::fixes::markdown(p)),
                None => Ok(()),
            }
        }
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
    let mut by_vendor: BTreeMap<&str, usize> = BTreeMap::new();
    for e in &r.events {
        *by_vendor.entry(e.vendor.as_str()).or_default() += 1;
    }
    writeln!(w, "{}", clip(&story::provenance(r), 400))?;
    writeln!(w)?;
    writeln!(w, "{}", st.bold("IN SHORT"))?;
    for h in story::headlines(r) {
        writeln!(w, "  - {}", clip(&h, 400))?;
    }
    writeln!(w)?;
    // The counts per severity are the first headline.
    if !by_vendor.is_empty() {
        let list: Vec<String> = by_vendor.iter().map(|(v, n)| format!("{v} {n}")).collect();
        writeln!(w, "events by vendor: {}", list.join(", "))?;
    }

    let site_lines = story::site_lines(r);
    if !site_lines.is_empty() {
        writeln!(w)?;
        writeln!(w, "{}", st.bold("WHO THE SITE IS"))?;
        for l in site_lines {
            writeln!(w, "  {}", clip(&l, 400))?;
        }
    }

    if let Some(scan) = &r.scan {
        if !by_vendor.is_empty() {
            writeln!(w)?;
        }
        writeln!(w, "{}", st.bold("RUNS"))?;
        for run in &scan.runs {
            let name = if run.name.is_empty() {
                String::new()
            } else {
                format!("{}: ", clip(&run.name, 60))
            };
            writeln!(
                w,
                "  {name}{} · consent {} · {}: {}",
                clip(&run.site, 100),
                clip(&run.consent, 20),
                clip(&run.device, 20),
                clip(&story::run_status(run), 300)
            )?;
        }
    }

    let legal = explain::legal(r);
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
                    st.dim(&format!("({})", clip(org, 80)))
                )?;
                for f in vf {
                    finding_lines(w, f, &legal, st)?;
                }
            }
        }
    }

    if !legal.is_empty() {
        writeln!(w)?;
        writeln!(
            w,
            "{}",
            st.bold("LEGAL RISK (each framework once; risk, not legal advice)")
        )?;
        for fw in &legal {
            writeln!(w)?;
            writeln!(w, "  {}", st.bold(&clip(&fw.heading, 300)))?;
            for p in &fw.paragraphs {
                let text = format!(
                    "{}{} ({} finding{})",
                    if fw.paragraphs.len() > 1 {
                        format!("{}: ", clip(&p.label, 80))
                    } else {
                        String::new()
                    },
                    clip(&p.why, 2000),
                    p.findings,
                    if p.findings == 1 { "" } else { "s" }
                );
                for line in wrap(&text, 96) {
                    writeln!(w, "    {line}")?;
                }
            }
        }
    }

    let glossary = explain::glossary(r);
    if !glossary.is_empty() {
        writeln!(w)?;
        writeln!(w, "{}", st.bold("GLOSSARY"))?;
        for (term, text) in glossary {
            writeln!(w, "  {}", st.bold(term))?;
            for line in wrap(text, 96) {
                writeln!(w, "    {line}")?;
            }
        }
    }

    writeln!(w)?;
    writeln!(w, "{}", st.bold("EVENTS"))?;
    if r.events.is_empty() {
        writeln!(w)?;
        writeln!(w, "{}", story::no_events(r))?;
    }
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

/// One finding in the table: severity, event and id, then its evidence,
/// each health term once with where it was found.
fn finding_lines(
    w: &mut dyn Write,
    f: &Finding,
    legal: &[explain::LegalFramework],
    st: &Style,
) -> io::Result<()> {
    writeln!(
        w,
        "    {} {:<26} {}",
        st.severity(f.severity),
        clip(&f.event, 26),
        st.dim(&f.id)
    )?;
    for h in explain::health_lines(f) {
        let count = if h.count > 1 {
            format!(" ×{}", h.count)
        } else {
            String::new()
        };
        writeln!(
            w,
            "        health   {} \"{}\"{count} in {}: {}",
            h.category.as_str(),
            clip(&h.term, 40),
            clip(&h.fields_text(6), 240),
            st.dim(&clip(&h.example, 70))
        )?;
    }
    // Site-context findings carry no health word: the site is the evidence.
    if let Some(site) = f.site.as_ref().filter(|_| f.health.is_empty()) {
        let what = if f.rule == "sensitive_site_care_action" {
            "care-seeking on"
        } else {
            "a visit to"
        };
        writeln!(
            w,
            "        site     {what} {} ({}, {} confidence)",
            clip(&site.site, 80),
            site.category,
            site.confidence.as_str()
        )?;
    }
    let ids = explain::identity_labels(f);
    if !ids.is_empty() {
        writeln!(w, "        identity {}", clip(&ids.join(", "), 160))?;
    }
    for c in &f.canaries {
        writeln!(
            w,
            "        canary   {} in {} via {}",
            clip(&c.value_kind, 40),
            clip(&c.field, 120),
            clip(&c.chain, 120)
        )?;
    }
    let refs: Vec<String> = explain::legal_refs(f, legal)
        .into_iter()
        .map(|(_, label)| clip(&label, 80))
        .collect();
    if !refs.is_empty() {
        writeln!(
            w,
            "        legal    {} {}",
            refs.join(", "),
            st.dim("(see LEGAL RISK)")
        )?;
    }
    writeln!(
        w,
        "        {}",
        st.dim(&format!(
            "{}  [{}]",
            clip(&f.source.to_string(), 200),
            clip(&explain::rule_text(f), 200)
        ))
    )?;
    if let Some(o) = explain::occurrences_text(f) {
        writeln!(w, "        {}", st.dim(&clip(&o, 400)))?;
    }
    Ok(())
}

/// Words wrapped at `width` columns (counted in characters); a word longer
/// than the width stands on its own line.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let need = line.chars().count() + usize::from(!line.is_empty()) + word.chars().count();
        if !line.is_empty() && need > width {
            out.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        out.push(line);
    }
    out
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
    writeln!(w, "{}", md_cell(&story::provenance(r), 600))?;
    writeln!(w)?;
    writeln!(w, "## In short")?;
    writeln!(w)?;
    for h in story::headlines(r) {
        writeln!(w, "- {}", md_cell(&h, 600))?;
    }
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
    let nothing_checked = r.scan.as_ref().is_some_and(|sc| !sc.loaded_any());
    if nothing_checked {
        // Zero findings of a scan that loaded nothing would read as clean.
        writeln!(
            w,
            "| findings | none: no page loaded, nothing was checked |"
        )?;
    }
    for sev in Severity::ALL.iter().filter(|_| !nothing_checked) {
        writeln!(
            w,
            "| {} findings | {} |",
            sev.as_str(),
            s.findings.get(sev.as_str()).copied().unwrap_or(0)
        )?;
    }
    writeln!(w)?;
    let site_lines = story::site_lines(r);
    if !site_lines.is_empty() {
        writeln!(w, "## Who the site is")?;
        writeln!(w)?;
        for l in site_lines {
            writeln!(w, "- {}", md_cell(&l, 600))?;
        }
        writeln!(w)?;
    }
    if let Some(scan) = &r.scan {
        writeln!(w, "## Scan runs")?;
        writeln!(w)?;
        writeln!(w, "| run | site | consent | device | status |")?;
        writeln!(w, "|---|---|---|---|---|")?;
        for run in &scan.runs {
            let status = story::run_status(run);
            let status = if run.status == RunStatus::NotLoaded {
                format!("**{}**", md_cell(&status, 300))
            } else {
                md_cell(&status, 300)
            };
            writeln!(
                w,
                "| {} | {} | {} | {} | {status} |",
                md_cell(&run.name, 60),
                md_cell(&run.site, 120),
                md_cell(&run.consent, 20),
                md_cell(&run.device, 20)
            )?;
        }
        writeln!(w)?;
    }
    let legal = explain::legal(r);
    if r.findings.is_empty() {
        if r.events.is_empty() {
            writeln!(w, "{}", md_cell(&story::no_events(r), 300))?;
        } else {
            writeln!(
                w,
                "No findings: no tracker event carried health information to another party."
            )?;
        }
    } else {
        writeln!(w, "## Findings")?;
        writeln!(w)?;
        writeln!(
            w,
            "| severity | vendor | event | page | health | identity | id |"
        )?;
        writeln!(w, "|---|---|---|---|---|---|---|")?;
        for f in explain::ordered(r) {
            let cats: Vec<String> = dedup(
                f.health
                    .iter()
                    .filter(|h| counts(h))
                    .map(|h| h.category.as_str().to_owned())
                    .collect(),
            );
            let mut cats = cats;
            if cats.is_empty()
                && let Some(site) = &f.site
            {
                // A site-context finding: who the site is stands for the health.
                cats.push(format!("site: {}", site.category));
            }
            let ids = explain::identity_labels(f);
            writeln!(
                w,
                "| **{}** | {} | {} | {} | {} | {} | `{}` |",
                f.severity,
                f.vendor,
                md_cell(&f.event, 40),
                md_cell(f.page_url.as_deref().unwrap_or("?"), 80),
                md_cell(&cats.join(", "), 80),
                md_cell(&ids.join(", "), 80),
                md_code(&f.id)
            )?;
        }
        writeln!(w)?;
        for f in explain::ordered(r) {
            writeln!(
                w,
                "### {} — {} {} ({})",
                f.severity.as_str().to_uppercase(),
                f.vendor,
                md_cell(&f.event, 60),
                md_cell(&f.id, 40)
            )?;
            writeln!(w)?;
            writeln!(w, "{}", md_cell(&f.explanation, 2000))?;
            writeln!(w)?;
            for h in explain::health_lines(f) {
                let count = if h.count > 1 {
                    format!(" ×{}", h.count)
                } else {
                    String::new()
                };
                let fields: Vec<String> = h
                    .fields
                    .iter()
                    .take(8)
                    .map(|(x, n)| {
                        if *n > 1 {
                            format!("`{}` ×{n}", md_code(x))
                        } else {
                            format!("`{}`", md_code(x))
                        }
                    })
                    .collect();
                let more = h.fields.len().saturating_sub(8);
                let more = if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                };
                writeln!(
                    w,
                    "- health: `{}` \"{}\"{count} in {}{more}: {}",
                    h.category.as_str(),
                    md_cell(&h.term, 60),
                    fields.join(", "),
                    md_cell(&h.example, 100)
                )?;
            }
            for i in f.identifiers.iter().filter(|i| i.counts) {
                if i.kind == "ip_address" && i.field == "connection" {
                    writeln!(
                        w,
                        "- identity: {}",
                        md_cell(i.note.as_deref().unwrap_or("the visitor's IP address"), 200)
                    )?;
                    continue;
                }
                writeln!(
                    w,
                    "- identity: `{}`{} in `{}`",
                    md_code(&i.kind),
                    if i.hashed { " (hashed)" } else { "" },
                    md_code(&i.field)
                )?;
            }
            for c in &f.canaries {
                writeln!(
                    w,
                    "- canary: {} in `{}` via `{}`",
                    md_cell(&c.value_kind, 40),
                    md_code(&c.field),
                    md_code(&c.chain)
                )?;
            }
            let refs: Vec<String> = explain::legal_refs(f, &legal)
                .into_iter()
                .map(|(_, label)| md_cell(&label, 80))
                .collect();
            if !refs.is_empty() {
                writeln!(
                    w,
                    "- legal risk: {} (see [Legal risk](#legal-risk))",
                    refs.join(", ")
                )?;
            }
            writeln!(w, "- severity: `{}`", md_code(&explain::rule_text(f)))?;
            writeln!(
                w,
                "- evidence: `{}`, request `{}`",
                md_code(&f.source.to_string()),
                md_code(&clip(&f.request_url, 200))
            )?;
            if let Some(o) = explain::occurrences_text(f) {
                writeln!(w, "- {}", md_cell(&o, 400))?;
            }
            writeln!(w)?;
        }
    }
    if !legal.is_empty() {
        writeln!(w, "## Legal risk")?;
        writeln!(w)?;
        writeln!(
            w,
            "Each framework once; the findings above cite it by name. Risk under health-privacy rules, not legal advice."
        )?;
        writeln!(w)?;
        for fw in &legal {
            writeln!(w, "### {}", md_cell(&fw.heading, 300))?;
            writeln!(w)?;
            for p in &fw.paragraphs {
                let label = if fw.paragraphs.len() > 1 {
                    format!("**{}**: ", md_cell(&p.label, 80))
                } else {
                    String::new()
                };
                writeln!(
                    w,
                    "{label}{} ({} finding{})",
                    md_cell(&p.why, 2000),
                    p.findings,
                    if p.findings == 1 { "" } else { "s" }
                )?;
                writeln!(w)?;
            }
        }
    }
    let glossary = explain::glossary(r);
    if !glossary.is_empty() {
        writeln!(w, "## Glossary")?;
        writeln!(w)?;
        for (term, text) in glossary {
            writeln!(w, "- `{term}`: {text}")?;
        }
        writeln!(w)?;
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

    fn analyze(bytes: &[u8], label: &str) -> Results {
        let engine = leakscope_core::Engine::new();
        let detector = leakscope_detect::Detector::new(&[]).expect("detector");
        let mut pipeline = leakscope_detect::Pipeline::new(&engine, &detector);
        let summary =
            leakscope_ingest::read_reader(bytes, label, &mut |ex| pipeline.feed(&ex), &mut |_| {})
                .expect("capture reads");
        Results::new(
            pipeline.finish(),
            vec![input_summary(label.to_owned(), &summary)],
            None,
            "[version]",
        )
    }

    fn demo() -> Results {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../demo/northwind-pharmacy.har"
        );
        analyze(&std::fs::read(path).expect("demo HAR"), "demo.har")
    }

    fn render(format: Format, r: &Results) -> String {
        let mut out = Vec::new();
        write(&mut out, format, r, &html::Assets::default(), false).expect("renders");
        String::from_utf8(out).expect("utf-8")
    }

    const EMPTY_HAR: &str =
        r#"{"log":{"version":"1.2","creator":{"name":"t","version":"1"},"entries":[]}}"#;

    #[test]
    fn legal_paragraphs_appear_once_in_table_and_markdown() {
        let r = demo();
        let legal = explain::legal(&r);
        assert!(legal.len() >= 5 && r.findings.len() >= 10);
        let table = render(Format::Table, &r);
        let md = render(Format::Markdown, &r);
        // The table wraps lines: compare with whitespace folded.
        let folded: String = table.split_whitespace().collect::<Vec<_>>().join(" ");
        for fw in &legal {
            for p in &fw.paragraphs {
                assert_eq!(
                    folded.matches(p.why.as_str()).count(),
                    1,
                    "table: {}",
                    p.label
                );
                assert_eq!(
                    md.matches(md_cell(&p.why, 2000).as_str()).count(),
                    1,
                    "markdown: {}",
                    p.label
                );
            }
        }
        // Each finding points at them by name instead.
        assert_eq!(
            table.matches("(see LEGAL RISK)").count(),
            r.findings.len(),
            "{table}"
        );
        assert_eq!(md.matches("- legal risk: ").count(), r.findings.len());
    }

    #[test]
    fn table_and_markdown_start_with_the_headlines_and_end_with_the_glossary() {
        let r = demo();
        let table = render(Format::Table, &r);
        let md = render(Format::Markdown, &r);
        let heads = story::headlines(&r);
        assert!(table.starts_with("leakscope [version] · analysed 1 capture (demo.har)"));
        assert!(!table.contains("leakscope-results/1") && !md.contains("leakscope-results/1"));
        let in_short = table.find("IN SHORT").expect("headlines");
        assert!(in_short < table.find("FINDINGS").expect("findings"));
        for h in &heads {
            assert!(table.contains(h.as_str()), "table lacks {h}");
            assert!(md.contains(&md_cell(h, 600)), "markdown lacks {h}");
        }
        assert!(table.contains("GLOSSARY") && md.contains("## Glossary"));
        assert!(table.contains("  c_user\n") && md.contains("- `c_user`: "));
        // One line per health term: "plan b" in the query, the title and the
        // search field of the Search event is one line with its count.
        assert!(
            table.contains(
                "\"plan b\" ×3 in page_url.query.q, page_title, custom_data.search_string"
            ),
            "{table}"
        );
    }

    #[test]
    fn an_empty_capture_says_there_were_no_requests() {
        let r = analyze(EMPTY_HAR.as_bytes(), "empty.har");
        let table = render(Format::Table, &r);
        assert!(
            table.contains("EVENTS\n\nNo requests in this capture.\n"),
            "{table}"
        );
        assert!(table.contains("No requests in this capture: nothing was checked."));
        let md = render(Format::Markdown, &r);
        assert!(md.contains("No requests in this capture."), "{md}");
        assert!(!md.contains("No findings"), "{md}");
    }

    #[test]
    fn a_scan_that_loaded_nothing_says_so_in_table_and_markdown() {
        use leakscope_core::scan::{LoadFailure, RunInfo, ScanInfo};
        let mut r = analyze(EMPTY_HAR.as_bytes(), "scan");
        r.inputs.clear();
        let site = "https://nowhere.invalid/";
        r.scan = Some(ScanInfo {
            runs: vec![RunInfo {
                name: "none".into(),
                site: site.into(),
                consent: "none".into(),
                device: "desktop".into(),
                status: RunStatus::NotLoaded,
                failure: Some(LoadFailure::from_net_error(
                    site,
                    "net::ERR_NAME_NOT_RESOLVED",
                )),
                ..RunInfo::default()
            }],
            ..ScanInfo::default()
        });
        let table = render(Format::Table, &r);
        assert!(
            table.contains("IN SHORT\n  - No page loaded: nothing was checked (DNS lookup failed for https://nowhere.invalid/"),
            "{table}"
        );
        assert!(
            table.contains("none: https://nowhere.invalid/ · consent none · desktop: could not load: DNS lookup failed for"),
            "{table}"
        );
        assert!(!table.contains("0 findings"), "{table}");
        let md = render(Format::Markdown, &r);
        assert!(
            md.contains("**could not load: DNS lookup failed for"),
            "{md}"
        );
        assert!(md.contains("- No page loaded: nothing was checked"), "{md}");
    }

    #[test]
    fn wrap_keeps_words_whole() {
        assert_eq!(wrap("aa bb cc", 5), ["aa bb", "cc"]);
        assert_eq!(wrap("averylongword x", 4), ["averylongword", "x"]);
        assert!(wrap("   ", 10).is_empty());
    }
}
