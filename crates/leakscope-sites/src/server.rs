//! One loopback port that speaks both plain HTTP and TLS, routes by `Host`,
//! and records every request it receives (the sink: ground truth for tests).
//!
//! Chromium is pointed at it with `--host-resolver-rules=MAP * 127.0.0.1:PORT`,
//! so every hostname (tracker domains included) lands here. HSTS-preloaded
//! hosts such as www.facebook.com are upgraded to https by Chromium, hence TLS
//! on the same port: the first byte of a connection tells the two apart
//! (0x16 is a TLS handshake record).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use crate::SiteError;

/// Largest request body the sink keeps whole; bigger ones are cut (and marked).
pub const SINK_BODY_LIMIT: usize = 8 << 20;

/// One request as the server received it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SinkRecord {
    pub host: String,
    pub method: String,
    /// Path and query, as sent.
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub body_truncated: bool,
    pub tls: bool,
    pub at: SystemTime,
}

impl SinkRecord {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}{}", self.host, self.target)
    }
}

/// Everything the server received, in arrival order.
#[derive(Debug, Clone, Default)]
pub struct Sink(Arc<Mutex<Vec<SinkRecord>>>);

impl Sink {
    pub fn push(&self, r: SinkRecord) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).push(r);
    }
    pub fn all(&self) -> Vec<SinkRecord> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
    /// Requests whose host is `host` or a subdomain of it.
    pub fn to_host(&self, host: &str) -> Vec<SinkRecord> {
        self.all()
            .into_iter()
            .filter(|r| r.host == host || r.host.ends_with(&format!(".{host}")))
            .collect()
    }
    pub fn clear(&self) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

/// Dispatches by the `Host` header (port stripped): exact names first, then
/// `*.suffix` patterns, then the fallback.
#[derive(Clone, Default)]
pub struct HostRouter {
    exact: Vec<(String, Router)>,
    suffix: Vec<(String, Router)>,
    fallback: Option<Router>,
}

impl HostRouter {
    pub fn new() -> Self {
        Self::default()
    }
    /// `name` is a host (`pharmacy.test`) or a pattern (`*.facebook.com`, which
    /// also matches `facebook.com`).
    pub fn host(mut self, name: &str, router: Router) -> Self {
        match name.strip_prefix("*.") {
            Some(s) => self.suffix.push((s.to_ascii_lowercase(), router)),
            None => self.exact.push((name.to_ascii_lowercase(), router)),
        }
        self
    }
    /// Adds `other`'s hosts after this router's own (which win on overlap).
    pub fn merge(mut self, other: HostRouter) -> Self {
        self.exact.extend(other.exact);
        self.suffix.extend(other.suffix);
        if self.fallback.is_none() {
            self.fallback = other.fallback;
        }
        self
    }
    pub fn fallback(mut self, router: Router) -> Self {
        self.fallback = Some(router);
        self
    }
    fn pick(&self, host: &str) -> Option<Router> {
        if let Some((_, r)) = self.exact.iter().find(|(h, _)| h == host) {
            return Some(r.clone());
        }
        self.suffix
            .iter()
            .find(|(s, _)| host == s || host.ends_with(&format!(".{s}")))
            .map(|(_, r)| r.clone())
            .or_else(|| self.fallback.clone())
    }
}

/// The host a request was addressed to, lower-cased, without port.
pub fn request_host(req: &Request) -> String {
    let raw = req
        .headers()
        .get(axum::http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| req.uri().host().map(str::to_owned))
        .unwrap_or_default();
    let no_port = match raw.rsplit_once(':') {
        Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) => h,
        _ => raw.as_str(),
    };
    no_port.trim_end_matches('.').to_ascii_lowercase()
}

/// A running server. Dropping it stops accepting connections.
pub struct SiteServer {
    pub addr: SocketAddr,
    pub sink: Sink,
    stop: watch::Sender<bool>,
}

impl SiteServer {
    /// Binds 127.0.0.1 on a free port and serves `routes`, recording every request.
    pub async fn start(routes: HostRouter) -> Result<SiteServer, SiteError> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let sink = Sink::default();
        let tls = TlsAcceptor::from(Arc::new(tls_config()?));
        let (stop, stopped) = watch::channel(false);
        let routes = Arc::new(routes);
        let sink2 = sink.clone();
        tokio::spawn(async move {
            let mut stopped = stopped;
            loop {
                let conn = tokio::select! {
                    c = listener.accept() => c,
                    _ = stopped.changed() => break,
                };
                let Ok((stream, _)) = conn else { continue };
                let (routes, sink, tls) = (routes.clone(), sink2.clone(), tls.clone());
                tokio::spawn(async move {
                    let _ = serve_conn(stream, routes, sink, tls).await;
                });
            }
        });
        Ok(SiteServer { addr, sink, stop })
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Chromium flags that send every hostname to this server and accept its
    /// self-signed certificate. Test set-ups only.
    pub fn chrome_args(&self) -> Vec<String> {
        vec![
            format!("--host-resolver-rules=MAP * 127.0.0.1:{}", self.port()),
            "--ignore-certificate-errors".into(),
        ]
    }

