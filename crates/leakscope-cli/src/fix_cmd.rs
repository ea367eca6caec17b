//! `leakscope rules` (what stops each finding, written as files) and
//! `leakscope fix-check` (scan, write the rules, scan again with them in
//! the browser, and say what was fixed and what broke).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use clap::{Args, ValueEnum};
use leakscope_core::Engine;
use leakscope_core::model::Exchange;
use leakscope_core::scan::RunInfo;
use leakscope_detect::{Detector, Severity};
use leakscope_report::Results;
use leakscope_rules::{BlockList, FixPlan, TagFixDb};
use serde::Serialize;

use crate::{EXIT_GATE, EXIT_NOT_LOADED, EXIT_OK, ScanArgs};

#[derive(Args)]
pub struct RulesArgs {
    /// A results document (`analyze --format json`, a scan's results.json,
    /// a survey site's results.json) or a `scan --out` folder.
    #[arg(value_name = "RESULTS", required_unless_present = "list")]
    results: Option<PathBuf>,
    /// Write a published list instead: `health-trackers` (the event
    /// endpoints of leakscope's vendor database, for uBlock Origin).
    #[arg(long, value_enum, conflicts_with = "results")]
    list: Option<ListName>,
    /// Folder for the rules [default: leakscope-rules/]; with --list, the
    /// list's file [default: standard output].
    #[arg(long, value_name = "PATH")]
    out: Option<PathBuf>,
    /// Captures the findings came from (HAR, DevTools log…), for the CSP and
    /// the check that no request to the site's own origin is blocked. A
    /// scan's HARs beside its results.json are found without this.
    #[arg(long = "capture", value_name = "FILE")]
    captures: Vec<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq, Debug)]
enum ListName {
    HealthTrackers,
}

/// Which of the written rules `fix-check` applies.
#[derive(Clone, Copy, ValueEnum, PartialEq, Eq, Debug, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FixKind {
    /// filters.txt: block the leaking requests.
    Filters,
    /// filters-removeparam.txt: take the health parameters out where proved.
    Removeparam,
    /// csp.txt: the Content-Security-Policy, enforced by Chromium.
    Csp,
}

#[derive(Args)]
pub struct FixCheckArgs {
    /// The site's start page.
    #[arg(value_name = "URL")]
    url: String,
    #[command(flatten)]
    scan: ScanArgs,
    /// Apply these rules (a filter list or a CSP file) instead of the ones
    /// generated from the first scan.
    #[arg(long, value_name = "FILE")]
    rules: Option<PathBuf>,
    /// Which generated rules to apply.
    #[arg(long, value_enum, default_value_t = FixKind::Filters, conflicts_with = "rules")]
    with: FixKind,
    /// Findings at or above this severity must be gone for exit 0.
    #[arg(long, value_name = "SEVERITY", value_parser = crate::parse_severity, default_value = "high")]
    fail_on: Severity,
    /// Output: a table for people, or JSON.
    #[arg(long, value_enum, default_value_t = crate::SimpleFormat::Table)]
    format: crate::SimpleFormat,
}

/// Reads a `--block` file.
pub fn load_block(path: &Path) -> anyhow::Result<Arc<BlockList>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read rules {}", path.display()))?;
    Ok(Arc::new(BlockList::parse(
        &path.display().to_string(),
        &text,
    )?))
}

