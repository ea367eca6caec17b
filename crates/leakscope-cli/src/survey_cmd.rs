//! `leakscope survey …`: argument parsing, progress and printing only; the
//! work is in leakscope-survey, the outputs in leakscope-report.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Args, Subcommand};
use leakscope_core::survey::{SiteRow, SiteStatus, SurveyMeta};
use leakscope_survey::{Counts, Settings, Store, SurveyProgress, queue};

/// `leakscope survey`.
#[derive(Args)]
#[command(
    args_conflicts_with_subcommands = true,
    after_help = "Examples:
  leakscope survey hospitals.csv                       scan every site of the list on this machine
  leakscope survey status --out survey-hospitals/       how far it got
  leakscope survey resume --out survey-hospitals/       go on after a stop (Ctrl-C, kill, reboot)
  leakscope survey retry --failed --out survey-hospitals/
  leakscope survey report --out survey-hospitals/       the survey report (HTML)
  leakscope survey export --format parquet,csv --out survey-hospitals/
  leakscope survey sites.txt --db postgres://survey@db/leaks --no-work   queue it for workers
  leakscope survey work --db postgres://survey@db/leaks                  one worker (any number, any machine)

The list: one URL or domain per line, or a CSV with a `url` or `domain`
column; its other columns (organisation, state, category…) are kept with the
results, and a `category` column says who each site is (crisis_line, clinic…).
Default scan per site: load the start page in two fresh contexts, touching no
consent banner and refusing it (--consent none,reject), evidence kept per site.
See docs/survey.md (schema, views, many machines)."
)]
pub struct SurveyArgs {
    #[command(subcommand)]
    cmd: Option<SurveyCmd>,
    /// The site list (text or CSV).
    #[arg(value_name = "LIST")]
    list: Option<PathBuf>,
    #[command(flatten)]
    at: Location,
    /// Survey name [default: the list's file name without extension].
    #[arg(long)]
    name: Option<String>,
    /// Create the survey and queue its sites, but scan nothing (workers
    /// started with `survey work` do).
    #[arg(long)]
    no_work: bool,
    #[command(flatten)]
    settings: SettingArgs,
    #[command(flatten)]
    worker: WorkerArgs,
}

/// Where the survey lives.
#[derive(Args, Clone)]
struct Location {
    /// Survey folder: evidence per site (sites/), report.html, exports, and
    /// the database survey.db unless --db says otherwise
    /// [default: survey-<list name>/ for a new survey, else the current folder's survey.db].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Results database: a SQLite file, or postgres://user@host/db to share
    /// it between machines [default: DIR/survey.db].
    #[arg(long, value_name = "URL|FILE", env = "LEAKSCOPE_SURVEY_DB")]
    db: Option<String>,
}

impl Location {
    fn dir(&self) -> PathBuf {
        self.out.clone().unwrap_or_else(|| PathBuf::from("."))
    }
    fn db(&self) -> String {
        self.db
            .clone()
            .unwrap_or_else(|| self.dir().join("survey.db").display().to_string())
    }
}

/// How each site is scanned: stored with the survey, so every worker
/// scans the same way.
#[derive(Args)]
struct SettingArgs {
    /// Consent states per site, each a fresh browser context: none, reject,
    /// accept, gpc, all [default: none,reject].
    #[arg(long, value_name = "STATES")]
    consent: Option<String>,
    /// Walk the scan's default journey on each site (health links, search,
    /// forms with a made-up persona) instead of loading the start page only.
    #[arg(long, conflicts_with = "journey")]
    full_journey: bool,
    /// A journey in TOML for every site (docs/journeys.md).
    #[arg(long, value_name = "FILE")]
    journey: Option<PathBuf>,
    /// Same-site pages to visit after the start page (with --full-journey).
    #[arg(long, default_value_t = 3)]
    max_pages: usize,
    /// Browser profile.
    #[arg(long, value_enum, default_value_t = DeviceArg::Desktop)]
    device: DeviceArg,
    /// Longest a page may take to load, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    page_timeout: u64,
    /// Longest one site may take, every run included, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 120)]
    site_budget: u64,
    /// Attempts per site for transient failures (timeouts, crashes, refused
    /// connections), the first included.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=20))]
    attempts: u32,
    /// Seconds to wait before the first retry; doubled each time.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    backoff: u64,
    /// Seconds a worker's lease lasts unless renewed; a dead worker's sites
    /// return to the queue after it.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    lease_ttl: u64,
}

#[derive(Clone, Copy, clap::ValueEnum, PartialEq, Eq, Debug)]
enum DeviceArg {
    Desktop,
    Mobile,
}

