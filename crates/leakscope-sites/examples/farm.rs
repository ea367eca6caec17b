//! Serves the test farm on loopback until Ctrl-C or until stdin closes, for
//! scripts and tests that start it as a child process:
//!
//! ```text
//! cargo run -p leakscope-sites --example farm -- --sites 200 --dir DIR
//! ```
//!
//! Writes `DIR/sites.csv` (the survey's site list: `url,organisation,state,
//! category`) and `DIR/expected.json` (per site: id, url, kind, expected and
//! the rest of `FarmSite`), then prints on stdout, one per line, `port N`,
//! `chrome-arg ARG` for every Chromium flag the farm needs, and `ready`.
//! Stdin closing stops it only when stdin is a pipe (a parent process holds
//! the other end); from a terminal or `/dev/null` only Ctrl-C does.

use std::io::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use leakscope_sites::farm::{farm, site_list_csv, start_farm};

const USAGE: &str = "usage: farm [--sites N] [--dir DIR]";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut n = 200usize;
    let mut dir: Option<PathBuf> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--sites" => {
                n = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .ok_or(format!("--sites needs a number\n{USAGE}"))?;
            }
            "--dir" => {
                dir = Some(
                    args.next()
                        .ok_or(format!("--dir needs a path\n{USAGE}"))?
                        .into(),
                )
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            other => return Err(format!("unknown argument {other:?}\n{USAGE}").into()),
        }
    }
    let sites = farm(n);
    if let Some(dir) = &dir {
        std::fs::create_dir_all(dir)?;
        std::fs::write(dir.join("sites.csv"), site_list_csv(&sites))?;
        let mut json = serde_json::to_vec_pretty(&sites)?;
        json.push(b'\n');
        std::fs::write(dir.join("expected.json"), json)?;
    }
    let farm = start_farm(&sites).await?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "port {}", farm.port())?;
        for a in farm.chrome_args() {
            writeln!(out, "chrome-arg {a}")?;
        }
        writeln!(out, "ready")?;
        out.flush()?;
    }
    // A long survey sends many requests; nobody reads the sink here.
    let sink = farm.server.sink.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(30)).await;
            sink.clear();
        }
    });
    let stdin_closed = async {
        if !stdin_is_pipe() {
            // /dev/null (a background job in a script) or a terminal: Ctrl-C only.
            return std::future::pending().await;
        }
        // A blocking read on a thread of its own (the workspace's tokio has
        // no io-std), detached so that exiting never waits for it.
        let (closed, on_close) = tokio::sync::oneshot::channel::<()>();
        std::thread::spawn(move || {
            use std::io::Read as _;
            let mut buf = [0u8; 256];
            let mut stdin = std::io::stdin();
            while matches!(stdin.read(&mut buf), Ok(n) if n > 0) {}
            let _ = closed.send(());
        });
        let _ = on_close.await;
    };
    tokio::select! {
        r = tokio::signal::ctrl_c() => r?,
        () = stdin_closed => {}
    }
    drop(farm);
    Ok(())
}

/// Is stdin the read end of a pipe (or a socket)?
fn stdin_is_pipe() -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        std::fs::metadata("/proc/self/fd/0")
            .map(|m| m.file_type().is_fifo() || m.file_type().is_socket())
            .unwrap_or(false)
    }
    #[cfg(not(unix))]
    {
        false
    }
}
