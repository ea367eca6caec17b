//! The orchestration: one long-lived browser; per site and consent state a
//! fresh context (tab) walking the journey; evidence on disk; the analysis
//! pipeline over the HAR of every run, read back exactly as `analyze` reads
//! it, so `leakscope analyze DIR/*.har` gives the same findings.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use leakscope_browser::{Browser, BrowserError, Captured, LaunchOptions, Tab, TabOptions};
use leakscope_core::scan::{LoadFailure, PageError, RunInfo, RunStatus, ScanInfo, StepInfo};
use leakscope_core::{Category, Engine, Exchange};
use leakscope_detect::{Canary, Detector, Pipeline, Report};
use leakscope_report::{InputSummary, Results};
use serde_json::{Value, json};
use tokio::sync::oneshot;

use crate::autoconsent::{self, Choice, Driver, Reply};
use crate::journey::{Action, FieldRef};
use crate::links::{self, Link};
use crate::{ConsentState, PAGE_JS, Persona, Progress, ScanError, ScanOptions};

/// What a scan produced.
#[derive(Debug)]
pub struct ScanOutput {
    /// Events and findings of all runs (tracking after refusal included).
    pub report: Report,
    pub info: ScanInfo,
    /// Every captured request, as read back from the runs' HARs.
    pub exchanges: Vec<Exchange>,
    pub persona: Persona,
}

/// Care-seeking buttons and links, by accessible name.
const CARE_ACTIONS: &str = r"\b(book|schedul|refill|call|add to (cart|bag|basket)|appointment|order|buy|checkout|transfer|consult|results?|request|register|sign up)";
/// How long after the start page's load event autoconsent gets before a
/// quiet page with no consent platform is taken to have no banner (its
/// detection runs from DOM ready; this covers a slow first rule pass on 2
/// cores).
const NO_BANNER_GRACE: Duration = Duration::from_millis(1000);

/// The vendor database, compiled once per process.
fn engine() -> &'static Engine {
    static ENGINE: std::sync::OnceLock<Engine> = std::sync::OnceLock::new();
    ENGINE.get_or_init(Engine::new)
}

/// Clicks per page and per run, to bound a run's time.
const CLICKS_PER_PAGE: usize = 3;
const CLICKS_PER_RUN: usize = 10;

/// `navigator.globalPrivacyControl` true in every frame and worker (with
/// `Sec-GPC: 1` on every request).
const GPC_SCRIPT: &str = "for (const C of [self.Navigator, self.WorkerNavigator]) if (C) Object.defineProperty(C.prototype, 'globalPrivacyControl', {get: () => true, configurable: true});";

fn now_rfc3339() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    leakscope_browser::har::iso_time(secs)
}

/// `accepted/3-click-refill-prescription`-style slug of an action.
fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
        if out.len() >= 40 {
            break;
        }
    }
    out.trim_end_matches('-').to_owned()
}

/// Runs the scan. Per-page trouble (timeouts, crashes, hostile pages) ends up
/// in `RunInfo::errors`; only set-up failures (no browser, unwritable
/// evidence directory, bad canary) are errors.
pub async fn scan(opts: ScanOptions, progress: &mut dyn Progress) -> Result<ScanOutput, ScanError> {
    check(&opts)?;
    let persona = opts.persona.clone().unwrap_or_else(Persona::random);
    // The lexicon and vendor database compile while Chromium starts (both
    // take tens of milliseconds; a one-page scan lasts about a second).
    let prepare = {
        let canaries = canaries_of(&opts, &persona);
        let site_categories = opts.site_categories.clone();
        tokio::task::spawn_blocking(move || {
            let _ = engine();
            Detector::new(&canaries).map(|d| d.with_site_categories(&site_categories))
        })
    };
    let started = now_rfc3339();
    let session = Session::start(opts.chrome.clone(), opts.chrome_args.clone()).await?;
    let detector = prepare
        .await
        .map_err(|e| ScanError::Options(format!("preparing the detector: {e}")))??;
    let (runs, hars) = session.drive(&opts, &persona, progress).await;
    let browser_info = session.browser_info();
    // Chromium takes a while to exit; analyse the HARs meanwhile (on two
    // cores this hides most of the shutdown).
    let closing = tokio::spawn(async move {
        session.close().await;
        tracing::debug!("browser closed");
    });
    let out = analyse(&opts, &detector, persona, runs, hars, browser_info, started);
    let _ = closing.await;
    finish(&opts, out)
}

fn check(opts: &ScanOptions) -> Result<(), ScanError> {
    if opts.urls.is_empty() {
        return Err(ScanError::Options("no URL to scan".into()));
    }
    if let Some(dir) = &opts.out_dir {
        std::fs::create_dir_all(dir.join("steps")).map_err(|e| ScanError::Evidence {
            path: dir.clone(),
            source: e,
        })?;
    }
    Ok(())
}

fn canaries_of(opts: &ScanOptions, persona: &Persona) -> Vec<Canary> {
    let mut canaries = persona.canaries();
    canaries.extend(opts.extra_canaries.iter().map(Canary::new));
    canaries
}

/// One Chromium kept across scans: a survey scans thousands of sites on it,
/// several at once, each run in a fresh context. A browser that dies is
/// relaunched by the next scan that needs it.
pub struct Session {
    launch: LaunchOptions,
    browser: tokio::sync::Mutex<Arc<Browser>>,
}

