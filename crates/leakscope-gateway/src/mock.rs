//! A mock Graph API for tests and benchmarks (loopback only). It can
//! succeed, reject (validation), fail transiently, throttle, or hang, and
//! the mode can be switched at run time (in process, or by `POST
//! /__mock/mode {"mode": "throttle"}`). It records every event it accepted.
//!
//! Like Meta, a batch with any invalid event is rejected whole; an event
//! whose `event_id` starts with `invalid-` is invalid (code 100, subcode
//! 2804019).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::ingress::parse_events_request;

/// What the mock does with the next requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MockMode {
    /// 200 (batches with an `invalid-` event get a validation error).
    Succeed,
    /// 400, code 100: every batch invalid.
    Invalid,
    /// 500, code 2 (transient).
    Transient,
    /// 400, code 17 (user request limit reached).
    Throttle,
    /// 429 with no Graph body.
    TooManyRequests,
    /// 503 with an HTML body, like a load balancer.
    Unavailable,
    /// Never answers (the client times out).
    Hang,
    /// Answers 200 after 300 ms.
    Slow,
}

/// One event the mock accepted.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Received {
    /// Pixel from the path.
    pub pixel_id: String,
    /// Event id.
    pub event_id: Option<String>,
    /// Event name.
    pub event_name: Option<String>,
    /// The event exactly as received (JSON text).
    pub event: String,
    /// The access token the request carried.
    pub access_token: Option<String>,
    /// The test_event_code.
    pub test_event_code: Option<String>,
}

#[derive(Debug)]
struct MockState {
    mode: Mutex<MockMode>,
    received: Mutex<Vec<Received>>,
    requests: Mutex<u64>,
    raw_bodies: Mutex<Vec<String>>,
}

/// A running mock.
#[derive(Clone, Debug)]
pub struct MockGraph {
    state: Arc<MockState>,
    /// Where it listens.
    pub addr: SocketAddr,
}

impl MockGraph {
    /// Starts on `addr` (use port 0 for any free port).
    pub async fn start(addr: SocketAddr) -> std::io::Result<Self> {
        let l = tokio::net::TcpListener::bind(addr).await?;
        Self::start_on(l)
    }

    /// Starts on an already bound listener.
    pub fn start_on(l: tokio::net::TcpListener) -> std::io::Result<Self> {
        let addr = l.local_addr()?;
        let state = Arc::new(MockState {
            mode: Mutex::new(MockMode::Succeed),
            received: Mutex::new(Vec::new()),
            requests: Mutex::new(0),
            raw_bodies: Mutex::new(Vec::new()),
        });
        let app = router(state.clone());
        tokio::spawn(async move {
            let _ = axum::serve(l, app).await;
        });
        Ok(Self { state, addr })
    }

    /// Base URL for the gateway's `upstream.base_url`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }
    /// Switches the mode.
    pub fn set_mode(&self, m: MockMode) {
        if let Ok(mut g) = self.state.mode.lock() {
            *g = m;
        }
    }
    /// Events accepted so far.
    pub fn received(&self) -> Vec<Received> {
        self.state
            .received
            .lock()
            .map(|g| g.clone())
            .unwrap_or_default()
    }
    /// Requests seen (any outcome).
    pub fn requests(&self) -> u64 {
        self.state.requests.lock().map(|g| *g).unwrap_or(0)
    }
    /// Every request body seen, as text (to search for values in any encoding).
    pub fn raw_bodies(&self) -> Vec<String> {
        self.state
            .raw_bodies
            .lock()
            .map(|g| g.clone())
            .unwrap_or_default()
    }
}

fn router(state: Arc<MockState>) -> Router {
    Router::new()
        .route("/{version}/{pixel_id}/events", post(events))
        .route("/__mock/mode", post(set_mode))
        .route("/__mock/events", get(list))
        .with_state(state)
}

async fn set_mode(State(s): State<Arc<MockState>>, body: Bytes) -> Response {
    #[derive(Deserialize)]
    struct M {
        mode: MockMode,
    }
    match serde_json::from_slice::<M>(&body) {
        Ok(m) => {
            if let Ok(mut g) = s.mode.lock() {
                *g = m.mode;
            }
            (StatusCode::OK, "ok\n").into_response()
        }
        Err(e) => (StatusCode::BAD_REQUEST, format!("{e}\n")).into_response(),
    }
}

async fn list(State(s): State<Arc<MockState>>) -> Response {
    let r = s.received.lock().map(|g| g.clone()).unwrap_or_default();
    axum::Json(r).into_response()
}

fn graph_error(status: StatusCode, code: u32, subcode: Option<u32>, msg: &str) -> Response {
    let mut e =
        json!({"message": msg, "type": "OAuthException", "code": code, "fbtrace_id": "AmockTrace"});
    if let Some(s) = subcode {
        e["error_subcode"] = json!(s);
    }
    (status, axum::Json(json!({"error": e}))).into_response()
}

async fn events(
    State(s): State<Arc<MockState>>,
    Path((_v, pixel_id)): Path<(String, String)>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Ok(mut g) = s.requests.lock() {
        *g += 1;
    }
    if let Ok(mut g) = s.raw_bodies.lock() {
        g.push(String::from_utf8_lossy(&body).into_owned());
    }
    let mode = s.mode.lock().map(|g| *g).unwrap_or(MockMode::Succeed);
    match mode {
        MockMode::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            return StatusCode::GATEWAY_TIMEOUT.into_response();
        }
        MockMode::Slow => tokio::time::sleep(Duration::from_millis(300)).await,
        MockMode::Invalid => {
            return graph_error(
                StatusCode::BAD_REQUEST,
                100,
                Some(2804003),
                "Invalid parameter",
            );
        }
        MockMode::Transient => {
            return graph_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                2,
                None,
                "An unexpected error has occurred. Please retry your request later.",
            );
        }
        MockMode::Throttle => {
            return graph_error(
                StatusCode::BAD_REQUEST,
                17,
                None,
                "(#17) User request limit reached",
            );
        }
        MockMode::TooManyRequests => return StatusCode::TOO_MANY_REQUESTS.into_response(),
        MockMode::Unavailable => {
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::CONTENT_TYPE, "text/html")],
                "<html><body>503 Service Unavailable</body></html>",
            )
                .into_response();
        }
        MockMode::Succeed => {}
    }
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let req = match parse_events_request(ct, q.as_deref(), &body) {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    let s_of = |e: &Value, k: &str| e.get(k).and_then(Value::as_str).map(str::to_owned);
    if req
        .events
        .iter()
        .any(|e| s_of(e, "event_id").is_some_and(|id| id.starts_with("invalid-")))
    {
        return graph_error(
            StatusCode::BAD_REQUEST,
            100,
            Some(2804019),
            "Invalid parameter",
        );
    }
    let n = req.events.len();
    if let Ok(mut g) = s.received.lock() {
        for e in &req.events {
            g.push(Received {
                pixel_id: pixel_id.clone(),
                event_id: s_of(e, "event_id"),
                event_name: s_of(e, "event_name"),
                event: e.to_string(),
                access_token: req.access_token.clone(),
                test_event_code: req.test_event_code.clone(),
            });
        }
    }
    axum::Json(json!({"events_received": n, "messages": [], "fbtrace_id": "AmockTrace"}))
        .into_response()
}