/// Every request of some captures (unreadable ones are skipped: the plan
/// then has less to check against, never wrong rules).
fn exchanges(captures: &[crate::evidence::Capture<'_>]) -> Vec<Exchange> {
    let mut out = Vec::new();
    for c in captures {
        let r = match c {
            crate::evidence::Capture::Path(p) => leakscope_ingest::read_path(
                p,
                &p.display().to_string(),
                &mut |ex| out.push(ex),
                &mut |_| {},
            ),
            crate::evidence::Capture::Bytes(label, bytes) => {
                leakscope_ingest::read_reader(*bytes, label, &mut |ex| out.push(ex), &mut |_| {})
            }
        };
        if let Err(e) = r {
            tracing::warn!("capture not read for the rules: {e}");
        }
    }
    out
}

/// The plan for a results document and the captures it came from.
pub fn plan_for(
    r: &Results,
    captures: &[crate::evidence::Capture<'_>],
    engine: &Engine,
) -> anyhow::Result<FixPlan> {
    plan_seen(r, &exchanges(captures), engine)
}

/// The plan for a results document and every request it was read from.
fn plan_seen(r: &Results, seen: &[Exchange], engine: &Engine) -> anyhow::Result<FixPlan> {
    let detector = Detector::new(&[])?;
    Ok(leakscope_rules::plan(
        &r.findings,
        &r.events,
        seen,
        engine,
        &detector,
        &TagFixDb::builtin(),
    ))
}

/// Writes the rules folder; returns what it wrote.
fn write_folder(dir: &Path, plan: &FixPlan) -> anyhow::Result<Vec<&'static str>> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut names = Vec::new();
    for (name, text) in leakscope_report::fixes::files(plan, env!("CARGO_PKG_VERSION")) {
        let p = dir.join(name);
        std::fs::write(&p, text).with_context(|| format!("cannot write {}", p.display()))?;
        names.push(name);
    }
    Ok(names)
}

/// The captures a results document points at: a scan's run HARs beside
/// it, else the inputs it names when they are still there.
fn captures_of(results: &Path, r: &Results) -> Vec<PathBuf> {
    let base = results.parent().unwrap_or(Path::new("."));
    let mut out: Vec<PathBuf> = Vec::new();
    if let Some(scan) = &r.scan {
        out.extend(
            scan.runs
                .iter()
                .filter_map(|run| run.har.as_ref())
                .map(|h| base.join(h))
                .filter(|p| p.is_file()),
        );
    }
    if out.is_empty() {
        out.extend(
            r.inputs
                .iter()
                .map(|i| PathBuf::from(&i.file))
                .filter(|p| p.is_file()),
        );
    }
    out
}

fn read_results(path: &Path) -> anyhow::Result<(PathBuf, Results)> {
    let file = if path.is_dir() {
        path.join("results.json")
    } else {
        path.to_path_buf()
    };
    let what = file.display().to_string();
    let text =
        std::fs::read_to_string(&file).with_context(|| format!("cannot read results {what}"))?;
    Ok((file, Results::from_json(&text, &what)?))
}

pub fn rules(a: RulesArgs, engine: &Engine) -> anyhow::Result<u8> {
    if a.list == Some(ListName::HealthTrackers) {
        let text = leakscope_rules::health_trackers_list(env!("CARGO_PKG_VERSION"));
        match &a.out {
            Some(p) => {
                std::fs::write(p, &text)
                    .with_context(|| format!("cannot write {}", p.display()))?;
                let n = text.lines().filter(|l| l.starts_with("||")).count();
                eprintln!("leakscope: {n} rules written to {}", p.display());
            }
            None => print!("{text}"),
        }
        return Ok(EXIT_OK);
    }
    let path = a.results.expect("clap requires RESULTS without --list");
    let (file, r) = read_results(&path)?;
    let mut caps = a.captures.clone();
    if caps.is_empty() {
        caps = captures_of(&file, &r);
    }
    let captures: Vec<crate::evidence::Capture<'_>> = caps
        .iter()
        .map(|p| crate::evidence::Capture::Path(p))
        .collect();
    let plan = plan_for(&r, &captures, engine)?;
    let dir = a.out.unwrap_or_else(|| PathBuf::from("leakscope-rules"));
    let names = write_folder(&dir, &plan)?;
    for l in leakscope_report::fixes::summary(&plan) {
        println!("{l}");
    }
    if plan.csp.is_none() {
        println!(
            "No capture found beside {}: no CSP written (give the captures with --capture FILE).",
            file.display()
        );
    }
    println!("Wrote {}/: {}", dir.display(), names.join(", "));
    Ok(if plan.check.passed() {
        EXIT_OK
    } else {
        EXIT_GATE
    })
}

/// Requests to the site's own origin that failed in a run's HAR (by URL
/// without its query): blocked, refused, or answered 4xx/5xx.
fn own_failures(har: &Path, origin: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let Ok(text) = std::fs::read_to_string(har) else {
        return out;
    };
    let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) else {
        return out;
    };
    let entries = v
        .pointer("/log/entries")
        .and_then(serde_json::Value::as_array)
        .cloned()
        .unwrap_or_default();
    for e in entries {
        let url = e
            .pointer("/request/url")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("");
        if !url.starts_with(origin)
            || url[origin.len()..].starts_with(|c: char| c != '/' && c != '?')
        {
            continue;
        }
        let failed = e
            .get("_failure")
            .and_then(serde_json::Value::as_str)
            .is_some();
        let status = e
            .pointer("/response/status")
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(0);
        if failed || status >= 400 {
            out.insert(url.split('?').next().unwrap_or(url).to_owned());
        }
    }
    out
}

