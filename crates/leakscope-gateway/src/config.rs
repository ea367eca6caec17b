//! The gateway's TOML configuration. Every section has safe defaults, so
//! `leakscope gateway --upstream URL` runs without a file.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::policy::PolicyConfig;

/// A secret string (the real Meta access token). Never printed: `Debug` and
/// `Display` show only its length.
#[derive(Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }
    /// The value, for the one place that must send it (the upstream request).
    pub fn expose(&self) -> &str {
        &self.0
    }
    /// Whether no secret is set.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "[redacted: {} chars]", self.0.chars().count())
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self, f)
    }
}

/// The whole configuration file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GatewayConfig {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Where events go.
    pub upstream: UpstreamConfig,
    /// The durable queue, dedup table, consent records and audit log.
    pub store: StoreConfig,
    /// Delivery workers: batching, retries, dead letters.
    pub delivery: DeliveryConfig,
    /// Overload protection and request limits.
    pub limits: LimitsConfig,
    /// Client keys. Clients send a key as `access_token`, so SDK code stays as it is.
    pub keys: Vec<KeyConfig>,
    /// The privacy policy (leakscope-policy).
    pub policy: PolicyConfig,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8787)),
            upstream: UpstreamConfig::default(),
            store: StoreConfig::default(),
            delivery: DeliveryConfig::default(),
            limits: LimitsConfig::default(),
            keys: Vec::new(),
            policy: PolicyConfig::default(),
        }
    }
}

/// The upstream Graph API.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UpstreamConfig {
    /// Base URL, e.g. `https://graph.facebook.com` or a local mock.
    pub base_url: String,
    /// Graph API version used upstream, e.g. `v25.0`.
    pub version: String,
    /// The real Meta access token. Prefer `access_token_env`.
    pub access_token: Secret,
    /// Environment variable holding the real Meta access token.
    pub access_token_env: String,
    /// Per-request timeout (Meta recommends 1,500 ms).
    pub timeout_ms: u64,
}

impl Default for UpstreamConfig {
    fn default() -> Self {
        Self {
            base_url: "https://graph.facebook.com".into(),
            version: "v25.0".into(),
            access_token: Secret::default(),
            access_token_env: "LEAKSCOPE_META_ACCESS_TOKEN".into(),
            timeout_ms: 1500,
        }
    }
}

impl UpstreamConfig {
    /// Whether `base_url` points at this machine (`localhost`, `127.0.0.0/8`,
    /// `::1`): a local mock or proxy, which needs no Meta token.
    pub fn is_loopback(&self) -> bool {
        let Ok(u) = url::Url::parse(&self.base_url) else {
            return false;
        };
        match u.host() {
            Some(url::Host::Domain(d)) => {
                let d = d.trim_end_matches('.').to_ascii_lowercase();
                d == "localhost" || d.ends_with(".localhost")
            }
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        }
    }

    /// The token from the file, else from the environment variable.
    pub fn resolve_token(&self) -> Secret {
        if !self.access_token.is_empty() {
            return self.access_token.clone();
        }
        std::env::var(&self.access_token_env)
            .map(Secret::new)
            .unwrap_or_default()
    }
}

/// Which store backs the queue.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// SQLite database file (the default store).
    pub sqlite: PathBuf,
    /// A PostgreSQL connection string; when set, used instead of SQLite so
    /// several gateway instances share the work.
    pub postgres: Option<String>,
    /// SQLite `synchronous`: `normal` (durable against a process crash: WAL
    /// writes reach the OS before the ack) or `full` (fsync before every ack:
    /// durable against power loss too).
    pub synchronous: Synchronous,
    /// How long a dedup key (`event_id` + `event_name`) is kept. Meta
    /// deduplicates within 48 hours, so older keys only grow the table.
    pub dedup_window_hours: u64,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            sqlite: PathBuf::from("leakscope-gateway.db"),
            postgres: None,
            synchronous: Synchronous::Full,
            dedup_window_hours: 48,
        }
    }
}

/// SQLite durability level.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Synchronous {
    /// WAL + NORMAL: survives a process crash, may lose the last commits on power loss.
    Normal,
    /// WAL + FULL: fsync on every commit.
    Full,
}

