//! The HTTP service: ingress, consent records, health, metrics.

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use tokio::sync::{Notify, Semaphore};

use crate::audit::{AuditEntry, AuditKind};
use crate::config::{GatewayConfig, KeyConfig, is_graph_version, sha256_hex};
use crate::graph::{EventsResponse, GraphError, trace_id};
use crate::ingress::parse_events_request;
use crate::metrics::Metrics;
use crate::policy::{self, Policy, Verdict};
use crate::store::{Accept, AcceptItem, Forward, ItemOutcome, Store};

/// Everything a request handler needs.
#[derive(Clone)]
pub struct AppState {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) config: GatewayConfig,
    pub(crate) policy: Policy,
    pub(crate) store: Store,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) in_flight: Semaphore,
    /// Wakes idle delivery workers when events are queued.
    pub(crate) queued: Arc<Notify>,
}

impl AppState {
    /// Builds the state from a configuration, a compiled policy and an open store.
    pub fn new(config: GatewayConfig, policy: Policy, store: Store) -> Self {
        let permits = config.limits.max_in_flight;
        Self {
            inner: Arc::new(Inner {
                config,
                policy,
                store,
                metrics: Arc::new(Metrics::new()),
                in_flight: Semaphore::new(permits),
                queued: Arc::new(Notify::new()),
            }),
        }
    }
    /// The metrics (shared with the delivery workers).
    pub fn metrics(&self) -> Arc<Metrics> {
        self.inner.metrics.clone()
    }
    /// The store.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }
    /// The configuration.
    pub fn config(&self) -> &GatewayConfig {
        &self.inner.config
    }
    /// Notified whenever events are queued.
    pub fn queued_notify(&self) -> Arc<Notify> {
        self.inner.queued.clone()
    }
}

/// The router: `POST /{version}/{pixel_id}/events` (and unversioned),
/// `POST /consent`, `GET /healthz`, `/readyz`, `/metrics`.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/{version}/{pixel_id}/events", post(events_versioned))
        .route("/{pixel_id}/events", post(events_unversioned))
        .route("/consent", post(consent))
        .route("/{version}/{pixel_id}/consent", post(consent_for_pixel))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .fallback(|| async {
            GraphError::unsupported(
                "Unknown path: the gateway serves POST /{version}/{pixel_id}/events, POST /consent, \
                 /healthz, /readyz and /metrics",
            )
        })
        .with_state(state)
}

async fn readyz(State(st): State<AppState>) -> Response {
    match st.inner.store.ping().await {
        Ok(()) => (StatusCode::OK, "ready\n").into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readyz: store unreachable");
            (StatusCode::SERVICE_UNAVAILABLE, "store unreachable\n").into_response()
        }
    }
}

async fn metrics(State(st): State<AppState>) -> Response {
    let m = &st.inner.metrics;
    m.queue_depth.set(st.inner.store.depth());
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        m.encode(),
    )
        .into_response()
}

async fn events_versioned(
    State(st): State<AppState>,
    Path((version, pixel_id)): Path<(String, String)>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    if !is_graph_version(&version) {
        return GraphError::unsupported(format!(
            "Unknown path component {version:?}: expected a Graph API version like v25.0"
        ))
        .into_response();
    }
    handle_events(st, pixel_id, q, headers, body).await
}

async fn events_unversioned(
    State(st): State<AppState>,
    Path(pixel_id): Path<String>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    handle_events(st, pixel_id, q, headers, body).await
}

async fn handle_events(
    st: AppState,
    pixel_id: String,
    q: Option<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let start = Instant::now();
    let m = st.inner.metrics.clone();
    let r = match ingest(&st, &pixel_id, q, &headers, body).await {
        Ok(r) => r.into_response(),
        Err(e) => {
            let class = match e.code {
                190 | 200 => "auth",
                2 | 4 => "overload",
                _ => "invalid",
            };
            m.rejected.get_or_create(&Metrics::reason(class)).inc();
            tracing::info!(pixel_id, code = e.code, status = e.status.as_u16(), fbtrace_id = %e.fbtrace_id, message = %e.message, "request refused");
            e.into_response()
        }
    };
    m.ingress_seconds.observe(start.elapsed().as_secs_f64());
    r
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("OAuth "))
        })
        .map(|s| s.trim().to_owned())
}

