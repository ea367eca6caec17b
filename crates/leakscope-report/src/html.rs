//! The HTML report: one self-contained file for a compliance officer.
//!
//! Self-contained means no request leaves the page: CSS is inline, charts are
//! inline SVG and CSS grids, screenshots are inlined as `data:` URIs (so the
//! file can be mailed on its own), and a Content-Security-Policy forbids
//! scripts and any non-`data:` load as a second line of defence.
//! Everything captured is hostile: it reaches the page only through
//! minijinja with HTML autoescaping, never in a `<script>`, a URL attribute
//! or a style, and links are only in-page anchors.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};

use base64::Engine as _;
use leakscope_core::Event;
use leakscope_core::scan::{RunStatus, StepInfo};
use leakscope_detect::{Finding, HealthEvidence, Severity};
use minijinja::{AutoEscape, Environment};
use serde::Serialize;

use crate::explain::{self, LegalFramework};
use crate::{Error, Results, story};

const TEMPLATE: &str = include_str!("../templates/report.html.j2");

/// Largest screenshot inlined; bigger ones are named, not embedded.
const MAX_SCREENSHOT: u64 = 8 * 1024 * 1024;

/// Health evidence the verdict counted (strong, or weak with a second signal).
pub fn counts(h: &HealthEvidence) -> bool {
    explain::counts(h)
}

/// Where evidence files (screenshots) named in the results are read from.
#[derive(Debug, Clone, Default)]
pub struct Assets {
    /// The directory scan paths are relative to; `None` inlines nothing.
    pub base: Option<PathBuf>,
    /// What stops the findings (`leakscope-rules`): the "How to fix"
    /// section, when given.
    pub fixes: Option<leakscope_rules::FixPlan>,
}

#[derive(Serialize)]
struct View {
    /// What the results come from, in words (no schema ids).
    provenance: String,
    headlines: Vec<String>,
    /// Who each site is (category, confidence, evidence).
    site_lines: Vec<String>,
    legal: Vec<LegalFramework>,
    glossary: Vec<(&'static str, &'static str)>,
    /// A scan whose pages all failed to load: its zero findings mean nothing.
    nothing_checked: bool,
    /// Why there are no events, when there are none.
    no_events: String,
    summary: SummaryView,
    inputs: Vec<crate::InputSummary>,
    scan: Option<ScanView>,
    matrix: Matrix,
    pages: Vec<PageView>,
    findings: Vec<FindingView>,
    decode_errors: usize,
    fixes: Option<crate::fixes::View>,
}

#[derive(Serialize)]
struct SummaryView {
    sites: Vec<String>,
    pages: usize,
    vendors: Vec<String>,
    requests: u64,
    events: usize,
    findings: usize,
    by_severity: Vec<(String, usize)>,
    worst: Option<String>,
}

#[derive(Serialize)]
struct ScanView {
    product: String,
    flags: Vec<String>,
    started: String,
    finished: String,
    runs: Vec<RunView>,
}

#[derive(Serialize)]
struct RunView {
    /// The run's name, which its capture file is named after.
    name: String,
    site: String,
    consent: String,
    consent_note: Option<String>,
    device: String,
    requests: u64,
    steps: usize,
    errors: Vec<String>,
    loaded: bool,
    /// "loaded: 6 steps, 120 requests" or "could not load: …".
    status: String,
}

#[derive(Serialize)]
struct Matrix {
    categories: Vec<(String, String)>,
    rows: Vec<MatrixRow>,
}

#[derive(Serialize)]
struct MatrixRow {
    vendor: String,
    cells: Vec<(usize, u8)>,
}

#[derive(Serialize)]
struct PageView {
    url: String,
    title: Option<String>,
    findings: usize,
    width: usize,
    dots: Vec<Dot>,
}

#[derive(Serialize)]
struct Dot {
    x: usize,
    cls: &'static str,
    label: String,
    anchor: Option<String>,
}

