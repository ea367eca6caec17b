//! Headless Chromium for the HTML tests: the page's DOM after its scripts
//! ran, and a loopback sink that records any request the page made.

use std::io::Read;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const CHROMIUM: &str = "/usr/lib/chromium/chromium";

/// A loopback listener that records every connection's first bytes.
pub fn sink() -> (u16, Arc<Mutex<Vec<String>>>) {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s2 = seen.clone();
    std::thread::spawn(move || {
        for c in l.incoming().flatten() {
            let _ = c.set_read_timeout(Some(Duration::from_secs(2)));
            let mut buf = [0u8; 512];
            let n = (&c).read(&mut buf).unwrap_or(0);
            if let Ok(mut v) = s2.lock() {
                v.push(String::from_utf8_lossy(&buf[..n]).into_owned());
            }
        }
    });
    (port, seen)
}

pub fn dump_dom(file: &Path, port: u16, profile: &Path) -> String {
    let mut child = Command::new(CHROMIUM)
        .args([
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-default-apps",
            "--disable-extensions",
            "--metrics-recording-only",
            "--virtual-time-budget=3000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--host-resolver-rules=MAP * 127.0.0.1:{port}"))
        .arg(format!("--proxy-server=http://127.0.0.1:{port}"))
        .arg("--dump-dom")
        .arg(format!("file://{}", file.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromium starts (scripts/setup.sh installs it)");
    let mut out = child.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within 90 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    reader.join().expect("reader")
}

/// What reached the sink from the page: every request but Chromium's own
/// component-updater pings (clients2.google.com time, update.googleapis.com),
/// which still fire despite the flags and come from the browser, not the page.
pub fn requests_from_page(seen: &Mutex<Vec<String>>) -> Vec<String> {
    let seen = seen.lock().expect("lock").clone();
    seen.into_iter()
        .filter(|req| {
            let host = req
                .lines()
                .find_map(|l| l.strip_prefix("Host: "))
                .unwrap_or("")
                .split(':')
                .next()
                .unwrap_or("");
            !(host.ends_with(".google.com")
                || host.ends_with(".googleapis.com")
                || host.ends_with(".gvt1.com"))
        })
        .collect()
}