impl Session {
    /// Launches Chromium (`chrome`: the binary, `None` finds one).
    pub async fn start(
        chrome: Option<PathBuf>,
        chrome_args: Vec<String>,
    ) -> Result<Session, ScanError> {
        let launch = LaunchOptions {
            chrome,
            args: chrome_args,
            ..LaunchOptions::default()
        };
        let browser = Browser::launch(launch.clone())
            .await
            .map_err(|e| ScanError::Browser(e.to_string()))?;
        Ok(Session {
            launch,
            browser: tokio::sync::Mutex::new(Arc::new(browser)),
        })
    }

    /// The live browser, relaunched first if the last one died.
    async fn browser(&self) -> Result<Arc<Browser>, ScanError> {
        let mut slot = self.browser.lock().await;
        if !slot.is_alive() {
            tracing::warn!("browser gone; relaunching");
            let fresh = Browser::launch(self.launch.clone())
                .await
                .map_err(|e| ScanError::Browser(e.to_string()))?;
            // The dead one's process is reaped and its profile removed when
            // the last run holding it lets go.
            *slot = Arc::new(fresh);
        }
        Ok(slot.clone())
    }

    /// Product, user agent and flags of the current browser.
    pub fn browser_info(&self) -> leakscope_core::scan::BrowserInfo {
        match self.browser.try_lock() {
            Ok(b) => b.info(),
            Err(_) => leakscope_core::scan::BrowserInfo::default(),
        }
    }

    /// Scans `opts.urls` in `opts.consent` states on this session's browser
    /// (`opts.chrome` and `opts.chrome_args` are the session's, not read
    /// here) and analyses what was captured, as `scan` does.
    pub async fn scan(
        &self,
        opts: &ScanOptions,
        progress: &mut dyn Progress,
    ) -> Result<ScanOutput, ScanError> {
        check(opts)?;
        let persona = opts.persona.clone().unwrap_or_else(Persona::random);
        let detector = Detector::new(&canaries_of(opts, &persona))?
            .with_site_categories(&opts.site_categories);
        let started = now_rfc3339();
        let (runs, hars) = self.drive(opts, &persona, progress).await;
        let out = analyse(
            opts,
            &detector,
            persona,
            runs,
            hars,
            self.browser_info(),
            started,
        );
        finish(opts, out)
    }

    /// Closes the browser (when no scan holds it any more).
    pub async fn close(self) {
        let browser = self.browser.into_inner();
        match Arc::try_unwrap(browser) {
            Ok(b) => b.close().await,
            // A run still holds it (a cancelled scan): dropping kills it.
            Err(shared) => drop(shared),
        }
    }

    /// Runs every site × consent state, a few at once; a run never fails,
    /// trouble becomes its errors and status.
    async fn drive(
        &self,
        opts: &ScanOptions,
        persona: &Persona,
        progress: &mut dyn Progress,
    ) -> (Vec<RunInfo>, Vec<(String, Vec<u8>)>) {
        let multi = opts.urls.len() > 1;
        progress.start(opts.urls.len() * opts.consent.len());
        let mut jobs = Vec::new();
        for (si, url) in opts.urls.iter().enumerate() {
            for &state in &opts.consent {
                let name = if multi {
                    format!("{}-{}", si + 1, state.run_name())
                } else {
                    state.run_name().to_owned()
                };
                jobs.push(RunCtx {
                    name,
                    url: url.clone(),
                    state,
                    opts,
                    persona,
                });
            }
        }
        let shared = SharedProgress(std::sync::Mutex::new(progress));
        let mut runs: Vec<RunInfo> = Vec::new();
        let mut hars: Vec<(String, Vec<u8>)> = Vec::new();
        // A few runs at a time; results are kept in job order, so the output
        // does not depend on which run finished first.
        for chunk in jobs.chunks(opts.parallel.max(1)) {
            let browser = match self.browser().await {
                Ok(b) => b,
                Err(e) => {
                    for ctx in chunk {
                        runs.push(not_started(ctx, &e.to_string()));
                        ProgressHandle(&shared).run_done(&ctx.name);
                    }
                    continue;
                }
            };
            let done = futures::future::join_all(chunk.iter().map(|ctx| {
                let browser = &browser;
                let shared = &shared;
                async move { run_one(browser, ctx, &mut ProgressHandle(shared)).await }
            }))
            .await;
            let alive = browser.is_alive();
            let browser_info = browser.info();
            for (ctx, (mut info, captured)) in chunk.iter().zip(done) {
                if !alive {
                    info.errors.push(PageError {
                        url: ctx.url.clone(),
                        step: None,
                        kind: "crash".into(),
                        message: "the browser died during this run; relaunched for the next".into(),
                    });
                }
                let har_name = format!("{}.har", ctx.name);
                let mut har = leakscope_browser::har::to_har(&captured, &browser_info);
                // The HAR is an output: session cookies, credential headers and
                // body secrets go, exactly as in an evidence bundle's copy.
                let redacted = leakscope_report::har::redact(&mut har);
                if !redacted.is_empty() {
                    tracing::debug!("{}: {} secret(s) redacted", ctx.name, redacted.len());
                }
                let bytes = serde_json::to_vec_pretty(&har).unwrap_or_default();
                if let Some(dir) = &opts.out_dir {
                    match write(&dir.join(&har_name), &bytes) {
                        Ok(()) => info.har = Some(har_name.clone()),
                        Err(e) => tracing::error!("{e}"),
                    }
                }
                info.requests = captured.len() as u64;
                hars.push((har_name, bytes));
                runs.push(info);
                ProgressHandle(&shared).run_done(&ctx.name);
            }
        }
        (runs, hars)
    }
}