/// Per worker, not stored.
#[derive(Args, Clone)]
struct WorkerArgs {
    /// Sites scanned at once by this worker [default: two per CPU, 2 to 8].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=64))]
    parallel: Option<u16>,
    /// Chromium binary (default: $CHROME, /usr/lib/chromium/chromium, PATH).
    #[arg(long, value_name = "PATH")]
    chrome: Option<PathBuf>,
    /// Extra Chromium flag for this worker (replaces the survey's stored
    /// flags when given). Repeatable.
    #[arg(long = "chrome-arg", value_name = "ARG", allow_hyphen_values = true)]
    chrome_args: Vec<String>,
    /// Keep no evidence on disk (rows in the database only).
    #[arg(long)]
    no_evidence: bool,
}

#[derive(Subcommand)]
enum SurveyCmd {
    /// How far the survey got: sites done, unreachable, left; rate and ETA.
    #[command(after_help = "Examples:
  leakscope survey status --out survey-hospitals/
  leakscope survey status --db postgres://survey@db/leaks")]
    Status {
        #[command(flatten)]
        at: Location,
        #[arg(long)]
        name: Option<String>,
    },
    /// Go on with an interrupted survey, with its stored settings.
    #[command(after_help = "Examples:
  leakscope survey resume --out survey-hospitals/")]
    Resume {
        #[command(flatten)]
        at: Location,
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        worker: WorkerArgs,
    },
    /// Put finished sites back in the queue and scan them again.
    #[command(after_help = "Examples:
  leakscope survey retry --failed --out survey-hospitals/    unreachable and failed sites
  leakscope survey retry --all --out survey-hospitals/       every site")]
    Retry {
        /// Sites that were unreachable or failed.
        #[arg(long, required_unless_present = "all")]
        failed: bool,
        /// Every site.
        #[arg(long)]
        all: bool,
        #[command(flatten)]
        at: Location,
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        worker: WorkerArgs,
    },
    /// A worker: leases sites from the shared database until none is left.
    /// Run any number, on any machines, against one PostgreSQL.
    #[command(after_help = "Examples:
  leakscope survey work --db postgres://survey@db.internal/leaks --out /evidence
  LEAKSCOPE_SURVEY_DB=postgres://… leakscope survey work      (the container image's command)")]
    Work {
        #[command(flatten)]
        at: Location,
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        worker: WorkerArgs,
    },
    /// The survey report: a self-contained HTML page (headline figures,
    /// charts, every site, methods).
    #[command(after_help = "Examples:
  leakscope survey report --out survey-hospitals/             writes survey-hospitals/report.html
  leakscope survey report --out survey-hospitals/ -o x.html")]
    Report {
        #[command(flatten)]
        at: Location,
        #[arg(long)]
        name: Option<String>,
        /// Write here [default: DIR/report.html].
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Sites, runs, events and findings as files for DuckDB, pandas or a
    /// spreadsheet.
    #[command(after_help = "Examples:
  leakscope survey export --out survey-hospitals/                       Parquet, CSV and JSON Lines in DIR/export/
  leakscope survey export --format csv --to /tmp/x --out survey-hospitals/")]
    Export {
        #[command(flatten)]
        at: Location,
        #[arg(long)]
        name: Option<String>,
        /// Formats, comma-separated: parquet, csv, jsonl.
        #[arg(long, default_value = "parquet,csv,jsonl")]
        format: String,
        /// Folder to write to [default: DIR/export/].
        #[arg(long, value_name = "DIR")]
        to: Option<PathBuf>,
    },
}

/// Exit code when no site of the survey could be scanned.
const EXIT_NOTHING_SCANNED: u8 = 4;

pub fn survey(a: SurveyArgs) -> anyhow::Result<u8> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    rt.block_on(async move {
        match a.cmd {
            None => {
                let Some(list) = a.list else {
                    anyhow::bail!("give a site list (`leakscope survey sites.csv`) or a subcommand (see --help)");
                };
                start(&list, a.at, a.name, a.no_work, &a.settings, &a.worker).await
            }
            Some(SurveyCmd::Status { at, name }) => status(&at, name.as_deref()).await,
            Some(SurveyCmd::Resume { at, name, worker }) => {
                let store = open(&at).await?;
                run_worker(&store, &at, name.as_deref(), &worker).await
            }
            Some(SurveyCmd::Retry {
                failed: _,
                all,
                at,
                name,
                worker,
            }) => {
                let store = open(&at).await?;
                let meta = queue::meta(&store, name.as_deref()).await?;
                let n = queue::retry(&store, &meta.name, all).await?;
                eprintln!("leakscope: {n} site(s) back in the queue");
                run_worker(&store, &at, Some(&meta.name), &worker).await
            }
            Some(SurveyCmd::Work { at, name, worker }) => {
                let store = open(&at).await?;
                run_worker(&store, &at, name.as_deref(), &worker).await
            }
            Some(SurveyCmd::Report { at, name, output }) => {
                let store = open(&at).await?;
                let path = output.unwrap_or_else(|| at.dir().join("report.html"));
                write_report(&store, name.as_deref(), &path, &at.dir()).await?;
                eprintln!("leakscope: survey report in {}", path.display());
                Ok(0)
            }
            Some(SurveyCmd::Export {
                at,
                name,
                format,
                to,
            }) => {
                let store = open(&at).await?;
                let formats = format
                    .split(',')
                    .map(|f| {
                        leakscope_report::survey_export::ExportFormat::parse(f.trim())
                            .with_context(|| format!("unknown export format {f:?}: parquet, csv or jsonl"))
                    })
                    .collect::<anyhow::Result<Vec<_>>>()?;
                let data = queue::read(&store, name.as_deref()).await?;
                let dir = to.unwrap_or_else(|| at.dir().join("export"));
                let files = leakscope_report::survey_export::write_exports(&data, &dir, &formats)?;
                for f in files {
                    println!("{}", f.display());
                }
                Ok(0)
            }
        }
    })
}

