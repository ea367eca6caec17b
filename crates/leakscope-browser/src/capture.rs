//! Per-tab capture state, fed with raw CDP events by the connection task.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use leakscope_core::{Exchange, Header, RequestBody, ResponseInfo, Source};
use serde_json::Value;
use tokio::sync::{mpsc, watch};

use crate::cdp::str_at;
use crate::{MAX_BODY, MAX_REQUESTS_PER_TAB};

/// Kind of target a request came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TargetType {
    Page,
    Iframe,
    Worker,
    SharedWorker,
    ServiceWorker,
}

impl TargetType {
    pub(crate) fn from_cdp(t: &str) -> Option<TargetType> {
        Some(match t {
            "page" => TargetType::Page,
            "iframe" => TargetType::Iframe,
            "worker" => TargetType::Worker,
            "shared_worker" => TargetType::SharedWorker,
            "service_worker" => TargetType::ServiceWorker,
            _ => return None,
        })
    }
    /// The CDP name: `page`, `iframe`, `worker`, `shared_worker`, `service_worker`.
    pub fn as_str(self) -> &'static str {
        match self {
            TargetType::Page => "page",
            TargetType::Iframe => "iframe",
            TargetType::Worker => "worker",
            TargetType::SharedWorker => "shared_worker",
            TargetType::ServiceWorker => "service_worker",
        }
    }
}

/// What caused a request (CDP `initiator`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Initiator {
    /// `parser`, `script`, `preload`, `other`...
    pub kind: String,
    /// The initiator URL, else the top of its JS stack.
    pub url: Option<String>,
    /// 0-based line of that URL, when known.
    pub line: Option<u64>,
}

/// The response as far as it was seen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CapturedResponse {
    pub status: u16,
    pub status_text: String,
    pub headers: Vec<(String, String)>,
    pub mime_type: Option<String>,
    /// Headers are the raw ones from `responseReceivedExtraInfo`.
    pub headers_from_extra_info: bool,
}

/// One request as Chromium sent it, with its context.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Captured {
    /// CDP `requestId` (shared by the hops of a redirect chain).
    pub request_id: String,
    /// The kind of target that sent it (`None` is never produced today).
    pub target_type: Option<TargetType>,
    /// HTTP method; `WS` for a WebSocket frame sent (body = payload).
    pub method: String,
    pub url: String,
    /// Headers actually sent (from `requestWillBeSentExtraInfo` when it came,
    /// else the ones `requestWillBeSent` announced).
    pub request_headers: Vec<(String, String)>,
    pub headers_from_extra_info: bool,
    /// Cookies sent (`associatedCookies` not blocked).
    pub cookies: Vec<(String, String)>,
    /// Request body; `None` when there was none.
    pub body: Option<Vec<u8>>,
    /// The body was longer than [`MAX_BODY`] and is cut there.
    pub body_truncated: bool,
    /// A body existed but Chromium would not give it to us.
    pub body_unavailable: bool,
    /// CDP resource type, lower case: `document`, `image`, `ping`, `fetch`, `xhr`, `websocket`...
    pub resource_type: Option<String>,
    pub initiator: Option<Initiator>,
    /// URL of the document (frame or worker) that sent it.
    pub frame_url: Option<String>,
    /// URL of the tab's top-level page when the request started.
    pub page_url: Option<String>,
    /// Seconds since the Unix epoch when the request started.
    pub wall_time: f64,
    pub step: Option<String>,
    pub consent: Option<String>,
    /// For a redirect hop: the URL that redirected here.
    pub redirected_from: Option<String>,
    pub response: Option<CapturedResponse>,
    /// Network error text (`net::ERR_...`) when the request failed.
    pub failure: Option<String>,
    /// Loading finished or failed (false: still in flight when taken).
    pub finished: bool,
    /// From start to finish, when both were seen.
    pub duration_ms: Option<f64>,
    // Monotonic CDP timestamp of the start, to compute the duration.
    pub(crate) start_ts: f64,
    pub(crate) body_pending: bool,
}

