//! The `[policy]` section of the gateway configuration, its safe defaults,
//! and the checks `Policy::compile` runs on it (see `docs/gateway-policy.md`).

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

/// `[policy]` of the gateway TOML. `Default` is the safe policy the gateway
/// runs with when it has no configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PolicyConfig {
    /// The policy for every pixel without a section of its own.
    pub default: DestinationPolicy,
    /// Per pixel (dataset) id. A pixel section is a whole policy: what it
    /// leaves out takes the safe default, not `[default]`'s value.
    pub pixels: BTreeMap<String, DestinationPolicy>,
    /// URL path → page type, for generalising `event_source_url` to
    /// `https://shop.example/[pharmacy-page]`. First match wins.
    pub page_types: Vec<PageTypeRule>,
}

/// What may reach one destination (a pixel), and how.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DestinationPolicy {
    pub consent: ConsentRule,
    /// `custom_data` keys forwarded; every other key is dropped.
    pub custom_data_allow: Vec<String>,
    /// Keys kept inside each `custom_data.contents[]` item (when `contents`
    /// itself is allowed); every other key is dropped.
    pub contents_allow: Vec<String>,
    /// What to do when a forwarded value carries health information.
    pub health_action: HealthActions,
    /// Count weak lexicon terms (ordinary words that are also health terms)
    /// even without a second signal. Off: they count only with one, as in
    /// the analysis engine.
    pub strict_health: bool,
    /// How `event_source_url` and `referrer_url` are forwarded.
    pub url_mode: UrlMode,
    /// Inject Meta's Limited Data Use flags into every event.
    pub limited_data_use: Option<Ldu>,
    /// `user_data` keys whose plaintext must never be sent: an event carrying
    /// one unhashed is blocked (`Forbidden`). `key` or `key:glob` (the glob
    /// is matched case-insensitively against the plaintext, `*` = anything),
    /// e.g. `"external_id:*hiv*"`.
    pub reject_plaintext: Vec<String>,
    /// `user_data` keys never forwarded, hashed or not (e.g. `ge`, `db`).
    pub drop_identifiers: Vec<String>,
}

impl Default for DestinationPolicy {
    fn default() -> Self {
        DestinationPolicy {
            consent: ConsentRule::default(),
            custom_data_allow: DEFAULT_CUSTOM_DATA_ALLOW
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
            contents_allow: DEFAULT_CONTENTS_ALLOW
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
            health_action: HealthActions::default(),
            strict_health: false,
            url_mode: UrlMode::default(),
            limited_data_use: None,
            reject_plaintext: Vec::new(),
            drop_identifiers: Vec::new(),
        }
    }
}

/// Commerce fields without free text. `content_name`, `content_category`,
/// `search_string` and custom keys are left out on purpose: they are where
/// health content travels.
pub const DEFAULT_CUSTOM_DATA_ALLOW: &[&str] = &[
    "value",
    "currency",
    "order_id",
    "content_ids",
    "content_type",
    "contents",
    "num_items",
    "predicted_ltv",
    "net_revenue",
    "status",
    "delivery_category",
];

/// `contents[]` item keys without free text (no `title`, `description`,
/// `brand`, `category`).
pub const DEFAULT_CONTENTS_ALLOW: &[&str] = &["id", "quantity", "item_price", "delivery_category"];

/// Keys that hold credentials: never forwardable, whatever the allowlist says.
pub const SECRET_KEYS: &[&str] = &["access_token", "appsecret_proof", "accessKey"];

/// Consent for advertising. Fail-closed: without a positive signal the event
/// is blocked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConsentRule {
    /// Block events without a positive signal (default true). An explicit
    /// denial blocks even when this is false.
    pub required: bool,
    /// When the event's `leakscope_consent` is an object (Google Consent
    /// Mode style), every one of these keys must be `"granted"`.
    pub signals: Vec<String>,
    /// A stored `ConsentRecord` older than this is ignored (none: no limit).
    pub record_max_age_days: Option<u32>,
}

impl Default for ConsentRule {
    fn default() -> Self {
        ConsentRule {
            required: true,
            signals: vec!["ad_storage".into(), "ad_user_data".into()],
            record_max_age_days: None,
        }
    }
}