/// Finds the client's key; with no keys configured the gateway is open
/// (allowed only on a loopback listener: `serve` refuses otherwise).
fn authenticate<'a>(
    cfg: &'a GatewayConfig,
    token: Option<&str>,
    pixel_id: &str,
) -> Result<Option<&'a KeyConfig>, GraphError> {
    if cfg.keys.is_empty() {
        return Ok(None);
    }
    let token = token.ok_or_else(|| {
        GraphError::auth("An access token is required: send your gateway key as access_token")
    })?;
    let key = cfg
        .key_for(token)
        .ok_or_else(|| GraphError::auth("Invalid OAuth access token: not a key of this gateway"))?;
    if !key.pixels.is_empty() && !key.pixels.iter().any(|p| p == pixel_id) {
        return Err(GraphError::permission(format!(
            "This gateway key may not send events to pixel {pixel_id}"
        )));
    }
    Ok(Some(key))
}

async fn read_body(body: Body, limit: usize) -> Result<axum::body::Bytes, GraphError> {
    to_bytes(body, limit).await.map_err(|e| {
        let too_big = std::error::Error::source(&e)
            .is_some_and(|s| s.is::<http_body_util::LengthLimitError>())
            || e.to_string().contains("length limit");
        if too_big {
            GraphError::invalid(format!(
                "the request body is larger than this gateway's limit of {limit} bytes \
                 (limits.body_limit): send fewer events per request"
            ))
        } else {
            GraphError::invalid(format!("the request body could not be read: {e}"))
        }
    })
}

fn overload_guard(st: &AppState) -> Result<tokio::sync::SemaphorePermit<'_>, GraphError> {
    let permit = st.inner.in_flight.try_acquire().map_err(|_| {
        GraphError::overloaded(
            StatusCode::SERVICE_UNAVAILABLE,
            "The gateway is at its limit of requests in flight; retry shortly",
            1,
        )
    })?;
    let depth = st.inner.store.depth();
    if depth >= 0 && depth as u64 >= st.inner.config.limits.max_queue_depth {
        return Err(GraphError::overloaded(
            StatusCode::TOO_MANY_REQUESTS,
            format!("The gateway's queue is full ({depth} events pending upstream); retry later"),
            5,
        ));
    }
    Ok(permit)
}

