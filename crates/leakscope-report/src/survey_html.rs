//! The survey report: one self-contained HTML page for a whole survey —
//! headline figures, charts, a sortable table of every site, and how the
//! survey was run.
//!
//! Built like the single-site report ([`crate::html`]): inline CSS, charts
//! as inline SVG, a Content-Security-Policy with `default-src 'none'`, and
//! everything from the survey (sites, URLs, list columns, failure messages:
//! hostile input) reaching the page only through minijinja with HTML
//! autoescaping. The one link per site goes to its own report,
//! `<evidence>/report.html`, built here from a plain relative path with
//! every segment percent-encoded; site URLs are shown as text, never linked.
//! The only script is our own constant (table sorting), allowed by its
//! SHA-256 in the CSP; the page reads the same without it.

use std::collections::{BTreeMap, BTreeSet};

use base64::Engine as _;
use leakscope_core::survey::{SiteRow, SiteStatus, SurveyData};
use leakscope_detect::{HealthCategory, Severity};
use minijinja::{AutoEscape, Environment};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::{Error, clip};

const TEMPLATE: &str = include_str!("../templates/survey.html.j2");

/// Sorts the sites table on a header click (a button is put in each header,
/// so without the script there are no dead controls). Cells sort by their
/// `data-sort` value when they have one, else by text; headers marked
/// `data-num` compare numbers. Never interpolated: the CSP allows exactly
/// these bytes by their hash.
const SORT_SCRIPT: &str = r#"(function () {
  var table = document.getElementById("sites-table");
  if (!table || !table.tHead || !table.tBodies.length) return;
  var heads = table.tHead.rows[0].cells;
  var body = table.tBodies[0];
  function key(row, i, num) {
    var cell = row.cells[i];
    var v = cell ? cell.getAttribute("data-sort") : "";
    if (v === null) v = cell.textContent.trim().toLowerCase();
    return num ? Number(v) || 0 : v;
  }
  Array.prototype.forEach.call(heads, function (th, i) {
    var num = th.hasAttribute("data-num");
    var button = document.createElement("button");
    button.type = "button";
    while (th.firstChild) button.appendChild(th.firstChild);
    th.appendChild(button);
    button.addEventListener("click", function () {
      var asc = th.getAttribute("aria-sort") !== "ascending";
      Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", asc ? "ascending" : "descending");
      var rows = Array.prototype.slice.call(body.rows).map(function (r, n) { return [key(r, i, num), n, r]; });
      rows.sort(function (a, b) {
        var c = num ? a[0] - b[0] : a[0].localeCompare(b[0]);
        return (asc ? c : -c) || a[1] - b[1];
      });
      rows.forEach(function (r) { body.appendChild(r[2]); });
    });
  });
})();"#;

/// How the page is rendered.
#[derive(Debug, Clone)]
pub struct SurveyHtmlOptions {
    /// When the report was made (RFC 3339), printed in the page; passed in
    /// so the same survey renders to the same bytes.
    pub generated: String,
    /// Link each site that has evidence to its own report,
    /// `<evidence>/report.html`, relative to the page: right when the page
    /// is written in the survey folder that `SiteRow::evidence` is relative
    /// to. Off, no site is linked.
    pub link_reports: bool,
}

impl Default for SurveyHtmlOptions {
    fn default() -> Self {
        SurveyHtmlOptions {
            generated: String::new(),
            link_reports: true,
        }
    }
}

/// Renders the survey report.
pub fn render_survey_html(data: &SurveyData, opts: &SurveyHtmlOptions) -> Result<String, Error> {
    let mut env = Environment::new();
    // Escape everything, whatever the template's name says.
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    env.add_template("survey.html", TEMPLATE)?;
    let view = view(data, opts);
    Ok(env.get_template("survey.html")?.render(view)?)
}

/// The page's Content-Security-Policy: nothing loads, our one script runs.
fn csp() -> String {
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(SORT_SCRIPT));
    format!(
        "default-src 'none'; script-src 'sha256-{hash}'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
    )
}