/// One action on health content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HealthAction {
    /// Block the whole event.
    Block,
    /// Remove the field (or array element) that carries it.
    Redact,
    /// URLs only: reduce to a page type or the origin.
    Generalize,
}

impl HealthAction {
    fn parse(s: &str) -> Option<HealthAction> {
        match s {
            "block" => Some(HealthAction::Block),
            "redact" => Some(HealthAction::Redact),
            "generalize" | "generalise" => Some(HealthAction::Generalize),
            _ => None,
        }
    }
}

/// Health actions for fields and for URLs. In TOML either one word for both
/// (`health_action = "block"`) or a table (`{ fields = "redact", urls = "generalize" }`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct HealthActions {
    /// `custom_data` values, `contents[].title`, `event_id`, plaintext
    /// `external_id`: `block` or `redact` (default).
    pub fields: HealthAction,
    /// `event_source_url`, `referrer_url`: `block` or `generalize` (default).
    pub urls: HealthAction,
}

impl Default for HealthActions {
    fn default() -> Self {
        HealthActions {
            fields: HealthAction::Redact,
            urls: HealthAction::Generalize,
        }
    }
}

impl<'de> Deserialize<'de> for HealthActions {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Table {
            #[serde(default = "redact")]
            fields: HealthAction,
            #[serde(default = "generalize")]
            urls: HealthAction,
        }
        fn redact() -> HealthAction {
            HealthAction::Redact
        }
        fn generalize() -> HealthAction {
            HealthAction::Generalize
        }
        impl<'de> Visitor<'de> for V {
            type Value = HealthActions;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "\"block\", \"redact\", \"generalize\" or a table { fields = ..., urls = ... }",
                )
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<HealthActions, E> {
                let a = HealthAction::parse(s).ok_or_else(|| {
                    E::invalid_value(de::Unexpected::Str(s), &"block, redact or generalize")
                })?;
                // One word for both: `redact` means generalise URLs, `generalize`
                // means redact fields; `block` blocks on either.
                Ok(match a {
                    HealthAction::Block => HealthActions {
                        fields: HealthAction::Block,
                        urls: HealthAction::Block,
                    },
                    _ => HealthActions::default(),
                })
            }
            fn visit_map<M: MapAccess<'de>>(self, m: M) -> Result<HealthActions, M::Error> {
                let t = Table::deserialize(de::value::MapAccessDeserializer::new(m))?;
                Ok(HealthActions {
                    fields: t.fields,
                    urls: t.urls,
                })
            }
        }
        d.deserialize_any(V)
    }
}

/// How a page URL (`event_source_url`, `referrer_url`) is forwarded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UrlMode {
    /// Always the origin: `https://shop.example/`.
    Origin,
    /// Always generalised: the matching page type
    /// (`https://shop.example/[pharmacy-page]`), else the origin.
    #[default]
    PageType,
    /// Unchanged unless it carries health information; then generalised
    /// (page type, else origin) or blocked per `health_action.urls`.
    KeepIfClean,
}

/// Meta's Limited Data Use flags (`data_processing_options: ["LDU"]`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Ldu {
    /// `data_processing_options_country`: 0 = let Meta geolocate, 1 = US.
    pub country: u32,
    /// `data_processing_options_state`: 0 = geolocate, 1000 = California, ...
    pub state: u32,
}

/// A URL path pattern that names a kind of page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageTypeRule {
    /// Shown in place of the path: `pharmacy-page` → `https://host/[pharmacy-page]`.
    /// Lower-case letters, digits and `-`; must not itself reveal health content.
    pub name: String,
    /// Path prefix, segment-aligned: `/pharmacy` matches `/pharmacy` and
    /// `/pharmacy/refill`, not `/pharmacyx`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    /// Path glob: `*` any characters within a segment, `**` any segments,
    /// `?` one character. Matched case-insensitively.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub glob: Option<String>,
}

/// A configuration the gateway must refuse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The TOML does not parse or has an unknown key or a wrongly typed value.
    #[error("{line}:{col}: {message}")]
    Toml {
        line: usize,
        col: usize,
        message: String,
    },
    /// A value that parses but cannot work. `path` is the TOML path inside
    /// `[policy]`, e.g. `pixels."1234".limited_data_use.state`.
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
}