/// A run that never started: the browser could not be (re)launched.
fn not_started(ctx: &RunCtx<'_>, message: &str) -> RunInfo {
    let failure = LoadFailure {
        kind: "crash".into(),
        message: format!("no browser for this run: {message}"),
    };
    RunInfo {
        name: ctx.name.clone(),
        site: ctx.url.clone(),
        consent: consent_name(ctx.state).into(),
        device: ctx.opts.device.as_str().into(),
        status: RunStatus::NotLoaded,
        errors: vec![PageError {
            url: ctx.url.clone(),
            step: None,
            kind: failure.kind.clone(),
            message: failure.message.clone(),
        }],
        failure: Some(failure),
        ..RunInfo::default()
    }
}

fn consent_name(state: ConsentState) -> &'static str {
    match state {
        ConsentState::None => "none",
        ConsentState::Reject => "rejected",
        ConsentState::Accept => "accepted",
        ConsentState::Gpc => "gpc",
    }
}

/// Reads the runs' HARs back as `analyze` would, with the live DOM of every
/// step for who the site is.
fn analyse(
    opts: &ScanOptions,
    detector: &Detector,
    persona: Persona,
    runs: Vec<RunInfo>,
    hars: Vec<(String, Vec<u8>)>,
    browser: leakscope_core::scan::BrowserInfo,
    started: String,
) -> ScanOutput {
    let mut pipeline = Pipeline::new(engine(), detector);
    let mut exchanges = Vec::new();
    for (label, bytes) in &hars {
        let r = leakscope_ingest::read_reader(
            bytes.as_slice(),
            label,
            &mut |ex| {
                pipeline.feed(&ex);
                exchanges.push(ex);
            },
            &mut |w| tracing::warn!("{label}: {w}"),
        );
        if let Err(e) = r {
            // Our own HAR not reading back is a bug; say so, keep the rest.
            tracing::error!("{label} did not read back: {e}");
        }
    }
    // Who the site is: the live DOM of every step (titles, metadata,
    // Schema.org types), as `analyze` reads documents a HAR kept.
    if let Some(dir) = &opts.out_dir {
        for step in runs.iter().flat_map(|r| r.steps.iter()) {
            if let Some(dom) = &step.dom
                && let Ok(html) = std::fs::read_to_string(dir.join(dom))
            {
                pipeline.feed_document(&step.url, &html);
            }
        }
    }
    let report = pipeline.finish();
    tracing::debug!("analysed");
    let info = ScanInfo {
        runs,
        // A load-only scan types nothing: no persona to report.
        canaries: if persona_used(opts) {
            persona.infos()
        } else {
            Vec::new()
        },
        browser,
        started,
        finished: now_rfc3339(),
    };
    ScanOutput {
        report,
        info,
        exchanges,
        persona,
    }
}

/// Writes results.json beside the evidence.
fn finish(opts: &ScanOptions, out: ScanOutput) -> Result<ScanOutput, ScanError> {
    if let Some(dir) = &opts.out_dir {
        // The same document `--format json` writes, so `report`, `diff` and
        // `--baseline` read it as they read any other results.
        let mut bytes = serde_json::to_vec_pretty(&out.results()).unwrap_or_default();
        bytes.push(b'\n');
        write(&dir.join("results.json"), &bytes)?;
    }
    Ok(out)
}

impl ScanOutput {
    /// The results document of this scan, as every output renders it.
    pub fn results(&self) -> Results {
        let r = &self.report;
        Results::new(
            Report {
                events: r.events.clone(),
                findings: r.findings.clone(),
                errors: r.errors.clone(),
                exchanges: r.exchanges,
                sites: r.sites.clone(),
            },
            InputSummary::of_scan(&self.info),
            Some(self.info.clone()),
            env!("CARGO_PKG_VERSION"),
        )
    }
}

/// Does the journey type the canary persona anywhere? A load-only scan
/// (an empty journey) does not; a custom journey may use `{persona.*}`.
pub fn persona_used(opts: &ScanOptions) -> bool {
    opts.journey.as_ref().is_none_or(|j| !j.is_empty())
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), ScanError> {
    std::fs::write(path, bytes).map_err(|e| ScanError::Evidence {
        path: path.to_owned(),
        source: e,
    })
}

/// One progress sink shared by the runs driven at once.
struct SharedProgress<'p>(std::sync::Mutex<&'p mut dyn Progress>);

struct ProgressHandle<'s, 'p>(&'s SharedProgress<'p>);

impl Progress for ProgressHandle<'_, '_> {
    fn start(&mut self, runs: usize) {
        if let Ok(mut p) = self.0.0.lock() {
            p.start(runs);
        }
    }
    fn step(&mut self, run: &str, what: &str) {
        if let Ok(mut p) = self.0.0.lock() {
            p.step(run, what);
        }
    }
    fn run_done(&mut self, run: &str) {
        if let Ok(mut p) = self.0.0.lock() {
            p.run_done(run);
        }
    }
}

struct RunCtx<'a> {
    name: String,
    url: String,
    state: ConsentState,
    opts: &'a ScanOptions,
    persona: &'a Persona,
}

