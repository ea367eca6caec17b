//! Serves the Northwind Pharmacy demo on a loopback port until interrupted and
//! prints the Chromium flags that reach it. For trying the site by hand:
//! `cargo run -p leakscope-sites --example pharmacy_demo`.

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = leakscope_sites::start_demo().await?;
    println!("port {}", server.port());
    println!("url {}", server.url(leakscope_sites::PHARMACY_HOST, "/"));
    println!("chrome args: {}", server.chrome_args().join(" "));
    tokio::signal::ctrl_c().await?;
    for r in server.sink.all() {
        eprintln!("{} {}", r.method, r.url());
    }
    Ok(())
}
