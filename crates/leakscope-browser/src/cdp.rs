//! The CDP connection: one task owns the websocket, answers calls, and routes
//! events to the tab they belong to. Target bookkeeping (which session is which
//! target of which tab) lives here, never in chromiumoxide.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chromiumoxide::conn::Connection;
use chromiumoxide::types::{EventMessage, Message, Method, MethodId};
use futures::StreamExt;
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};

use crate::BrowserError;
use crate::capture::{Incident, IncidentKind, TabShared, TargetType};

/// Every message as raw JSON. Responses normally parse as
/// `Message::Response`, but serde's untagged buffering cannot read numbers
/// under serde_json's `arbitrary_precision` (on in this workspace), so they
/// land here too, and `id` tells them apart.
#[derive(serde::Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RawMsg {
    #[serde(default)]
    id: Option<Value>,
    #[serde(default)]
    method: Option<String>,
    #[serde(default)]
    session_id: Option<String>,
    #[serde(default)]
    params: Value,
    #[serde(default)]
    result: Option<Value>,
    #[serde(default)]
    error: Option<Value>,
}

impl Method for RawMsg {
    fn identifier(&self) -> MethodId {
        self.method.clone().unwrap_or_default().into()
    }
}
impl EventMessage for RawMsg {
    fn session_id(&self) -> Option<&str> {
        self.session_id.as_deref()
    }
}

type Reply = oneshot::Sender<Result<Value, BrowserError>>;

pub(crate) enum Cmd {
    Call {
        method: String,
        session: Option<String>,
        params: Value,
        reply: Reply,
    },
    AddTab {
        context_id: String,
        tab: Arc<TabShared>,
    },
    RemoveTab {
        context_id: String,
    },
}

/// Cheap handle to the connection task.
#[derive(Clone)]
pub(crate) struct Client {
    tx: mpsc::UnboundedSender<Cmd>,
    pub alive: Arc<AtomicBool>,
    pub timeout: Duration,
}

impl Client {
    pub fn send(&self, cmd: Cmd) {
        let _ = self.tx.send(cmd);
    }

    pub async fn call(
        &self,
        method: &str,
        session: Option<&str>,
        params: Value,
    ) -> Result<Value, BrowserError> {
        self.call_within(method, session, params, self.timeout)
            .await
    }

    pub async fn call_within(
        &self,
        method: &str,
        session: Option<&str>,
        params: Value,
        timeout: Duration,
    ) -> Result<Value, BrowserError> {
        if !self.alive.load(Ordering::SeqCst) {
            return Err(BrowserError::Crashed(
                "the DevTools connection is closed".into(),
            ));
        }
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Cmd::Call {
                method: method.to_owned(),
                session: session.map(str::to_owned),
                params,
                reply,
            })
            .map_err(|_| BrowserError::Crashed("the DevTools connection is closed".into()))?;
        match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(r)) => r,
            Ok(Err(_)) => Err(BrowserError::Crashed(
                "the DevTools connection closed mid-command".into(),
            )),
            Err(_) => {
                // A browser-level command that gets no answer means the
                // browser itself hangs: let the scanner relaunch it.
                if session.is_none() {
                    self.alive.store(false, Ordering::SeqCst);
                }
                Err(BrowserError::Timeout {
                    what: format!("CDP {method}"),
                    after: timeout,
                })
            }
        }
    }
}