/// One site in one consent state. Never fails: trouble becomes `PageError`s.
async fn run_one(
    browser: &Browser,
    ctx: &RunCtx<'_>,
    progress: &mut dyn Progress,
) -> (RunInfo, Vec<Captured>) {
    let opts = ctx.opts;
    let mut info = RunInfo {
        name: ctx.name.clone(),
        site: ctx.url.clone(),
        consent: consent_name(ctx.state).into(),
        device: opts.device.as_str().into(),
        ..RunInfo::default()
    };
    let mut tab_opts = TabOptions {
        device: opts.device,
        bindings: vec![autoconsent::BINDING.into()],
        ..TabOptions::default()
    };
    if ctx.state == ConsentState::Gpc {
        tab_opts.extra_headers.push(("Sec-GPC".into(), "1".into()));
        tab_opts.init_scripts.push(GPC_SCRIPT.into());
        tab_opts.worker_scripts.push(GPC_SCRIPT.into());
    }
    let mut blocking = None;
    if let Some(list) = &opts.block {
        match &**list {
            leakscope_rules::BlockList::Csp(c) => {
                tab_opts
                    .init_scripts
                    .push(crate::block::csp_script(&c.header_value()));
            }
            leakscope_rules::BlockList::Filters(_) => {
                let b = Arc::new(crate::block::Blocking::new(list.clone()));
                blocking = Some(b.clone());
                tab_opts.filter = Some(b);
            }
        }
    }
    tab_opts.init_scripts.push(autoconsent::SHIM.into());
    tab_opts.init_scripts.push(autoconsent::BUNDLE.into());
    let tab = match tokio::time::timeout(opts.page_timeout, browser.new_tab(tab_opts)).await {
        Ok(Ok(t)) => t,
        Ok(Err(e)) => {
            let err = page_error(&ctx.url, None, &e);
            info.status = RunStatus::NotLoaded;
            info.failure = Some(failure_of(&ctx.url, &err));
            info.errors.push(err);
            return (info, Vec::new());
        }
        Err(_) => {
            info.errors.push(PageError {
                url: ctx.url.clone(),
                step: None,
                kind: "timeout".into(),
                message: "opening a browser context timed out".into(),
            });
            info.status = RunStatus::NotLoaded;
            info.failure = Some(LoadFailure {
                kind: "timeout".into(),
                message: "opening a browser context timed out".into(),
            });
            return (info, Vec::new());
        }
    };
    let initial = if ctx.state == ConsentState::Gpc {
        "gpc"
    } else {
        "none"
    };
    tab.set_consent(Some(initial.into()));
    let tab = Arc::new(tab);
    let choice = match ctx.state {
        ConsentState::Reject => Choice::OptOut,
        ConsentState::Accept => Choice::OptIn,
        ConsentState::None | ConsentState::Gpc => Choice::Detect,
    };
    let driver = Arc::new(Mutex::new(Driver::new(choice)));
    let (stop_tx, stop_rx) = oneshot::channel();
    let consent_task = tokio::spawn(consent_loop(
        tab.clone(),
        driver.clone(),
        match ctx.state {
            ConsentState::Reject => Some("rejected"),
            ConsentState::Accept => Some("accepted"),
            _ => None,
        },
        opts.step_timeout,
        stop_rx,
    ));

    let mut r = Runner {
        tab: &tab,
        ctx,
        n: 0,
        steps: Vec::new(),
        errors: Vec::new(),
        captured: Vec::new(),
        progress,
        dead: false,
        start: None,
        loaded_at: None,
    };
    match &opts.journey {
        Some(j) => r.declarative(j, &driver).await,
        None => r.default_journey(&driver).await,
    }
    let _ = stop_tx.send(());
    if tokio::time::timeout(Duration::from_secs(5), consent_task)
        .await
        .is_err()
    {
        tracing::warn!("consent driver did not stop");
    }
    let Runner {
        steps,
        mut errors,
        mut captured,
        start,
        ..
    } = r;
    if let Some(Err(f)) = start {
        info.status = RunStatus::NotLoaded;
        info.failure = Some(f);
    }
    for i in tab.incidents() {
        errors.push(PageError {
            url: i.url.clone(),
            step: i.step.clone(),
            kind: i.kind.as_str().into(),
            message: i.message.clone(),
        });
    }
    info.blocked = tab.blocked();
    if let Some(b) = &blocking {
        let (n, ns) = b.cost();
        tracing::debug!(
            "block rules, run {}: {n} requests decided in {:.3} ms of engine time ({:.1} µs each), {} blocked",
            ctx.name,
            ns as f64 / 1e6,
            if n == 0 {
                0.0
            } else {
                ns as f64 / n as f64 / 1e3
            },
            info.blocked
        );
    }
    info.console_errors = tab.console_errors();
    match Arc::try_unwrap(tab) {
        Ok(t) => captured.extend(t.close().await),
        Err(t) => captured.extend(t.take_requests()),
    }
    let d = driver.lock().unwrap_or_else(|e| e.into_inner());
    info.consent_note = Some(d.summary());
    if choice != Choice::Detect && !d.decided {
        info.consent_note = Some(format!(
            "{}; the choice could not be made, so requests stay stamped `none`",
            d.summary()
        ));
    }
    info.steps = steps;
    info.errors = errors;
    (info, captured)
}