async fn open(at: &Location) -> anyhow::Result<Store> {
    let db = at.db();
    if at.db.is_none() && !Path::new(&db).exists() {
        anyhow::bail!(
            "no survey database at {db}: give the survey folder with --out DIR (or --db), or start a survey with `leakscope survey LIST`"
        );
    }
    Ok(Store::open(&db).await?)
}

fn file_stem(list: &Path) -> String {
    list.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "survey".into())
}

async fn start(
    list_path: &Path,
    mut at: Location,
    name: Option<String>,
    no_work: bool,
    s: &SettingArgs,
    worker: &WorkerArgs,
) -> anyhow::Result<u8> {
    let text = std::fs::read(list_path)
        .with_context(|| format!("cannot read the site list {}", list_path.display()))?;
    let text = String::from_utf8(text).map_err(|_| {
        anyhow::anyhow!(
            "site list {}: not UTF-8 text (expected URLs or a CSV)",
            list_path.display()
        )
    })?;
    let list = leakscope_survey::list::parse(&list_path.display().to_string(), &text)?;
    let name = name.unwrap_or_else(|| file_stem(list_path));
    if at.out.is_none() {
        at.out = Some(PathBuf::from(format!("survey-{name}")));
    }
    let journey = match &s.journey {
        Some(p) => {
            let t = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read journey {}", p.display()))?;
            // Checked now rather than by every worker.
            leakscope_scan::journey::parse(&t, &p.display().to_string())?;
            Some(t)
        }
        None => None,
    };
    let settings = Settings {
        consent: s.consent.clone().unwrap_or_else(|| "none,reject".into()),
        device: match s.device {
            DeviceArg::Desktop => leakscope_scan::Device::Desktop,
            DeviceArg::Mobile => leakscope_scan::Device::Mobile,
        },
        full_journey: s.full_journey,
        journey,
        max_pages: if s.full_journey { s.max_pages } else { 0 },
        page_timeout: Duration::from_secs(s.page_timeout.max(1)),
        site_budget: Duration::from_secs(s.site_budget.max(5)),
        attempts: s.attempts,
        backoff: Duration::from_secs(s.backoff),
        lease_ttl: Duration::from_secs(s.lease_ttl.max(3)),
        chrome_args: worker.chrome_args.clone(),
    };
    // The consent list is checked now too.
    leakscope_scan::ConsentState::parse_list(&settings.consent)?;
    let dir = at.dir();
    if at.db.is_none() {
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create the survey folder {}", dir.display()))?;
    }
    let store = Store::open(&at.db()).await?;
    let meta = SurveyMeta {
        name: name.clone(),
        list: list_path.display().to_string(),
        created: leakscope_core::time::rfc3339_millis(queue::now_ms()),
        settings: settings.to_pairs(),
        columns: list.columns.clone(),
        browser: String::new(),
        tool_version: env!("CARGO_PKG_VERSION").into(),
    };
    if queue::create(&store, &meta, &list).await? {
        eprintln!(
            "leakscope: survey {name:?}: {} site(s) queued in {}{}",
            list.sites.len(),
            store.location,
            if list.duplicates > 0 {
                format!(" ({} duplicate line(s) skipped)", list.duplicates)
            } else {
                String::new()
            }
        );
    } else {
        eprintln!(
            "leakscope: survey {name:?} already exists in {}: going on with it (its stored settings apply; `survey retry` scans sites again)",
            store.location
        );
    }
    if no_work {
        return Ok(0);
    }
    run_worker(&store, &at, Some(&name), worker).await
}

