//! Serves the Northwind Pharmacy demo on a loopback port until interrupted and
//! prints the Chromium flags that reach it. For trying the site by hand:
//! `cargo run -p leakscope-sites --example pharmacy_demo`. With
//! `--with-fixtures` the capture fixtures (`http://fixtures.test/…`) are
//! served on the same port too (the Blacklight side-by-side uses both).

use leakscope_sites::{SiteServer, fixture_chrome_args, fixtures, pharmacy};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let with_fixtures = std::env::args().any(|a| a == "--with-fixtures");
    let server = if with_fixtures {
        SiteServer::start(pharmacy().merge(fixtures())).await?
    } else {
        leakscope_sites::start_demo().await?
    };
    let mut args = server.chrome_args();
    if with_fixtures {
        args.extend(fixture_chrome_args());
    }
    println!("port {}", server.port());
    println!("url {}", server.url(leakscope_sites::PHARMACY_HOST, "/"));
    println!("chrome args: {}", args.join(" "));
    tokio::signal::ctrl_c().await?;
    for r in server.sink.all() {
        eprintln!("{} {}", r.method, r.url());
    }
    Ok(())
}