/// Answers autoconsent's messages while the journey runs, and stamps the
/// consent state the moment the choice is confirmed.
async fn consent_loop(
    tab: Arc<Tab>,
    driver: Arc<Mutex<Driver>>,
    decided_label: Option<&'static str>,
    t: Duration,
    mut stop: oneshot::Receiver<()>,
) {
    let mut calls = tab.binding_calls();
    let mut stamped = false;
    loop {
        let call = tokio::select! {
            c = calls.recv() => match c { Some(c) => c, None => return },
            _ = &mut stop => return,
        };
        if call.name != autoconsent::BINDING {
            continue;
        }
        // Every frame runs its own autoconsent (banners often live in a
        // consent vendor's iframe); each is answered in its own document.
        let reply = {
            let mut d = driver.lock().unwrap_or_else(|e| e.into_inner());
            let reply = d.handle(&call.payload);
            if d.decided
                && !stamped
                && let Some(label) = decided_label
            {
                tab.set_consent(Some(label.into()));
                stamped = true;
            }
            reply
        };
        let answer = async {
            match reply {
                Reply::Nothing => {}
                Reply::Evaluate(js) => {
                    if let Err(e) = tab.evaluate_for(&call, &js, t).await {
                        tracing::debug!("autoconsent reply: {e}");
                    }
                }
                Reply::EvalThenRespond { id, code } => {
                    let ok = matches!(
                        tab.evaluate_for(&call, &autoconsent::eval_wrapper(&code), t)
                            .await,
                        Ok(Value::Bool(true))
                    );
                    let _ = tab
                        .evaluate_for(&call, &autoconsent::eval_response(&id, ok), t)
                        .await;
                }
            }
        };
        // A reply into a crashed or hung page would hold the run's end for
        // the whole command timeout: the stop signal ends it.
        tokio::select! {
            _ = answer => {}
            _ = &mut stop => return,
        }
    }
}

fn page_error(url: &str, step: Option<&str>, e: &BrowserError) -> PageError {
    let kind = match e {
        BrowserError::Timeout { .. } => "timeout",
        BrowserError::Crashed(_) => "crash",
        BrowserError::Navigation { error, .. } if error.contains("TOO_MANY_REDIRECTS") => {
            "too-many-redirects"
        }
        BrowserError::Navigation { .. } => "navigation",
        BrowserError::Js(_) => "script",
        _ => "browser",
    };
    PageError {
        url: url.to_owned(),
        step: step.map(str::to_owned),
        kind: kind.into(),
        message: e.to_string(),
    }
}

/// Why a start page did not load, from the error its navigation gave.
fn failure_of(url: &str, e: &PageError) -> LoadFailure {
    match e.kind.as_str() {
        "timeout" => LoadFailure {
            kind: "timeout".into(),
            message: format!("{url} did not finish loading in time ({})", e.message),
        },
        "crash" => LoadFailure {
            kind: "crash".into(),
            message: format!("crashed loading {url}: {}", e.message),
        },
        _ => match e.message.find("net::") {
            Some(i) => LoadFailure::from_net_error(
                url,
                e.message[i..].split_whitespace().next().unwrap_or(""),
            ),
            None => LoadFailure {
                kind: "other".into(),
                message: format!("{url} did not load: {}", e.message),
            },
        },
    }
}

struct Runner<'a, 'p> {
    tab: &'a Tab,
    ctx: &'a RunCtx<'a>,
    n: usize,
    steps: Vec<StepInfo>,
    errors: Vec<PageError>,
    captured: Vec<Captured>,
    progress: &'p mut dyn Progress,
    /// The tab crashed: skip the rest of the run.
    dead: bool,
    /// How the start page's navigation ended (the run's first `goto`).
    start: Option<Result<(), LoadFailure>>,
    /// When the start page's load event fired.
    loaded_at: Option<Instant>,
}

impl Runner<'_, '_> {
    fn t(&self) -> Duration {
        self.ctx.opts.step_timeout
    }

    /// Starts a step: new id stamped on requests from now on.
    fn begin(&mut self, what: &str) -> String {
        self.n += 1;
        let id = format!("{}/{}-{}", self.ctx.name, self.n, slug(what));
        self.tab.set_step(Some(id.clone()));
        tracing::debug!("step {id} begins");
        self.progress.step(&self.ctx.name, what);
        id
    }

    /// Ends a step: lets the network settle, keeps evidence, records it.
    async fn end(&mut self, id: String, action: String, error: Option<PageError>) {
        let t0 = Instant::now();
        let quiet = self
            .tab
            .wait_quiet(Duration::from_millis(400), self.ctx.opts.settle)
            .await;
        tracing::debug!(
            "step {id}: wait for the network to be quiet 400 ms: {:.2} s ({})",
            t0.elapsed().as_secs_f64(),
            if quiet {
                "quiet"
            } else {
                "still busy at the settle limit"
            }
        );
        let url = self.tab.page_url().unwrap_or_default();
        let mut step = StepInfo {
            id: id.clone(),
            action,
            url: url.clone(),
            at: now_rfc3339(),
            error: error.as_ref().map(|e| e.message.clone()),
            ..StepInfo::default()
        };
        if let Some(e) = error {
            if e.kind == "crash" {
                self.dead = true;
            }
            self.errors.push(e);
        }
        if !self.dead
            && let Some(dir) = &self.ctx.opts.out_dir
        {
            let rel = PathBuf::from("steps")
                .join(&self.ctx.name)
                .join(self.n.to_string());
            let abs = dir.join(&rel);
            if let Some(parent) = abs.parent()
                && std::fs::create_dir_all(parent).is_ok()
            {
                // Both at once: the capture is the browser's, the DOM the page's.
                let (png, html) = tokio::join!(
                    tokio::time::timeout(self.t(), self.tab.screenshot()),
                    tokio::time::timeout(self.t(), self.tab.dom_snapshot())
                );
                if let Ok(Ok(png)) = png
                    && std::fs::write(abs.with_extension("png"), png).is_ok()
                {
                    step.screenshot = Some(rel.with_extension("png").display().to_string());
                }
                // Pages hold CSRF tokens, typed passwords, access tokens:
                // the snapshot keeps the page, not those.
                if let Ok(Ok(html)) = html
                    && std::fs::write(
                        abs.with_extension("html"),
                        leakscope_core::html::redact_secrets(&html).html.as_bytes(),
                    )
                    .is_ok()
                {
                    step.dom = Some(rel.with_extension("html").display().to_string());
                }
            }
        }
        self.captured.extend(self.tab.take_requests());
        tracing::debug!("step {id}: evidence kept");
        self.steps.push(step);
    }