impl ConfigError {
    pub(crate) fn invalid(path: impl Into<String>, message: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            path: path.into(),
            message: message.into(),
        }
    }

    /// Reads a TOML error with its position in `text`.
    pub(crate) fn from_toml(text: &str, e: &toml::de::Error) -> ConfigError {
        let (line, col) = match e.span() {
            Some(span) => line_col(text, span.start),
            None => (0, 0),
        };
        ConfigError::Toml {
            line,
            col,
            message: e.message().trim().to_owned(),
        }
    }
}

/// 1-based line and column (in characters) of byte offset `at`.
fn line_col(text: &str, at: usize) -> (usize, usize) {
    let at = at.min(text.len());
    let mut line = 1;
    let mut col = 1;
    for (i, c) in text.char_indices() {
        if i >= at {
            break;
        }
        if c == '\n' {
            line += 1;
            col = 1;
        } else {
            col += 1;
        }
    }
    (line, col)
}

/// A path glob compiled to segments of tokens.
#[derive(Debug, Clone)]
pub(crate) struct Glob {
    pattern: Vec<u8>,
}

impl Glob {
    /// `*`, `**` and `?`; anything else literal. `***` is refused.
    pub(crate) fn new(p: &str) -> Result<Glob, String> {
        if p.contains("***") {
            return Err(format!(
                "{p:?}: `***` is not a glob; use `**` for any segments"
            ));
        }
        Ok(Glob {
            pattern: p.to_ascii_lowercase().into_bytes(),
        })
    }

    /// Case-insensitive match of the whole `text`.
    pub(crate) fn matches(&self, text: &str) -> bool {
        let t = text.to_ascii_lowercase();
        glob_match(&self.pattern, t.as_bytes(), b'/')
    }

    /// Match where `*` also crosses `/` (for values, not paths).
    pub(crate) fn matches_value(&self, text: &str) -> bool {
        let t = text.to_ascii_lowercase();
        glob_match(&self.pattern, t.as_bytes(), 0)
    }
}

/// Iterative glob match with backtracking to the last star; `sep` is the
/// byte a single `*` or `?` does not cross (0: none).
fn glob_match(p: &[u8], t: &[u8], sep: u8) -> bool {
    // Recursion depth is bounded by the number of stars in a config pattern.
    fn go(p: &[u8], t: &[u8], sep: u8) -> bool {
        match p.split_first() {
            None => t.is_empty(),
            Some((b'*', rest)) => {
                if let Some(rest2) = rest.strip_prefix(b"*") {
                    // `**/` also matches zero segments.
                    if let Some(r3) = rest2.strip_prefix(b"/")
                        && go(r3, t, sep)
                    {
                        return true;
                    }
                    (0..=t.len()).any(|i| go(rest2, &t[i..], sep))
                } else {
                    for i in 0..=t.len() {
                        if go(rest, &t[i..], sep) {
                            return true;
                        }
                        if i < t.len() && sep != 0 && t[i] == sep {
                            break;
                        }
                    }
                    false
                }
            }
            Some((b'?', rest)) => match t.split_first() {
                Some((c, tr)) if sep == 0 || *c != sep => go(rest, tr, sep),
                _ => false,
            },
            Some((c, rest)) => match t.split_first() {
                Some((d, tr)) if c == d => go(rest, tr, sep),
                _ => false,
            },
        }
    }
    go(p, t, sep)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_segments() {
        let g = Glob::new("/pharmacy/*/refill").unwrap();
        assert!(g.matches("/pharmacy/123/refill"));
        assert!(g.matches("/Pharmacy/ABC/Refill"));
        assert!(!g.matches("/pharmacy/1/2/refill"));
        let g = Glob::new("/rx/**").unwrap();
        assert!(g.matches("/rx/a/b/c"));
        assert!(g.matches("/rx/"));
        let g = Glob::new("/a/**/z").unwrap();
        assert!(g.matches("/a/z"));
        assert!(g.matches("/a/b/c/z"));
        assert!(Glob::new("/***").is_err());
        let v = Glob::new("*hiv*").unwrap();
        assert!(v.matches_value("patient/HIV-42"));
        assert!(!v.matches_value("patient-42"));
    }

    #[test]
    fn line_col_counts_from_one() {
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
        assert_eq!(line_col("ab", 0), (1, 1));
    }
}
