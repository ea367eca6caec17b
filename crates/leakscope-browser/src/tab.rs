//! A tab: one browser context, its main page and everything the page starts.

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::BrowserError;
use crate::capture::{BindingCall, Captured, Incident, TabShared};
use crate::cdp::{Client, Cmd, str_at};

/// Outcome of [`Tab::goto`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Navigation {
    /// The URL asked for.
    pub requested: String,
    /// The main frame's URL after the load (after redirects).
    pub url: String,
    /// Status of the main document response, when seen.
    pub status: Option<u16>,
}

/// A page in its own browser context, with capture running from creation.
/// Dropping a tab without [`Tab::close`] leaves its context to the browser.
pub struct Tab {
    shared: Arc<TabShared>,
    client: Client,
    session: String,
    target_id: String,
    context_id: String,
    /// Set by `close`; a tab dropped without it (a cancelled scan: a
    /// survey's per-site time budget) still disposes of its context.
    closed: bool,
}

impl Drop for Tab {
    fn drop(&mut self) {
        if self.closed {
            return;
        }
        // Fire and forget: the page may hang, but its context must not
        // outlive the scan that opened it in a browser kept for hours.
        let (reply, _) = tokio::sync::oneshot::channel();
        self.client.send(Cmd::Call {
            method: "Target.disposeBrowserContext".into(),
            session: None,
            params: json!({"browserContextId": self.context_id}),
            reply,
        });
        self.client.send(Cmd::RemoveTab {
            context_id: self.context_id.clone(),
        });
    }
}

impl Tab {
    pub(crate) fn new(
        shared: Arc<TabShared>,
        client: Client,
        session: String,
        target_id: String,
        context_id: String,
    ) -> Tab {
        Tab {
            shared,
            client,
            session,
            target_id,
            context_id,
            closed: false,
        }
    }

    fn check(&self) -> Result<(), BrowserError> {
        if let Some(why) = self.shared.lock().crashed.clone() {
            return Err(BrowserError::Crashed(why));
        }
        Ok(())
    }

    async fn call(&self, method: &str, params: Value, t: Duration) -> Result<Value, BrowserError> {
        self.call_on(&self.session, method, params, t).await
    }

    /// A command on one of the tab's sessions (the page's, or a frame's).
    async fn call_on(
        &self,
        session: &str,
        method: &str,
        params: Value,
        t: Duration,
    ) -> Result<Value, BrowserError> {
        self.check()?;
        self.client
            .call_within(method, Some(session), params, t)
            .await
    }

    /// Navigates the main frame and waits for its `load` event. On timeout the
    /// page is stopped and `Err(Timeout)` returned; capture goes on and the
    /// tab stays usable. Net errors (`net::ERR_TOO_MANY_REDIRECTS`...) come
    /// back as `Err(Navigation)`.
    pub async fn goto(&self, url: &str, timeout: Duration) -> Result<Navigation, BrowserError> {
        let deadline = Instant::now() + timeout;
        let mut changed = self.shared.changed.subscribe();
        let loads_before = self.shared.lock().loads;
        let nav = self
            .call("Page.navigate", json!({"url": url}), timeout)
            .await;
        let nav = match nav {
            Ok(v) => v,
            Err(e @ BrowserError::Timeout { .. }) => {
                self.stop().await;
                return Err(e);
            }
            Err(e) => return Err(e),
        };
        let err = str_at(&nav, "errorText");
        if !err.is_empty() {
            return Err(BrowserError::Navigation {
                url: url.to_owned(),
                error: err,
            });
        }
        let loader = str_at(&nav, "loaderId");
        tracing::debug!("navigation to {url} committed");
        if !loader.is_empty() {
            let wait = async {
                loop {
                    {
                        let st = self.shared.lock();
                        if let Some(why) = &st.crashed {
                            return Err(BrowserError::Crashed(why.clone()));
                        }
                        if st.loads > loads_before {
                            return Ok(());
                        }
                    }
                    if changed.changed().await.is_err() {
                        return Err(BrowserError::Crashed("tab state gone".into()));
                    }
                }
            };
            match tokio::time::timeout_at(deadline.into(), wait).await {
                Ok(r) => r?,
                Err(_) => {
                    self.stop().await;
                    return Err(BrowserError::Timeout {
                        what: format!("loading {url}"),
                        after: timeout,
                    });
                }
            }
        }
        tracing::debug!("{url} loaded");
        let st = self.shared.lock();
        let status = st
            .doc_status
            .as_ref()
            .filter(|(id, _)| *id == loader)
            .map(|(_, s)| *s);
        Ok(Navigation {
            requested: url.to_owned(),
            url: st.page_url.clone().unwrap_or_else(|| url.to_owned()),
            status,
        })
    }

    async fn stop(&self) {
        let _ = self
            .client
            .call_within(
                "Page.stopLoading",
                Some(&self.session),
                json!({}),
                Duration::from_secs(2),
            )
            .await;
    }

    /// Evaluates `js` in the main frame (promises awaited, result by value).
    /// A thrown exception is `Err(Js)` with its message.
    pub async fn evaluate(&self, js: &str, timeout: Duration) -> Result<Value, BrowserError> {
        self.evaluate_on(&self.session, None, js, timeout).await
    }

    /// Like [`Tab::evaluate`], in the document whose script made `call`: the
    /// page, a same-process iframe or an out-of-process one. Fails if that
    /// document is gone.
    pub async fn evaluate_for(
        &self,
        call: &BindingCall,
        js: &str,
        timeout: Duration,
    ) -> Result<Value, BrowserError> {
        self.evaluate_on(&call.session, call.context, js, timeout)
            .await
    }