#[derive(Serialize)]
struct View {
    csp: String,
    script: &'static str,
    name: String,
    provenance: String,
    headlines: Vec<String>,
    cards: Vec<Card>,
    by_severity: Vec<(&'static str, usize)>,
    charts: Vec<Chart>,
    /// Per list column without a chart, why.
    column_notes: Vec<String>,
    /// The site list's own columns, as table headers.
    columns: Vec<String>,
    sites: Vec<SiteView>,
    methods: Methods,
}

#[derive(Serialize)]
struct Card {
    value: String,
    label: String,
    detail: Option<String>,
}

#[derive(Serialize)]
struct Chart {
    id: String,
    title: String,
    note: Option<String>,
    /// Shown instead of the chart when it has no bars.
    empty: String,
    width: usize,
    height: usize,
    /// Bars are shares: each drawn over a full-length track.
    track: usize,
    /// Where labels end and bars start.
    label_x: usize,
    bar_x: usize,
    bars: Vec<Bar>,
}

#[derive(Serialize)]
struct Bar {
    /// Clipped to fit beside the bar.
    label: String,
    /// The whole label and value, as the bar's tooltip.
    title: String,
    value: String,
    cls: &'static str,
    y_text: usize,
    y_bar: usize,
    width: usize,
    x_value: usize,
}

#[derive(Serialize)]
struct SiteView {
    id: i64,
    domain: String,
    url: String,
    href: Option<String>,
    status: String,
    status_cls: &'static str,
    failure: Option<String>,
    columns: Vec<String>,
    vendors: String,
    findings: u32,
    severity: Option<String>,
    severity_cls: &'static str,
    severity_rank: u8,
    flags: Vec<&'static str>,
}

#[derive(Serialize)]
struct Methods {
    name: String,
    list: String,
    created: String,
    browser: String,
    tool_version: String,
    generated: String,
    settings: Vec<(String, String)>,
    statuses: Vec<(&'static str, usize, &'static str)>,
    failures: Vec<FailureView>,
    flags: Vec<(&'static str, &'static str)>,
}

#[derive(Serialize)]
struct FailureView {
    kind: String,
    count: usize,
    /// `(domain, message)`, a few distinct messages.
    examples: Vec<(String, String)>,
}

const FLAG_PIXEL: &str = "Meta Pixel";
const FLAG_HEALTH: &str = "health data with an identifier";
const FLAG_REJECT: &str = "tracking after a refusal";

/// Values per list-column chart.
const TOP_VALUES: usize = 15;
/// Vendors in the vendor chart.
const TOP_VENDORS: usize = 20;

const CHART_WIDTH: usize = 640;
const LABEL_WIDTH: usize = 250;
const BAR_SPACE: usize = 280;
/// Characters of a label beside a bar (the tooltip has it all).
const LABEL_CHARS: usize = 36;
const ROW_HEIGHT: usize = 22;

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `n` of `d` as a whole percentage; "<1%" and ">99%" rather than a
/// rounding that hides a few sites; "—" when there is nothing to divide by.
fn pct(n: usize, d: usize) -> String {
    if d == 0 {
        return "—".into();
    }
    let p = (n * 100 + d / 2) / d;
    if n > 0 && p == 0 {
        "<1%".into()
    } else if n < d && p == 100 {
        ">99%".into()
    } else {
        format!("{p}%")
    }
}

fn severity_rank(s: Option<&str>) -> u8 {
    match s.and_then(Severity::parse) {
        Some(Severity::Critical) => 5,
        Some(Severity::High) => 4,
        Some(Severity::Medium) => 3,
        Some(Severity::Low) => 2,
        Some(Severity::Info) => 1,
        None => 0,
    }
}

fn severity_cls(s: &str) -> &'static str {
    Severity::parse(s).map_or("v", Severity::as_str)
}

fn status_cls(s: Option<SiteStatus>) -> &'static str {
    s.map_or("none", SiteStatus::as_str)
}

fn is_done(s: &SiteRow) -> bool {
    s.status == Some(SiteStatus::Done)
}