enum Pending {
    Reply(String, Reply),
    /// Fire-and-forget set-up commands: failures are only logged.
    Ignore(&'static str),
    PostData {
        tab: Arc<TabShared>,
        request_id: String,
    },
}

struct Session {
    tab: Arc<TabShared>,
    target_id: String,
    kind: TargetType,
}

struct Driver {
    conn: Connection<RawMsg>,
    pending: HashMap<u64, Pending>,
    sessions: HashMap<String, Session>,
    tabs: HashMap<String, Arc<TabShared>>,
    /// Target ids with a live session: the service worker attaches twice.
    attached: HashSet<String>,
    /// frameId -> tab, for browser-level events that only name a frame.
    frames: HashMap<String, Arc<TabShared>>,
    tx: mpsc::WeakUnboundedSender<Cmd>,
}

pub(crate) async fn connect(ws_url: &str, timeout: Duration) -> Result<Client, BrowserError> {
    let conn = Connection::<RawMsg>::connect(ws_url)
        .await
        .map_err(|e| BrowserError::Crashed(format!("connecting to {ws_url}: {e}")))?;
    let (tx, rx) = mpsc::unbounded_channel();
    let alive = Arc::new(AtomicBool::new(true));
    let driver = Driver {
        conn,
        pending: HashMap::new(),
        sessions: HashMap::new(),
        tabs: HashMap::new(),
        attached: HashSet::new(),
        frames: HashMap::new(),
        tx: tx.downgrade(),
    };
    tokio::spawn(driver.run(rx, alive.clone()));
    Ok(Client { tx, alive, timeout })
}

fn call_key(id: &Value) -> Option<u64> {
    id.as_u64()
}

impl Driver {
    async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Cmd>, alive: Arc<AtomicBool>) {
        let why = loop {
            tokio::select! {
                cmd = rx.recv() => match cmd {
                    Some(c) => self.on_cmd(c),
                    None => break "browser handle dropped".to_string(),
                },
                msg = self.conn.next() => match msg {
                    None => break "DevTools socket closed".to_string(),
                    Some(Ok(Message::Response(r))) => {
                        let id = serde_json::to_value(r.id).ok().and_then(|v| call_key(&v));
                        let err = r.error.map(|e| e.message);
                        self.on_response(id, r.result, err);
                    }
                    Some(Ok(Message::Event(m))) => self.on_raw(m),
                    Some(Err(chromiumoxide::error::CdpError::Ws(e))) => {
                        break format!("DevTools socket error: {e}");
                    }
                    Some(Err(e)) => tracing::debug!("unreadable CDP message: {e}"),
                },
            }
        };
        tracing::debug!("CDP connection ends: {why}");
        alive.store(false, Ordering::SeqCst);
        for (_, p) in self.pending.drain() {
            if let Pending::Reply(_, r) = p {
                let _ = r.send(Err(BrowserError::Crashed(why.clone())));
            }
        }
        for tab in self.tabs.values() {
            tab.mark_crashed(&why);
        }
    }

    fn submit(&mut self, method: &str, session: Option<&str>, params: Value, p: Pending) {
        let sid = session.map(|s| s.to_owned().into());
        match self
            .conn
            .submit_command(method.to_owned().into(), sid, params)
        {
            Ok(id) => {
                if let Some(k) = serde_json::to_value(id).ok().and_then(|v| call_key(&v)) {
                    self.pending.insert(k, p);
                }
            }
            Err(e) => {
                if let Pending::Reply(m, r) = p {
                    let _ = r.send(Err(BrowserError::Cdp {
                        method: m,
                        message: e.to_string(),
                    }));
                }
            }
        }
    }

    fn fire(&mut self, method: &'static str, session: Option<&str>, params: Value) {
        self.submit(method, session, params, Pending::Ignore(method));
    }

    fn on_cmd(&mut self, cmd: Cmd) {
        match cmd {
            Cmd::Call {
                method,
                session,
                params,
                reply,
            } => {
                let m = method.clone();
                self.submit(
                    &method,
                    session.as_deref(),
                    params,
                    Pending::Reply(m, reply),
                );
            }
            Cmd::AddTab { context_id, tab } => {
                self.tabs.insert(context_id, tab);
            }
            Cmd::RemoveTab { context_id } => {
                self.tabs.remove(&context_id);
                self.sessions.retain(|_, s| s.tab.context_id != context_id);
                self.frames.retain(|_, t| t.context_id != context_id);
            }
        }
    }

    fn on_raw(&mut self, m: RawMsg) {
        if let Some(id) = &m.id {
            let err = m.error.as_ref().map(|e| {
                e.get("message")
                    .and_then(Value::as_str)
                    .unwrap_or("unknown error")
                    .to_owned()
            });
            self.on_response(call_key(id), m.result, err);
            return;
        }
        let Some(method) = m.method.as_deref() else {
            return;
        };
        self.on_event(method, m.session_id.as_deref(), &m.params);
    }