async fn ingest(
    st: &AppState,
    pixel_id: &str,
    q: Option<String>,
    headers: &HeaderMap,
    body: Body,
) -> Result<axum::Json<EventsResponse>, GraphError> {
    let _permit = overload_guard(st)?;
    let cfg = &st.inner.config;
    if pixel_id.is_empty() || pixel_id.len() > 32 || !pixel_id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(GraphError::unsupported(format!(
            "Unsupported post request. Object with ID '{}' does not exist: a pixel (dataset) id is digits only",
            pixel_id.chars().take(40).collect::<String>()
        )));
    }
    let bytes = read_body(body, cfg.limits.body_limit).await?;
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let req = parse_events_request(ct, q.as_deref(), &bytes)?;
    let token = req.access_token.clone().or_else(|| bearer(headers));
    let key = authenticate(cfg, token.as_deref(), pixel_id)?;
    for (i, ev) in req.events.iter().enumerate() {
        policy::validate_event(ev)
            .map_err(|e| GraphError::invalid(format!("(#100) data[{i}]: {e}")))?;
    }
    let n = req.events.len();
    let fbtrace_id = trace_id();

    let mut events = req.events;
    for ev in &mut events {
        lift_consent(ev);
    }
    // Consent records for all events in one store round trip.
    let lookups: Vec<Vec<String>> = events.iter().map(record_lookup_keys).collect();
    let consents = if lookups.iter().all(Vec::is_empty) {
        vec![None; n]
    } else {
        st.inner
            .store
            .consent_many(lookups)
            .await
            .map_err(store_unavailable)?
    };

    let mut items = Vec::with_capacity(n);
    let (mut blocked, mut redacted) = (0usize, 0usize);
    for (ev, consent) in events.iter().zip(consents) {
        let consent = consent.as_deref().and_then(consent_record);
        let d = st.inner.policy.evaluate(pixel_id, ev, consent.as_ref());
        let mut audit = Vec::new();
        let forward = match &d.verdict {
            Verdict::Block { reason } => {
                blocked += 1;
                st.inner
                    .metrics
                    .blocked
                    .get_or_create(&Metrics::reason(reason_class(reason)))
                    .inc();
                audit.push(AuditEntry::event(
                    AuditKind::Blocked,
                    pixel_id,
                    ev,
                    json!({"reason": reason.to_string(), "why": reason, "notes": d.notes}),
                ));
                None
            }
            Verdict::Forward => {
                if !d.redactions.is_empty() {
                    redacted += 1;
                    audit.push(AuditEntry::event(
                        AuditKind::Redacted,
                        pixel_id,
                        ev,
                        json!({"fields": redaction_list(&d.redactions)}),
                    ));
                }
                let sent_url = d
                    .event
                    .get("event_source_url")
                    .cloned()
                    .unwrap_or(Value::Null);
                // The record keeps the original page path (for `audit show
                // --path-prefix`) and ids; the event that goes upstream is the rewritten one.
                let mut rec = AuditEntry::event(
                    AuditKind::Forwarded,
                    pixel_id,
                    ev,
                    json!({"sent_event_source_url": sent_url, "notes": d.notes}),
                );
                if rec.event_id.is_none() {
                    rec.event_id = d
                        .event
                        .get("event_id")
                        .and_then(Value::as_str)
                        .map(str::to_owned);
                }
                Some(Forward {
                    event: d.event.to_string(),
                    dedup: policy::dedup_key(&d.event),
                    record: rec,
                })
            }
        };
        items.push(AcceptItem { audit, forward });
    }
    let accept = Accept {
        pixel_id: pixel_id.to_owned(),
        test_event_code: req.test_event_code.clone(),
        received: AuditEntry {
            kind: AuditKind::Received,
            pixel_id: pixel_id.to_owned(),
            event_id: None,
            event_name: None,
            page: None,
            detail: json!({
                "events": n,
                "key": key.map(|k| k.name.as_str()),
                "fbtrace_id": fbtrace_id,
                "test_event_code": req.test_event_code.is_some(),
            }),
        },
        items,
    };
    let outcomes = st
        .inner
        .store
        .accept(accept)
        .await
        .map_err(store_unavailable)?;
    let queued = outcomes
        .iter()
        .filter(|o| **o == ItemOutcome::Queued)
        .count();
    let dups = outcomes
        .iter()
        .filter(|o| **o == ItemOutcome::Duplicate)
        .count();
    let m = &st.inner.metrics;
    m.received.inc_by(n as u64);
    m.redacted.inc_by(redacted as u64);
    m.forwarded.inc_by(queued as u64);
    m.duplicates.inc_by(dups as u64);
    if queued > 0 {
        st.inner.queued.notify_waiters();
    }
    tracing::debug!(
        pixel_id,
        events = n,
        queued,
        blocked,
        redacted,
        duplicates = dups,
        fbtrace_id,
        "accepted"
    );
    let mut messages = Vec::new();
    if blocked > 0 {
        messages.push(format!(
            "{blocked} event(s) blocked by the gateway's privacy policy (audit log, fbtrace_id {fbtrace_id})"
        ));
    }
    if dups > 0 {
        messages.push(format!(
            "{dups} duplicate event(s) (same event_id and event_name) not sent again"
        ));
    }
    Ok(axum::Json(EventsResponse {
        events_received: n,
        messages,
        fbtrace_id,
    }))
}

fn store_unavailable(e: crate::store::StoreError) -> GraphError {
    tracing::error!(error = %e, "store write failed: request refused, nothing accepted");
    GraphError::overloaded(
        StatusCode::SERVICE_UNAVAILABLE,
        "The gateway could not store the events durably; nothing was accepted, retry shortly",
        2,
    )
}

/// A fixed class for metric labels.
fn reason_class(reason: &policy::BlockReason) -> &'static str {
    match reason {
        policy::BlockReason::NoConsent => "consent",
        policy::BlockReason::Health { .. } => "health",
        policy::BlockReason::Invalid { .. } => "invalid",
        policy::BlockReason::Forbidden { .. } => "forbidden",
    }
}

/// SDKs cannot add top-level event fields, so a per-event consent signal
/// may also come as `custom_data.leakscope_consent`; it is moved to where
/// the policy reads it (and the policy never forwards it). When both places
/// carry a signal, the event consents only if both grant: a denial in
/// either one wins (fail-closed).
pub(crate) fn lift_consent(ev: &mut Value) {
    let Some(o) = ev.as_object_mut() else {
        return;
    };
    let inner = o
        .get_mut("custom_data")
        .and_then(Value::as_object_mut)
        .and_then(|cd| cd.remove(policy::CONSENT_FIELD));
    let Some(inner) = inner else {
        return;
    };
    let sig = match o.remove(policy::CONSENT_FIELD) {
        Some(top) => both_consent(top, inner),
        None => inner,
    };
    o.insert(policy::CONSENT_FIELD.to_owned(), sig);
}