impl Captured {
    /// `Header` helper: first request header with this name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.request_headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The request as leakscope's model sees it.
    pub fn to_exchange(&self, source: Source) -> Exchange {
        let mut request_headers: Vec<Header> = self
            .request_headers
            .iter()
            .map(|(n, v)| Header::new(n, v))
            .collect();
        if !self.cookies.is_empty() && self.header("cookie").is_none() {
            let v = self
                .cookies
                .iter()
                .map(|(n, v)| format!("{n}={v}"))
                .collect::<Vec<_>>()
                .join("; ");
            request_headers.push(Header::new("Cookie", v));
        }
        let body = self.body.as_ref().map(|b| RequestBody {
            bytes: b.clone(),
            content_type: self.header("content-type").map(str::to_owned),
            params: Vec::new(),
        });
        Exchange {
            source,
            method: self.method.clone(),
            url: self.url.clone(),
            request_headers,
            body,
            response: self.response.as_ref().map(|r| ResponseInfo {
                status: r.status,
                headers: r.headers.iter().map(|(n, v)| Header::new(n, v)).collect(),
                body: None,
            }),
            initiator: self.initiator.as_ref().and_then(|i| i.url.clone()),
            frame_url: self.frame_url.clone(),
            page_url: self.page_url.clone(),
            timestamp: Some(crate::har::iso_time(self.wall_time)),
            resource_type: self.resource_type.clone(),
            consent: self.consent.clone(),
            step: self.step.clone(),
        }
    }
}

/// Something the page did that a scan should know about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IncidentKind {
    Dialog,
    Popup,
    Download,
    Crash,
    CertificateError,
    /// More than [`MAX_REQUESTS_PER_TAB`] requests: later ones were not kept.
    RequestsDropped,
}

