//! Made-up websites served on loopback, for the demo and for tests.
//!
//! - [`server`]: one port for HTTP and TLS, host routing, and the sink that
//!   records every request received (ground truth for capture tests).
//! - `fixtures`: small pages that each exercise one capture path (GET pixel,
//!   form POST, sendBeacon, iframe, workers, consent banner, hostile pages).
//! - `pharmacy`: the demo site, Northwind Pharmacy, with its tracker tags.
//! - [`farm`]: the test farm, hundreds of made-up sites of known kinds (clean,
//!   leaking, consent banners, and every way a site fails to load), each
//!   with its expected scan outcome, for surveys.
//!
//! Nothing here contacts the outside world: Chromium resolves every host to
//! this server (`SiteServer::chrome_args`).

pub mod farm;
pub mod fixtures;
pub mod pharmacy;
pub mod server;
pub mod trackers;

pub use fixtures::{fixture_chrome_args, fixtures};
pub use pharmacy::{PHARMACY_HOST, pharmacy, start_demo};
pub use server::{HostRouter, SINK_BODY_LIMIT, Sink, SinkRecord, SiteServer, request_host};

#[derive(Debug, thiserror::Error)]
pub enum SiteError {
    #[error("loopback server: {0}")]
    Io(#[from] std::io::Error),
    #[error("TLS set-up: {0}")]
    Tls(String),
}