    async fn evaluate_on(
        &self,
        session: &str,
        context: Option<i64>,
        js: &str,
        timeout: Duration,
    ) -> Result<Value, BrowserError> {
        let mut params = json!({"expression": js, "awaitPromise": true, "returnByValue": true, "userGesture": true});
        if let Some(id) = context {
            params["contextId"] = json!(id);
        }
        let r = self
            .call_on(session, "Runtime.evaluate", params, timeout)
            .await?;
        if let Some(ex) = r.get("exceptionDetails") {
            let msg = ex
                .pointer("/exception/description")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .unwrap_or_else(|| str_at(ex, "text"));
            return Err(BrowserError::Js(msg));
        }
        Ok(r.pointer("/result/value").cloned().unwrap_or(Value::Null))
    }

    /// Returns once no request has been in flight or started for `quiet`
    /// (true), or after `max` in any case (false).
    pub async fn wait_quiet(&self, quiet: Duration, max: Duration) -> bool {
        let end = Instant::now() + max;
        let started = Instant::now();
        loop {
            let now = Instant::now();
            if now >= end {
                return false;
            }
            // A crashed page's requests never finish: nothing to wait for.
            if self.check().is_err() {
                return false;
            }
            let (inflight, last) = {
                let st = self.shared.lock();
                (st.inflight, st.last_activity)
            };
            let since = now.duration_since(last.unwrap_or(started).max(started));
            if inflight == 0 && since >= quiet {
                return true;
            }
            let nap = if inflight == 0 {
                quiet.saturating_sub(since)
            } else {
                Duration::from_millis(50)
            };
            let nap = nap
                .max(Duration::from_millis(10))
                .min(end.saturating_duration_since(now));
            tokio::time::sleep(nap).await;
        }
    }

    /// PNG of the viewport.
    pub async fn screenshot(&self) -> Result<Vec<u8>, BrowserError> {
        let r = self
            .call(
                "Page.captureScreenshot",
                json!({"format": "png", "optimizeForSpeed": true}),
                self.client.timeout,
            )
            .await?;
        let data = r.get("data").and_then(Value::as_str).unwrap_or_default();
        base64::engine::general_purpose::STANDARD
            .decode(data)
            .map_err(|e| BrowserError::Protocol {
                method: "Page.captureScreenshot".into(),
                detail: format!("data is not base64: {e}"),
            })
    }

    /// The main document serialized (doctype + `outerHTML`).
    pub async fn dom_snapshot(&self) -> Result<String, BrowserError> {
        let v = self
            .evaluate(
                "(() => { const d = document.doctype ? new XMLSerializer().serializeToString(document.doctype) : ''; \
                 return d + (document.documentElement ? document.documentElement.outerHTML : ''); })()",
                self.client.timeout,
            )
            .await?;
        Ok(v.as_str().unwrap_or_default().to_owned())
    }

    /// Label stamped on requests that start from now on.
    pub fn set_step(&self, step: Option<String>) {
        self.shared.lock().step = step;
    }

    /// Consent state stamped on requests that start from now on.
    pub fn set_consent(&self, consent: Option<String>) {
        self.shared.lock().consent = consent;
    }

    /// Calls of the tab's bindings. Calls made before the first subscription
    /// are delivered to it; each call goes to every live subscriber.
    pub fn binding_calls(&self) -> mpsc::UnboundedReceiver<BindingCall> {
        self.shared.subscribe_bindings()
    }

    /// Dialogs dismissed, popups closed, downloads denied, crashes... so far.
    pub fn incidents(&self) -> Vec<Incident> {
        self.shared.lock().incidents.clone()
    }

    /// Requests not kept because the tab passed [`crate::MAX_REQUESTS_PER_TAB`].
    pub fn dropped(&self) -> u64 {
        self.shared.lock().dropped
    }

    /// URL of the top-level page now.
    pub fn page_url(&self) -> Option<String> {
        self.shared.lock().page_url.clone()
    }

    /// Requests the tab's [`crate::RequestFilter`] refused so far.
    pub fn blocked(&self) -> u64 {
        self.shared.lock().blocked
    }

    /// Uncaught exceptions and `console.error` calls of the tab's frames
    /// (first line each; frames with Runtime enabled: scans enable it).
    pub fn console_errors(&self) -> Vec<String> {
        self.shared.lock().console_errors.clone()
    }

    /// Removes and returns finished requests; in-flight ones stay.
    pub fn take_requests(&self) -> Vec<Captured> {
        self.shared.take_finished()
    }

    /// CDP session of the main page, for callers that need a raw command.
    pub fn session_id(&self) -> &str {
        &self.session
    }

    /// Sends a raw CDP command to the tab's main page.
    pub async fn cdp(&self, method: &str, params: Value) -> Result<Value, BrowserError> {
        self.call(method, params, self.client.timeout).await
    }

    /// Waits briefly for in-flight requests and bodies, closes the context
    /// (page, frames, workers, popups) and returns everything not yet taken;
    /// requests still in flight come back with `finished: false`.
    pub async fn close(mut self) -> Vec<Captured> {
        let end = Instant::now() + Duration::from_secs(2);
        while Instant::now() < end {
            let busy = self.shared.lock().inflight > 0 || self.shared.pending_bodies() > 0;
            if !busy || self.check().is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let _ = self
            .client
            .call_within(
                "Target.disposeBrowserContext",
                None,
                json!({"browserContextId": self.context_id}),
                Duration::from_secs(5),
            )
            .await;
        self.client.send(Cmd::RemoveTab {
            context_id: self.context_id.clone(),
        });
        let _ = &self.target_id;
        self.closed = true;
        self.shared.take_all()
    }
}