impl IncidentKind {
    /// Same words as `PageError::kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            IncidentKind::Dialog => "dialog",
            IncidentKind::Popup => "popup",
            IncidentKind::Download => "download",
            IncidentKind::Crash => "crash",
            IncidentKind::CertificateError => "certificate",
            IncidentKind::RequestsDropped => "requests-dropped",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Incident {
    pub kind: IncidentKind,
    pub url: String,
    pub message: String,
    pub step: Option<String>,
    /// Seconds since the Unix epoch.
    pub at: f64,
}

impl Incident {
    pub(crate) fn new(kind: IncidentKind, url: String, message: String) -> Incident {
        Incident {
            kind,
            url,
            message,
            step: None,
            at: now_secs(),
        }
    }
}

/// A call of a `Runtime.addBinding` function from page script.
#[derive(Debug, Clone, PartialEq)]
pub struct BindingCall {
    pub name: String,
    /// The string the page passed.
    pub payload: String,
    /// URL of the tab's top-level page when the call arrived.
    pub frame_url: String,
    /// The page, or the out-of-process iframe, whose script called it.
    pub target_type: TargetType,
    /// Where the call came from (CDP session, execution context), so that
    /// [`crate::Tab::evaluate_for`] answers in the same document.
    pub(crate) session: String,
    pub(crate) context: Option<i64>,
}

/// Set-up every target of the tab gets.
#[derive(Debug, Clone, Default)]
pub(crate) struct TabConfig {
    pub extra_headers: Vec<(String, String)>,
    pub init_scripts: Vec<String>,
    pub worker_scripts: Vec<String>,
    pub bindings: Vec<String>,
    pub user_agent: String,
    pub platform: String,
    /// width, height, device scale factor, mobile.
    pub metrics: (u32, u32, f64, bool),
    pub bare: bool,
    pub filter: Option<Arc<dyn crate::RequestFilter>>,
}

#[derive(Default)]
pub(crate) struct TabState {
    pub step: Option<String>,
    pub consent: Option<String>,
    entries: BTreeMap<u64, Captured>,
    next_seq: u64,
    by_id: HashMap<String, u64>,
    early_req_extra: HashMap<String, Value>,
    early_resp_extra: HashMap<String, Value>,
    ws_urls: HashMap<String, (String, Option<String>)>,
    pub incidents: Vec<Incident>,
    pub dropped: u64,
    pub inflight: usize,
    pub last_activity: Option<Instant>,
    pub page_url: Option<String>,
    pub main_session: Option<String>,
    pub main_target: Option<String>,
    /// Bumped on every main-frame `load` event.
    pub loads: u64,
    pub crashed: Option<String>,
    /// Last main-frame document response: (loader/request id, status).
    pub doc_status: Option<(String, u16)>,
    bindings: Vec<mpsc::UnboundedSender<BindingCall>>,
    binding_backlog: Vec<BindingCall>,
    /// Requests a filter rewrote: network id → (URL asked, URL sent).
    rewrites: HashMap<String, (String, String)>,
    /// Requests a filter refused, and their network ids.
    pub blocked: u64,
    blocked_ids: std::collections::HashSet<String>,
    /// Uncaught exceptions and `console.error` calls, first lines, at most
    /// [`MAX_CONSOLE_ERRORS`].
    pub console_errors: Vec<String>,
}

const MAX_CONSOLE_ERRORS: usize = 50;

/// The failure a request refused by a [`crate::RequestFilter`] carries, as
/// Chromium words an ad blocker's refusal (readers skip such requests).
pub const BLOCKED_BY_RULES: &str = "net::ERR_BLOCKED_BY_CLIENT";

pub(crate) struct TabShared {
    pub context_id: String,
    pub config: Arc<TabConfig>,
    state: Mutex<TabState>,
    /// Bumped whenever something a waiter may care about changed.
    pub changed: watch::Sender<u64>,
}

fn now_secs() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// CDP header objects: `{name: value}`; repeated headers are joined by `\n`.
fn header_list(v: Option<&Value>) -> Vec<(String, String)> {
    let Some(obj) = v.and_then(Value::as_object) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (k, v) in obj {
        let s = match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        for part in s.split('\n') {
            out.push((k.clone(), part.to_owned()));
        }
    }
    out
}

fn response_of(r: &Value) -> CapturedResponse {
    CapturedResponse {
        status: r
            .get("status")
            .and_then(Value::as_u64)
            .and_then(|s| u16::try_from(s).ok())
            .unwrap_or(0),
        status_text: str_at(r, "statusText"),
        headers: header_list(r.get("headers")),
        mime_type: r.get("mimeType").and_then(Value::as_str).map(str::to_owned),
        headers_from_extra_info: false,
    }
}

fn initiator_of(v: &Value) -> Option<Initiator> {
    let v = v.get("initiator")?;
    let mut url = v
        .get("url")
        .and_then(Value::as_str)
        .filter(|u| !u.is_empty())
        .map(str::to_owned);
    let mut line = v.get("lineNumber").and_then(Value::as_u64);
    if url.is_none() {
        // Top of the stack, walking to async parents when a frame list is empty.
        let mut st = v.get("stack");
        while let Some(s) = st {
            let top = s
                .get("callFrames")
                .and_then(Value::as_array)
                .and_then(|fs| {
                    fs.iter().find(|f| {
                        f.get("url")
                            .and_then(Value::as_str)
                            .is_some_and(|u| !u.is_empty())
                    })
                });
            if let Some(f) = top {
                url = f.get("url").and_then(Value::as_str).map(str::to_owned);
                line = f.get("lineNumber").and_then(Value::as_u64);
                break;
            }
            st = s.get("parent");
        }
    }
    Some(Initiator {
        kind: str_at(v, "type"),
        url,
        line,
    })
}

fn cap(mut b: Vec<u8>) -> (Vec<u8>, bool) {
    if b.len() > MAX_BODY {
        b.truncate(MAX_BODY);
        b.shrink_to_fit();
        (b, true)
    } else {
        (b, false)
    }
}

impl TabShared {
    pub fn new(context_id: String, config: TabConfig) -> TabShared {
        TabShared {
            context_id,
            config: Arc::new(config),
            state: Mutex::new(TabState::default()),
            changed: watch::channel(0).0,
        }
    }

    pub fn lock(&self) -> MutexGuard<'_, TabState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn bump(&self) {
        self.changed.send_modify(|n| *n = n.wrapping_add(1));
    }

    pub fn incident(&self, mut i: Incident) {
        let mut st = self.lock();
        // Downloads are announced both per page and browser-wide.
        if i.kind == IncidentKind::Download
            && st
                .incidents
                .iter()
                .any(|o| o.kind == i.kind && o.url == i.url)
        {
            return;
        }
        i.step = st.step.clone();
        st.incidents.push(i);
    }

    pub fn mark_crashed(&self, why: &str) {
        self.lock().crashed.get_or_insert_with(|| why.to_owned());
        self.bump();
    }

