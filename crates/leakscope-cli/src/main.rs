//! `leakscope`: see, prove and stop health data flowing to ad-tech.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum};
use leakscope_core::{DecodeErrorKind, Engine};
use leakscope_detect::{Canary, Detector, Pipeline, Report, Severity};
use leakscope_report::{Results, html};

#[cfg(test)]
mod doc_commands;
mod evidence;
mod fix_cmd;
mod gateway_cmd;
mod offmeta_cmd;
mod output;
mod progress;
mod survey_cmd;

// Decoding is allocation-bound; mimalloc measured +10% on the corpus mix and
// +27% on Meta Pixel requests over glibc malloc (cargo bench -p leakscope-core).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Exit codes are part of the interface: scripts and CI depend on them.
/// 0: done, nothing failed the gate. 1: `--fail-on` found findings at or
/// above the threshold that the baseline does not accept. 2: usage or input
/// error. 3: `verify` found a bundle changed, incomplete or unsigned.
/// 4: a scan could not look: no start page of any run loaded.
const EXIT_OK: u8 = 0;
const EXIT_GATE: u8 = 1;
const EXIT_USAGE: u8 = 2;
const EXIT_VERIFY: u8 = 3;
const EXIT_NOT_LOADED: u8 = 4;

#[derive(Parser)]
#[command(
    name = "leakscope",
    version,
    about = "See, prove and stop health data flowing to ad-tech.",
    after_help = "Examples:
  leakscope demo                          scan a made-up pharmacy on loopback, every consent state
  leakscope scan https://clinic.example/  scan a live site (refuse, then accept the banner)
  leakscope analyze capture.har           read a capture you already have
  leakscope report results.json -o r.html turn saved results into an HTML report

Exit codes: 0 done; 1 the --fail-on gate found new findings; 2 bad usage or unreadable
input; 3 `verify` found a bundle changed; 4 a scan could not load any start page.

Each command has its own help: leakscope help scan"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Decode every tracker request in captured traffic and report where
    /// health information and a person's identity reached a third party.
    /// Inputs: HAR, DevTools logs, URL lists, JSON Lines of requests; gzip or
    /// plain; the format is read from the content.
    #[command(after_help = "Examples:
  leakscope analyze capture.har
  leakscope analyze --format html -o report.html a.har b.json.gz
  leakscope analyze leakscope-scan-20261204T180000Z/      every HAR a scan --out folder holds
  leakscope analyze a.har --fail-on high --baseline accepted.json   CI gate: exit 1 on new findings
  leakscope analyze --canary jane.canary@example.com a.har          find a value you planted
  leakscope analyze --site-category clinic.example=addiction_treatment a.har   say who a site is")]
    Analyze {
        /// Capture files (HAR, DevTools log, URL list, JSON Lines of
        /// requests; plain or gzip), or a folder written by `scan --out`
        /// (its HARs are read). `-` reads standard input.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        #[command(flatten)]
        out: OutputArgs,
        #[command(flatten)]
        canaries: CanaryArgs,
        #[command(flatten)]
        sites: SiteArgs,
    },
    /// Scan live sites in headless Chromium like an investigator: per consent
    /// state a fresh browser context loads the page, answers the consent banner,
    /// follows health-relevant links, searches and fills forms with a made-up
    /// canary persona, clicks care-seeking buttons, and reports every leak,
    /// including trackers that keep sending after the user said no.
    #[command(after_help = "Examples:
  leakscope scan https://pharmacy.example/
  leakscope scan --consent all --max-pages 10 --out evidence/ https://pharmacy.example/
  leakscope scan --load-only --consent none,reject --parallel 4 https://a.example/ https://b.example/
  leakscope scan --journey docs/examples/refill.toml https://pharmacy.example/