    /// `http://host:port/path` reachable through the resolver mapping.
    pub fn url(&self, host: &str, path: &str) -> String {
        format!("http://{host}:{}{path}", self.port())
    }
}

impl Drop for SiteServer {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

async fn serve_conn(
    stream: TcpStream,
    routes: Arc<HostRouter>,
    sink: Sink,
    tls: TlsAcceptor,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let mut first = [0u8; 1];
    let n = stream.peek(&mut first).await?;
    let is_tls = n == 1 && first[0] == 0x16;
    let svc = tower::service_fn(move |req: axum::http::Request<hyper::body::Incoming>| {
        let (routes, sink) = (routes.clone(), sink.clone());
        async move { Ok::<_, std::convert::Infallible>(handle(req, &routes, &sink, is_tls).await) }
    });
    let svc = TowerToHyperService::new(svc);
    let builder = Builder::new(TokioExecutor::new());
    if is_tls {
        let s = tls.accept(stream).await?;
        builder
            .serve_connection_with_upgrades(TokioIo::new(s), svc)
            .await?;
    } else {
        builder
            .serve_connection_with_upgrades(TokioIo::new(stream), svc)
            .await?;
    }
    Ok(())
}

async fn handle(
    req: axum::http::Request<hyper::body::Incoming>,
    routes: &HostRouter,
    sink: &Sink,
    tls: bool,
) -> Response {
    let (parts, body) = req.into_parts();
    let probe = Request::from_parts(parts.clone(), Body::empty());
    let host = request_host(&probe);
    // Keep up to the limit; a bigger body is still drained so the client sees a reply.
    let (bytes, truncated) = match to_bytes(Body::new(body), SINK_BODY_LIMIT).await {
        Ok(b) => (b, false),
        Err(_) => (Default::default(), true),
    };
    sink.push(SinkRecord {
        host: host.clone(),
        method: parts.method.to_string(),
        target: parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_else(|| "/".into()),
        headers: parts
            .headers
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: bytes.to_vec(),
        body_truncated: truncated,
        tls,
        at: SystemTime::now(),
    });
    let Some(router) = routes.pick(&host) else {
        return (StatusCode::NOT_FOUND, "no site for this host").into_response();
    };
    let req = Request::from_parts(parts, Body::from(bytes));
    match router.oneshot(req).await {
        Ok(r) => r,
        Err(e) => match e {},
    }
}

fn tls_config() -> Result<rustls::ServerConfig, SiteError> {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()])
        .map_err(|e| SiteError::Tls(e.to_string()))?;
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(cert.signing_key.serialize_der().into());
    let mut cfg = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| SiteError::Tls(e.to_string()))?
    .with_no_client_auth()
    .with_single_cert(vec![cert.cert.der().clone()], key)
    .map_err(|e| SiteError::Tls(e.to_string()))?;
    cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(cfg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::get;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn raw(port: u16, req: &str) -> String {
        let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        s.write_all(req.as_bytes()).await.unwrap();
        let mut out = Vec::new();
        s.read_to_end(&mut out).await.unwrap();
        String::from_utf8_lossy(&out).into_owned()
    }

    #[tokio::test]
    async fn routes_by_host_and_records_every_request() {
        let routes = HostRouter::new()
            .host(
                "site.test",
                Router::new().route("/", get(|| async { "site" })),
            )
            .host(
                "*.tracker.test",
                Router::new().route("/tr", get(|| async { "px" })),
            )
            .fallback(Router::new().fallback(|| async { "other" }));
        let srv = SiteServer::start(routes).await.unwrap();
        let a = raw(
            srv.port(),
            "GET / HTTP/1.1\r\nHost: site.test:80\r\nConnection: close\r\n\r\n",
        )
        .await;
        assert!(a.ends_with("site"), "{a}");
        let b = raw(
            srv.port(),
            "POST /tr?id=1 HTTP/1.1\r\nHost: www.tracker.test\r\nContent-Length: 3\r\nConnection: close\r\n\r\nx=1",
        )
        .await;
        assert!(b.contains("405") || b.ends_with("px"), "{b}");
        let c = raw(
            srv.port(),
            "GET /x HTTP/1.1\r\nHost: elsewhere.test\r\nConnection: close\r\n\r\n",
        )
        .await;
        assert!(c.ends_with("other"), "{c}");
        let got = srv.sink.to_host("tracker.test");
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].target, "/tr?id=1");
        assert_eq!(got[0].body, b"x=1");
        assert_eq!(got[0].url(), "http://www.tracker.test/tr?id=1");
        assert_eq!(srv.sink.all().len(), 3);
    }
}
