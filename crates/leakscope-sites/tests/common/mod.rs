//! Helpers shared by the integration tests: headless Chromium, bounded in time.

use std::path::PathBuf;
use std::time::Duration;

use leakscope_sites::SiteServer;

/// The real Chromium binary, or `None` (tests then skip with a message).
pub fn chromium() -> Option<PathBuf> {
    let p = PathBuf::from(
        std::env::var("LEAKSCOPE_CHROMIUM").unwrap_or_else(|_| "/usr/lib/chromium/chromium".into()),
    );
    p.exists().then_some(p)
}

/// Loads `url` in a fresh headless profile pointed at `srv`, lets the page run
/// for a few seconds of virtual time, and returns the serialised DOM.
pub async fn dump_dom(bin: &PathBuf, srv: &SiteServer, url: &str) -> String {
    let profile = tempfile::tempdir().expect("tempdir");
    let mut cmd = tokio::process::Command::new(bin);
    cmd.args([
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-extensions",
        // Chromium's own update/time/dictionary fetches would land in the sink too.
        "--disable-background-networking",
        "--disable-component-update",
        "--virtual-time-budget=5000",
        "--dump-dom",
    ])
    .arg(format!("--user-data-dir={}", profile.path().display()))
    .args(srv.chrome_args())
    .arg(url)
    .kill_on_drop(true)
    .stdin(std::process::Stdio::null())
    .stderr(std::process::Stdio::null());
    let out = tokio::time::timeout(Duration::from_secs(60), cmd.output())
        .await
        .expect("chromium timed out")
        .expect("chromium ran");
    String::from_utf8_lossy(&out.stdout).into_owned()
}