Exit code 4 when no start page loaded (DNS, TLS, refused, timeout, HTTP error):
nothing was checked, which is not the same as a clean site.")]
    Scan {
        /// Start pages (full URLs).
        #[arg(required = true, value_name = "URL")]
        urls: Vec<String>,
        #[command(flatten)]
        scan: ScanArgs,
        #[command(flatten)]
        out: OutputArgs,
        #[command(flatten)]
        canaries: CanaryArgs,
        #[command(flatten)]
        sites: SiteArgs,
    },
    /// Scan the made-up Northwind Pharmacy, served on loopback with look-alike
    /// Meta, GA4 and TikTok tags, in every consent state. `--offline` analyzes
    /// the built-in demo capture instead (no browser needed). Nothing leaves
    /// the machine.
    #[command(after_help = "Examples:
  leakscope demo
  leakscope demo --out demo-evidence/ --format html -o demo.html
  leakscope demo --offline --format md",
        mut_arg("consent", |a| a.help("Consent states, each in a fresh browser context: none, reject, accept, gpc, all (comma-separated) [default: all]")),
        mut_arg("parallel", |a| a.help("Runs to drive at once, each in its own browser context [default: 4, the four consent states]")),
        mut_arg("out", |a| a.help("Keep the evidence (screenshots and DOM per step, a HAR per run, results.json) in DIR [default: none kept]")))]
    Demo {
        /// Analyze the built-in capture instead of scanning.
        #[arg(long)]
        offline: bool,
        #[command(flatten)]
        scan: ScanArgs,
        #[command(flatten)]
        out: OutputArgs,
    },
    /// Render saved results (`--format json`) in another format, HTML by
    /// default; screenshots are read relative to the results file.
    #[command(after_help = "Examples:
  leakscope report results.json -o report.html
  leakscope report leakscope-scan-20261204T180000Z/results.json --format md
  leakscope report results.json --fail-on high       gate on saved results",
        mut_arg("format", |a| a.help("Output format [default: html]")))]
    Report {
        /// A results document: `results.json` in a `scan --out` folder, or
        /// what `analyze --format json` wrote.
        #[arg(value_name = "RESULTS")]
        results: PathBuf,
        #[command(flatten)]
        out: OutputArgs,
    },
    /// Check an evidence bundle: signature, hash chain, and every file.
    /// Exits 3 naming each changed, added or missing file.
    #[command(after_help = "Examples:
  leakscope verify bundle/
  leakscope verify --key investigator.pub.pem bundle/")]
    Verify {
        /// The bundle folder written by `--evidence DIR`.
        #[arg(value_name = "DIR")]
        dir: PathBuf,
        /// The public key (PEM) the bundle must be signed with. Without it,
        /// the bundle's own key is used and its fingerprint printed to compare.
        #[arg(long, value_name = "PUBLIC_KEY")]
        key: Option<PathBuf>,
        /// Output: a table for people, or JSON.
        #[arg(long, value_enum, default_value_t = SimpleFormat::Table)]
        format: SimpleFormat,
    },
    /// Compare two saved results: new, fixed and unchanged findings (by stable id).
    #[command(after_help = "Examples:
  leakscope diff last-week.json today.json
  leakscope diff --format json before/results.json after/results.json")]
    Diff {
        /// The earlier results document.
        #[arg(value_name = "OLD")]
        old: PathBuf,
        /// The later results document.
        #[arg(value_name = "NEW")]
        new: PathBuf,
        /// Output: a table for people, or JSON.
        #[arg(long, value_enum, default_value_t = SimpleFormat::Table)]
        format: SimpleFormat,
    },
    /// The privacy gateway: a Graph-API-compatible endpoint that applies the
    /// policy, queues durably and delivers to Meta's Conversions API.
    Gateway(gateway_cmd::GatewayArgs),
    /// The gateway's hash-chained audit log.
    #[command(subcommand)]
    Audit(gateway_cmd::AuditCmd),
    /// Sector surveys: scan every site of a list (thousands), resumable after
    /// any stop, results in one database (SQLite, or PostgreSQL shared by
    /// workers on many machines), a survey report and exports.
    Survey(survey_cmd::SurveyArgs),
    /// What stops each finding, per audience: filter rules (uBlock Origin,
    /// AdGuard, Adblock Plus) scoped to the site, a hosts file, a
    /// Content-Security-Policy, tag-level fixes per vendor and gateway policy
    /// lines, written to a folder. Every rule is parsed and replayed with
    /// Brave's adblock engine against the captured requests: each leaking
    /// request blocked, none of the site's own. Exit 1 when that check fails.
    #[command(after_help = "Examples:
  leakscope rules leakscope-scan-20261204T180000Z/results.json --out fixes/
  leakscope rules results.json --capture capture.har --out fixes/
  leakscope rules --list health-trackers --out health-trackers.txt   a list to subscribe to in uBlock Origin")]
    Rules(fix_cmd::RulesArgs),
    /// Prove a fix: scan the site, write the rules, scan again with them
    /// applied in the browser, and report side by side which findings are
    /// gone and what broke (pages that no longer load, journey steps that
    /// fail, new script errors, the site's own requests failing). Exit 0
    /// only when every finding at or above --fail-on is gone and nothing
    /// broke; 1 otherwise; 4 when the site could not be loaded at all.
    #[command(after_help = "Examples:
  leakscope fix-check https://pharmacy.example/
  leakscope fix-check --with csp --out fix-evidence/ https://pharmacy.example/
  leakscope fix-check --rules my-filters.txt --journey docs/examples/refill.toml https://pharmacy.example/")]
    FixCheck(fix_cmd::FixCheckArgs),
    /// Your own Meta download, read on this machine: which businesses told
    /// Meta about you ("Your activity off Meta technologies"), which are
    /// health businesses and how sure that is, what each kind of event
    /// revealed, and what to do next (clearing it at Meta, access and
    /// deletion letters). Reads only the files given; nothing is sent
    /// anywhere. Exit 2 when the export cannot be read.
    #[command(after_help = "Examples:
  leakscope offmeta facebook-janecanary-2025-03-01.zip
  leakscope offmeta --format html -o my-report.html --jurisdiction mhmda --name \"Jane Canary\" export-folder/
  leakscope offmeta --format json your_activity_off_meta_technologies.json")]
    Offmeta(offmeta_cmd::OffmetaArgs),
}