/// One signal that the policy reads as granted exactly when it would read
/// both `a` and `b` as granted.
fn both_consent(a: Value, b: Value) -> Value {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            // A Consent-Mode key grants only if both objects grant it; a key
            // one of them lacks is left out, so if it is required the merged
            // signal lacks it too and does not grant.
            let merged = x
                .into_iter()
                .filter_map(|(k, xv)| {
                    let yv = y.get(&k)?;
                    let v = if policy::scalar_consent(&xv) == Some(true) {
                        yv.clone()
                    } else {
                        xv
                    };
                    Some((k, v))
                })
                .collect();
            Value::Object(merged)
        }
        // A scalar grant adds nothing: the other signal decides.
        (a, b) if policy::scalar_consent(&a) == Some(true) => b,
        (a, b) if policy::scalar_consent(&b) == Some(true) => a,
        // Neither grants outright: keep the first that is not an object (a
        // denial or an unrecognised value), which the policy refuses.
        (a, _) if !a.is_object() => a,
        (_, b) => b,
    }
}

/// Fields and actions, never values.
fn redaction_list(rs: &[policy::Redaction]) -> Value {
    serde_json::to_value(rs).unwrap_or(Value::Null)
}

/// The keys to look a stored consent record up by, or none when the event
/// decides for itself (its own signal or `opt_out` wins over any record, so
/// the store round trip would be wasted).
pub(crate) fn record_lookup_keys(ev: &Value) -> Vec<String> {
    let own = ev.get(policy::CONSENT_FIELD).is_some()
        || ev.get("opt_out").and_then(Value::as_bool) == Some(true);
    if own {
        Vec::new()
    } else {
        consent_keys_of_event(ev)
    }
}

/// Lookup keys for an event's consent record: `external_id`, `fbp`, `em`
/// as the site sent them (plain values are hashed with Meta's email
/// normalisation, so the store never holds a plain email).
pub fn consent_keys_of_event(ev: &Value) -> Vec<String> {
    let Some(u) = ev.get("user_data") else {
        return Vec::new();
    };
    let mut keys = Vec::new();
    let mut each = |field: &str, f: &dyn Fn(&str) -> String| match u.get(field) {
        Some(Value::String(s)) if !s.is_empty() => keys.push(f(s)),
        Some(Value::Array(a)) => {
            for s in a.iter().filter_map(Value::as_str).filter(|s| !s.is_empty()) {
                keys.push(f(s));
            }
        }
        _ => {}
    };
    each("external_id", &|s| format!("external_id:{s}"));
    each("fbp", &|s| format!("fbp:{s}"));
    each("em", &|s| format!("em:{}", hashed_email(s)));
    keys
}

/// SHA-256 of a normalised email, or the value itself when already hashed.
pub fn hashed_email(s: &str) -> String {
    let t = s.trim();
    if t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()) {
        t.to_ascii_lowercase()
    } else {
        sha256_hex(t.to_lowercase().as_bytes())
    }
}

/// The policy's consent record from a stored one.
pub(crate) fn consent_record(stored: &str) -> Option<policy::ConsentRecord> {
    let v: Value = serde_json::from_str(stored).ok()?;
    Some(policy::ConsentRecord {
        advertising: v.get("advertising").and_then(Value::as_bool)?,
        at: v.get("at").and_then(Value::as_i64).unwrap_or(0),
        source: v
            .get("source")
            .and_then(Value::as_str)
            .unwrap_or("site-post")
            .to_owned(),
    })
}

async fn consent_for_pixel(
    st: State<AppState>,
    Path((_version, pixel_id)): Path<(String, String)>,
    q: RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    store_consent(st, Some(pixel_id), q, headers, body).await
}

async fn consent(st: State<AppState>, q: RawQuery, headers: HeaderMap, body: Body) -> Response {
    store_consent(st, None, q, headers, body).await
}

