//! Finding, starting and stopping Chromium.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::capture::{TabConfig, TabShared};
use crate::cdp::{Client, Cmd, str_at};
use crate::tab::Tab;
use crate::{BrowserError, Device, LaunchOptions, TabOptions};

/// Flags verified on Chromium 156 headless as root (scanner-notes.md), plus
/// switches that quiet Chromium's own calls home.
const FLAGS: &[&str] = &[
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-sync",
    "--mute-audio",
    "--hide-scrollbars",
    // Popups must open so their traffic is seen; we close them ourselves.
    "--disable-popup-blocking",
    "--disable-features=NetworkTimeServiceQuerying,OptimizationHints,MediaRouter,Translate,InterestFeedContentSuggestions,AutofillServerCommunication",
    "--disable-field-trial-config",
    "--disable-breakpad",
    "--password-store=basic",
    "--use-mock-keychain",
    "--remote-debugging-port=0",
    // No default tab: its renderer would start alongside the first scan
    // tab's and slow it (measured on 2 cores, results/blacklight.md).
    "--no-startup-window",
];

/// The Chromium binary to use: `explicit`, else `$CHROME`, else
/// `/usr/lib/chromium/chromium`, else `chromium`, `chromium-browser`,
/// `google-chrome`, `google-chrome-stable` on `PATH`. Debian's
/// `/usr/bin/chromium` wrapper is swapped for the real binary next to it.
pub fn find_chrome(explicit: Option<&Path>) -> Option<PathBuf> {
    let real = Path::new("/usr/lib/chromium/chromium");
    let prefer_real = |p: PathBuf| {
        if p == Path::new("/usr/bin/chromium") && real.is_file() {
            real.to_path_buf()
        } else {
            p
        }
    };
    if let Some(p) = explicit {
        return p.is_file().then(|| prefer_real(p.to_path_buf()));
    }
    if let Some(p) = std::env::var_os("CHROME").map(PathBuf::from)
        && p.is_file()
    {
        return Some(prefer_real(p));
    }
    if real.is_file() {
        return Some(real.to_path_buf());
    }
    let path = std::env::var_os("PATH")?;
    for name in [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ] {
        for dir in std::env::split_paths(&path) {
            let p = dir.join(name);
            if p.is_file() {
                return Some(prefer_real(p));
            }
        }
    }
    None
}

/// A running Chromium with its DevTools connection.
pub struct Browser {
    client: Client,
    child: Child,
    // Removed (with the profile) when the browser is dropped or closed.
    _profile: tempfile::TempDir,
    info: leakscope_core::scan::BrowserInfo,
}

