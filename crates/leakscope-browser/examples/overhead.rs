//! What capture costs: loads the same fixture page with capture on and with
//! the Network domain off, in fresh tabs, alternating, and prints medians.
//!
//! `cargo run --release -p leakscope-browser --example overhead -- [runs] [page|URL]`
//!
//! A bare page name is a capture fixture (`all.html`); a full URL may name a
//! fixture or a Northwind Pharmacy page (`http://northwind-pharmacy.test/`):
//! this example serves both.

use std::time::{Duration, Instant};

use leakscope_browser::{Browser, LaunchOptions, TabOptions};
use leakscope_sites::{SiteServer, fixture_chrome_args, fixtures, pharmacy};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut argv = std::env::args().skip(1);
    let runs: usize = argv.next().and_then(|a| a.parse().ok()).unwrap_or(15);
    let page = argv.next().unwrap_or_else(|| "all.html".into());
    let is_url = page.starts_with("http://") || page.starts_with("https://");
    let srv = SiteServer::start(pharmacy().merge(fixtures())).await?;
    let mut args = srv.chrome_args();
    args.extend(fixture_chrome_args());
    let t0 = Instant::now();
    let browser = Browser::launch(LaunchOptions {
        args,
        ..LaunchOptions::default()
    })
    .await?;
    println!("launch: {:?} ({})", t0.elapsed(), browser.info().product);
    let url = if is_url {
        page.clone()
    } else {
        format!("http://fixtures.test/{page}")
    };
    let (mut on, mut off, mut reqs) = (Vec::new(), Vec::new(), 0usize);
    let mut setup = Vec::new();
    for i in 0..runs * 2 {
        let bare = i % 2 == 1;
        let t_tab = Instant::now();
        let tab = browser
            .new_tab(TabOptions {
                bare,
                ..TabOptions::default()
            })
            .await?;
        if !bare {
            setup.push(t_tab.elapsed());
        }
        let t = Instant::now();
        tab.goto(&url, Duration::from_secs(30)).await?;
        let took = t.elapsed();
        tab.wait_quiet(Duration::from_millis(300), Duration::from_secs(5))
            .await;
        let cap = tab.close().await;
        if bare {
            off.push(took);
        } else {
            on.push(took);
            reqs += cap.len();
        }
    }
    let med = |v: &mut Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    let (m_on, m_off) = (med(&mut on), med(&mut off));
    println!(
        "new tab (fresh context, capture on): median {:?}",
        med(&mut setup)
    );
    println!(
        "{page}: goto->load median with capture {m_on:?}, bare {m_off:?} ({runs} runs each, {:.1} requests captured per run)",
        reqs as f64 / runs as f64
    );
    browser.close().await;
    Ok(())
}