/// `<evidence>/report.html` as a relative link, or `None` when the evidence
/// path is not a plain relative path: empty, absolute, with `.`/`..`,
/// backslashes or control characters, or a first segment with `:` (a URL
/// scheme such as `javascript:`, or a drive letter). Each segment is
/// percent-encoded, so nothing in it can end the path or the attribute.
pub(crate) fn report_href(evidence: &str) -> Option<String> {
    let rel = evidence.strip_suffix('/').unwrap_or(evidence);
    if rel.is_empty() || rel.contains('\\') || rel.chars().any(char::is_control) {
        return None;
    }
    let segments: Vec<&str> = rel.split('/').collect();
    if segments
        .iter()
        .any(|s| s.is_empty() || *s == "." || *s == "..")
        || segments[0].contains(':')
    {
        return None;
    }
    let mut href = String::new();
    for s in segments {
        for b in s.bytes() {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                href.push(b as char);
            } else {
                href.push_str(&format!("%{b:02X}"));
            }
        }
        href.push('/');
    }
    href.push_str("report.html");
    Some(href)
}

fn view(d: &SurveyData, opts: &SurveyHtmlOptions) -> View {
    let counts: BTreeMap<SiteStatus, usize> = d.status_counts().into_iter().collect();
    let n = |s: SiteStatus| counts.get(&s).copied().unwrap_or(0);
    let total = d.sites.len();
    let done_sites: Vec<&SiteRow> = d.sites.iter().filter(|s| is_done(s)).collect();
    let done = done_sites.len();
    let pixel = done_sites.iter().filter(|s| s.meta_pixel).count();
    let health = done_sites.iter().filter(|s| s.health_with_identity).count();
    let (refused, after_reject) = refusals(d, &done_sites);
    let by_severity: Vec<(&'static str, usize)> = Severity::ALL
        .iter()
        .map(|s| {
            (
                s.as_str(),
                d.findings
                    .iter()
                    .filter(|f| f.severity == s.as_str())
                    .count(),
            )
        })
        .collect();

    let mut headlines = Vec::new();
    let mut status_parts = vec![format!("{done} scanned")];
    if n(SiteStatus::Unreachable) > 0 {
        status_parts.push(format!(
            "{} could not be reached",
            n(SiteStatus::Unreachable)
        ));
    }
    if n(SiteStatus::Error) > 0 {
        status_parts.push(format!("{} failed in the scanner", n(SiteStatus::Error)));
    }
    let waiting = n(SiteStatus::Pending)
        + n(SiteStatus::Running)
        + d.sites.iter().filter(|s| s.status.is_none()).count();
    if waiting > 0 {
        status_parts.push(format!("{waiting} not scanned yet"));
    }
    headlines.push(format!(
        "{} in the list: {}.",
        plural(total, "site", "sites"),
        status_parts.join(", ")
    ));
    if done == 0 {
        headlines.push("No site has been scanned yet, so there are no shares to show.".into());
    } else {
        headlines.push(format!(
            "{health} of {done} scanned sites ({}) sent health information together with something that identifies the visitor to a third party.",
            pct(health, done)
        ));
        headlines.push(format!(
            "{pixel} of {done} scanned sites ({}) have a Meta Pixel.",
            pct(pixel, done)
        ));
        if refused > 0 {
            headlines.push(format!(
                "{after_reject} of {} where the cookie banner was refused ({}) kept sending data to trackers after the refusal.",
                plural(refused, "site", "sites"),
                pct(after_reject, refused)
            ));
        }
    }
    let sev_words: Vec<String> = by_severity
        .iter()
        .filter(|(_, c)| *c > 0)
        .map(|(s, c)| format!("{c} {s}"))
        .collect();
    headlines.push(if d.findings.is_empty() {
        "No findings.".into()
    } else if sev_words.is_empty() {
        format!("{}.", plural(d.findings.len(), "finding", "findings"))
    } else {
        format!(
            "{}: {}.",
            plural(d.findings.len(), "finding", "findings"),
            sev_words.join(", ")
        )
    });

    let mut cards = vec![
        Card {
            value: total.to_string(),
            label: "sites in the list".into(),
            detail: None,
        },
        Card {
            value: done.to_string(),
            label: "scanned".into(),
            detail: (total > 0).then(|| pct(done, total) + " of the list"),
        },
        Card {
            value: n(SiteStatus::Unreachable).to_string(),
            label: "could not be reached".into(),
            detail: None,
        },
    ];
    if n(SiteStatus::Error) > 0 {
        cards.push(Card {
            value: n(SiteStatus::Error).to_string(),
            label: "failed in the scanner".into(),
            detail: None,
        });
    }
    if waiting > 0 {
        cards.push(Card {
            value: waiting.to_string(),
            label: "not scanned yet".into(),
            detail: None,
        });
    }
    cards.push(Card {
        value: pct(health, done),
        label: "of scanned sites sent health data with an identifier".into(),
        detail: Some(format!("{health} of {done}")),
    });
    cards.push(Card {
        value: pct(pixel, done),
        label: "of scanned sites have a Meta Pixel".into(),
        detail: Some(format!("{pixel} of {done}")),
    });
    cards.push(Card {
        value: pct(after_reject, refused),
        label: "kept tracking after the banner was refused".into(),
        detail: Some(if refused == 0 {
            "no refusal was made".into()
        } else {
            format!("{after_reject} of {refused} where it was refused")
        }),
    });

    let columns = crate::survey_export::list_columns(d);
    let mut charts = vec![
        vendor_chart(&done_sites, &organisations(d)),
        category_chart(d),
        severity_chart(&by_severity),
    ];
    let mut column_notes = Vec::new();
    for (i, c) in columns.iter().enumerate() {
        match column_chart(i, c, &done_sites) {
            Ok(chart) => charts.push(chart),
            Err(note) => column_notes.push(note),
        }
    }

    View {
        csp: csp(),
        script: SORT_SCRIPT,
        name: clip(&d.meta.name, 200),
        provenance: provenance(d, opts),
        headlines,
        cards,
        by_severity,
        charts,
        column_notes,
        columns: columns.iter().map(|c| clip(c, 60)).collect(),
        sites: d
            .sites
            .iter()
            .map(|s| site_view(s, &columns, opts))
            .collect(),
        methods: methods(d, opts, &counts),
    }
}

fn provenance(d: &SurveyData, opts: &SurveyHtmlOptions) -> String {
    let mut parts = Vec::new();
    if !d.meta.tool_version.is_empty() {
        parts.push(format!("leakscope {}", clip(&d.meta.tool_version, 40)));
    }
    if !d.meta.list.is_empty() {
        parts.push(format!("list {}", clip(&d.meta.list, 200)));
    }
    if !d.meta.created.is_empty() {
        parts.push(format!("created {}", clip(&d.meta.created, 40)));
    }
    if !opts.generated.is_empty() {
        parts.push(format!("report made {}", clip(&opts.generated, 40)));
    }
    parts.push("not legal advice".into());
    parts.join(" · ")
}

/// Scanned sites where a run refused the banner and loaded, and how many of
/// them kept tracking. Without any run rows (a database that keeps none),
/// every scanned site counts as tried.
fn refusals(d: &SurveyData, done: &[&SiteRow]) -> (usize, usize) {
    let refused_ids: BTreeSet<i64> = d
        .runs
        .iter()
        .filter(|r| r.consent == "rejected" && r.status == "loaded")
        .map(|r| r.site_id)
        .collect();
    let tried =
        |s: &SiteRow| d.runs.is_empty() || s.tracking_after_reject || refused_ids.contains(&s.id);
    let refused: Vec<&SiteRow> = done.iter().copied().filter(|&s| tried(s)).collect();
    let after = refused.iter().filter(|s| s.tracking_after_reject).count();
    (refused.len(), after)
}

/// One bar before layout.
struct Row {
    label: String,
    /// The label in full, for the tooltip.
    full: String,
    value: String,
    /// Length, from 0 to 1.
    frac: f64,
    cls: &'static str,
}

/// `share`: the bars are shares of a whole (drawn over a track), not counts.
fn chart(
    id: String,
    title: String,
    note: Option<String>,
    empty: &str,
    share: bool,
    rows: Vec<Row>,
) -> Chart {
    let bars: Vec<Bar> = rows
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            let mut width = (r.frac.clamp(0.0, 1.0) * BAR_SPACE as f64).round() as usize;
            if width == 0 && r.frac > 0.0 {
                width = 1;
            }
            let y = i * ROW_HEIGHT;
            Bar {
                title: format!("{}: {}", r.full, r.value),
                label: clip(&r.label, LABEL_CHARS),
                value: r.value,
                cls: r.cls,
                y_text: y + 15,
                y_bar: y + 4,
                width,
                x_value: LABEL_WIDTH + width + 6,
            }
        })
        .collect();
    Chart {
        id,
        title,
        note,
        empty: empty.to_owned(),
        width: CHART_WIDTH,
        height: bars.len() * ROW_HEIGHT + 4,
        track: if share { BAR_SPACE } else { 0 },
        label_x: LABEL_WIDTH - 6,
        bar_x: LABEL_WIDTH,
        bars,
    }
}