impl Browser {
    /// Starts Chromium on a fresh temporary profile and connects to it.
    pub async fn launch(opts: LaunchOptions) -> Result<Browser, BrowserError> {
        let chrome = find_chrome(opts.chrome.as_deref()).ok_or_else(|| BrowserError::NoChrome {
            searched: match &opts.chrome {
                Some(p) => p.display().to_string(),
                None => "$CHROME, /usr/lib/chromium/chromium, PATH (chromium, chromium-browser, google-chrome)".into(),
            },
        })?;
        let launch_err = |message: String| BrowserError::Launch {
            chrome: chrome.display().to_string(),
            message,
        };
        let profile = tempfile::Builder::new()
            .prefix("leakscope-chrome-")
            .tempdir()
            .map_err(|e| launch_err(format!("temp profile: {e}")))?;
        let mut flags: Vec<String> = FLAGS.iter().map(|s| s.to_string()).collect();
        flags.push(format!("--user-data-dir={}", profile.path().display()));
        flags.extend(opts.args.iter().cloned());
        let mut child = Command::new(&chrome)
            .args(&flags)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| launch_err(e.to_string()))?;
        tracing::debug!(chrome = %chrome.display(), "chromium spawned");
        let Some(stderr) = child.stderr.take() else {
            return Err(launch_err("no stderr pipe".into()));
        };
        let mut lines = BufReader::new(stderr).lines();
        let read_ws = async {
            let mut tail = Vec::new();
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(i) = line.find("ws://") {
                    return Ok(line[i..].trim().to_owned());
                }
                if tail.len() >= 5 {
                    tail.remove(0);
                }
                tail.push(line);
            }
            Err(format!(
                "exited before printing its DevTools URL; last output: {}",
                tail.join(" | ")
            ))
        };
        let ws = match tokio::time::timeout(opts.launch_timeout, read_ws).await {
            Ok(Ok(ws)) => ws,
            Ok(Err(m)) => return Err(launch_err(m)),
            Err(_) => {
                return Err(BrowserError::Timeout {
                    what: format!("launching {}", chrome.display()),
                    after: opts.launch_timeout,
                });
            }
        };
        tracing::debug!("chromium listening on {ws}");
        // Keep draining stderr: a full pipe would block Chromium.
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                tracing::trace!(target: "chromium", "{line}");
            }
        });
        let client = tokio::time::timeout(
            opts.launch_timeout,
            crate::cdp::connect(&ws, opts.command_timeout),
        )
        .await
        .map_err(|_| BrowserError::Timeout {
            what: format!("connecting to {ws}"),
            after: opts.launch_timeout,
        })??;
        let v = client.call("Browser.getVersion", None, json!({})).await?;
        client
            .call(
                "Target.setAutoAttach",
                None,
                json!({"autoAttach": true, "waitForDebuggerOnStart": true, "flatten": true}),
            )
            .await?;
        client
            .call("Target.setDiscoverTargets", None, json!({"discover": true}))
            .await?;
        tracing::debug!("browser connected and auto-attach on");
        let mut all_flags = flags;
        all_flags.insert(0, chrome.display().to_string());
        Ok(Browser {
            client,
            child,
            _profile: profile,
            info: leakscope_core::scan::BrowserInfo {
                product: str_at(&v, "product"),
                user_agent: str_at(&v, "userAgent"),
                flags: all_flags,
            },
        })
    }

    /// Product, user agent and flags, for provenance.
    pub fn info(&self) -> leakscope_core::scan::BrowserInfo {
        self.info.clone()
    }

    /// False once the browser crashed, hung on a browser-level command, or
    /// its DevTools socket closed: relaunch then.
    pub fn is_alive(&self) -> bool {
        self.client.alive.load(Ordering::SeqCst)
    }

    /// A new tab in its own fresh browser context (no cookies or storage
    /// shared with any other tab).
    pub async fn new_tab(&self, opts: TabOptions) -> Result<Tab, BrowserError> {
        let c = &self.client;
        let ctx = c
            .call(
                "Target.createBrowserContext",
                None,
                json!({"disposeOnDetach": true}),
            )
            .await?;
        let context_id = str_at(&ctx, "browserContextId");
        if context_id.is_empty() {
            return Err(BrowserError::Protocol {
                method: "Target.createBrowserContext".into(),
                detail: ctx.to_string(),
            });
        }
        let ua = self.user_agent(opts.device);
        let config = TabConfig {
            extra_headers: opts.extra_headers,
            init_scripts: opts.init_scripts,
            worker_scripts: opts.worker_scripts,
            bindings: opts.bindings,
            bare: opts.bare,
            filter: opts.filter,
            platform: if opts.device == Device::Mobile {
                "Android".into()
            } else {
                "Linux x86_64".into()
            },
            user_agent: ua,
            metrics: match opts.device {
                Device::Desktop => (1366, 768, 1.0, false),
                Device::Mobile => (412, 915, 2.625, true),
            },
        };
        let shared = Arc::new(TabShared::new(context_id.clone(), config));
        c.send(Cmd::AddTab {
            context_id: context_id.clone(),
            tab: shared.clone(),
        });
        let cleanup = |c: &Client, id: &str| {
            c.send(Cmd::RemoveTab {
                context_id: id.to_owned(),
            })
        };
        if let Err(e) = c
            .call(
                "Browser.setDownloadBehavior",
                None,
                json!({"behavior": "deny", "browserContextId": context_id, "eventsEnabled": true}),
            )
            .await
        {
            tracing::debug!("download behaviour: {e}");
        }
        let created = match c
            .call(
                "Target.createTarget",
                None,
                json!({"url": "about:blank", "browserContextId": context_id}),
            )
            .await
        {
            Ok(v) => v,
            Err(e) => {
                cleanup(c, &context_id);
                return Err(e);
            }
        };
        let target_id = str_at(&created, "targetId");
        tracing::debug!("tab target created");
        // Wait for the attach (Network enabled, target resumed).
        let mut changed = shared.changed.subscribe();
        let wait = async {
            loop {
                if let Some(s) = shared.lock().main_session.clone() {
                    return Ok(s);
                }
                if changed.changed().await.is_err() {
                    return Err(());
                }
            }
        };
        let session = match tokio::time::timeout(c.timeout, wait).await {
            Ok(Ok(s)) => s,
            _ => {
                cleanup(c, &context_id);
                return Err(BrowserError::Timeout {
                    what: "attaching to the new tab".into(),
                    after: c.timeout,
                });
            }
        };
        // A round trip on the tab's session: its set-up commands went first.
        c.call(
            "Runtime.evaluate",
            Some(&session),
            json!({"expression": "1"}),
        )
        .await?;
        tracing::debug!("tab ready");
        Ok(Tab::new(shared, c.clone(), session, target_id, context_id))
    }

    fn user_agent(&self, device: Device) -> String {
        let ua = self.info.user_agent.replace("HeadlessChrome", "Chrome");
        match device {
            Device::Desktop => ua,
            Device::Mobile => {
                // Keep the real version, claim an Android phone.
                let ver = ua
                    .split("Chrome/")
                    .nth(1)
                    .and_then(|r| r.split(' ').next())
                    .unwrap_or("156.0.0.0");
                format!(
                    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{ver} Mobile Safari/537.36"
                )
            }
        }
    }

    /// Closes the browser: asks politely, then kills the process; the
    /// temporary profile is removed.
    pub async fn close(mut self) {
        if self.is_alive() {
            let _ = self
                .client
                .call_within("Browser.close", None, json!({}), Duration::from_secs(3))
                .await;
        }
        match tokio::time::timeout(Duration::from_secs(3), self.child.wait()).await {
            Ok(_) => {}
            Err(_) => {
                let _ = self.child.kill().await;
            }
        }
        self.client.alive.store(false, Ordering::SeqCst);
    }

    /// OS process id of Chromium (tests use it to simulate a crash).
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }
}