async fn run_worker(
    store: &Store,
    at: &Location,
    name: Option<&str>,
    w: &WorkerArgs,
) -> anyhow::Result<u8> {
    let meta = queue::meta(store, name).await?;
    let settings = Settings::from_pairs(&meta.settings)?;
    let mut opts = settings.worker(&meta.name)?;
    opts.scan.chrome = w.chrome.clone();
    if !w.chrome_args.is_empty() {
        opts.scan.chrome_args = w.chrome_args.clone();
    }
    // A site is mostly waiting on the network and timers: two per core
    // keeps the cores busy (30 farm sites on 2 cores: 46 s at 2, 36 s at 4).
    opts.parallel = w.parallel.map_or_else(
        || {
            std::thread::available_parallelism()
                .map(|n| n.get() * 2)
                .unwrap_or(4)
                .clamp(2, 8)
        },
        usize::from,
    );
    let dir = at.dir();
    opts.out_dir = (!w.no_evidence).then(|| dir.clone());
    eprintln!(
        "leakscope: survey {:?}: worker {} on {}, {} site(s) at once{}",
        meta.name,
        queue::worker_id(),
        store.location,
        opts.parallel,
        if w.no_evidence {
            String::new()
        } else {
            format!(", evidence in {}", dir.join("sites").display())
        }
    );
    let mut progress = Progress::new();
    // Ctrl-C, or SIGTERM from a container runtime: give the leases back.
    // Both handlers are in place before the first lease is taken.
    use tokio::signal::unix::{SignalKind, signal};
    let mut int = signal(SignalKind::interrupt()).context("cannot watch for Ctrl-C")?;
    let mut term = signal(SignalKind::terminate()).context("cannot watch for SIGTERM")?;
    let stop = async move {
        tokio::select! {
            _ = int.recv() => {}
            _ = term.recv() => {}
        }
    };
    let summary = leakscope_survey::work(store, &opts, &mut progress, stop).await?;
    progress.finish();
    let c = queue::counts(store, &meta.name).await?;
    print_counts(&meta.name, &c);
    if summary.interrupted {
        eprintln!(
            "leakscope: stopped; sites in progress went back to the queue. Go on with `leakscope survey resume{}`",
            location_args(at)
        );
        return Ok(130);
    }
    if summary.lost > 0 {
        eprintln!(
            "leakscope: {} result(s) dropped: their lease expired while scanning (another worker took the site). Raise --lease-ttl if this repeats.",
            summary.lost
        );
    }
    // On a shared PostgreSQL the survey is not this worker's to report on:
    // `survey report --db …` makes it when the others are done too.
    if c.left() == 0 && !store.is_postgres {
        let path = dir.join("report.html");
        write_report(store, Some(&meta.name), &path, &dir).await?;
        eprintln!("leakscope: survey report in {}", path.display());
    }
    Ok(if c.done == 0 && c.total > 0 && c.left() == 0 {
        EXIT_NOTHING_SCANNED
    } else {
        0
    })
}

fn location_args(at: &Location) -> String {
    match (&at.out, &at.db) {
        // Not the URL itself: it may hold a password.
        (_, Some(_)) => " --db <the same database>".into(),
        (Some(o), None) => format!(" --out {}", o.display()),
        (None, None) => String::new(),
    }
}

/// Writes the survey report; sites link to their own reports when the page
/// sits in the survey folder the evidence paths are relative to.
async fn write_report(
    store: &Store,
    name: Option<&str>,
    path: &Path,
    survey_dir: &Path,
) -> anyhow::Result<()> {
    let data = queue::read(store, name).await?;
    let same_dir = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let html = leakscope_report::survey_html::render_survey_html(
        &data,
        &leakscope_report::survey_html::SurveyHtmlOptions {
            generated: leakscope_core::time::rfc3339_millis(queue::now_ms()),
            link_reports: same_dir(parent, survey_dir),
        },
    )?;
    if let Some(parent) = path.parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    std::fs::write(path, html).with_context(|| format!("cannot write {}", path.display()))
}

