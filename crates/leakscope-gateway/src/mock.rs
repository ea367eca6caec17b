//! A mock Graph API for tests and benchmarks (loopback only). It can
//! succeed, reject (validation), fail transiently, throttle, or hang, and
//! the mode can be switched at run time (in process, or by `POST
//! /__mock/mode {"mode": "throttle"}`). It records every event it accepted
//! (`GET /__mock/events` lists them) and logs one line per request
//! (tracing, `info`): method, path, pixel, event count and names, answer.
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
            tracing::info!("POST /__mock/mode: mode is now {:?} -> 200", m.mode);
            (StatusCode::OK, "ok\n").into_response()
        }
        Err(e) => {
            tracing::info!("POST /__mock/mode: not a mode ({e}) -> 400");
            (StatusCode::BAD_REQUEST, format!("{e}\n")).into_response()
        }
    }
}

async fn list(State(s): State<Arc<MockState>>) -> Response {
    let r = s.received.lock().map(|g| g.clone()).unwrap_or_default();
    tracing::info!(
        "GET /__mock/events: {} event(s) received so far -> 200",
        r.len()
    );
    axum::Json(r).into_response()
}

/// At most this many distinct event names per log line (a batch holds up
/// to 1,000 events).
const NAMES_SHOWN: usize = 8;

/// The log line's event part: `2 events: Purchase, Lead`, names counted
/// (`Purchase ×998`) and shown escaped, so a name cannot forge a log line.
fn events_summary(events: &[Value]) -> String {
    let mut names: Vec<(String, usize)> = Vec::new();
    for e in events {
        let n = e
            .get("event_name")
            .and_then(Value::as_str)
            .map(|n| {
                let short: String = n.chars().take(60).collect();
                short.escape_debug().to_string()
            })
            .unwrap_or_else(|| "(no event_name)".to_owned());
        match names.iter_mut().find(|(m, _)| *m == n) {
            Some((_, c)) => *c += 1,
            None => names.push((n, 1)),
        }
    }
    let mut shown: Vec<String> = names
        .iter()
        .take(NAMES_SHOWN)
        .map(|(n, c)| {
            if *c > 1 {
                format!("{n} ×{c}")
            } else {
                n.clone()
            }
        })
        .collect();
    if names.len() > NAMES_SHOWN {
        shown.push(format!("and {} other names", names.len() - NAMES_SHOWN));
    }
    let count = match events.len() {
        1 => "1 event".to_owned(),
        n => format!("{n} events"),
    };
    if shown.is_empty() {
        count
    } else {
        format!("{count}: {}", shown.join(", "))
    }
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
    Path((version, pixel_id)): Path<(String, String)>,
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
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let req = parse_events_request(ct, q.as_deref(), &body);
    let what = match &req {
        Ok(r) => events_summary(&r.events),
        Err(e) => format!("unreadable request ({})", e.message.escape_debug()),
    };
    let line = format!(
        "POST /{}/{}/events: pixel {}, {what}",
        version.escape_debug(),
        pixel_id.escape_debug(),
        pixel_id.escape_debug()
    );
    if mode == MockMode::Hang {
        tracing::info!("{line} -> no answer (mode hang)");
    }
    let resp = answer(&s, mode, &pixel_id, req).await;
    if mode != MockMode::Hang {
        let m = if mode == MockMode::Succeed {
            String::new()
        } else {
            format!(" (mode {mode:?})")
        };
        tracing::info!("{line} -> {}{m}", resp.status().as_u16());
    }
    resp
}

/// The answer to one events request, per the mode.
async fn answer(
    s: &MockState,
    mode: MockMode,
    pixel_id: &str,
    req: Result<crate::ingress::EventsRequest, crate::graph::GraphError>,
) -> Response {
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
    let req = match req {
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
                pixel_id: pixel_id.to_owned(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_counts_names_and_escapes_them() {
        let ev = |n: &str| json!({"event_name": n});
        let mut batch = vec![ev("Purchase"), ev("Lead"), ev("Purchase"), json!({})];
        assert_eq!(
            events_summary(&batch),
            "4 events: Purchase ×2, Lead, (no event_name)"
        );
        assert_eq!(events_summary(&batch[..1]), "1 event: Purchase");
        assert_eq!(events_summary(&[]), "0 events");
        // A name cannot start a new log line.
        batch = vec![ev("Lead\nINFO forged line")];
        let s = events_summary(&batch);
        assert!(!s.contains('\n') && s.contains("Lead\\nINFO"), "{s}");
        // A 1,000-event batch stays one short line.
        let many: Vec<Value> = (0..1000).map(|i| ev(&format!("E{i}"))).collect();
        let s = events_summary(&many);
        assert!(s.ends_with("and 992 other names") && s.len() < 200, "{s}");
    }
}