    pub fn on_target_crashed(&self, target_id: &str, kind: TargetType, status: String) {
        let (main, known) = {
            let st = self.lock();
            (
                st.main_target.as_deref() == Some(target_id),
                st.crashed.is_some(),
            )
        };
        // Chromium reports one crash twice (Target.targetCrashed with a
        // status, Inspector.targetCrashed without): one incident.
        if main && known {
            return;
        }
        let status = if status.is_empty() {
            String::new()
        } else {
            format!(" ({status})")
        };
        self.incident(Incident::new(
            IncidentKind::Crash,
            String::new(),
            format!("the {} renderer crashed{status}", kind.as_str()),
        ));
        if main {
            self.mark_crashed("the page's renderer crashed (the browser itself went on)");
        }
    }

    /// Records a page target; returns false when it is a popup (the tab's
    /// main page is the first page without an opener).
    pub fn on_page_attached(&self, session: &str, target_id: &str, opener: &str) -> bool {
        let mut st = self.lock();
        if st.main_session.is_none() && opener.is_empty() {
            st.main_session = Some(session.to_owned());
            st.main_target = Some(target_id.to_owned());
            drop(st);
            self.bump();
            return true;
        }
        false
    }

    pub fn subscribe_bindings(&self) -> mpsc::UnboundedReceiver<BindingCall> {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut st = self.lock();
        for c in st.binding_backlog.drain(..) {
            let _ = tx.send(c);
        }
        st.bindings.push(tx);
        rx
    }

    pub fn on_binding(&self, kind: TargetType, session: &str, p: &Value) {
        let mut st = self.lock();
        let call = BindingCall {
            name: str_at(p, "name"),
            payload: str_at(p, "payload"),
            frame_url: st.page_url.clone().unwrap_or_default(),
            target_type: kind,
            session: session.to_owned(),
            context: p.get("executionContextId").and_then(Value::as_i64),
        };
        st.bindings.retain(|tx| !tx.is_closed());
        if st.bindings.is_empty() {
            if st.binding_backlog.len() < 10_000 {
                st.binding_backlog.push(call);
            }
        } else {
            for tx in &st.bindings {
                let _ = tx.send(call.clone());
            }
        }
    }

    pub fn on_page_event(&self, method: &str, session: &str, target_id: &str, p: &Value) {
        let mut st = self.lock();
        if st.main_session.as_deref() != Some(session) {
            return;
        }
        match method {
            "Page.loadEventFired" => {
                st.loads += 1;
                drop(st);
                self.bump();
            }
            "Page.frameNavigated" => {
                let f = p.get("frame").unwrap_or(&Value::Null);
                let is_main = f.get("parentId").is_none() || str_at(f, "id") == target_id;
                if is_main && let Some(u) = f.get("url").and_then(Value::as_str) {
                    let frag = f.get("urlFragment").and_then(Value::as_str).unwrap_or("");
                    st.page_url = Some(format!("{u}{frag}"));
                }
            }
            _ => {}
        }
    }

    fn touch(st: &mut TabState) {
        st.last_activity = Some(Instant::now());
    }

    fn new_entry(&self, st: &mut TabState, c: Captured) -> bool {
        if st.entries.len() >= MAX_REQUESTS_PER_TAB {
            st.dropped += 1;
            if st.dropped == 1 {
                let mut i = Incident::new(
                    IncidentKind::RequestsDropped,
                    st.page_url.clone().unwrap_or_default(),
                    format!("more than {MAX_REQUESTS_PER_TAB} requests; later ones not kept"),
                );
                i.step = st.step.clone();
                st.incidents.push(i);
            }
            return false;
        }
        let seq = st.next_seq;
        st.next_seq += 1;
        st.by_id.insert(c.request_id.clone(), seq);
        if !c.finished {
            st.inflight += 1;
        }
        st.entries.insert(seq, c);
        true
    }