fn origin(url: &str) -> String {
    url::Url::parse(url)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default()
}

/// One finding, as the comparison lists it.
#[derive(Serialize)]
struct Line {
    id: String,
    severity: String,
    vendor: String,
    event: String,
    page: String,
}

fn line(f: &leakscope_detect::Finding) -> Line {
    Line {
        id: f.id.clone(),
        severity: f.severity.as_str().into(),
        vendor: f.vendor.as_str().into(),
        event: f.event.clone(),
        page: f.page_url.clone().unwrap_or_default(),
    }
}

/// What `fix-check` found.
#[derive(Serialize)]
struct Outcome {
    url: String,
    rules: String,
    fail_on: String,
    before: usize,
    after: usize,
    fixed: Vec<Line>,
    remaining: Vec<Line>,
    new: Vec<Line>,
    /// What broke, in words; empty when nothing did.
    broke: Vec<String>,
    /// Requests the rules refused in the second scan (filter lists; a CSP
    /// is enforced inside the page, uncounted).
    blocked: u64,
    csp: bool,
    steps_checked: usize,
    passed: bool,
}

/// A journey step that waits for a tracker's request: the rules are meant
/// to stop it, so its failing afterwards is not the site breaking.
fn waits_for_tracker(action: &str, engine: &Engine) -> bool {
    action.strip_prefix("wait-for-request ").is_some_and(|p| {
        engine
            .classify(&format!("https://{}", p.trim_start_matches("https://")))
            .is_some()
    })
}

/// What broke between two scans of the same site.
fn breakage(
    before: &[RunInfo],
    after: &[RunInfo],
    dirs: (&Path, &Path),
    engine: &Engine,
) -> (Vec<String>, usize) {
    let mut broke = Vec::new();
    let mut steps = 0;
    let after_by: BTreeMap<&str, &RunInfo> = after.iter().map(|r| (r.name.as_str(), r)).collect();
    for b in before {
        let Some(a) = after_by.get(b.name.as_str()) else {
            broke.push(format!("run {} did not happen the second time", b.name));
            continue;
        };
        if b.failure.is_none() && a.failure.is_some() {
            broke.push(format!(
                "run {}: the start page did not load: {}",
                b.name,
                a.failure.as_ref().map(|f| f.message.as_str()).unwrap_or("")
            ));
            continue;
        }
        let after_steps: BTreeMap<&str, &leakscope_core::scan::StepInfo> =
            a.steps.iter().map(|s| (s.id.as_str(), s)).collect();
        for s in b
            .steps
            .iter()
            .filter(|s| s.error.is_none() && !waits_for_tracker(&s.action, engine))
        {
            steps += 1;
            match after_steps.get(s.id.as_str()) {
                None => broke.push(format!(
                    "run {}: step {} ({}) did not run",
                    b.name, s.id, s.action
                )),
                Some(x) if x.error.is_some() => broke.push(format!(
                    "run {}: step {} ({}) failed: {}",
                    b.name,
                    s.id,
                    s.action,
                    x.error.as_deref().unwrap_or("")
                )),
                Some(_) => {}
            }
        }
        let known: BTreeSet<&str> = b.console_errors.iter().map(String::as_str).collect();
        for e in a
            .console_errors
            .iter()
            .filter(|e| !known.contains(e.as_str()))
        {
            broke.push(format!("run {}: new script error: {e}", b.name));
        }
        if let (Some(bh), Some(ah)) = (&b.har, &a.har) {
            let o = origin(&b.site);
            let was = own_failures(&dirs.0.join(bh), &o);
            for u in own_failures(&dirs.1.join(ah), &o).difference(&was) {
                broke.push(format!(
                    "run {}: the site's own request failed: {u}",
                    b.name
                ));
            }
        }
    }
    (broke, steps)
}