    fn err(&self, id: &str, kind: &str, message: String) -> PageError {
        PageError {
            url: self.tab.page_url().unwrap_or_else(|| self.ctx.url.clone()),
            step: Some(id.to_owned()),
            kind: kind.into(),
            message,
        }
    }

    /// Runs the page helper. Errors carry the step.
    async fn page(&self, id: &str, op: &str, arg: Value) -> Result<Value, PageError> {
        let js = format!("({PAGE_JS})({}, {arg})", Value::String(op.into()));
        match tokio::time::timeout(
            self.t() + Duration::from_secs(1),
            self.tab.evaluate(&js, self.t()),
        )
        .await
        {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(page_error(
                &self.tab.page_url().unwrap_or_default(),
                Some(id),
                &e,
            )),
            Err(_) => Err(self.err(id, "timeout", format!("page script {op} timed out"))),
        }
    }

    /// A page-helper call whose `{ok, error}` result is the step's outcome.
    async fn page_action(&self, id: &str, op: &str, arg: Value) -> (Value, Option<PageError>) {
        match self.page(id, op, arg).await {
            Ok(v) if v.get("ok") == Some(&Value::Bool(false)) => {
                let msg = v
                    .get("error")
                    .and_then(Value::as_str)
                    .unwrap_or("failed")
                    .to_owned();
                (v, Some(self.err(id, "action", format!("{op}: {msg}"))))
            }
            Ok(v) => (v, None),
            Err(e) => (Value::Null, Some(e)),
        }
    }

    async fn goto(&mut self, url: &str) -> bool {
        let id = self.begin(&format!("goto {}", short_path(url)));
        let t0 = Instant::now();
        let res = tokio::time::timeout(
            self.ctx.opts.page_timeout + Duration::from_secs(2),
            self.tab.goto(url, self.ctx.opts.page_timeout),
        )
        .await;
        tracing::debug!(
            "step {id}: wait for the page's load event: {:.2} s ({})",
            t0.elapsed().as_secs_f64(),
            match &res {
                Ok(Ok(_)) => "loaded".to_owned(),
                Ok(Err(e)) => e.to_string(),
                Err(_) => "timed out".to_owned(),
            }
        );
        let first = self.start.is_none();
        if first && matches!(res, Ok(Ok(_))) {
            self.loaded_at = Some(Instant::now());
        }
        let (err, http_error) = match res {
            Ok(Ok(nav)) => (None, nav.status.filter(|s| *s >= 400)),
            Ok(Err(e)) => (Some(page_error(url, Some(&id), &e)), None),
            Err(_) => (
                Some(self.err(&id, "timeout", format!("loading {url} timed out"))),
                None,
            ),
        };
        if first {
            self.start = Some(match (&err, http_error) {
                (Some(e), _) => Err(failure_of(url, e)),
                (None, Some(status)) => Err(LoadFailure::http_status(url, status)),
                (None, None) => Ok(()),
            });
        }
        let ok = err.is_none() && !(first && http_error.is_some());
        self.end(id, format!("goto {url}"), err).await;
        ok
    }

