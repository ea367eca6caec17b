//! Drives headless Chromium over the DevTools Protocol (CDP) and captures every
//! request that every target of a tab sends: the page, cross-site (OOPIF)
//! iframes, dedicated, shared and service workers, and popups.
//!
//! A thin async shell on tokio. We spawn Chromium ourselves and speak raw CDP
//! over `chromiumoxide::conn::Connection`, keeping events as JSON: chromiumoxide's
//! typed events drop `requestWillBeSentExtraInfo` on Chromium 156 and its
//! `Handler` resumes child targets before we can enable Network on them
//! (docs/design/scanner-notes.md).
//!
//! ```no_run
//! # async fn demo() -> Result<(), leakscope_browser::BrowserError> {
//! use std::time::Duration;
//! use leakscope_browser::{Browser, LaunchOptions, TabOptions};
//! let browser = Browser::launch(LaunchOptions::default()).await?;
//! let tab = browser.new_tab(TabOptions::default()).await?;
//! tab.set_consent(Some("none".into()));
//! tab.set_step(Some("1-home".into()));
//! tab.goto("https://example.test/", Duration::from_secs(20)).await?;
//! tab.wait_quiet(Duration::from_millis(500), Duration::from_secs(5)).await;
//! let captured = tab.close().await;
//! let har = leakscope_browser::har::to_har(&captured, &browser.info());
//! # let _ = har; browser.close().await; Ok(()) }
//! ```
//!
//! How capture works:
//! - Browser-level `Target.setAutoAttach{waitForDebuggerOnStart, flatten}`; every
//!   attached target of one of our browser contexts gets Network (and Page for
//!   frames) enabled, headers, init scripts and bindings, recursive auto-attach,
//!   and only then `Runtime.runIfWaitingForDebugger`, so its first request is seen.
//! - Requests are kept per tab by CDP `requestId`, never per document, so a page
//!   that navigates away loses nothing; `requestWillBeSentExtraInfo` (headers as
//!   sent, cookies) joins by `requestId` whichever arrives first.
//! - Each redirect hop is its own [`Captured`] carrying its 3xx response.
//! - Hostile pages: dialogs are dismissed, downloads denied, popups captured
//!   then closed (all recorded as [`Incident`]s); every CDP command has a timeout.

mod capture;
mod cdp;
pub mod har;
mod launch;
mod tab;

use std::path::PathBuf;
use std::time::Duration;

pub use capture::{
    BindingCall, Captured, CapturedResponse, Incident, IncidentKind, Initiator, TargetType,
};
pub use launch::{Browser, find_chrome};

pub use tab::{Navigation, Tab};

/// Post bodies longer than this are cut (and `Captured::body_truncated` set).
pub const MAX_BODY: usize = 4 << 20;
/// Requests kept per tab; later ones are counted in [`Tab::dropped`].
pub const MAX_REQUESTS_PER_TAB: usize = 20_000;

#[derive(Debug, thiserror::Error)]
pub enum BrowserError {
    #[error("no Chromium found (looked at: {searched}); install chromium or pass its path")]
    NoChrome { searched: String },
    #[error("launching {chrome}: {message}")]
    Launch { chrome: String, message: String },
    #[error("CDP {method} failed: {message}")]
    Cdp { method: String, message: String },
    #[error("{what} timed out after {after:?}")]
    Timeout { what: String, after: Duration },
    /// The page's renderer or the browser itself died; the text says which.
    #[error("{0}")]
    Crashed(String),
    #[error("navigation to {url} failed: {error}")]
    Navigation { url: String, error: String },
    #[error("page script threw: {0}")]
    Js(String),
    #[error("unexpected CDP reply to {method}: {detail}")]
    Protocol { method: String, detail: String },
}

/// How to start Chromium.
#[derive(Debug, Clone)]
pub struct LaunchOptions {
    /// Chromium binary; `None` searches `$CHROME`, `/usr/lib/chromium/chromium`, then `PATH`.
    pub chrome: Option<PathBuf>,
    /// Extra flags (e.g. `--host-resolver-rules=...`), after ours.
    pub args: Vec<String>,
    /// From spawn to the DevTools socket being connected.
    pub launch_timeout: Duration,
    /// Default bound for every CDP command.
    pub command_timeout: Duration,
}

impl Default for LaunchOptions {
    fn default() -> Self {
        LaunchOptions {
            chrome: None,
            args: Vec::new(),
            launch_timeout: Duration::from_secs(30),
            command_timeout: Duration::from_secs(20),
        }
    }
}

/// Screen and user agent the tab pretends to have.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Device {
    /// 1366x768, the browser's own user agent without "Headless".
    #[default]
    Desktop,
    /// A 412x915 touch phone (Pixel-7-like) with an Android Chrome user agent.
    Mobile,
}

impl Device {
    pub fn as_str(self) -> &'static str {
        match self {
            Device::Desktop => "desktop",
            Device::Mobile => "mobile",
        }
    }
}

/// Per-tab set-up, applied to every target of the tab (frames, workers, popups).
#[derive(Debug, Clone, Default)]
pub struct TabOptions {
    pub device: Device,
    /// Sent on every request of every target (e.g. `Sec-GPC: 1`).
    pub extra_headers: Vec<(String, String)>,
    /// Run in every frame before the page's own scripts.
    pub init_scripts: Vec<String>,
    /// Run in every worker (dedicated, shared, service) before its own script.
    pub worker_scripts: Vec<String>,
    /// `Runtime.addBinding` names; calls arrive on [`Tab::binding_calls`].
    pub bindings: Vec<String>,
    /// Leave the Network domain off: nothing is captured. Only for measuring
    /// what capture costs (`examples/overhead.rs`).
    pub bare: bool,
    /// Decides every request of every target before it leaves (CDP `Fetch`
    /// interception): `scan --block`. `None`: nothing is intercepted.
    pub filter: Option<std::sync::Arc<dyn RequestFilter>>,
}

/// A request paused before it leaves, as a [`RequestFilter`] sees it.
#[derive(Debug, Clone, Copy)]
pub struct PausedRequest<'a> {
    pub url: &'a str,
    pub method: &'a str,
    /// CDP resource type, lower case: `document`, `image`, `ping`, `fetch`…
    pub resource_type: &'a str,
    /// A top-level document (not a frame's).
    pub main_frame: bool,
    /// The tab's top-level page when the request started (the request's
    /// own URL for a top-level navigation).
    pub page_url: &'a str,
}

/// What to do with a paused request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FilterDecision {
    Continue,
    /// Fails with `net::ERR_BLOCKED_BY_CLIENT`, as an ad blocker's would.
    Block,
    /// Sent to this URL instead; the capture records the URL that left.
    Rewrite(String),
}

/// Blocks or rewrites requests in the browser (a filter list). Called on
/// the CDP task for every request: it must be quick and must not block.
pub trait RequestFilter: Send + Sync + std::fmt::Debug {
    fn decide(&self, req: &PausedRequest<'_>) -> FilterDecision;
}