#[derive(Args)]
struct ScanArgs {
    /// Consent states, each in a fresh browser context: none, reject, accept,
    /// gpc, all (comma-separated) [default: reject,accept: tracking after
    /// refusal, with the accepted run to compare].
    #[arg(long, value_name = "STATES")]
    consent: Option<String>,
    /// Browser profile: a desktop window or a phone (iPhone-sized, touch).
    #[arg(long, value_enum, default_value_t = DeviceArg::Desktop)]
    device: DeviceArg,
    /// Same-site pages to visit after the start page, health-relevant first.
    #[arg(long, default_value_t = 5)]
    max_pages: usize,
    /// A journey in TOML replacing the default one: steps such as goto,
    /// click, fill, search (format: docs/journeys.md; example:
    /// docs/examples/refill.toml).
    #[arg(long, value_name = "FILE", conflicts_with = "load_only")]
    journey: Option<PathBuf>,
    /// Only load each URL (and refuse or accept its banner in those consent
    /// states), keeping its evidence: no scroll, links, search, clicks or
    /// forms. For quick surveys of many sites.
    #[arg(long)]
    load_only: bool,
    /// Submit the forms filled with the canary persona (default: fill and
    /// click, but swallow the submission).
    #[arg(long)]
    submit_forms: bool,
    /// Chromium binary (default: $CHROME, /usr/lib/chromium/chromium, PATH).
    #[arg(long, value_name = "PATH")]
    chrome: Option<PathBuf>,
    /// Extra Chromium flag, e.g. --chrome-arg=--proxy-server=... Repeatable.
    #[arg(long = "chrome-arg", value_name = "ARG", allow_hyphen_values = true)]
    chrome_args: Vec<String>,
    /// Evidence directory: screenshots and DOM per step, a HAR per run,
    /// results.json [default: leakscope-scan-<time>/].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Runs (site × consent state) to drive at once, each in its own browser
    /// context [default: the number of consent states, at most 4: one
    /// site's runs go at once].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=16))]
    parallel: Option<u16>,
    /// Apply rules in the browser while scanning: a filter list (uBlock
    /// Origin / AdGuard / Adblock Plus syntax, hosts lines allowed) whose
    /// matching requests are refused or rewritten, or a CSP file
    /// (`Content-Security-Policy: …`) added to every page. `leakscope rules`
    /// writes both.
    #[arg(long, value_name = "FILE")]
    block: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq, Debug)]
enum DeviceArg {
    Desktop,
    Mobile,
}

#[derive(Args)]
struct OutputArgs {
    /// Output format [default: table].
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Write the output here instead of standard output.
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Exit 1 when findings at or above this severity exist (CI gate).
    #[arg(long, value_name = "SEVERITY", value_parser = parse_severity)]
    fail_on: Option<Severity>,
    /// Accepted findings (by stable id): a file from --write-baseline, or any
    /// results document (a scan's results.json, `--format json`). Only
    /// findings not in it fail the gate.
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
    /// Write every current finding to FILE as a baseline to accept.
    #[arg(long, value_name = "FILE")]
    write_baseline: Option<PathBuf>,
    /// Write a signed evidence bundle (captures with secrets redacted,
    /// screenshots, DOM snapshots, results, HTML report, manifest) to DIR.
    #[arg(long, value_name = "DIR")]
    evidence: Option<PathBuf>,
    /// Sign the bundle with this ed25519 PKCS#8 PEM key. Without it a new key
    /// is made and saved beside DIR as `DIR.signing-key.pem` (outside the bundle).
    #[arg(long, value_name = "FILE", requires = "evidence")]
    signing_key: Option<PathBuf>,
}