#[derive(Serialize)]
struct FindingView {
    id: String,
    severity: &'static str,
    rule: String,
    vendor: String,
    organisation: String,
    account_id: Option<String>,
    event: String,
    page_url: Option<String>,
    method: String,
    request_url: String,
    source: String,
    /// "seen 3 times: …" when the leak was seen more than once.
    occurrences: Option<String>,
    explanation: String,
    health: Vec<HealthView>,
    identifiers: Vec<(String, String, bool, Option<String>)>,
    canaries: Vec<(String, String, String)>,
    /// (anchor, label) into the legal section: `("hipaa", "HIPAA (b)")`.
    legal: Vec<(String, String)>,
    ui: Vec<(String, String)>,
    decoded: Vec<(String, String)>,
    raw: Vec<(String, String)>,
    raw_more: usize,
    step: Option<StepView>,
}

#[derive(Serialize)]
struct HealthView {
    category: String,
    describe: String,
    term: String,
    /// Places the term was found in; more than one is one row.
    count: usize,
    fields: String,
    /// The first place's text, the term highlighted.
    segments: Vec<(String, bool)>,
    /// Every place with its text, when there is more than one.
    all: Vec<(String, String)>,
}

#[derive(Serialize)]
struct StepView {
    id: String,
    action: String,
    url: String,
    at: String,
    error: Option<String>,
    screenshot: Option<String>,
    screenshot_note: Option<String>,
}

/// Renders the report.
pub fn render(r: &Results, assets: &Assets) -> Result<String, Error> {
    let mut env = Environment::new();
    // Escape everything, whatever the template's name says.
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    env.add_template("report.html", TEMPLATE)?;
    let view = view(r, assets);
    Ok(env.get_template("report.html")?.render(view)?)
}

/// Shortens to `max` characters, control characters shown as spaces
/// (captured text is hostile: it must not drive a terminal or a layout).
pub fn clip(s: &str, max: usize) -> String {
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

fn sev_cls(s: Option<Severity>) -> &'static str {
    match s {
        Some(s) => s.as_str(),
        None => "none",
    }
}

fn view(r: &Results, assets: &Assets) -> View {
    let s = r.compute_summary();
    let by_severity = Severity::ALL
        .iter()
        .map(|x| {
            (
                x.as_str().to_owned(),
                s.findings.get(x.as_str()).copied().unwrap_or(0),
            )
        })
        .collect();
    let steps: BTreeMap<&str, &StepInfo> = r
        .scan
        .iter()
        .flat_map(|sc| sc.runs.iter())
        .flat_map(|run| run.steps.iter())
        .map(|st| (st.id.as_str(), st))
        .collect();
    let findings = explain::ordered(r);
    let legal = explain::legal(r);
    View {
        provenance: story::provenance(r),
        headlines: story::headlines(r),
        site_lines: story::site_lines(r),
        glossary: explain::glossary(r),
        nothing_checked: r.scan.as_ref().is_some_and(|sc| !sc.loaded_any()),
        no_events: story::no_events(r),
        summary: SummaryView {
            sites: s.sites.clone(),
            pages: s.pages,
            vendors: s.vendors.clone(),
            requests: s.requests,
            events: s.events,
            findings: r.findings.len(),
            by_severity,
            worst: r.worst().map(|w| w.as_str().to_owned()),
        },
        inputs: r.inputs.clone(),
        scan: r.scan.as_ref().map(|sc| ScanView {
            product: sc.browser.product.clone(),
            flags: sc.browser.flags.clone(),
            started: sc.started.clone(),
            finished: sc.finished.clone(),
            runs: sc
                .runs
                .iter()
                .map(|run| RunView {
                    name: run.name.clone(),
                    site: run.site.clone(),
                    consent: run.consent.clone(),
                    consent_note: run.consent_note.clone(),
                    device: run.device.clone(),
                    requests: run.requests,
                    steps: run.steps.len(),
                    errors: run
                        .errors
                        .iter()
                        .map(|e| clip(&format!("{} at {}: {}", e.kind, e.url, e.message), 300))
                        .collect(),
                    loaded: run.status == RunStatus::Loaded,
                    status: story::run_status(run),
                })
                .collect(),
        }),
        matrix: matrix(&r.findings),
        pages: pages(r),
        findings: findings
            .into_iter()
            .map(|f| finding_view(f, event_of(r, f), &steps, &legal, assets))
            .collect(),
        legal,
        decode_errors: r.decode_errors.len(),
        fixes: assets.fixes.as_ref().map(crate::fixes::view),
    }
}