/// Delivery workers.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeliveryConfig {
    /// Events per upstream request (Meta's maximum is 1,000).
    pub batch_size: usize,
    /// Concurrent upstream requests per instance.
    pub workers: usize,
    /// First retry delay.
    pub initial_backoff_ms: u64,
    /// Longest retry delay.
    pub max_backoff_ms: u64,
    /// Attempts before an event is dead-lettered.
    pub max_attempts: u32,
    /// How long a leased batch belongs to a worker before another may take it.
    pub lease_ms: u64,
    /// Idle poll interval when the queue is empty.
    pub poll_ms: u64,
    /// How long a graceful shutdown waits for in-flight deliveries.
    pub drain_timeout_ms: u64,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        Self {
            batch_size: 1000,
            workers: 2,
            initial_backoff_ms: 1000,
            max_backoff_ms: 30_000,
            max_attempts: 12,
            lease_ms: 30_000,
            poll_ms: 100,
            drain_timeout_ms: 10_000,
        }
    }
}

/// Request limits and overload protection.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// Largest request body accepted, in bytes.
    pub body_limit: usize,
    /// Requests processed at once; more get 503 with Retry-After.
    pub max_in_flight: usize,
    /// Queue depth (pending events) beyond which ingress answers 429 with Retry-After.
    pub max_queue_depth: u64,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            body_limit: 4 * 1024 * 1024,
            max_in_flight: 512,
            max_queue_depth: 1_000_000,
        }
    }
}

/// One client key. Only its SHA-256 is stored (`leakscope gateway hash-key`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyConfig {
    /// A name for logs and the audit log.
    pub name: String,
    /// Lowercase hex SHA-256 of the key.
    pub sha256: String,
    /// Pixels this key may send to; empty means any.
    #[serde(default)]
    pub pixels: Vec<String>,
}

/// Configuration errors, each naming what and where.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// TOML syntax or an unknown/mistyped key.
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The TOML error, with line and column.
        message: String,
    },
    /// A value that parses but cannot work.
    #[error("{path}: {field}: {message}")]
    Invalid {
        /// The file (or `<defaults>`).
        path: PathBuf,
        /// The offending key.
        field: String,
        /// What is wrong.
        message: String,
    },
}

impl GatewayConfig {
    /// Where the store is, for people: the SQLite file as an absolute path
    /// (the default is relative to the working directory), or PostgreSQL
    /// without its connection string (which may hold a password).
    pub fn store_description(&self) -> String {
        match &self.store.postgres {
            Some(_) => "PostgreSQL (store.postgres)".to_owned(),
            None => {
                let p = std::path::absolute(&self.store.sqlite)
                    .unwrap_or_else(|_| self.store.sqlite.clone());
                format!("{} (SQLite)", p.display())
            }
        }
    }