fn parse_severity(s: &str) -> Result<Severity, String> {
    Severity::parse(&s.to_ascii_lowercase())
        .ok_or_else(|| format!("{s:?} is not one of critical, high, medium, low, info"))
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq, Debug)]
enum SimpleFormat {
    Table,
    Json,
}

#[derive(Args)]
struct CanaryArgs {
    /// A value you planted (made-up email, phone, name or search term); found
    /// in any encoding a tracker uses. Repeatable.
    #[arg(long = "canary", value_name = "VALUE")]
    values: Vec<String>,
    /// A file of canaries, one per line (`#` comments).
    #[arg(long = "canary-file", value_name = "FILE")]
    canary_files: Vec<PathBuf>,
}

#[derive(Args)]
struct SiteArgs {
    /// Who a site is, overriding what its pages and leakscope's list of
    /// known health sites say: DOMAIN=CATEGORY, e.g.
    /// `clinic.example=addiction_treatment`. Categories: hospital, clinic,
    /// pharmacy, telehealth, lab_testing, insurer, crisis_mental_health,
    /// reproductive_health, addiction_treatment, hiv_sexual_health,
    /// fertility, disability_eldercare, non_health. On a health site an
    /// identified care-seeking action (a contact form, a "Call" click, a
    /// `Lead`) is a finding even with no health word. Repeatable.
    #[arg(long = "site-category", value_name = "DOMAIN=CATEGORY")]
    site_categories: Vec<String>,
}

impl SiteArgs {
    fn parse(&self) -> anyhow::Result<Vec<(String, leakscope_detect::SiteCategory)>> {
        self.site_categories
            .iter()
            .map(|s| {
                leakscope_detect::SiteKnowledge::parse_override(s)
                    .map_err(|e| anyhow::anyhow!("--site-category {e}"))
            })
            .collect()
    }
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq, Debug)]
enum Format {
    /// Findings, then events, grouped per page: for people.
    Table,
    /// One JSON document: {"events": [...], "findings": [...]}.
    Json,
    /// One JSON event per line, then one {"finding": {...}} per line.
    Jsonl,
    /// A Markdown report.
    Md,
    /// One self-contained HTML report (no external requests): use with -o.
    Html,
    /// SARIF 2.1.0, for code-scanning dashboards.
    Sarif,
    /// Findings as CSV, one row each.
    Csv,
}

