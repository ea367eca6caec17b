//! Capture fixtures: tiny pages that each send data to a tracker one way, and
//! hostile pages a scanner must survive. Made-up data only.
//!
//! Hosts (Chromium maps them all to the [`crate::SiteServer`] port, so pages
//! use port-less URLs):
//! - `fixtures.test`: the pages (`/pixel.html`, `/form.html`, `/beacon.html`,
//!   `/keepalive.html`, `/iframe.html`, `/worker.html`, `/sw.html`, `/ws.html`,
//!   `/all.html`; hostile: `/redirect-loop`, `/never-ends`, `/dialogs.html`,
//!   `/popup.html`, `/download`, `/huge.html`, `/scroll.html`);
//! - `frame.test`: the cross-site iframe (`/inner.html`), an OOPIF;
//! - `www.facebook.com` and `tracker.test`: trackers answering 200/204 to
//!   anything (`tracker.test/ws` is a WebSocket that swallows frames).
//!
//! Service workers need a secure context: open `/sw.html` with
//! [`fixture_chrome_args`] among Chromium's flags.

use std::convert::Infallible;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use sha1::Digest as _;

use crate::HostRouter;

/// (path, content type, body) of every static fixture file.
const FILES: &[(&str, &str, &str)] = &[
    ("/", HTML, include_str!("../assets/fixtures/index.html")),
    (
        "/index.html",
        HTML,
        include_str!("../assets/fixtures/index.html"),
    ),
    (
        "/pixel.html",
        HTML,
        include_str!("../assets/fixtures/pixel.html"),
    ),
    (
        "/form.html",
        HTML,
        include_str!("../assets/fixtures/form.html"),
    ),
    (
        "/beacon.html",
        HTML,
        include_str!("../assets/fixtures/beacon.html"),
    ),
    (
        "/keepalive.html",
        HTML,
        include_str!("../assets/fixtures/keepalive.html"),
    ),
    (
        "/iframe.html",
        HTML,
        include_str!("../assets/fixtures/iframe.html"),
    ),
    (
        "/inner.html",
        HTML,
        include_str!("../assets/fixtures/inner.html"),
    ),
    (
        "/worker.html",
        HTML,
        include_str!("../assets/fixtures/worker.html"),
    ),
    (
        "/worker.js",
        JS,
        include_str!("../assets/fixtures/worker.js"),
    ),
    ("/sw.html", HTML, include_str!("../assets/fixtures/sw.html")),
    ("/sw.js", JS, include_str!("../assets/fixtures/sw.js")),
    ("/ws.html", HTML, include_str!("../assets/fixtures/ws.html")),
    (
        "/all.html",
        HTML,
        include_str!("../assets/fixtures/all.html"),
    ),
    (
        "/dialogs.html",
        HTML,
        include_str!("../assets/fixtures/dialogs.html"),
    ),
    (
        "/popup.html",
        HTML,
        include_str!("../assets/fixtures/popup.html"),
    ),
    (
        "/popup-inner.html",
        HTML,
        include_str!("../assets/fixtures/popup-inner.html"),
    ),
    (
        "/huge.html",
        HTML,
        include_str!("../assets/fixtures/huge.html"),
    ),
    (
        "/scroll.html",
        HTML,
        include_str!("../assets/fixtures/scroll.html"),
    ),
];

const HTML: &str = "text/html; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";

/// The smallest transparent GIF, what tracking pixels answer.
const GIF: &[u8] = &[
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b,
];

/// Extra Chromium flags the fixtures need: `fixtures.test` counts as a secure
/// origin so its service worker may register over plain HTTP.
pub fn fixture_chrome_args() -> Vec<String> {
    vec!["--unsafely-treat-insecure-origin-as-secure=http://fixtures.test".into()]
}

/// Routes for every fixture host.
pub fn fixtures() -> HostRouter {
    HostRouter::new()
        .host("fixtures.test", Router::new().fallback(site))
        .host("frame.test", Router::new().fallback(site))
        .host("*.facebook.com", Router::new().fallback(pixel))
        .host("tracker.test", Router::new().fallback(tracker))
}