/// Who each vendor id belongs to, as the events and findings name it.
fn organisations(d: &SurveyData) -> BTreeMap<&str, &str> {
    let mut out = BTreeMap::new();
    let pairs = d
        .events
        .iter()
        .map(|e| (e.vendor.as_str(), e.organisation.as_str()))
        .chain(
            d.findings
                .iter()
                .map(|f| (f.vendor.as_str(), f.organisation.as_str())),
        );
    for (v, o) in pairs {
        if !o.is_empty() && o != v {
            out.entry(v).or_insert(o);
        }
    }
    out
}

fn vendor_chart(done: &[&SiteRow], organisations: &BTreeMap<&str, &str>) -> Chart {
    let mut per: BTreeMap<&str, usize> = BTreeMap::new();
    for s in done {
        let mut seen: Vec<&str> = Vec::new();
        for v in &s.vendors {
            if !seen.contains(&v.as_str()) {
                seen.push(v);
                *per.entry(v).or_default() += 1;
            }
        }
    }
    let mut order: Vec<(&str, usize)> = per.into_iter().collect();
    order.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let more = order.len().saturating_sub(TOP_VENDORS);
    order.truncate(TOP_VENDORS);
    let n = done.len();
    chart(
        "chart-vendors".into(),
        "Scanned sites sending data to each tracking vendor".into(),
        (more > 0).then(|| {
            format!(
                "The {TOP_VENDORS} most common vendors; {more} more in the table and the exports."
            )
        }),
        "No scanned site sent data to a tracking vendor.",
        true,
        order
            .into_iter()
            .map(|(v, c)| Row {
                label: match organisations.get(v) {
                    Some(o) => format!("{o} ({v})"),
                    None => v.to_owned(),
                },
                full: clip(
                    &match organisations.get(v) {
                        Some(o) => format!("{o} ({v})"),
                        None => v.to_owned(),
                    },
                    200,
                ),
                value: format!("{} ({})", plural(c, "site", "sites"), pct(c, n)),
                frac: c as f64 / n.max(1) as f64,
                cls: "v",
            })
            .collect(),
    )
}