    /// Reads and validates a configuration file.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::from_toml(&text, path)
    }

    /// Parses and validates configuration text; `path` names it in errors.
    pub fn from_toml(text: &str, path: &Path) -> Result<Self, ConfigError> {
        let cfg: Self = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        cfg.validate(path)?;
        Ok(cfg)
    }

    /// Checks the values that parse but cannot work.
    pub fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        let bad = |field: &str, message: String| ConfigError::Invalid {
            path: path.to_owned(),
            field: field.into(),
            message,
        };
        let u = url::Url::parse(&self.upstream.base_url)
            .map_err(|e| bad("upstream.base_url", format!("not a URL ({e})")))?;
        if !matches!(u.scheme(), "http" | "https") {
            return Err(bad("upstream.base_url", "must be http or https".into()));
        }
        if !is_graph_version(&self.upstream.version) {
            return Err(bad(
                "upstream.version",
                format!(
                    "{:?} is not a Graph API version like v25.0",
                    self.upstream.version
                ),
            ));
        }
        if !(1..=1000).contains(&self.delivery.batch_size) {
            return Err(bad(
                "delivery.batch_size",
                "must be 1..=1000 (Meta accepts at most 1,000 events per request)".into(),
            ));
        }
        if self.delivery.workers == 0 {
            return Err(bad("delivery.workers", "must be at least 1".into()));
        }
        if self.delivery.max_attempts == 0 {
            return Err(bad("delivery.max_attempts", "must be at least 1".into()));
        }
        if self.limits.body_limit < 1024 {
            return Err(bad(
                "limits.body_limit",
                "must be at least 1024 bytes".into(),
            ));
        }
        if self.limits.max_in_flight == 0 {
            return Err(bad("limits.max_in_flight", "must be at least 1".into()));
        }
        for (i, k) in self.keys.iter().enumerate() {
            if k.sha256.len() != 64 || !k.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(bad(
                    &format!("keys[{i}].sha256"),
                    format!(
                        "key {:?}: must be the 64-hex SHA-256 of the key (leakscope gateway hash-key), not the key itself",
                        k.name
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Finds the key a client sent (as `access_token`).
    pub fn key_for(&self, presented: &str) -> Option<&KeyConfig> {
        let h = sha256_hex(presented.as_bytes());
        // Comparing hashes, not keys: timing reveals nothing about the key.
        self.keys.iter().find(|k| k.sha256.eq_ignore_ascii_case(&h))
    }
}

/// `v25.0`-shaped.
pub fn is_graph_version(v: &str) -> bool {
    let Some(rest) = v.strip_prefix('v') else {
        return false;
    };
    let mut parts = rest.split('.');
    matches!(
        (parts.next(), parts.next(), parts.next()),
        (Some(a), Some(b), None) if !a.is_empty() && !b.is_empty()
            && a.bytes().all(|c| c.is_ascii_digit()) && b.bytes().all(|c| c.is_ascii_digit())
    )
}

/// Lowercase hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        GatewayConfig::default()
            .validate(Path::new("<defaults>"))
            .unwrap();
    }

    #[test]
    fn errors_name_the_field() {
        let e = GatewayConfig::from_toml("[delivery]\nbatch_size = 5000\n", Path::new("g.toml"))
            .unwrap_err();
        assert!(e.to_string().contains("delivery.batch_size"), "{e}");
        let e = GatewayConfig::from_toml("[upstream]\nbase_ur = \"x\"\n", Path::new("g.toml"))
            .unwrap_err();
        assert!(e.to_string().contains("base_ur"), "{e}");
        let e = GatewayConfig::from_toml(
            "[[keys]]\nname = \"shop\"\nsha256 = \"plain-key\"\n",
            Path::new("g.toml"),
        )
        .unwrap_err();
        assert!(e.to_string().contains("keys[0].sha256"), "{e}");
    }

    #[test]
    fn loopback_upstreams_are_recognised() {
        let lo = |u: &str| {
            UpstreamConfig {
                base_url: u.into(),
                ..UpstreamConfig::default()
            }
            .is_loopback()
        };
        for u in [
            "http://127.0.0.1:9100",
            "http://127.8.0.1",
            "http://localhost:9100/",
            "http://LOCALHOST.",
            "http://mock.localhost:1",
            "http://[::1]:9100",
        ] {
            assert!(lo(u), "{u} is loopback");
        }
        for u in [
            "https://graph.facebook.com",
            "http://10.0.0.5:9100",
            "http://localhost.example.com",
            "http://[::]:9100",
            "not a url",
        ] {
            assert!(!lo(u), "{u} is not loopback");
        }
    }

    #[test]
    fn store_description_names_the_file_and_hides_postgres_credentials() {
        let mut c = GatewayConfig::default();
        let d = c.store_description();
        assert!(d.ends_with("leakscope-gateway.db (SQLite)"), "{d}");
        assert!(
            Path::new(d.trim_end_matches(" (SQLite)")).is_absolute(),
            "{d}"
        );
        c.store.postgres = Some("host=db user=ls password=canary-pw-77".into());
        let d = c.store_description();
        assert!(
            d.starts_with("PostgreSQL") && !d.contains("canary-pw-77"),
            "{d}"
        );
    }

    #[test]
    fn secret_never_prints() {
        let s = Secret::new("EAAB-real-token");
        assert_eq!(
            format!("{s} {s:?}"),
            "[redacted: 15 chars] [redacted: 15 chars]"
        );
    }

    #[test]
    fn keys_match_by_hash() {
        let mut c = GatewayConfig::default();
        c.keys.push(KeyConfig {
            name: "shop".into(),
            sha256: sha256_hex(b"k1"),
            pixels: vec![],
        });
        assert_eq!(c.key_for("k1").map(|k| k.name.as_str()), Some("shop"));
        assert!(c.key_for("k2").is_none());
    }
}