async fn site(req: Request) -> Response {
    let path = req.uri().path().to_owned();
    if let Some((_, ct, body)) = FILES.iter().find(|(p, _, _)| *p == path) {
        return ([(header::CONTENT_TYPE, *ct)], *body).into_response();
    }
    match path.as_str() {
        "/redirect-loop" => {
            // Endless: each hop points at the next.
            let n: u64 = req
                .uri()
                .query()
                .and_then(|q| q.strip_prefix("n="))
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            let to = format!("/redirect-loop?n={}", n + 1);
            (StatusCode::FOUND, [(header::LOCATION, to)]).into_response()
        }
        "/never-ends" => never_ends(),
        "/download" => (
            [
                (header::CONTENT_TYPE, "text/csv"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"records.csv\"",
                ),
            ],
            "name,condition\nCanary Person,canary-condition\n",
        )
            .into_response(),
        _ => (StatusCode::NOT_FOUND, "no such fixture").into_response(),
    }
}

/// Sends the start of a page, then never another byte and never the end.
fn never_ends() -> Response {
    let first = futures::stream::once(async {
        Ok::<_, Infallible>(Bytes::from_static(
            b"<!doctype html><html><head><title>Never ends</title></head><body><p>Loading",
        ))
    });
    let rest = futures::stream::unfold((), |()| async {
        tokio::time::sleep(Duration::from_secs(3600)).await;
        Some((Ok::<_, Infallible>(Bytes::from_static(b".")), ()))
    });
    use futures::StreamExt as _;
    Response::builder()
        .header(header::CONTENT_TYPE, HTML)
        .body(Body::from_stream(first.chain(rest)))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

async fn pixel(req: Request) -> Response {
    if req.method() == axum::http::Method::GET {
        ([(header::CONTENT_TYPE, "image/gif")], GIF).into_response()
    } else {
        (StatusCode::OK, [(header::CONTENT_TYPE, HTML)], "").into_response()
    }
}

async fn tracker(req: Request) -> Response {
    if req.uri().path() == "/ws" {
        return websocket(req);
    }
    let mut r = StatusCode::NO_CONTENT.into_response();
    // Beacons and keepalive fetches are CORS requests from other sites.
    r.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    r
}

/// Accepts a WebSocket (RFC 6455 handshake) and discards what is sent on it.
fn websocket(mut req: Request) -> Response {
    let Some(key) = req
        .headers()
        .get("sec-websocket-key")
        .map(|k| k.as_bytes().to_vec())
    else {
        return (StatusCode::BAD_REQUEST, "not a WebSocket request").into_response();
    };
    let mut h = sha1::Sha1::new();
    h.update(&key);
    h.update(b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
    let accept = base64::engine::general_purpose::STANDARD.encode(h.finalize());
    let upgrade = hyper::upgrade::on(&mut req);
    tokio::spawn(async move {
        use tokio::io::AsyncReadExt as _;
        if let Ok(up) = upgrade.await {
            let mut io = hyper_util::rt::TokioIo::new(up);
            let mut buf = [0u8; 4096];
            while let Ok(n) = io.read(&mut buf).await {
                if n == 0 {
                    break;
                }
            }
        }
    });
    Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header(header::UPGRADE, "websocket")
        .header(header::CONNECTION, "Upgrade")
        .header("sec-websocket-accept", accept)
        .body(Body::empty())
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_page_references_only_mapped_hosts() {
        for (path, _, body) in FILES {
            for url in body.split(['"', '\'']).filter(|s| s.contains("://")) {
                let host = url
                    .split("://")
                    .nth(1)
                    .and_then(|r| r.split(['/', '?']).next())
                    .unwrap_or("");
                assert!(
                    [
                        "fixtures.test",
                        "frame.test",
                        "www.facebook.com",
                        "tracker.test"
                    ]
                    .contains(&host),
                    "{path} points at {url}"
                );
            }
        }
    }

    #[tokio::test]
    async fn trackers_answer_and_redirects_loop() {
        let srv = crate::SiteServer::start(fixtures()).await.unwrap();
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", srv.port()))
            .await
            .unwrap();
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        s.write_all(
            b"GET /redirect-loop?n=4 HTTP/1.1\r\nHost: fixtures.test\r\nConnection: close\r\n\r\n",
        )
        .await
        .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        assert!(out.starts_with("HTTP/1.1 302"), "{out}");
        assert!(
            out.to_ascii_lowercase()
                .contains("location: /redirect-loop?n=5"),
            "{out}"
        );
    }
}