fn category_chart(d: &SurveyData) -> Chart {
    let mut per: BTreeMap<&str, usize> = BTreeMap::new();
    for f in &d.findings {
        let mut seen: Vec<&str> = Vec::new();
        for c in &f.health_categories {
            if !seen.contains(&c.as_str()) {
                seen.push(c);
                *per.entry(c).or_default() += 1;
            }
        }
    }
    let max = per.values().copied().max().unwrap_or(0);
    let mut order: Vec<(&str, usize)> = per.into_iter().collect();
    order.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    chart(
        "chart-categories".into(),
        "Findings by kind of health information".into(),
        Some("A finding that carried several kinds counts once for each.".into()),
        "No finding carried health information.",
        false,
        order
            .into_iter()
            .map(|(c, k)| {
                let words: &str = match HealthCategory::parse(c) {
                    Some(h) => h.describe(),
                    None => c,
                };
                Row {
                    label: words.to_owned(),
                    full: clip(&format!("{words} ({c})"), 200),
                    value: plural(k, "finding", "findings"),
                    frac: k as f64 / max.max(1) as f64,
                    cls: "v",
                }
            })
            .collect(),
    )
}

fn severity_chart(by_severity: &[(&'static str, usize)]) -> Chart {
    let max = by_severity.iter().map(|x| x.1).max().unwrap_or(0);
    let rows = if max == 0 {
        Vec::new()
    } else {
        by_severity
            .iter()
            .map(|(s, k)| Row {
                label: (*s).to_owned(),
                full: (*s).to_owned(),
                value: plural(*k, "finding", "findings"),
                frac: *k as f64 / max as f64,
                cls: severity_cls(s),
            })
            .collect()
    };
    chart(
        "chart-severity".into(),
        "Findings by severity".into(),
        None,
        "No findings.",
        false,
        rows,
    )
}

/// Per value of one list column, the share of scanned sites that sent
/// health data with an identifier. `Err` says why a column gets no chart.
fn column_chart(index: usize, column: &str, done: &[&SiteRow]) -> Result<Chart, String> {
    let name = clip(column, 60);
    let mut per: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for s in done {
        let v = s
            .columns
            .iter()
            .find(|(k, _)| k == column)
            .map(|(_, v)| v.trim())
            .unwrap_or("");
        let e = per.entry(v).or_default();
        e.0 += 1;
        if s.health_with_identity {
            e.1 += 1;
        }
    }
    if per.is_empty() {
        return Err(format!("“{name}”: no scanned site yet, no chart."));
    }
    if per.len() > TOP_VALUES && per.values().all(|(n, _)| *n < 2) {
        return Err(format!(
            "“{name}”: every scanned site has its own value, so there is nothing to compare; see the table."
        ));
    }
    let values = per.len();
    let mut order: Vec<(&str, (usize, usize))> = per.into_iter().collect();
    order.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.0.cmp(b.0)));
    order.truncate(TOP_VALUES);
    let note = if values > TOP_VALUES {
        format!("The {TOP_VALUES} values with the most scanned sites, of {values}.")
    } else {
        "Share of the scanned sites with that value.".to_owned()
    };
    Ok(chart(
        format!("chart-column-{index}"),
        format!("Scanned sites sending health data with an identifier, by “{name}”"),
        Some(note),
        "",
        true,
        order
            .into_iter()
            .map(|(v, (n, h))| {
                let label = if v.is_empty() { "(blank)" } else { v };
                Row {
                    label: label.to_owned(),
                    full: clip(label, 200),
                    value: format!("{} ({h} of {n})", pct(h, n)),
                    frac: h as f64 / n.max(1) as f64,
                    cls: "h",
                }
            })
            .collect(),
    ))
}