fn matrix(findings: &[Finding]) -> Matrix {
    let mut tally: BTreeMap<(String, &'static str), usize> = BTreeMap::new();
    let mut cats: BTreeSet<leakscope_detect::HealthCategory> = BTreeSet::new();
    let mut vendors: BTreeSet<String> = BTreeSet::new();
    for f in findings {
        let fc: BTreeSet<_> = f
            .health
            .iter()
            .filter(|h| counts(h))
            .map(|h| h.category)
            .collect();
        vendors.insert(f.vendor.as_str().to_owned());
        for c in fc {
            cats.insert(c);
            *tally
                .entry((f.vendor.as_str().to_owned(), c.as_str()))
                .or_default() += 1;
        }
    }
    let max = tally.values().copied().max().unwrap_or(1).max(1);
    Matrix {
        categories: cats
            .iter()
            .map(|c| (c.as_str().to_owned(), c.describe().to_owned()))
            .collect(),
        rows: vendors
            .into_iter()
            .map(|v| MatrixRow {
                cells: cats
                    .iter()
                    .map(|c| {
                        let n = tally.get(&(v.clone(), c.as_str())).copied().unwrap_or(0);
                        let level = if n == 0 {
                            0
                        } else {
                            (1 + 3 * n / max).min(4) as u8
                        };
                        (n, level)
                    })
                    .collect(),
                vendor: v,
            })
            .collect(),
    }
}

fn same_event(e: &Event, f: &Finding) -> bool {
    e.source == f.source && e.vendor == f.vendor && e.event == f.event
}

fn event_of<'a>(r: &'a Results, f: &Finding) -> Option<&'a Event> {
    r.events.iter().find(|e| same_event(e, f))
}

/// Per page, its tracker events in capture order, coloured by the worst
/// finding each produced: where on the page's journey the leaks happen.
fn pages(r: &Results) -> Vec<PageView> {
    let mut order: Vec<&Event> = r.events.iter().collect();
    order.sort_by(|a, b| a.source.cmp(&b.source));
    let mut out: Vec<PageView> = Vec::new();
    for e in order {
        let url = e
            .page_url
            .clone()
            .unwrap_or_else(|| "(page unknown)".into());
        let worst_finding = r
            .findings
            .iter()
            .filter(|f| same_event(e, f))
            .max_by_key(|f| f.severity);
        let idx = match out.iter().position(|p| p.url == url) {
            Some(i) => i,
            None => {
                out.push(PageView {
                    url: url.clone(),
                    title: e.page_title.as_deref().map(|t| clip(t, 200)),
                    findings: 0,
                    width: 0,
                    dots: Vec::new(),
                });
                out.len() - 1
            }
        };
        let p = &mut out[idx];
        if p.title.is_none() {
            p.title = e.page_title.as_deref().map(|t| clip(t, 200));
        }
        let n = p.dots.len();
        p.dots.push(Dot {
            x: 14 + n * 24,
            cls: sev_cls(worst_finding.map(|f| f.severity)),
            label: clip(
                &format!(
                    "#{} {} {}{}",
                    e.source.entry,
                    e.vendor.as_str(),
                    e.event,
                    worst_finding
                        .map(|f| format!(" — {} finding {}", f.severity, f.id))
                        .unwrap_or_default()
                ),
                200,
            ),
            anchor: worst_finding.map(|f| f.id.clone()),
        });
        if worst_finding.is_some() {
            p.findings += 1;
        }
        p.width = 28 + p.dots.len() * 24;
    }
    out
}

