//! Prometheus metrics. Labels never carry event values or tokens: only
//! fixed reason classes.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// A reason class label.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Reason {
    /// Fixed class, e.g. `consent`, `health`, `invalid`, `throttled`.
    pub reason: String,
}

/// All gateway metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// Events received (accepted requests).
    pub received: Counter,
    /// Events blocked, by reason class.
    pub blocked: Family<Reason, Counter>,
    /// Events with at least one field redacted.
    pub redacted: Counter,
    /// Events queued for upstream.
    pub forwarded: Counter,
    /// Duplicate events (not queued).
    pub duplicates: Counter,
    /// Events delivered upstream.
    pub delivered: Counter,
    /// Event delivery attempts that will be retried, by reason class.
    pub retried: Family<Reason, Counter>,
    /// Events dead-lettered.
    pub dead_lettered: Counter,
    /// Requests refused, by reason class (invalid, auth, overload).
    pub rejected: Family<Reason, Counter>,
    /// Pending events.
    pub queue_depth: Gauge,
    /// Ingress request latency (to the durable ack).
    pub ingress_seconds: Histogram,
    /// Upstream request latency.
    pub upstream_seconds: Histogram,
    /// Time from acceptance to delivery is not tracked per event; batch sizes are.
    pub batch_size: Histogram,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Registers everything.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("leakscope_gateway");
        let m = Self {
            received: Counter::default(),
            blocked: Family::default(),
            redacted: Counter::default(),
            forwarded: Counter::default(),
            duplicates: Counter::default(),
            delivered: Counter::default(),
            retried: Family::default(),
            dead_lettered: Counter::default(),
            rejected: Family::default(),
            queue_depth: Gauge::default(),
            ingress_seconds: Histogram::new(exponential_buckets(0.0001, 2.0, 16)),
            upstream_seconds: Histogram::new(exponential_buckets(0.001, 2.0, 16)),
            batch_size: Histogram::new(exponential_buckets(1.0, 2.0, 11)),
            registry: Registry::default(),
        };
        registry.register("events_received", "Events received", m.received.clone());
        registry.register(
            "events_blocked",
            "Events blocked by the policy",
            m.blocked.clone(),
        );
        registry.register(
            "events_redacted",
            "Events with fields redacted",
            m.redacted.clone(),
        );
        registry.register(
            "events_forwarded",
            "Events queued for upstream",
            m.forwarded.clone(),
        );
        registry.register(
            "events_duplicate",
            "Duplicate events not queued",
            m.duplicates.clone(),
        );
        registry.register(
            "events_delivered",
            "Events delivered upstream",
            m.delivered.clone(),
        );
        registry.register(
            "events_retried",
            "Event deliveries to retry",
            m.retried.clone(),
        );
        registry.register(
            "events_dead_lettered",
            "Events dead-lettered",
            m.dead_lettered.clone(),
        );
        registry.register("requests_rejected", "Requests refused", m.rejected.clone());
        registry.register("queue_depth", "Pending events", m.queue_depth.clone());
        registry.register(
            "ingress_latency_seconds",
            "Ingress latency to the durable ack",
            m.ingress_seconds.clone(),
        );
        registry.register(
            "upstream_latency_seconds",
            "Upstream request latency",
            m.upstream_seconds.clone(),
        );
        registry.register(
            "batch_size_events",
            "Events per upstream request",
            m.batch_size.clone(),
        );
        Self { registry, ..m }
    }

    /// Text exposition format.
    pub fn encode(&self) -> String {
        let mut s = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut s, &self.registry);
        s
    }

    /// Shorthand for a reason label.
    pub fn reason(r: &str) -> Reason {
        Reason {
            reason: r.to_owned(),
        }
    }
}