fn site_view(s: &SiteRow, columns: &[&str], opts: &SurveyHtmlOptions) -> SiteView {
    let mut flags = Vec::new();
    if s.meta_pixel {
        flags.push(FLAG_PIXEL);
    }
    if s.health_with_identity {
        flags.push(FLAG_HEALTH);
    }
    if s.tracking_after_reject {
        flags.push(FLAG_REJECT);
    }
    let mut vendors: Vec<&str> = Vec::new();
    for v in &s.vendors {
        if !vendors.contains(&v.as_str()) {
            vendors.push(v);
        }
    }
    SiteView {
        id: s.id,
        domain: clip(
            if s.domain.is_empty() {
                &s.url
            } else {
                &s.domain
            },
            120,
        ),
        url: clip(&s.url, 400),
        href: if opts.link_reports {
            s.evidence.as_deref().and_then(report_href)
        } else {
            None
        },
        status: s.status.map_or("—", SiteStatus::as_str).to_owned(),
        status_cls: status_cls(s.status),
        failure: s.failure_kind.as_deref().map(|k| clip(k, 40)),
        columns: columns
            .iter()
            .map(|c| {
                s.columns
                    .iter()
                    .find(|(k, _)| k == c)
                    .map(|(_, v)| clip(v, 120))
                    .unwrap_or_default()
            })
            .collect(),
        vendors: clip(&vendors.join(", "), 400),
        findings: s.findings,
        severity: s.max_severity.as_deref().map(|x| clip(x, 20)),
        severity_cls: s.max_severity.as_deref().map_or("v", severity_cls),
        severity_rank: severity_rank(s.max_severity.as_deref()),
        flags,
    }
}