/// `POST /consent` with `{"external_id"|"fbp"|"em": ..., "advertising": bool}`.
async fn store_consent(
    State(st): State<AppState>,
    pixel: Option<String>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match consent_inner(&st, pixel, q, &headers, body).await {
        Ok(()) => (StatusCode::OK, axum::Json(json!({"success": true}))).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn consent_inner(
    st: &AppState,
    pixel: Option<String>,
    q: Option<String>,
    headers: &HeaderMap,
    body: Body,
) -> Result<(), GraphError> {
    let _permit = overload_guard(st)?;
    let bytes = read_body(body, 64 * 1024).await?;
    let v: Value = serde_json::from_slice(&bytes)
        .map_err(|e| GraphError::invalid(format!("the consent body is not valid JSON: {e}")))?;
    let Value::Object(m) = &v else {
        return Err(GraphError::invalid(
            "the consent body must be a JSON object",
        ));
    };
    let token = m
        .get("access_token")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .or_else(|| {
            q.as_deref().and_then(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .find(|(k, _)| k == "access_token")
                    .map(|(_, v)| v.into_owned())
            })
        })
        .or_else(|| bearer(headers));
    let pixel_id = pixel
        .or_else(|| m.get("pixel_id").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_default();
    let key = authenticate(&st.inner.config, token.as_deref(), &pixel_id)?;
    let advertising = match m.get("advertising") {
        Some(Value::Bool(b)) => *b,
        Some(other) => {
            return Err(GraphError::invalid(format!(
                "consent field advertising must be true or false, got {}",
                crate::ingress::type_name(other)
            )));
        }
        None => {
            return Err(GraphError::invalid(
                "consent field advertising (true/false) is required",
            ));
        }
    };
    let keys = consent_keys_of_event(&json!({"user_data": v}));
    if keys.is_empty() {
        return Err(GraphError::invalid(
            "a consent record needs at least one of external_id, fbp or em to find the person's events by",
        ));
    }
    let kinds: Vec<&str> = ["external_id", "fbp", "em"]
        .into_iter()
        .filter(|k| m.contains_key(*k))
        .collect();
    let at = match m.get("at") {
        None => crate::store::now_ms() / 1000,
        Some(v) => v.as_i64().ok_or_else(|| {
            GraphError::invalid("consent field at must be Unix seconds (an integer)")
        })?,
    };
    let record = json!({
        "advertising": advertising,
        "at": at,
        "source": m.get("source").and_then(Value::as_str).unwrap_or("site-post"),
        "pixel_id": pixel_id,
    });
    let audit = AuditEntry {
        kind: AuditKind::Consent,
        pixel_id,
        event_id: None,
        event_name: None,
        page: None,
        detail: json!({"advertising": advertising, "keys": kinds, "key": key.map(|k| k.name.as_str())}),
    };
    st.inner
        .store
        .put_consent(keys, record.to_string(), audit)
        .await
        .map_err(store_unavailable)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether the default policy forwards a valid event whose consent is
    /// `top` (top level) and `inner` (`custom_data`), after lifting.
    fn forwarded(top: Option<Value>, inner: Option<Value>) -> bool {
        let mut ev = json!({
            "event_name": "Purchase",
            "event_time": crate::store::now_ms() / 1000 - 30,
            "action_source": "website",
            "event_source_url": "https://shop.example/checkout",
            "user_data": {"em": "jane.canary@example.com", "client_user_agent": "UA"},
            "custom_data": {"value": 1.0, "currency": "USD"}
        });
        if let Some(t) = top {
            ev[policy::CONSENT_FIELD] = t;
        }
        if let Some(i) = inner {
            ev["custom_data"][policy::CONSENT_FIELD] = i;
        }
        lift_consent(&mut ev);
        assert!(
            ev["custom_data"].get(policy::CONSENT_FIELD).is_none(),
            "consent never stays in custom_data: {ev}"
        );
        let p = policy::Policy::compile(policy::PolicyConfig::default()).unwrap();
        matches!(p.evaluate("1", &ev, None).verdict, Verdict::Forward)
    }

    #[test]
    fn consent_in_custom_data_counts_and_a_denial_anywhere_wins() {
        let g = || Some(json!("granted"));
        let cm = |a: &str, b: &str| Some(json!({"ad_storage": a, "ad_user_data": b}));
        assert!(forwarded(None, g()), "custom_data alone, as SDKs send it");
        assert!(forwarded(g(), None));
        assert!(
            forwarded(g(), Some(json!(true))),
            "two grants in two spellings"
        );
        assert!(forwarded(cm("granted", "granted"), g()));
        assert!(forwarded(g(), cm("granted", "granted")));
        assert!(forwarded(cm("granted", "granted"), cm("granted", "true")));
        assert!(!forwarded(None, None), "no signal: fail-closed");
        assert!(
            !forwarded(g(), Some(json!("denied"))),
            "denied in custom_data"
        );
        assert!(!forwarded(Some(json!(false)), g()), "denied at the top");
        assert!(
            !forwarded(g(), Some(json!("maybe"))),
            "unrecognised counts as no"
        );
        assert!(!forwarded(cm("granted", "granted"), Some(json!("no"))));
        assert!(!forwarded(Some(json!("0")), cm("granted", "granted")));
        assert!(!forwarded(
            cm("granted", "granted"),
            cm("granted", "denied")
        ));
        assert!(!forwarded(
            cm("denied", "granted"),
            cm("granted", "granted")
        ));
        // Each object grants one key: together they do not grant both.
        assert!(!forwarded(
            Some(json!({"ad_storage": "granted"})),
            Some(json!({"ad_user_data": "granted"}))
        ));
    }
}