pub fn fix_check(a: FixCheckArgs, engine: &Engine) -> anyhow::Result<u8> {
    let rt = crate::runtime()?;
    let keep = a.scan.out.clone();
    let scratch = tempfile::tempdir().context("cannot make a scratch directory")?;
    let root = keep.clone().unwrap_or_else(|| scratch.path().to_path_buf());
    let (before_dir, rules_dir, after_dir) =
        (root.join("before"), root.join("rules"), root.join("after"));
    let base = crate::scan_options(
        &a.scan,
        vec![a.url.clone()],
        "reject,accept",
        Some(before_dir.clone()),
        Vec::new(),
        Vec::new(),
    )?;
    let opts = leakscope_scan::ScanOptions {
        parallel: a
            .scan
            .parallel
            .map_or(base.consent.len().clamp(1, 4), usize::from),
        // The rules come from this scan, not from a --block given with it.
        block: None,
        ..base
    };
    eprintln!("leakscope: fix-check 1/2: scanning {} as it is", a.url);
    let mut progress = crate::progress::ScanProgress::new();
    let before = rt.block_on(leakscope_scan::scan(opts.clone(), &mut progress));
    progress.finish();
    let before = before?;
    if !before.info.loaded_any() {
        eprintln!(
            "leakscope: the start page did not load: nothing to fix-check (exit {EXIT_NOT_LOADED})"
        );
        return Ok(EXIT_NOT_LOADED);
    }
    let before_r = before.results();
    let (rules_file, block): (PathBuf, Arc<BlockList>) = match &a.rules {
        Some(p) => (p.clone(), load_block(p)?),
        None => {
            let plan = plan_seen(&before_r, &before.exchanges, engine)?;
            let names = write_folder(&rules_dir, &plan)?;
            let name = match a.with {
                FixKind::Filters => "filters.txt",
                FixKind::Removeparam if names.contains(&"filters-removeparam.txt") => {
                    "filters-removeparam.txt"
                }
                FixKind::Removeparam => {
                    eprintln!("leakscope: no parameter rule could be proved; checking filters.txt");
                    "filters.txt"
                }
                FixKind::Csp => "csp.txt",
            };
            if plan.filters.is_empty() && a.with != FixKind::Csp {
                eprintln!("leakscope: no finding needs a browser rule: nothing to check");
                let code = if before_r.findings.iter().any(|f| f.severity >= a.fail_on) {
                    EXIT_GATE
                } else {
                    EXIT_OK
                };
                return Ok(code);
            }
            let p = rules_dir.join(name);
            let b = load_block(&p)?;
            (p, b)
        }
    };
    eprintln!(
        "leakscope: fix-check 2/2: scanning again with {} applied in the browser",
        rules_file.display()
    );
    let is_csp = matches!(*block, BlockList::Csp(_));
    let opts = leakscope_scan::ScanOptions {
        out_dir: Some(after_dir.clone()),
        persona: Some(before.persona.clone()),
        block: Some(block),
        ..opts
    };
    let mut progress = crate::progress::ScanProgress::new();
    let after = rt.block_on(leakscope_scan::scan(opts, &mut progress));
    progress.finish();
    let after = after?;
    let after_r = after.results();

    let after_ids: BTreeSet<&str> = after_r.findings.iter().map(|f| f.id.as_str()).collect();
    let before_ids: BTreeSet<&str> = before_r.findings.iter().map(|f| f.id.as_str()).collect();
    let fixed: Vec<Line> = before_r
        .findings
        .iter()
        .filter(|f| !after_ids.contains(f.id.as_str()))
        .map(line)
        .collect();
    let remaining: Vec<Line> = after_r
        .findings
        .iter()
        .filter(|f| before_ids.contains(f.id.as_str()))
        .map(line)
        .collect();
    let new: Vec<Line> = after_r
        .findings
        .iter()
        .filter(|f| !before_ids.contains(f.id.as_str()))
        .map(line)
        .collect();
    let (broke, steps) = breakage(
        &before.info.runs,
        &after.info.runs,
        (&before_dir, &after_dir),
        engine,
    );
    let at_or_above = after_r
        .findings
        .iter()
        .filter(|f| f.severity >= a.fail_on)
        .count();
    let outcome = Outcome {
        url: a.url.clone(),
        rules: rules_file.display().to_string(),
        fail_on: a.fail_on.as_str().into(),
        before: before_r.findings.len(),
        after: after_r.findings.len(),
        fixed,
        remaining,
        new,
        blocked: after.info.runs.iter().map(|r| r.blocked).sum(),
        csp: is_csp,
        steps_checked: steps,
        passed: at_or_above == 0 && broke.is_empty(),
        broke,
    };
    if a.format == crate::SimpleFormat::Json {
        println!("{}", serde_json::to_string_pretty(&outcome)?);
    } else {
        print_outcome(&outcome, at_or_above);
    }
    if let Some(dir) = &keep {
        let p = dir.join("fix-check.json");
        std::fs::write(&p, serde_json::to_string_pretty(&outcome)? + "\n")
            .with_context(|| format!("cannot write {}", p.display()))?;
        eprintln!(
            "leakscope: kept in {}/: before/, rules/, after/, fix-check.json",
            dir.display()
        );
    }
    Ok(if outcome.passed { EXIT_OK } else { EXIT_GATE })
}