fn methods(
    d: &SurveyData,
    opts: &SurveyHtmlOptions,
    counts: &BTreeMap<SiteStatus, usize>,
) -> Methods {
    let meaning = |s: SiteStatus| match s {
        SiteStatus::Done => {
            "scanned: at least one run loaded the site. Only these sites count in the shares."
        }
        SiteStatus::Unreachable => {
            "never loaded (DNS, TLS, connection refused, HTTP error, redirect loop, timeout, browser crash) after the retries its failure allows. Left out of the shares."
        }
        SiteStatus::Error => {
            "the scanner itself failed on the site after its retries. Left out of the shares."
        }
        SiteStatus::Pending => "waiting to be scanned.",
        SiteStatus::Running => "being scanned when this report was made.",
    };
    let mut failures: BTreeMap<String, FailureView> = BTreeMap::new();
    for s in &d.sites {
        if !matches!(s.status, Some(SiteStatus::Unreachable | SiteStatus::Error)) {
            continue;
        }
        let kind = s
            .failure_kind
            .as_deref()
            .map_or("unknown".to_owned(), |k| clip(k, 40));
        let f = failures.entry(kind.clone()).or_insert_with(|| FailureView {
            kind,
            count: 0,
            examples: Vec::new(),
        });
        f.count += 1;
        if let Some(m) = &s.failure_message {
            let m = clip(m, 300);
            if f.examples.len() < 3 && !f.examples.iter().any(|(_, x)| *x == m) {
                f.examples.push((clip(&s.domain, 120), m));
            }
        }
    }
    let mut failures: Vec<FailureView> = failures.into_values().collect();
    failures.sort_by(|a, b| b.count.cmp(&a.count).then(a.kind.cmp(&b.kind)));
    Methods {
        name: clip(&d.meta.name, 200),
        list: clip(&d.meta.list, 300),
        created: clip(&d.meta.created, 60),
        browser: clip(&d.meta.browser, 200),
        tool_version: clip(&d.meta.tool_version, 60),
        generated: clip(&opts.generated, 60),
        settings: d
            .meta
            .settings
            .iter()
            .map(|(k, v)| (clip(k, 80), clip(v, 400)))
            .collect(),
        statuses: SiteStatus::ALL
            .into_iter()
            .map(|s| (s.as_str(), counts.get(&s).copied().unwrap_or(0), meaning(s)))
            .collect(),
        failures,
        flags: vec![
            (
                FLAG_PIXEL,
                "the site loaded Meta's Pixel (a request to Meta's tracking endpoint was seen).",
            ),
            (
                FLAG_HEALTH,
                "health information (a condition, medication, appointment, test…) went to a third party together with something that identifies the visitor (an email, a phone number, a cookie id…), to any vendor.",
            ),
            (
                FLAG_REJECT,
                "a tracker kept receiving data after the cookie banner was refused. Shares count only sites where a refusal was made and the page loaded.",
            ),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_links_are_plain_relative_paths() {
        assert_eq!(
            report_href("sites/0001-clinic.example").as_deref(),
            Some("sites/0001-clinic.example/report.html")
        );
        assert_eq!(
            report_href("sites/a b\"<x>/").as_deref(),
            Some("sites/a%20b%22%3Cx%3E/report.html")
        );
        for bad in [
            "",
            "/abs/path",
            "../up",
            "a/../../b",
            "./a",
            "a//b",
            "javascript:alert(1)",
            "JavaScript:alert(1)/x",
            "c:\\evidence",
            "data:text/html,x",
            "a\nb",
        ] {
            assert_eq!(report_href(bad), None, "{bad:?}");
        }
        // A colon later on is only a character of a file name.
        assert_eq!(
            report_href("sites/a:b").as_deref(),
            Some("sites/a%3Ab/report.html")
        );
    }

    #[test]
    fn percentages_never_round_a_few_sites_away() {
        assert_eq!(pct(0, 0), "—");
        assert_eq!(pct(0, 10), "0%");
        assert_eq!(pct(1, 1000), "<1%");
        assert_eq!(pct(999, 1000), ">99%");
        assert_eq!(pct(1, 3), "33%");
        assert_eq!(pct(2, 3), "67%");
        assert_eq!(pct(3, 3), "100%");
    }

    #[test]
    fn csp_allows_exactly_the_sort_script() {
        let c = csp();
        assert!(c.starts_with("default-src 'none'; script-src 'sha256-"));
        assert!(!c.contains("unsafe-eval") && !c.contains("script-src 'unsafe-inline'"));
        assert!(!SORT_SCRIPT.contains("</"));
    }
}