    fn current<'a>(st: &'a mut TabState, rid: &str) -> Option<&'a mut Captured> {
        let seq = *st.by_id.get(rid)?;
        st.entries.get_mut(&seq)
    }

    fn finish(st: &mut TabState, rid: &str, ts: Option<f64>, failure: Option<String>) {
        let Some(seq) = st.by_id.get(rid).copied() else {
            return;
        };
        let Some(c) = st.entries.get_mut(&seq) else {
            return;
        };
        if c.finished {
            return;
        }
        c.finished = true;
        if let Some(f) = failure {
            c.failure = Some(f);
        }
        if let Some(t) = ts
            && c.start_ts > 0.0
        {
            c.duration_ms = Some(((t - c.start_ts) * 1000.0).max(0.0));
        }
        st.inflight = st.inflight.saturating_sub(1);
    }

    fn apply_req_extra(c: &mut Captured, p: &Value) {
        let h = header_list(p.get("headers"));
        if !h.is_empty() {
            c.request_headers = h;
            c.headers_from_extra_info = true;
        }
        if let Some(list) = p.get("associatedCookies").and_then(Value::as_array) {
            c.cookies = list
                .iter()
                .filter(|a| {
                    a.get("blockedReasons")
                        .and_then(Value::as_array)
                        .is_none_or(|b| b.is_empty())
                })
                .filter_map(|a| {
                    let ck = a.get("cookie")?;
                    Some((str_at(ck, "name"), str_at(ck, "value")))
                })
                .collect();
        }
    }

    fn apply_resp_extra(c: &mut Captured, p: &Value) {
        let r = c.response.get_or_insert_with(CapturedResponse::default);
        let h = header_list(p.get("headers"));
        if !h.is_empty() {
            r.headers = h;
            r.headers_from_extra_info = true;
        }
        if r.status == 0
            && let Some(s) = p
                .get("statusCode")
                .and_then(Value::as_u64)
                .and_then(|s| u16::try_from(s).ok())
        {
            r.status = s;
        }
    }

    /// Handles a `Network.*` event. Returns a request id whose body must be
    /// fetched with `Network.getRequestPostData`.
    pub fn on_network(
        &self,
        method: &str,
        _session: &str,
        kind: TargetType,
        p: &Value,
    ) -> Option<String> {
        let rid = str_at(p, "requestId");
        if rid.is_empty() {
            return None;
        }
        let mut st = self.lock();
        let st = &mut *st;
        match method {
            "Network.requestWillBeSent" => {
                let req = p.get("request").unwrap_or(&Value::Null);
                let mut redirected_from = None;
                if let Some(redir) = p.get("redirectResponse") {
                    // The previous hop ends with its 3xx response.
                    if let Some(prev) = Self::current(st, &rid) {
                        let mut r = response_of(redir);
                        if let Some(old) = prev.response.take()
                            && old.headers_from_extra_info
                        {
                            r.headers = old.headers;
                            r.headers_from_extra_info = true;
                        }
                        prev.response = Some(r);
                        redirected_from = Some(prev.url.clone());
                    }
                    Self::finish(st, &rid, p.get("timestamp").and_then(Value::as_f64), None);
                } else if let Some(prev) = Self::current(st, &rid)
                    && !prev.finished
                {
                    // Same request reported by a second session: keep the first.
                    return None;
                }
                Self::touch(st);
                let mut url = str_at(req, "url");
                if let Some(frag) = req.get("urlFragment").and_then(Value::as_str) {
                    url.push_str(frag);
                }
                let mut body = None;
                let mut truncated = false;
                let mut pending = false;
                let has_post = req.get("hasPostData").and_then(Value::as_bool) == Some(true);
                if let Some(entries) = req.get("postDataEntries").and_then(Value::as_array) {
                    let mut bytes = Vec::new();
                    let mut complete = true;
                    for e in entries {
                        match e.get("bytes").and_then(Value::as_str) {
                            Some(b64) => {
                                match base64::engine::general_purpose::STANDARD.decode(b64) {
                                    Ok(b) => bytes.extend_from_slice(&b),
                                    Err(_) => complete = false,
                                }
                            }
                            None => complete = false,
                        }
                        if bytes.len() > MAX_BODY {
                            break;
                        }
                    }
                    let (b, t) = cap(bytes);
                    truncated = t;
                    body = Some(b);
                    pending = !complete && !truncated;
                } else if let Some(pd) = req.get("postData").and_then(Value::as_str) {
                    let (b, t) = cap(pd.as_bytes().to_vec());
                    truncated = t;
                    body = Some(b);
                } else if has_post {
                    pending = true;
                }
                let resource_type = p
                    .get("type")
                    .and_then(Value::as_str)
                    .map(str::to_ascii_lowercase);
                let page_url = if resource_type.as_deref() == Some("document")
                    && kind == TargetType::Page
                    && p.get("frameId").and_then(Value::as_str) == st.main_target.as_deref()
                {
                    Some(url.clone())
                } else {
                    st.page_url.clone()
                };
                let c = Captured {
                    request_id: rid.clone(),
                    target_type: Some(kind),
                    method: str_at(req, "method"),
                    url,
                    request_headers: header_list(req.get("headers")),
                    headers_from_extra_info: false,
                    cookies: Vec::new(),
                    body,
                    body_truncated: truncated,
                    body_unavailable: false,
                    resource_type,
                    initiator: initiator_of(p),
                    frame_url: p
                        .get("documentURL")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                    page_url,
                    wall_time: p
                        .get("wallTime")
                        .and_then(Value::as_f64)
                        .unwrap_or_else(now_secs),
                    step: st.step.clone(),
                    consent: st.consent.clone(),
                    redirected_from,
                    response: None,
                    failure: None,
                    finished: false,
                    duration_ms: None,
                    start_ts: p.get("timestamp").and_then(Value::as_f64).unwrap_or(0.0),
                    body_pending: pending,
                };
                if !self.new_entry(st, c) {
                    return None;
                }
                if let Some(extra) = st.early_req_extra.remove(&rid)
                    && let Some(c) = Self::current(st, &rid)
                {
                    Self::apply_req_extra(c, &extra);
                }
                if pending { Some(rid) } else { None }
            }
            "Network.requestWillBeSentExtraInfo" => {
                match Self::current(st, &rid) {
                    Some(c) if !c.headers_from_extra_info => Self::apply_req_extra(c, p),
                    // Not seen yet (or the next redirect hop's): keep it for requestWillBeSent.
                    _ => {
                        if st.early_req_extra.len() < 4096 {
                            st.early_req_extra.insert(rid, p.clone());
                        }
                    }
                }
                None
            }
            "Network.responseReceived" => {
                if str_at(p, "type") == "Document"
                    && p.get("frameId").and_then(Value::as_str) == st.main_target.as_deref()
                {
                    let status = p
                        .pointer("/response/status")
                        .and_then(Value::as_u64)
                        .and_then(|s| u16::try_from(s).ok())
                        .unwrap_or(0);
                    st.doc_status = Some((rid.clone(), status));
                }
                // A document served as an attachment is a download (denied):
                // the browser-level download events do not always come.
                if str_at(p, "type") == "Document" {
                    let attach = p
                        .pointer("/response/headers")
                        .and_then(Value::as_object)
                        .and_then(|h| {
                            h.iter()
                                .find(|(k, _)| k.eq_ignore_ascii_case("content-disposition"))
                        })
                        .and_then(|(_, v)| v.as_str())
                        .is_some_and(|v| {
                            v.trim_start()
                                .to_ascii_lowercase()
                                .starts_with("attachment")
                        });
                    if attach {
                        let url = str_at(p.get("response").unwrap_or(&Value::Null), "url");
                        if !st
                            .incidents
                            .iter()
                            .any(|o| o.kind == IncidentKind::Download && o.url == url)
                        {
                            let mut i = Incident::new(
                                IncidentKind::Download,
                                url,
                                "download (Content-Disposition: attachment) denied".into(),
                            );
                            i.step = st.step.clone();
                            st.incidents.push(i);
                        }
                    }
                }
                if let Some(c) = Self::current(st, &rid) {
                    let mut r = response_of(p.get("response").unwrap_or(&Value::Null));
                    if let Some(old) = c.response.take()
                        && old.headers_from_extra_info
                    {
                        r.headers = old.headers;
                        r.headers_from_extra_info = true;
                    }
                    c.response = Some(r);
                }
                if let Some(extra) = st.early_resp_extra.remove(&rid)
                    && let Some(c) = Self::current(st, &rid)
                {
                    Self::apply_resp_extra(c, &extra);
                }
                None
            }
            "Network.responseReceivedExtraInfo" => {
                match Self::current(st, &rid) {
                    Some(c)
                        if !c
                            .response
                            .as_ref()
                            .is_some_and(|r| r.headers_from_extra_info) =>
                    {
                        Self::apply_resp_extra(c, p)
                    }
                    _ => {
                        if st.early_resp_extra.len() < 4096 {
                            st.early_resp_extra.insert(rid, p.clone());
                        }
                    }
                }
                None
            }
            "Network.loadingFinished" => {
                Self::finish(st, &rid, p.get("timestamp").and_then(Value::as_f64), None);
                Self::touch(st);
                None
            }
            "Network.loadingFailed" => {
                let mut err = str_at(p, "errorText");
                if let Some(b) = p.get("blockedReason").and_then(Value::as_str) {
                    err = format!("{err} (blocked: {b})");
                }
                if err.starts_with("net::ERR_CERT") {
                    let url = Self::current(st, &rid)
                        .map(|c| c.url.clone())
                        .unwrap_or_default();
                    let mut i = Incident::new(IncidentKind::CertificateError, url, err.clone());
                    i.step = st.step.clone();
                    st.incidents.push(i);
                }
                Self::finish(
                    st,
                    &rid,
                    p.get("timestamp").and_then(Value::as_f64),
                    Some(err),
                );
                Self::touch(st);
                None
            }
            "Network.webSocketCreated" => {
                let url = str_at(p, "url");
                let init = initiator_of(p).and_then(|i| i.url);
                st.ws_urls.insert(rid, (url, init));
                None
            }
            "Network.webSocketWillSendHandshakeRequest" => {
                let (url, init) = st.ws_urls.get(&rid).cloned().unwrap_or_default();
                let req = p.get("request").unwrap_or(&Value::Null);
                let c = Captured {
                    request_id: rid.clone(),
                    target_type: Some(kind),
                    method: "GET".into(),
                    url,
                    request_headers: header_list(req.get("headers")),
                    resource_type: Some("websocket".into()),
                    initiator: init.map(|u| Initiator {
                        kind: "script".into(),
                        url: Some(u),
                        line: None,
                    }),
                    page_url: st.page_url.clone(),
                    frame_url: st.page_url.clone(),
                    wall_time: p
                        .get("wallTime")
                        .and_then(Value::as_f64)
                        .unwrap_or_else(now_secs),
                    step: st.step.clone(),
                    consent: st.consent.clone(),
                    start_ts: p.get("timestamp").and_then(Value::as_f64).unwrap_or(0.0),
                    ..Captured::default()
                };
                self.new_entry(st, c);
                Self::touch(st);
                None
            }
            "Network.webSocketHandshakeResponseReceived" => {
                if let Some(c) = Self::current(st, &rid) {
                    let r = p.get("response").unwrap_or(&Value::Null);
                    c.response = Some(response_of(r));
                }
                // The handshake is done; frames are captured on their own.
                Self::finish(st, &rid, p.get("timestamp").and_then(Value::as_f64), None);
                None
            }
            "Network.webSocketFrameSent" => {
                let (url, init) = st.ws_urls.get(&rid).cloned().unwrap_or_default();
                let r = p.get("response").unwrap_or(&Value::Null);
                let data = str_at(r, "payloadData");
                let opcode = r.get("opcode").and_then(Value::as_u64).unwrap_or(1);
                let raw = if opcode == 2 {
                    base64::engine::general_purpose::STANDARD
                        .decode(data.as_bytes())
                        .unwrap_or_else(|_| data.into_bytes())
                } else {
                    data.into_bytes()
                };
                let (b, t) = cap(raw);
                let c = Captured {
                    request_id: format!("{rid}#ws{}", st.next_seq),
                    target_type: Some(kind),
                    method: "WS".into(),
                    url,
                    body: Some(b),
                    body_truncated: t,
                    resource_type: Some("websocket".into()),
                    initiator: init.map(|u| Initiator {
                        kind: "script".into(),
                        url: Some(u),
                        line: None,
                    }),
                    page_url: st.page_url.clone(),
                    frame_url: st.page_url.clone(),
                    wall_time: now_secs(),
                    step: st.step.clone(),
                    consent: st.consent.clone(),
                    finished: true,
                    ..Captured::default()
                };
                self.new_entry(st, c);
                Self::touch(st);
                None
            }
            _ => None,
        }
    }

    pub fn on_post_data(&self, rid: &str, result: Option<&Value>, err: Option<&str>) {
        let mut st = self.lock();
        let Some(c) = Self::current(&mut st, rid) else {
            return;
        };
        c.body_pending = false;
        let data = result
            .and_then(|r| r.get("postData"))
            .and_then(Value::as_str);
        match (data, err) {
            (Some(d), None) => {
                let b64 = result
                    .and_then(|r| r.get("base64Encoded"))
                    .and_then(Value::as_bool)
                    == Some(true);
                let bytes = if b64 {
                    base64::engine::general_purpose::STANDARD
                        .decode(d.as_bytes())
                        .unwrap_or_else(|_| d.as_bytes().to_vec())
                } else {
                    d.as_bytes().to_vec()
                };
                // Entries we already hold may be a complete prefix; the full body wins.
                if c.body.as_ref().is_none_or(|b| b.len() <= bytes.len()) {
                    let (b, t) = cap(bytes);
                    c.body = Some(b);
                    c.body_truncated |= t;
                }
            }
            _ => {
                if c.body.as_ref().is_none_or(|b| b.is_empty()) {
                    c.body_unavailable = true;
                }
            }
        }
    }

    /// A filter sent `network_id` to `sent` instead of `asked`.
    pub fn on_rewrite(&self, network_id: &str, asked: &str, sent: &str) {
        let mut st = self.lock();
        if st.rewrites.len() < 100_000 {
            st.rewrites
                .insert(network_id.to_owned(), (asked.to_owned(), sent.to_owned()));
        }
    }

    pub fn on_console_error(&self, text: String) {
        let mut st = self.lock();
        if st.console_errors.len() < MAX_CONSOLE_ERRORS {
            let text: String = text.chars().take(300).collect();
            st.console_errors.push(text);
        }
    }

    pub fn on_blocked(&self, network_id: Option<&str>) {
        let mut st = self.lock();
        st.blocked += 1;
        if let Some(id) = network_id
            && st.blocked_ids.len() < 100_000
        {
            st.blocked_ids.insert(id.to_owned());
        }
    }

    /// What a filter did, applied to the capture: the URL that left for
    /// requests it rewrote (the Network domain reports the URL the page
    /// asked for), and a failure for requests it refused even when Chromium
    /// never reported one (a beacon sent as the page navigates away stays
    /// "in flight" after `Fetch.failRequest`; it never left).
    fn apply_decisions(st: &TabState, out: &mut [Captured]) {
        for c in out.iter_mut() {
            if c.failure.is_none() && st.blocked_ids.contains(&c.request_id) {
                c.failure = Some(format!("{BLOCKED_BY_RULES} (refused by the --block rules)"));
                c.finished = true;
            }
        }
        if st.rewrites.is_empty() {
            return;
        }
        for c in out {
            if let Some((asked, sent)) = st.rewrites.get(&c.request_id)
                && &c.url == asked
            {
                c.url = sent.clone();
            }
        }
    }

    /// Removes finished requests (whose body is known), oldest first.
    pub fn take_finished(&self) -> Vec<Captured> {
        let mut st = self.lock();
        let done: Vec<u64> = st
            .entries
            .iter()
            .filter(|(_, c)| c.finished && !c.body_pending)
            .map(|(k, _)| *k)
            .collect();
        let mut out: Vec<Captured> = done
            .into_iter()
            .filter_map(|k| st.entries.remove(&k))
            .collect();
        Self::apply_decisions(&st, &mut out);
        // Late events for drained requests are dropped, so their ids can go.
        let st = &mut *st;
        st.by_id.retain(|_, seq| st.entries.contains_key(seq));
        out
    }

    /// Removes everything; unfinished requests keep `finished: false`.
    pub fn take_all(&self) -> Vec<Captured> {
        let mut st = self.lock();
        st.inflight = 0;
        st.by_id.clear();
        let mut out: Vec<Captured> = std::mem::take(&mut st.entries).into_values().collect();
        Self::apply_decisions(&st, &mut out);
        out
    }

    pub fn pending_bodies(&self) -> usize {
        self.lock()
            .entries
            .values()
            .filter(|c| c.body_pending)
            .count()
    }
}