    fn on_response(&mut self, id: Option<u64>, result: Option<Value>, err: Option<String>) {
        let Some(p) = id.and_then(|k| self.pending.remove(&k)) else {
            return;
        };
        match p {
            Pending::Reply(method, r) => {
                let out = match err {
                    Some(message) => Err(BrowserError::Cdp { method, message }),
                    None => Ok(result.unwrap_or(Value::Null)),
                };
                let _ = r.send(out);
            }
            Pending::Ignore(method) => {
                if let Some(e) = err {
                    tracing::debug!("{method}: {e}");
                }
            }
            Pending::PostData { tab, request_id } => {
                tab.on_post_data(&request_id, result.as_ref(), err.as_deref());
            }
        }
    }

    fn on_event(&mut self, method: &str, session: Option<&str>, p: &Value) {
        match method {
            "Target.attachedToTarget" => return self.on_attached(session, p),
            "Target.detachedFromTarget" => {
                if let Some(sid) = p.get("sessionId").and_then(Value::as_str)
                    && let Some(s) = self.sessions.remove(sid)
                {
                    self.attached.remove(&s.target_id);
                }
                return;
            }
            "Target.targetCrashed" => {
                let tid = str_at(p, "targetId");
                let hit = self
                    .sessions
                    .values()
                    .find(|s| s.target_id == tid)
                    .map(|s| (s.tab.clone(), s.kind));
                if let Some((tab, kind)) = hit {
                    tab.on_target_crashed(&tid, kind, str_at(p, "status"));
                }
                return;
            }
            "Browser.downloadWillBegin" => {
                let frame = str_at(p, "frameId");
                if let Some(tab) = self.frames.get(&frame) {
                    tab.incident(Incident::new(
                        IncidentKind::Download,
                        str_at(p, "url"),
                        format!("download of {:?} denied", str_at(p, "suggestedFilename")),
                    ));
                }
                return;
            }
            _ => {}
        }
        let Some(sid) = session else { return };
        let Some(s) = self.sessions.get(sid) else {
            return;
        };
        let (tab, kind, target_id) = (s.tab.clone(), s.kind, s.target_id.clone());
        match method {
            "Page.javascriptDialogOpening" => {
                self.fire(
                    "Page.handleJavaScriptDialog",
                    Some(sid),
                    json!({"accept": false}),
                );
                tab.incident(Incident::new(
                    IncidentKind::Dialog,
                    str_at(p, "url"),
                    format!(
                        "{} dialog dismissed: {:?}",
                        str_at(p, "type"),
                        str_at(p, "message")
                    ),
                ));
            }
            "Page.downloadWillBegin" => {
                tab.incident(Incident::new(
                    IncidentKind::Download,
                    str_at(p, "url"),
                    format!("download of {:?} denied", str_at(p, "suggestedFilename")),
                ));
            }
            "Page.frameNavigated" | "Page.frameAttached" => {
                let fid = p
                    .pointer("/frame/id")
                    .or_else(|| p.get("frameId"))
                    .and_then(Value::as_str);
                if let Some(fid) = fid {
                    self.frames.insert(fid.to_owned(), tab.clone());
                }
                tab.on_page_event(method, sid, &target_id, p);
            }
            "Inspector.targetCrashed" => tab.on_target_crashed(&target_id, kind, String::new()),
            "Network.requestWillBeSent" => {
                if let Some(fid) = p.get("frameId").and_then(Value::as_str) {
                    self.frames
                        .entry(fid.to_owned())
                        .or_insert_with(|| tab.clone());
                }
                if let Some(rid) = tab.on_network(method, sid, kind, p) {
                    self.submit(
                        "Network.getRequestPostData",
                        Some(sid),
                        json!({"requestId": rid}),
                        Pending::PostData {
                            tab: tab.clone(),
                            request_id: rid,
                        },
                    );
                }
            }
            m if m.starts_with("Network.") => {
                tab.on_network(method, sid, kind, p);
            }
            m if m.starts_with("Page.") => tab.on_page_event(method, sid, &target_id, p),
            "Runtime.bindingCalled" => tab.on_binding(kind, sid, p),
            "Fetch.requestPaused" => self.on_paused(sid, &tab, kind, &target_id, p),
            "Runtime.exceptionThrown" => {
                let d = p.get("exceptionDetails").unwrap_or(&Value::Null);
                let text = d
                    .pointer("/exception/description")
                    .and_then(Value::as_str)
                    .map(|s| s.lines().next().unwrap_or(s).to_owned())
                    .unwrap_or_else(|| str_at(d, "text"));
                tab.on_console_error(text);
            }
            "Runtime.consoleAPICalled" if str_at(p, "type") == "error" => {
                let text = p
                    .pointer("/args/0")
                    .and_then(|a| a.get("value").or_else(|| a.get("description")))
                    .map(|v| match v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                    .unwrap_or_default();
                tab.on_console_error(format!("console.error: {text}"));
            }
            _ => {}
        }
    }

    /// A request held by `Fetch` (only with a [`crate::RequestFilter`]):
    /// decided here, on the connection task, with no round trip.
    fn on_paused(
        &mut self,
        sid: &str,
        tab: &Arc<TabShared>,
        kind: TargetType,
        target_id: &str,
        p: &Value,
    ) {
        let id = str_at(p, "requestId");
        let Some(filter) = tab.config.filter.clone() else {
            self.fire("Fetch.continueRequest", Some(sid), json!({"requestId": id}));
            return;
        };
        let rtype = str_at(p, "resourceType").to_ascii_lowercase();
        let main_frame = kind == TargetType::Page
            && rtype == "document"
            && p.get("frameId").and_then(Value::as_str) == Some(target_id);
        let url = p
            .pointer("/request/url")
            .and_then(Value::as_str)
            .unwrap_or("");
        let method = p
            .pointer("/request/method")
            .and_then(Value::as_str)
            .unwrap_or("GET");
        let page = if main_frame {
            url.to_owned()
        } else {
            tab.lock()
                .page_url
                .clone()
                .unwrap_or_else(|| url.to_owned())
        };
        let decision = filter.decide(&crate::PausedRequest {
            url,
            method,
            resource_type: &rtype,
            main_frame,
            page_url: &page,
        });
        tracing::trace!("fetch: {decision:?} {rtype} {url} (page {page})");
        match decision {
            crate::FilterDecision::Continue => {
                self.fire("Fetch.continueRequest", Some(sid), json!({"requestId": id}));
            }
            crate::FilterDecision::Block => {
                tab.on_blocked(p.get("networkId").and_then(Value::as_str));
                self.fire(
                    "Fetch.failRequest",
                    Some(sid),
                    json!({"requestId": id, "errorReason": "BlockedByClient"}),
                );
            }
            crate::FilterDecision::Rewrite(to) => {
                if let Some(nid) = p.get("networkId").and_then(Value::as_str) {
                    tab.on_rewrite(nid, url, &to);
                }
                self.fire(
                    "Fetch.continueRequest",
                    Some(sid),
                    json!({"requestId": id, "url": to}),
                );
            }
        }
    }

    fn on_attached(&mut self, parent: Option<&str>, p: &Value) {
        let Some(sid) = p
            .get("sessionId")
            .and_then(Value::as_str)
            .map(str::to_owned)
        else {
            return;
        };
        let info = p.get("targetInfo").cloned().unwrap_or(Value::Null);
        let target_id = str_at(&info, "targetId");
        let ttype = str_at(&info, "type");
        let ctx = str_at(&info, "browserContextId");
        let waiting = p
            .get("waitingForDebugger")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let tab = self.tabs.get(&ctx).cloned().or_else(|| {
            parent
                .and_then(|ps| self.sessions.get(ps))
                .map(|s| s.tab.clone())
        });
        let kind = TargetType::from_cdp(&ttype);
        let keep = match (&tab, kind) {
            (Some(_), Some(_)) => !self.attached.contains(&target_id),
            _ => false,
        };
        if !keep {
            // Not ours (default context, browser UI) or a second attach of a
            // service worker: let it run, then let go of it.
            if waiting {
                self.fire("Runtime.runIfWaitingForDebugger", Some(&sid), json!({}));
            }
            self.fire("Target.detachFromTarget", None, json!({"sessionId": sid}));
            return;
        }
        let (Some(tab), Some(kind)) = (tab, kind) else {
            return;
        };
        self.attached.insert(target_id.clone());
        self.sessions.insert(
            sid.clone(),
            Session {
                tab: tab.clone(),
                target_id: target_id.clone(),
                kind,
            },
        );
        let s = Some(sid.as_str());
        let cfg = tab.config.clone();
        if !cfg.bare {
            self.fire(
                "Network.enable",
                s,
                json!({"maxPostDataSize": POST_DATA_INLINE}),
            );
        }
        if cfg.filter.is_some() {
            // Every request of every target pauses before it leaves.
            self.fire(
                "Fetch.enable",
                s,
                json!({"patterns": [{"urlPattern": "*", "requestStage": "Request"}]}),
            );
        }
        if !cfg.extra_headers.is_empty() {
            let h: serde_json::Map<String, Value> = cfg
                .extra_headers
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect();
            self.fire("Network.setExtraHTTPHeaders", s, json!({"headers": h}));
        }
        if !cfg.user_agent.is_empty() {
            let ua = json!({"userAgent": cfg.user_agent, "platform": cfg.platform});
            match kind {
                TargetType::Page | TargetType::Iframe => {
                    self.fire("Emulation.setUserAgentOverride", s, ua)
                }
                _ => self.fire("Network.setUserAgentOverride", s, ua),
            }
        }
        if matches!(kind, TargetType::Page | TargetType::Iframe) {
            self.fire("Page.enable", s, json!({}));
            for src in &cfg.init_scripts {
                self.fire(
                    "Page.addScriptToEvaluateOnNewDocument",
                    s,
                    json!({"source": src, "runImmediately": true}),
                );
            }
            if !cfg.bindings.is_empty() {
                for b in &cfg.bindings {
                    self.fire("Runtime.addBinding", s, json!({"name": b}));
                }
                self.fire("Runtime.enable", s, json!({}));
            }
        }
        if !matches!(kind, TargetType::Page | TargetType::Iframe) {
            // The worker is paused before its first statement: this runs first.
            for src in &cfg.worker_scripts {
                self.fire("Runtime.evaluate", s, json!({"expression": src}));
            }
        }
        if kind == TargetType::Page {
            self.fire("Inspector.enable", s, json!({}));
            let (w, h, scale, mobile) = cfg.metrics;
            self.fire(
                "Emulation.setDeviceMetricsOverride",
                s,
                json!({"width": w, "height": h, "deviceScaleFactor": scale, "mobile": mobile}),
            );
            self.fire(
                "Emulation.setTouchEmulationEnabled",
                s,
                json!({"enabled": mobile, "maxTouchPoints": if mobile { 5 } else { 1 }}),
            );
        }
        self.fire(
            "Target.setAutoAttach",
            s,
            json!({"autoAttach": true, "waitForDebuggerOnStart": true, "flatten": true}),
        );
        if waiting {
            self.fire("Runtime.runIfWaitingForDebugger", s, json!({}));
        }
        let opener = str_at(&info, "openerId");
        let is_popup = kind == TargetType::Page && !tab.on_page_attached(&sid, &target_id, &opener);
        if is_popup {
            tab.incident(Incident::new(
                IncidentKind::Popup,
                str_at(&info, "url"),
                "popup window captured, then closed".into(),
            ));
            // Give the popup a moment to send what it sends, then close it.
            if let Some(tx) = self.tx.upgrade() {
                tokio::spawn(async move {
                    tokio::time::sleep(POPUP_GRACE).await;
                    let (reply, _rx) = oneshot::channel();
                    let _ = tx.send(Cmd::Call {
                        method: "Target.closeTarget".into(),
                        session: None,
                        params: json!({"targetId": target_id}),
                        reply,
                    });
                });
            }
        }
    }
}

/// Bodies up to this size come inline in `requestWillBeSent`; Chromium 156
/// does not keep larger ones for `getRequestPostData` either ("No post data
/// available"), so this is the largest body we can see at all. We keep
/// [`crate::MAX_BODY`] of it.
const POST_DATA_INLINE: u64 = 64 << 20;

/// How long a popup may run (and send requests) before it is closed.
const POPUP_GRACE: Duration = Duration::from_secs(5);

pub(crate) fn str_at(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}
