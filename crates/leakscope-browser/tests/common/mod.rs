//! Shared set-up: the fixture server plus a real Chromium pointed at it.
#![allow(dead_code)]

use std::time::Duration;

use leakscope_browser::{Browser, Captured, LaunchOptions, Tab, TabOptions, find_chrome};
use leakscope_sites::{SiteServer, fixture_chrome_args, fixtures};

/// Every test is bounded by this.
pub const TEST_LIMIT: Duration = Duration::from_secs(120);

/// `None` (after saying so) only when no Chromium exists at all: CI installs it.
pub async fn setup() -> Option<(SiteServer, Browser)> {
    if find_chrome(None).is_none() {
        eprintln!("SKIPPED: no chromium binary found ($CHROME, /usr/lib/chromium/chromium, PATH)");
        return None;
    }
    let srv = SiteServer::start(fixtures()).await.expect("fixture server");
    let mut args = srv.chrome_args();
    args.extend(fixture_chrome_args());
    let browser = Browser::launch(LaunchOptions {
        args,
        ..LaunchOptions::default()
    })
    .await
    .expect("launch chromium");
    Some((srv, browser))
}

/// Opens `url` in a fresh tab, lets it settle, and returns everything captured.
pub async fn capture_page(browser: &Browser, url: &str) -> Vec<Captured> {
    let tab = browser
        .new_tab(TabOptions::default())
        .await
        .expect("new tab");
    visit(&tab, url).await;
    tab.close().await
}

pub async fn visit(tab: &Tab, url: &str) {
    tab.goto(url, Duration::from_secs(20))
        .await
        .unwrap_or_else(|e| panic!("goto {url}: {e}"));
    tab.wait_quiet(Duration::from_millis(700), Duration::from_secs(8))
        .await;
}

/// The sink's URL for a captured one (WebSocket handshakes arrive as http).
pub fn sink_url(c: &Captured) -> String {
    c.url
        .replacen("ws://", "http://", 1)
        .replacen("wss://", "https://", 1)
}

pub fn is_tracker(host: &str) -> bool {
    host == "tracker.test" || host == "www.facebook.com"
}