async fn status(at: &Location, name: Option<&str>) -> anyhow::Result<u8> {
    let store = open(at).await?;
    let meta = queue::meta(&store, name).await?;
    let c = queue::counts(&store, &meta.name).await?;
    print_counts(&meta.name, &c);
    let failures = store
        .query(
            // The `failures` view users query too, so both say the same.
            "SELECT failure_kind, CAST(SUM(sites) AS BIGINT) AS n FROM failures WHERE survey = $1 GROUP BY failure_kind ORDER BY n DESC, failure_kind",
            &[meta.name.as_str().into()],
        )
        .await?;
    if !failures.is_empty() {
        let parts: Vec<String> = failures
            .iter()
            .map(|r| {
                format!(
                    "{} {}",
                    r[1].int(),
                    r[0].text().unwrap_or_else(|| "unknown".into())
                )
            })
            .collect();
        println!("  not scanned, by reason: {}", parts.join(", "));
    }
    if c.left() > 0 && c.finished_last_hour > 0 {
        let eta_h = c.left() as f64 / c.finished_last_hour as f64;
        println!(
            "  {} site(s) finished in the last hour; about {} left at that rate",
            c.finished_last_hour,
            human_duration(Duration::from_secs_f64(eta_h * 3600.0))
        );
    }
    Ok(0)
}

fn print_counts(name: &str, c: &Counts) {
    println!(
        "survey {name:?}: {} site(s): {} scanned, {} unreachable, {} failed, {} left ({} in progress{})",
        c.total,
        c.done,
        c.unreachable,
        c.error,
        c.left(),
        c.running,
        if c.waiting > 0 {
            format!(", {} waiting to retry", c.waiting)
        } else {
            String::new()
        }
    );
}

fn human_duration(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{}h{:02}m", s / 3600, s % 3600 / 60)
    } else if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

/// Sites done / failed / left, sites per hour and ETA: a bar on a
/// terminal, a line per site otherwise (logs, CI, containers).
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    start: Instant,
    /// Finished count when this worker started, and samples for the rate.
    first: Option<u64>,
    last: Counts,
}

impl Progress {
    fn new() -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let b = indicatif::ProgressBar::new(0);
            b.set_style(
                indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} sites  {msg}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            b.enable_steady_tick(Duration::from_millis(250));
            b
        });
        Progress {
            bar,
            start: Instant::now(),
            first: None,
            last: Counts::default(),
        }
    }

    /// Sites per hour since this worker started (every worker's sites).
    fn rate(&self) -> Option<f64> {
        let done_here = self.last.finished() - self.first?;
        let secs = self.start.elapsed().as_secs_f64();
        (done_here > 0 && secs > 1.0).then(|| done_here as f64 * 3600.0 / secs)
    }

    fn message(&self) -> String {
        let c = &self.last;
        let mut m = format!(
            "done {} · unreachable {} · failed {} · left {}",
            c.done,
            c.unreachable,
            c.error,
            c.left()
        );
        if let Some(r) = self.rate() {
            m.push_str(&format!(" · {r:.0} sites/h"));
            if c.left() > 0 {
                let eta = Duration::from_secs_f64(c.left() as f64 * 3600.0 / r);
                m.push_str(&format!(" · ETA {}", human_duration(eta)));
            }
        }
        m
    }

    fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

impl SurveyProgress for Progress {
    fn counts(&mut self, c: &Counts) {
        if self.first.is_none() {
            self.first = Some(c.finished());
        }
        self.last = c.clone();
        if let Some(b) = &self.bar {
            b.set_length(c.total);
            b.set_position(c.finished());
            b.set_message(self.message());
        }
    }

    fn site(&mut self, s: &SiteRow) {
        let what = match s.status {
            Some(SiteStatus::Done) => {
                let mut w = format!("scanned, {} finding(s)", s.findings);
                if let Some(sev) = &s.max_severity {
                    w.push_str(&format!(", worst {sev}"));
                }
                w
            }
            _ => format!(
                "not scanned: {} ({})",
                s.failure_kind.as_deref().unwrap_or("unknown"),
                s.failure_message
                    .as_deref()
                    .map(|m| leakscope_report::html::clip(m, 100))
                    .unwrap_or_default()
            ),
        };
        let line = format!(
            "[{:>7.1}s] site {} {}: {what} in {:.1} s",
            self.start.elapsed().as_secs_f64(),
            s.id,
            s.domain,
            s.duration_ms.unwrap_or(0) as f64 / 1000.0
        );
        match &self.bar {
            Some(b) => b.println(line),
            None => eprintln!("leakscope: {line} ({})", self.message()),
        }
    }

    fn retry(&mut self, url: &str, kind: &str, attempt: u32) {
        let line = format!("{url}: {kind} on attempt {attempt}; will retry");
        match &self.bar {
            Some(b) => b.println(line),
            None => eprintln!("leakscope: {line}"),
        }
    }
}