    /// Waits (bounded) for the banner to be answered on the first page.
    async fn consent(&mut self, driver: &Mutex<Driver>) {
        if !matches!(self.ctx.state, ConsentState::Reject | ConsentState::Accept) {
            return;
        }
        let what = if self.ctx.state == ConsentState::Reject {
            "consent reject"
        } else {
            "consent accept"
        };
        let id = self.begin(what);
        let started = Instant::now();
        let deadline = started + self.ctx.opts.consent_timeout;
        // The start page is loaded and its network quiet (`goto` waited for
        // that). With no platform seen by autoconsent and no consent
        // platform's script or frame among its requests, there is no banner
        // to wait for: a banner that shows up later is still answered by the
        // consent task, which keeps running for the whole journey.
        let cmp_assets = self.consent_platform_requests();
        let reason = loop {
            let (decided, failed, detected) = {
                let d = driver.lock().unwrap_or_else(|e| e.into_inner());
                (d.decided, d.failed, d.detected)
            };
            let now = Instant::now();
            if decided {
                break "choice made";
            }
            if failed {
                break "click failed";
            }
            // The grace counts from the load event: autoconsent's detection
            // ran from DOM ready on, while the page settled.
            let grace_end = self.loaded_at.unwrap_or(started) + NO_BANNER_GRACE;
            if !detected && cmp_assets.is_none() && now >= grace_end {
                break "no banner: nothing detected on the quiet page, no consent platform loaded";
            }
            if now >= deadline {
                break "consent timeout";
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        tracing::debug!(
            "{}: wait for the consent banner: {:.2} s ({reason}{})",
            self.ctx.name,
            started.elapsed().as_secs_f64(),
            cmp_assets
                .map(|h| format!("; consent platform loaded from {h}"))
                .unwrap_or_default()
        );
        let note = driver.lock().unwrap_or_else(|e| e.into_inner()).summary();
        if reason.starts_with("no banner") {
            // Nothing was clicked: the page is as the load step left it
            // (quiet, screenshot kept), so record the step without waiting
            // or keeping the same evidence again.
            self.captured.extend(self.tab.take_requests());
            self.steps.push(StepInfo {
                id,
                action: format!("{what}: {note}"),
                url: self.tab.page_url().unwrap_or_default(),
                at: now_rfc3339(),
                ..StepInfo::default()
            });
            return;
        }
        self.end(id, format!("{what}: {note}"), None).await;
    }

    /// The host of a consent platform's script or frame the page loaded, if any.
    fn consent_platform_requests(&self) -> Option<String> {
        let engine = engine();
        self.captured.iter().find_map(|c| {
            let class = engine.classify(&c.url)?;
            (class.product.category == Category::Consent).then(|| {
                url::Url::parse(&c.url)
                    .ok()
                    .and_then(|u| u.host_str().map(str::to_owned))
                    .unwrap_or_else(|| c.url.clone())
            })
        })
    }

    async fn scroll(&mut self) {
        let id = self.begin("scroll");
        let err = self.page(&id, "scroll", json!({"steps": 4})).await.err();
        self.end(id, "scroll".into(), err).await;
    }

    async fn links(&self) -> Vec<Link> {
        match self.page("links", "links", Value::Null).await {
            Ok(v) => serde_json::from_value(v).unwrap_or_default(),
            Err(_) => Vec::new(),
        }
    }

    async fn search(&mut self, term: &str) {
        let id = self.begin("search");
        let (_, err) = self.page_action(&id, "search", json!({"term": term})).await;
        // A missing search box is not an error worth reporting.
        let err = err.filter(|e| !e.message.contains("no search box"));
        self.end(id, format!("search {term:?}"), err).await;
    }

    async fn fill_persona(&mut self, quiet_if_none: bool) -> bool {
        let persona = self.ctx.persona.to_json();
        let submit = self.ctx.opts.submit_forms;
        if quiet_if_none {
            // Look first, so pages without forms get no step.
            let probe = self
                .page("probe", "fill-probe", Value::Null)
                .await
                .ok()
                .and_then(|v| v.as_u64())
                .unwrap_or(0);
            if probe == 0 {
                return false;
            }
        }
        let id = self.begin("fill form");
        let (v, err) = self
            .page_action(&id, "fill", json!({"persona": persona, "submit": submit}))
            .await;
        let filled = v
            .get("filled")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default();
        let verb = if submit { "fill and submit" } else { "fill" };
        self.end(id, format!("{verb} {filled}"), err).await;
        true
    }

    async fn click(&mut self, name: &str) {
        let id = self.begin(&format!("click {name}"));
        let (v, err) = self
            .page_action(
                &id,
                "click",
                json!({"name": name, "block_submit": !self.ctx.opts.submit_forms}),
            )
            .await;
        let mut action = format!("click {name:?}");
        if v.get("blocked_submit") == Some(&Value::Bool(true)) {
            action.push_str(" (form submission blocked: --submit-forms not set)");
        }
        self.end(id, action, err).await;
    }

    /// Load, consent, scroll, search, then health-relevant pages breadth-first
    /// with their forms and care-seeking buttons.
    async fn default_journey(&mut self, driver: &Mutex<Driver>) {
        let start = self.ctx.url.clone();
        if !self.goto(&start).await {
            return;
        }
        self.consent(driver).await;
        if self.dead {
            return;
        }
        self.scroll().await;
        let matcher = leakscope_detect::HealthMatcher::builtin();
        let mut seen: Vec<String> = vec![links::canonical(&start).to_owned()];
        if let Some(u) = self.tab.page_url() {
            seen.push(links::canonical(&u).to_owned());
        }
        let mut queue: Vec<Link> = links::rank(&matcher, &start, self.links().await, &seen);
        let mut pages = vec![start.clone()];
        let mut clicked: Vec<String> = Vec::new();
        self.page_actions(&start, &mut clicked).await;
        if !self.dead {
            self.goto_quiet(&start).await;
            self.search(&self.ctx.persona.search.clone()).await;
        }
        while pages.len() <= self.ctx.opts.max_pages && !self.dead {
            let Some(next) = (!queue.is_empty()).then(|| queue.remove(0)) else {
                break;
            };
            let url = links::canonical(&next.href).to_owned();
            seen.push(url.clone());
            pages.push(url.clone());
            if !self.goto(&url).await {
                continue;
            }
            let more = links::rank(&matcher, &start, self.links().await, &seen);
            for l in more {
                if !queue
                    .iter()
                    .any(|q| links::canonical(&q.href) == links::canonical(&l.href))
                {
                    queue.push(l);
                }
            }
            // Keep the most health-relevant first across pages.
            queue.sort_by_key(|l| std::cmp::Reverse(links::score(&matcher, l)));
            self.page_actions(&url, &mut clicked).await;
        }
    }

    /// On the page at `url`: fill its forms, click its care-seeking buttons
    /// (each after reloading the page and refilling, so the click happens on
    /// a filled form, as a person's would).
    async fn page_actions(&mut self, url: &str, clicked: &mut Vec<String>) {
        let filled = self.fill_persona(true).await;
        let actions = match self
            .page(
                "actions",
                "actions",
                json!({"pattern": CARE_ACTIONS, "max": 10}),
            )
            .await
        {
            Ok(v) => v.as_array().cloned().unwrap_or_default(),
            Err(_) => return,
        };
        let mut here = 0;
        for a in actions {
            if self.dead || here >= CLICKS_PER_PAGE || clicked.len() >= CLICKS_PER_RUN {
                break;
            }
            let Some(name) = a.get("name").and_then(Value::as_str) else {
                continue;
            };
            if clicked.iter().any(|c| c.eq_ignore_ascii_case(name)) {
                continue;
            }
            let on_page = self
                .tab
                .page_url()
                .is_some_and(|u| links::canonical(&u) == links::canonical(url));
            if (here > 0 || !on_page) && !self.goto_quiet(url).await {
                break;
            }
            if filled && (here > 0 || !on_page) {
                self.refill_silently().await;
            }
            clicked.push(name.to_owned());
            here += 1;
            self.click(name).await;
        }
    }

    /// Back to a page without a step of its own (requests go to the current step).
    async fn goto_quiet(&mut self, url: &str) -> bool {
        let t0 = Instant::now();
        let res = tokio::time::timeout(
            self.ctx.opts.page_timeout + Duration::from_secs(2),
            self.tab.goto(url, self.ctx.opts.page_timeout),
        )
        .await;
        tracing::debug!(
            "{}: back to {url}: load {:.2} s",
            self.ctx.name,
            t0.elapsed().as_secs_f64()
        );
        match res {
            Ok(Ok(_)) => {
                let t1 = Instant::now();
                let quiet = self
                    .tab
                    .wait_quiet(Duration::from_millis(300), self.ctx.opts.settle)
                    .await;
                tracing::debug!(
                    "{}: wait for the network to be quiet 300 ms: {:.2} s ({})",
                    self.ctx.name,
                    t1.elapsed().as_secs_f64(),
                    if quiet { "quiet" } else { "settle limit" }
                );
                true
            }
            Ok(Err(e)) => {
                let e = page_error(url, None, &e);
                if e.kind == "crash" {
                    self.dead = true;
                }
                self.errors.push(e);
                false
            }
            Err(_) => false,
        }
    }

    async fn refill_silently(&mut self) {
        let persona = self.ctx.persona.to_json();
        let _ = self
            .page(
                "refill",
                "fill",
                json!({"persona": persona, "submit": false}),
            )
            .await;
    }

    /// Runs a `--journey` file's steps.
    async fn declarative(&mut self, steps: &[Action], driver: &Mutex<Driver>) {
        let start = self.ctx.url.clone();
        if !self.goto(&start).await {
            return;
        }
        self.consent(driver).await;
        for (i, step) in steps.iter().enumerate() {
            if self.dead {
                break;
            }
            let n = i + 1;
            match step {
                Action::Goto(target) => {
                    let url = match url::Url::parse(&start).and_then(|b| b.join(target)) {
                        Ok(u) => u.to_string(),
                        Err(e) => {
                            self.errors.push(PageError {
                                url: start.clone(),
                                step: None,
                                kind: "journey".into(),
                                message: format!("journey step {n}: goto {target:?}: {e}"),
                            });
                            continue;
                        }
                    };
                    self.goto(&url).await;
                }
                Action::Click(name) => self.click(name).await,
                Action::Search(term) => match self.ctx.persona.expand(term) {
                    Ok(t) => self.search(&t).await,
                    Err(e) => self.journey_error(n, "search", e),
                },
                Action::Fill(fields) => {
                    let mut arg = Vec::new();
                    for (f, v) in fields {
                        let value = match self.ctx.persona.expand(v) {
                            Ok(v) => v,
                            Err(e) => {
                                self.journey_error(n, "fill", e);
                                continue;
                            }
                        };
                        arg.push(match f {
                            FieldRef::Selector(s) => json!({"selector": s, "value": value}),
                            FieldRef::Label(l) => json!({"label": l, "value": value}),
                        });
                    }
                    let id = self.begin("fill");
                    let (_, err) = self
                        .page_action(&id, "fill-fields", json!({"fields": arg}))
                        .await;
                    self.end(id, format!("fill {} field(s)", arg.len()), err)
                        .await;
                }
                Action::WaitForRequest { pattern, timeout } => {
                    let id = self.begin(&format!("wait for {pattern}"));
                    let deadline = Instant::now() + *timeout;
                    let seen_before = self
                        .captured
                        .iter()
                        .any(|c| c.url.contains(pattern.as_str()));
                    let mut found = seen_before;
                    while !found && Instant::now() < deadline {
                        let got = self.tab.take_requests();
                        found = got.iter().any(|c| c.url.contains(pattern.as_str()));
                        self.captured.extend(got);
                        if !found {
                            tokio::time::sleep(Duration::from_millis(100)).await;
                        }
                    }
                    let err = (!found).then(|| {
                        self.err(
                            &id,
                            "timeout",
                            format!("journey step {n}: no request matching {pattern:?} within {timeout:?}"),
                        )
                    });
                    self.end(id, format!("wait-for-request {pattern}"), err)
                        .await;
                }
                Action::Screenshot(name) => {
                    let id = self.begin(&format!("screenshot {name}"));
                    self.end(id, format!("screenshot {name}"), None).await;
                }
                Action::Wait(d) => {
                    let id = self.begin("wait");
                    tokio::time::sleep(*d).await;
                    self.end(id, format!("wait {d:?}"), None).await;
                }
            }
        }
    }

    fn journey_error(&mut self, n: usize, key: &str, message: String) {
        self.errors.push(PageError {
            url: self.tab.page_url().unwrap_or_default(),
            step: None,
            kind: "journey".into(),
            message: format!("journey step {n}: `{key}`: {message}"),
        });
    }
}

fn short_path(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => u.path().to_owned(),
        Err(_) => url.chars().take(40).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert_eq!(
            slug("click Refill prescription"),
            "click-refill-prescription"
        );
        assert_eq!(
            slug("goto /drugs/sertraline-50mg"),
            "goto-drugs-sertraline-50mg"
        );
        assert!(slug(&"x".repeat(100)).len() <= 41);
    }
}