/// `matched` split into plain and highlighted runs where `term` occurs,
/// ignoring ASCII case and treating `-_+.` as spaces (the lexicon's normal form).
pub(crate) fn highlight(matched: &str, term: &str) -> Vec<(String, bool)> {
    let norm = |s: &str| -> String {
        s.chars()
            .map(|c| match c {
                '-' | '_' | '+' | '.' | '%' => ' ',
                c => c.to_ascii_lowercase(),
            })
            .collect()
    };
    let hay = norm(matched);
    let needle = norm(term.trim());
    let mut out = Vec::new();
    if needle.is_empty() || hay.len() != matched.len() {
        out.push((matched.to_owned(), false));
        return out;
    }
    let mut last = 0;
    let mut from = 0;
    while let Some(pos) = hay[from..].find(&needle) {
        let start = from + pos;
        let end = start + needle.len();
        if !matched.is_char_boundary(start) || !matched.is_char_boundary(end) {
            break;
        }
        if start > last {
            out.push((matched[last..start].to_owned(), false));
        }
        out.push((matched[start..end].to_owned(), true));
        last = end;
        from = end;
        if from >= hay.len() {
            break;
        }
    }
    if last < matched.len() {
        out.push((matched[last..].to_owned(), false));
    }
    out
}

fn value_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn finding_view(
    f: &Finding,
    ev: Option<&Event>,
    steps: &BTreeMap<&str, &StepInfo>,
    legal: &[LegalFramework],
    assets: &Assets,
) -> FindingView {
    let mut decoded = Vec::new();
    let mut ui = Vec::new();
    let mut raw = Vec::new();
    let mut raw_more = 0;
    if let Some(e) = ev {
        if let Some(t) = &e.page_title {
            decoded.push(("page_title".to_owned(), clip(t, 300)));
        }
        for (k, v) in &e.custom_data {
            decoded.push((format!("custom_data.{k}"), clip(&value_text(v), 300)));
        }
        for u in &e.user_data {
            let v = if u.hashed {
                format!(
                    "{} (hashed{})",
                    clip(&u.value, 24),
                    u.algorithm.map(|a| format!(", {a:?}")).unwrap_or_default()
                )
            } else {
                clip(&u.value, 120)
            };
            decoded.push((format!("user_data.{} ({})", u.key, u.field), v));
        }
        for i in &e.ids {
            decoded.push((format!("id.{} ({})", i.kind, i.field), clip(&i.value, 120)));
        }
        if let Some(b) = &e.ui.button_text {
            ui.push(("button text".to_owned(), clip(b, 300)));
        }
        if let Some(d) = &e.ui.destination {
            ui.push(("link to".to_owned(), clip(d, 300)));
        }
        for ff in &e.ui.form_fields {
            let name = ff
                .name
                .as_deref()
                .or(ff.id.as_deref())
                .or(ff.placeholder.as_deref())
                .unwrap_or("?");
            ui.push((
                "form field".to_owned(),
                clip(
                    &format!("{name} ({})", ff.input_type.as_deref().unwrap_or("?")),
                    200,
                ),
            ));
        }
        const RAW_SHOWN: usize = 40;
        raw = e
            .raw
            .iter()
            .take(RAW_SHOWN)
            .map(|(k, v)| (clip(k, 120), clip(v, 400)))
            .collect();
        raw_more = e.raw.len().saturating_sub(RAW_SHOWN);
    }
    FindingView {
        id: f.id.clone(),
        severity: f.severity.as_str(),
        rule: explain::rule_text(f),
        vendor: f.vendor.as_str().to_owned(),
        organisation: f.organisation.clone(),
        account_id: f.account_id.clone(),
        event: clip(&f.event, 200),
        page_url: f.page_url.as_deref().map(|u| clip(u, 600)),
        method: f.method.clone(),
        request_url: clip(&f.request_url, 1200),
        source: f.source.to_string(),
        occurrences: explain::occurrences_text(f).map(|t| clip(&t, 1000)),
        explanation: f.explanation.clone(),
        health: explain::health_lines(f)
            .into_iter()
            .map(|h| HealthView {
                category: h.category.as_str().to_owned(),
                describe: h.category.describe().to_owned(),
                term: clip(&h.term, 100),
                count: h.count,
                fields: clip(&h.fields_text(8), 600),
                segments: highlight(&clip(&h.example, 400), &h.term),
                all: if h.count > 1 {
                    h.all
                        .iter()
                        .map(|(f, m)| (clip(f, 120), clip(m, 300)))
                        .collect()
                } else {
                    Vec::new()
                },
            })
            .collect(),
        identifiers: f
            .identifiers
            .iter()
            .map(|i| {
                (
                    i.kind.clone(),
                    clip(&i.field, 120),
                    i.hashed,
                    i.note
                        .clone()
                        .or_else(|| (!i.counts).then(|| "not counted".to_owned())),
                )
            })
            .collect(),
        canaries: f
            .canaries
            .iter()
            .map(|c| {
                (
                    c.value_kind.clone(),
                    clip(&c.field, 120),
                    clip(&c.chain, 200),
                )
            })
            .collect(),
        legal: explain::legal_refs(f, legal),
        ui,
        decoded,
        raw,
        raw_more,
        step: f
            .step
            .as_deref()
            .map(|id| step_view(id, steps.get(id).copied(), assets)),
    }
}