/// The demo capture, compiled in so the demo needs nothing beside the binary.
const DEMO_HAR: &[u8] = include_bytes!("../../../demo/northwind-pharmacy.har");
const DEMO_LABEL: &str = "demo/northwind-pharmacy.har";

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_USAGE } else { EXIT_OK });
        }
    };
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("leakscope: error: {e:#}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}

/// Diagnostics on stderr for everything but the gateway (which sets up its
/// own): silent unless `LEAKSCOPE_LOG` is set, e.g.
/// `LEAKSCOPE_LOG=leakscope_browser=debug,leakscope_scan=debug` to see where a
/// scan spends its time (timestamps are seconds since start).
fn init_diagnostics() {
    let Ok(filter) = tracing_subscriber::EnvFilter::try_from_env("LEAKSCOPE_LOG") else {
        return;
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_timer(tracing_subscriber::fmt::time::uptime())
        .with_writer(std::io::stderr)
        .try_init();
}

fn run(cli: Cli) -> anyhow::Result<u8> {
    if !matches!(cli.command, Command::Gateway(_)) {
        init_diagnostics();
    }
    let engine = Engine::new();
    match cli.command {
        Command::Analyze {
            files,
            out,
            canaries,
            sites,
        } => {
            let detector =
                Detector::new(&load_canaries(&canaries)?)?.with_site_categories(&sites.parse()?);
            let mut pipeline = Pipeline::new(&engine, &detector);
            let mut inputs = Vec::new();
            // A `scan --out` folder stands for its HARs: one input each, and
            // each copied into an evidence bundle on its own.
            let mut paths = Vec::new();
            for f in &files {
                if f.as_os_str() == "-" {
                    paths.push(f.clone());
                } else {
                    paths.extend(leakscope_ingest::capture_files(
                        f,
                        &f.display().to_string(),
                    )?);
                }
            }
            for f in &paths {
                let label = f.display().to_string();
                let summary = read_input(f, &label, &mut pipeline)?;
                inputs.push(output::input_summary(label, &summary));
            }
            // A scan folder's DOM snapshots say who the site is, as they
            // did for the scan: same site context, same findings.
            for f in files.iter().filter(|f| f.is_dir()) {
                feed_scan_doms(f, &mut pipeline);
            }
            let results = results_of(pipeline.finish(), inputs);
            let captures: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
            emit(&results, &out, Format::Table, None, &captures)
        }
        Command::Scan {
            urls,
            scan,
            out,
            canaries,
            sites,
        } => {
            let site_categories = sites.parse()?;
            let extra: Vec<String> = load_canaries(&canaries)?
                .into_iter()
                .map(|c| c.value)
                .collect();
            let dir = scan.out.clone().unwrap_or_else(default_out_dir);
            let opts = scan_options(&scan, urls, "reject,accept", Some(dir), extra, Vec::new())?;
            let opts = leakscope_scan::ScanOptions {
                // One site's consent states at once by default: each has its
                // own context, and most of a run is waiting on the network.
                parallel: scan
                    .parallel
                    .map_or(opts.consent.len().clamp(1, 4), usize::from),
                site_categories,
                ..opts
            };
            let done = run_scan_on(&runtime()?, opts)?;
            done.emit(&out)
        }
        Command::Demo {
            offline: false,
            scan,
            out,
        } => {
            let rt = runtime()?;
            let server = rt
                .block_on(leakscope_sites::start_demo())
                .context("cannot start the demo site on loopback")?;
            // No port in the URL: the resolver rule sends every host and port to
            // the loopback server, and a port-free origin keeps finding ids
            // the same from one demo run to the next.
            let url = format!("http://{}/", leakscope_sites::PHARMACY_HOST);
            eprintln!("leakscope: demo site Northwind Pharmacy on {url} (loopback only)");
            // An evidence bundle needs the screenshots and HARs written somewhere.
            let scratch = match (&scan.out, &out.evidence) {
                (None, Some(_)) => {
                    Some(tempfile::tempdir().context("cannot make a scratch directory")?)
                }
                _ => None,
            };
            let out_dir = scan
                .out
                .clone()
                .or_else(|| scratch.as_ref().map(|d| d.path().to_path_buf()));
            let opts = scan_options(
                &scan,
                vec![url],
                "all",
                out_dir,
                Vec::new(),
                server.chrome_args(),
            )?;
            let opts = leakscope_scan::ScanOptions {
                parallel: scan.parallel.map_or(4, usize::from),
                ..opts
            };
            let done = run_scan_on(&rt, opts)?;
            drop(server);
            done.emit(&out)
        }
        Command::Demo {
            offline: true, out, ..
        } => {
            let detector = Detector::new(&[])?;
            let mut pipeline = Pipeline::new(&engine, &detector);
            let summary = leakscope_ingest::read_reader(
                DEMO_HAR,
                DEMO_LABEL,
                &mut |ex| pipeline.feed(&ex),
                &mut |w| eprintln!("leakscope: warning: {w}"),
            )
            .context("the built-in demo capture did not read")?;
            let inputs = vec![output::input_summary(DEMO_LABEL.into(), &summary)];
            let results = results_of(pipeline.finish(), inputs);
            let demo = evidence::Capture::Bytes(DEMO_LABEL, DEMO_HAR);
            emit_with(&results, &out, Format::Table, None, vec![demo])
        }
        Command::Report { results, out } => {
            let what = results.display().to_string();
            let text = std::fs::read_to_string(&results)
                .with_context(|| format!("cannot read results {what}"))?;
            let r = Results::from_json(&text, &what)?;
            let base = results
                .parent()
                .map(|p| {
                    if p.as_os_str().is_empty() {
                        Path::new(".")
                    } else {
                        p
                    }
                })
                .map(Path::to_path_buf);
            emit(&r, &out, Format::Html, base, &[])
        }
        Command::Verify { dir, key, format } => evidence::verify(&dir, key.as_deref(), format),
        Command::Diff { old, new, format } => {
            let load = |p: &Path| -> anyhow::Result<Results> {
                let what = p.display().to_string();
                let text = std::fs::read_to_string(p)
                    .with_context(|| format!("cannot read results {what}"))?;
                Ok(Results::from_json(&text, &what)?)
            };
            let d = leakscope_report::gate::diff(&load(&old)?, &load(&new)?);
            output::diff(&mut io::stdout().lock(), &d, format == SimpleFormat::Json)?;
            Ok(EXIT_OK)
        }
        Command::Gateway(a) => gateway_cmd::gateway(a).map(|()| EXIT_OK),
        Command::Survey(a) => survey_cmd::survey(a),
        Command::Rules(a) => fix_cmd::rules(a, &engine),
        Command::FixCheck(a) => fix_cmd::fix_check(a, &engine),
        Command::Offmeta(a) => offmeta_cmd::offmeta(a),
        // Exit 1: the audit log does not verify (distinct from usage errors).
        Command::Audit(c) => Ok(if gateway_cmd::audit(c)? {
            EXIT_OK
        } else {
            EXIT_GATE
        }),
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

fn default_out_dir() -> PathBuf {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    // 2026-11-29T18:15:00.000Z -> 20261129T181500Z
    let t: String = leakscope_browser::har::iso_time(secs)
        .chars()
        .take(19)
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    PathBuf::from(format!("leakscope-scan-{t}Z"))
}

fn scan_options(
    a: &ScanArgs,
    urls: Vec<String>,
    default_consent: &str,
    out_dir: Option<PathBuf>,
    extra_canaries: Vec<String>,
    more_chrome_args: Vec<String>,
) -> anyhow::Result<leakscope_scan::ScanOptions> {
    let journey = match &a.journey {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read journey {}", p.display()))?;
            Some(leakscope_scan::journey::parse(
                &text,
                &p.display().to_string(),
            )?)
        }
        None if a.load_only => Some(Vec::new()),
        None => None,
    };
    let mut chrome_args = more_chrome_args;
    chrome_args.extend(a.chrome_args.iter().cloned());
    Ok(leakscope_scan::ScanOptions {
        urls,
        consent: leakscope_scan::ConsentState::parse_list(
            a.consent.as_deref().unwrap_or(default_consent),
        )?,
        device: match a.device {
            DeviceArg::Desktop => leakscope_scan::Device::Desktop,
            DeviceArg::Mobile => leakscope_scan::Device::Mobile,
        },
        max_pages: a.max_pages,
        journey,
        submit_forms: a.submit_forms,
        chrome: a.chrome.clone(),
        chrome_args,
        out_dir,
        extra_canaries,
        block: a.block.as_deref().map(fix_cmd::load_block).transpose()?,
        ..leakscope_scan::ScanOptions::default()
    })
}

/// A finished scan, ready to be written like any other results.
struct ScanDone {
    results: Results,
    /// Where screenshots and HARs are (relative paths in the results).
    base: Option<PathBuf>,
    hars: Vec<PathBuf>,
}

impl ScanDone {
    fn emit(self, out: &OutputArgs) -> anyhow::Result<u8> {
        let caps = self
            .hars
            .iter()
            .map(|p| evidence::Capture::Path(p))
            .collect();
        let code = emit_with(&self.results, out, Format::Table, self.base, caps)?;
        let Some(scan) = &self.results.scan else {
            return Ok(code);
        };
        let failed = scan.not_loaded().count();
        if !scan.loaded_any() {
            eprintln!(
                "leakscope: no page loaded ({failed} run(s)): nothing was checked, so no finding means nothing here (exit {EXIT_NOT_LOADED})"
            );
            return Ok(EXIT_NOT_LOADED);
        }
        if failed > 0 {
            eprintln!(
                "leakscope: warning: {failed} of {} run(s) could not load their start page: nothing was checked in those",
                scan.runs.len()
            );
        }
        Ok(code)
    }
}

/// Runs the scan with live progress on stderr, then tells what each run did
/// and where the evidence is.
fn run_scan_on(
    rt: &tokio::runtime::Runtime,
    opts: leakscope_scan::ScanOptions,
) -> anyhow::Result<ScanDone> {
    let out_dir = opts.out_dir.clone();
    let persona_used = leakscope_scan::persona_used(&opts);
    let mut progress = progress::ScanProgress::new();
    let res = rt.block_on(leakscope_scan::scan(opts, &mut progress));
    progress.finish();
    let out = res?;
    for run in &out.info.runs {
        let har = format!("{}.har", run.name);
        let kept = match (&out_dir, &run.har) {
            (Some(d), Some(h)) => format!("capture {}", d.join(h).display()),
            _ => format!("capture {har} not kept (use --out DIR)"),
        };
        let status = match &run.failure {
            Some(f) => format!("NOT LOADED: {}", f.message),
            None => format!(
                "{} step(s), {} request(s); consent: {}",
                run.steps.len(),
                run.requests,
                run.consent_note.as_deref().unwrap_or("-")
            ),
        };
        eprintln!(
            "leakscope: run {} ({}): {status}; {kept}",
            run.name, run.consent
        );
        for e in &run.errors {
            eprintln!(
                "leakscope:   page error [{}] {}{}: {}",
                e.kind,
                e.url,
                e.step
                    .as_deref()
                    .map(|s| format!(" at {s}"))
                    .unwrap_or_default(),
                e.message
            );
        }
    }
    if persona_used {
        let persona: Vec<String> = out
            .info
            .canaries
            .iter()
            .map(|c| format!("{}={}", c.kind, c.value))
            .collect();
        eprintln!(
            "leakscope: canary persona (made up for this scan): {}",
            persona.join(", ")
        );
    }
    match &out_dir {
        Some(d) => eprintln!(
            "leakscope: evidence in {}/ (results.json, one <run>.har per run, steps/ with screenshots and DOM)",
            d.display()
        ),
        None => eprintln!(
            "leakscope: no evidence kept on disk (add --out DIR to keep captures and screenshots)"
        ),
    }
    let hars = match &out_dir {
        Some(d) => out
            .info
            .runs
            .iter()
            .filter_map(|r| r.har.as_ref())
            .map(|h| d.join(h))
            .collect(),
        None => Vec::new(),
    };
    report_decode_errors(&out.report);
    Ok(ScanDone {
        results: out.results(),
        base: out_dir,
        hars,
    })
}

fn results_of(report: Report, inputs: Vec<leakscope_report::InputSummary>) -> Results {
    report_decode_errors(&report);
    Results::new(report, inputs, None, env!("CARGO_PKG_VERSION"))
}

fn emit(
    r: &Results,
    out: &OutputArgs,
    default: Format,
    base: Option<PathBuf>,
    captures: &[&Path],
) -> anyhow::Result<u8> {
    let caps = captures
        .iter()
        .copied()
        .map(evidence::Capture::Path)
        .collect();
    emit_with(r, out, default, base, caps)
}

/// Writes the output, then the evidence bundle and baseline, then applies the gate.
fn emit_with(
    r: &Results,
    out: &OutputArgs,
    default: Format,
    base: Option<PathBuf>,
    captures: Vec<evidence::Capture<'_>>,
) -> anyhow::Result<u8> {
    let format = out.format.unwrap_or(default);
    // The reports people read end with "How to fix" when there is something to fix.
    let fixes = match format {
        Format::Html | Format::Md if !r.findings.is_empty() => {
            Some(fix_cmd::plan_for(r, &captures, &Engine::new())?)
        }
        _ => None,
    };
    let assets = html::Assets {
        base: base.clone(),
        fixes,
    };
    write_output(r, format, out.output.as_deref(), &assets)?;
    if let Some(dir) = &out.evidence {
        evidence::write(
            dir,
            r,
            base.as_deref(),
            &captures,
            out.signing_key.as_deref(),
        )?;
    }
    if let Some(path) = &out.write_baseline {
        let b = leakscope_report::gate::Baseline::from_results(r);
        let mut text = serde_json::to_string_pretty(&b)?;
        text.push('\n');
        std::fs::write(path, text)
            .with_context(|| format!("cannot write baseline {}", path.display()))?;
        eprintln!(
            "leakscope: baseline of {} finding(s) written to {}",
            b.findings.len(),
            path.display()
        );
    }
    let Some(threshold) = out.fail_on else {
        if out.baseline.is_some() {
            anyhow::bail!("--baseline only applies with --fail-on SEVERITY");
        }
        return Ok(EXIT_OK);
    };
    let baseline = match &out.baseline {
        Some(p) => Some(load_baseline(p)?),
        None => None,
    };
    let g = leakscope_report::gate::gate(&r.findings, threshold, baseline.as_ref());
    if g.failed() {
        eprintln!(
            "leakscope: gate failed: {} finding(s) at or above {}{}: {}",
            g.failing.len(),
            threshold,
            if baseline.is_some() {
                " not in the baseline"
            } else {
                ""
            },
            g.failing.join(", ")
        );
        Ok(EXIT_GATE)
    } else {
        eprintln!(
            "leakscope: gate passed: no finding at or above {threshold}{}",
            if g.accepted > 0 {
                format!(" beyond {} accepted in the baseline", g.accepted)
            } else {
                String::new()
            }
        );
        Ok(EXIT_OK)
    }
}

/// A baseline file (`--write-baseline`), or any results document leakscope
/// wrote (`--format json`, a scan's `results.json`): its findings are accepted.
fn load_baseline(p: &Path) -> anyhow::Result<leakscope_report::gate::Baseline> {
    let what = p.display().to_string();
    let text =
        std::fs::read_to_string(p).with_context(|| format!("cannot read baseline {what}"))?;
    let is_results = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| {
            v.get("schema")?
                .as_str()
                .map(|s| s.starts_with("leakscope-results/"))
        })
        .unwrap_or(false);
    Ok(if is_results {
        leakscope_report::gate::Baseline::from_results(&Results::from_json(&text, &what)?)
    } else {
        leakscope_report::gate::Baseline::from_json(&text, &what)?
    })
}

fn write_output(
    r: &Results,
    format: Format,
    path: Option<&Path>,
    assets: &html::Assets,
) -> anyhow::Result<()> {
    match path {
        Some(path) => {
            let file = std::fs::File::create(path)
                .with_context(|| format!("cannot write {}", path.display()))?;
            let mut w = io::BufWriter::new(file);
            output::write(&mut w, format_of(format), r, assets, false)
                .and_then(|_| w.flush())
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        None => {
            // anstream strips colour when stdout is not a terminal or NO_COLOR is set.
            let mut w = anstream::AutoStream::auto(io::stdout().lock());
            let color = !matches!(w.current_choice(), anstream::ColorChoice::Never);
            let mut w = io::BufWriter::new(&mut w);
            match output::write(&mut w, format_of(format), r, assets, color).and_then(|_| w.flush())
            {
                // A closed pipe (`| head`) is not an error worth a message.
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
                res => res.context("cannot write to standard output")?,
            }
        }
    }
    Ok(())
}

/// The DOM snapshot of every step a `scan --out` folder's `results.json`
/// lists, for site context. Silent when there is none: a folder of HARs
/// analyses as before.
fn feed_scan_doms(dir: &Path, pipeline: &mut Pipeline<'_>) {
    let Ok(text) = std::fs::read_to_string(dir.join("results.json")) else {
        return;
    };
    let Ok(results) = Results::from_json(&text, "results.json") else {
        return;
    };
    for step in results
        .scan
        .iter()
        .flat_map(|s| s.runs.iter())
        .flat_map(|r| r.steps.iter())
    {
        if let Some(dom) = &step.dom
            && !Path::new(dom).is_absolute()
            && !dom.contains("..")
            && let Ok(html) = std::fs::read_to_string(dir.join(dom))
        {
            pipeline.feed_document(&step.url, &html);
        }
    }
}

fn load_canaries(args: &CanaryArgs) -> anyhow::Result<Vec<Canary>> {
    let mut values = args.values.clone();
    for f in &args.canary_files {
        let text = std::fs::read_to_string(f)
            .with_context(|| format!("cannot read canary file {}", f.display()))?;
        values.extend(
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(str::to_owned),
        );
    }
    Ok(values.into_iter().map(Canary::new).collect())
}

fn format_of(f: Format) -> output::Format {
    match f {
        Format::Table => output::Format::Table,
        Format::Json => output::Format::Json,
        Format::Jsonl => output::Format::Jsonl,
        Format::Md => output::Format::Markdown,
        Format::Html => output::Format::Html,
        Format::Sarif => output::Format::Sarif,
        Format::Csv => output::Format::Csv,
    }
}

fn read_input(
    path: &Path,
    label: &str,
    pipeline: &mut Pipeline<'_>,
) -> anyhow::Result<leakscope_ingest::Summary> {
    let mut on_ex = |ex: leakscope_core::Exchange| pipeline.feed(&ex);
    let mut on_warn = |w: leakscope_ingest::Warning| eprintln!("leakscope: warning: {w}");
    let res = if path.as_os_str() == "-" {
        leakscope_ingest::read_reader(io::stdin().lock(), label, &mut on_ex, &mut on_warn)
    } else {
        leakscope_ingest::read_path(path, label, &mut on_ex, &mut on_warn)
    };
    Ok(res?)
}

/// Malformed tracker requests are warned about one by one; requests with
/// nothing in them (truncated URL lists, bodies a capture dropped) are many
/// and alike, so they get one line with the first example.
fn report_decode_errors(r: &Report) {
    let mut empty = r.errors.iter().filter(|e| e.kind == DecodeErrorKind::Empty);
    for e in r
        .errors
        .iter()
        .filter(|e| e.kind == DecodeErrorKind::Malformed)
    {
        eprintln!("leakscope: warning: {e}");
    }
    if let Some(first) = empty.next() {
        eprintln!(
            "leakscope: note: {} tracker request(s) carried nothing to decode (no query and no body captured), e.g. {first}",
            1 + empty.count()
        );
    }
}