fn print_outcome(o: &Outcome, at_or_above: usize) {
    let verdict = match (at_or_above, o.broke.is_empty()) {
        (0, true) => {
            "FIXED: every finding at or above the threshold is gone and nothing broke".to_owned()
        }
        (0, false) => {
            "BROKE THE SITE: the findings are gone but the site no longer works the same".to_owned()
        }
        (n, true) => format!("NOT FIXED: {n} finding(s) at {} or above remain", o.fail_on),
        (n, false) => format!(
            "NOT FIXED and BROKE THE SITE: {n} finding(s) at {} or above remain",
            o.fail_on
        ),
    };
    println!("{verdict}");
    let how = if o.csp {
        "the policy enforced by Chromium".to_owned()
    } else {
        format!("{} request(s) blocked", o.blocked)
    };
    println!(
        "Findings: {} before, {} after with {} ({how}).",
        o.before, o.after, o.rules
    );
    let show = |title: &str, lines: &[Line]| {
        if lines.is_empty() {
            return;
        }
        println!("\n{title} ({}):", lines.len());
        for l in lines {
            println!(
                "  {:<8} {}  {} {} on {}",
                l.severity,
                l.id,
                l.vendor,
                leakscope_report::html::clip(&l.event, 60),
                leakscope_report::html::clip(&l.page, 80)
            );
        }
    };
    show("Fixed", &o.fixed);
    show("Still there", &o.remaining);
    show("New", &o.new);
    println!("\nWhat broke:");
    if o.broke.is_empty() {
        println!(
            "  nothing: every start page loaded, all {} journey step(s) that worked before still work, no new script errors, no request to the site's own origin failed",
            o.steps_checked
        );
    }
    for b in &o.broke {
        println!("  {}", leakscope_report::html::clip(b, 200));
    }
}