fn step_view(id: &str, st: Option<&StepInfo>, assets: &Assets) -> StepView {
    let Some(st) = st else {
        return StepView {
            id: id.to_owned(),
            action: "(step not in the scan record)".into(),
            url: String::new(),
            at: String::new(),
            error: None,
            screenshot: None,
            screenshot_note: None,
        };
    };
    let (screenshot, screenshot_note) = match (&st.screenshot, &assets.base) {
        (Some(rel), Some(base)) => match inline_image(base, rel) {
            Ok(uri) => (Some(uri), None),
            Err(why) => (None, Some(format!("{rel}: {why}"))),
        },
        (Some(rel), None) => (None, Some(format!("{rel} (not inlined)"))),
        (None, _) => (None, None),
    };
    StepView {
        id: st.id.clone(),
        action: clip(&st.action, 300),
        url: clip(&st.url, 600),
        at: st.at.clone(),
        error: st.error.as_deref().map(|e| clip(e, 300)),
        screenshot,
        screenshot_note,
    }
}

/// A path from the results, kept inside `base`: only plain relative components.
pub(crate) fn resolve_inside(base: &Path, rel: &str) -> Option<PathBuf> {
    let p = Path::new(rel);
    if rel.is_empty() || !p.components().all(|c| matches!(c, Component::Normal(_))) {
        return None;
    }
    Some(base.join(p))
}

fn inline_image(base: &Path, rel: &str) -> Result<String, String> {
    let path = resolve_inside(base, rel).ok_or("path leaves the scan directory; not read")?;
    let meta = std::fs::metadata(&path).map_err(|e| e.to_string())?;
    if meta.len() > MAX_SCREENSHOT {
        return Err(format!("{} bytes, too large to inline", meta.len()));
    }
    let bytes = std::fs::read(&path).map_err(|e| e.to_string())?;
    // The MIME type comes from the bytes, never from the (captured) name.
    let mime = if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        "image/png"
    } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        "image/jpeg"
    } else if bytes.len() > 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        "image/webp"
    } else {
        return Err("not a PNG, JPEG or WebP image".into());
    };
    Ok(format!(
        "data:{mime};base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn highlight_finds_terms_across_separators_and_case() {
        assert_eq!(
            highlight("/pharmacy/Plan-B-one-step", "plan b"),
            vec![
                ("/pharmacy/".to_owned(), false),
                ("Plan-B".to_owned(), true),
                ("-one-step".to_owned(), false)
            ]
        );
        assert_eq!(
            highlight("nothing here", "hiv"),
            vec![("nothing here".to_owned(), false)]
        );
        // Non-ASCII text never splits a character.
        let segs = highlight("résumé — hiv test", "hiv");
        assert_eq!(segs.iter().filter(|s| s.1).count(), 1);
    }

    #[test]
    fn paths_stay_inside_the_base() {
        let base = Path::new("/scan");
        assert!(resolve_inside(base, "shots/1.png").is_some());
        assert!(resolve_inside(base, "../etc/passwd").is_none());
        assert!(resolve_inside(base, "/etc/passwd").is_none());
        assert!(resolve_inside(base, "").is_none());
    }
}
