//! `Policy`: the compiled configuration and the rules applied to one event,
//! in this order: validation, consent, top-level and `custom_data`
//! allowlists, health detection on every forwarded value, URL
//! generalisation, identifiers, Limited Data Use.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use leakscope_core::{Category, Event, Source, Vendor};
use leakscope_detect::normalize::url_decode;
use leakscope_detect::{HealthCategory, HealthEvidence, HealthMatcher, Strength};
use serde_json::{Map, Value};

use crate::config::{
    ConfigError, DestinationPolicy, Glob, HealthAction, PageTypeRule, PolicyConfig, SECRET_KEYS,
    UrlMode,
};
use crate::decision::{BlockReason, ConsentRecord, Decision, Redaction, RedactionAction, Verdict};
use crate::ident::{HASHED_KEYS, PLAIN_KEYS, is_hashed, normalize, sha256_hex};
use crate::validate::{Invalid, validate_event_at};

/// The gateway-only event field that carries per-event consent; stripped
/// before forwarding.
pub const CONSENT_FIELD: &str = "leakscope_consent";

/// Event fields Meta documents; anything else at the top level is dropped.
const EVENT_KEYS: &[&str] = &[
    "event_name",
    "event_time",
    "event_id",
    "event_source_url",
    "referrer_url",
    "action_source",
    "user_data",
    "custom_data",
    "opt_out",
    "data_processing_options",
    "data_processing_options_country",
    "data_processing_options_state",
    "app_data",
    "original_event_data",
    "attribution_data",
    "messaging_channel",
];

/// Top-level fields that hold no free text (not scanned for health).
const NO_TEXT_KEYS: &[&str] = &[
    "event_time",
    "action_source",
    "user_data",
    "opt_out",
    "data_processing_options",
    "data_processing_options_country",
    "data_processing_options_state",
    "messaging_channel",
];

/// Key names of Meta's event schema: not scanned as text (their values are).
const KNOWN_KEYS: &[&str] = &[
    "value",
    "currency",
    "content_name",
    "content_category",
    "content_ids",
    "content_type",
    "contents",
    "id",
    "quantity",
    "item_price",
    "title",
    "description",
    "brand",
    "category",
    "delivery_category",
    "order_id",
    "num_items",
    "search_string",
    "status",
    "predicted_ltv",
    "net_revenue",
    "event_name",
    "event_time",
    "order_id",
    "event_id",
];

/// Longest string the detector reads whole; longer values are dropped
/// rather than forwarded half-read.
const MAX_SCANNED: usize = 16 << 10;
/// Deepest JSON nesting read; deeper values are dropped.
const MAX_DEPTH: usize = 8;
const DAY: i64 = 24 * 60 * 60;

/// The compiled policy: built once, `Send + Sync`, share it in an `Arc`.
pub struct Policy {
    cfg: PolicyConfig,
    default: Dest,
    pixels: HashMap<String, Dest>,
    page_types: Vec<PageType>,
    health: HealthMatcher,
}

struct Dest {
    cfg: DestinationPolicy,
    allow: HashSet<String>,
    contents_allow: HashSet<String>,
    reject: Vec<(String, Option<Glob>)>,
    drop_ids: HashSet<String>,
    block_events: Vec<Glob>,
}

struct PageType {
    name: String,
    matcher: PathMatch,
}

enum PathMatch {
    Prefix(String),
    Glob(Glob),
}

impl PathMatch {
    fn matches(&self, path: &str) -> bool {
        match self {
            PathMatch::Prefix(p) => {
                let path = path.to_ascii_lowercase();
                path.strip_prefix(p.as_str()).is_some_and(|rest| {
                    rest.is_empty() || rest.starts_with('/') || p.ends_with('/')
                })
            }
            PathMatch::Glob(g) => g.matches(path),
        }
    }
}

impl Policy {
    /// Validates and compiles a configuration. Errors name the TOML path.
    pub fn compile(cfg: PolicyConfig) -> Result<Policy, ConfigError> {
        let health = HealthMatcher::builtin();
        let default = Dest::compile("default", &cfg.default)?;
        let mut pixels = HashMap::new();
        for (id, d) in &cfg.pixels {
            let path = format!("pixels.{}", toml_key(id));
            if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
                return Err(ConfigError::invalid(
                    path,
                    "a pixel (dataset) id is digits only",
                ));
            }
            pixels.insert(id.clone(), Dest::compile(&path, d)?);
        }
        let mut page_types = Vec::new();
        for (i, r) in cfg.page_types.iter().enumerate() {
            page_types.push(PageType::compile(&format!("page_types[{i}]"), r, &health)?);
        }
        Ok(Policy {
            cfg,
            default,
            pixels,
            page_types,
            health,
        })
    }

    /// Parses a TOML document whose top level is the policy (the contents of
    /// `[policy]`), then compiles it. Parse errors carry `line:col`.
    pub fn from_toml(text: &str) -> Result<Policy, ConfigError> {
        let cfg: PolicyConfig =
            toml::from_str(text).map_err(|e| ConfigError::from_toml(text, &e))?;
        Policy::compile(cfg)
    }

    /// The configuration this policy was compiled from.
    pub fn config(&self) -> &PolicyConfig {
        &self.cfg
    }

    /// The destination policy that applies to `pixel_id`.
    pub fn destination(&self, pixel_id: &str) -> &DestinationPolicy {
        &self.dest(pixel_id).cfg
    }

    fn dest(&self, pixel_id: &str) -> &Dest {
        self.pixels.get(pixel_id).unwrap_or(&self.default)
    }

    /// The decision for one event bound for `pixel_id`, now. `consent` is
    /// the stored record for this user, if the gateway has one.
    pub fn evaluate(
        &self,
        pixel_id: &str,
        event: &Value,
        consent: Option<&ConsentRecord>,
    ) -> Decision {
        self.evaluate_at(pixel_id, event, consent, crate::now_unix())
    }

    /// `evaluate` as of `now` (Unix seconds): for tests and replays.
    pub fn evaluate_at(
        &self,
        pixel_id: &str,
        event: &Value,
        consent: Option<&ConsentRecord>,
        now: i64,
    ) -> Decision {
        let mut run = Run {
            redactions: Vec::new(),
            notes: Vec::new(),
            url_hits: Vec::new(),
            gone: Vec::new(),
        };
        match self.rewrite(pixel_id, event, consent, now, &mut run) {
            Ok(ev) => Decision {
                verdict: Verdict::Forward,
                event: Value::Object(ev),
                redactions: run.redactions,
                notes: run.notes,
            },
            Err(reason) => Decision {
                verdict: Verdict::Block { reason },
                event: Value::Object(Map::new()),
                redactions: run.redactions,
                notes: run.notes,
            },
        }
    }

    fn rewrite(
        &self,
        pixel_id: &str,
        event: &Value,
        consent: Option<&ConsentRecord>,
        now: i64,
        run: &mut Run,
    ) -> Result<Map<String, Value>, BlockReason> {
        // Consent is read before validation so that a denial is recorded as
        // such even on a malformed event; both block.
        let d = self.dest(pixel_id);
        check_consent(event, consent, d, now, run)?;
        validate_event_at(event, now)
            .map_err(|Invalid { field, message }| BlockReason::Invalid { field, message })?;
        if let Some(name) = event.get("event_name").and_then(Value::as_str)
            && d.block_events.iter().any(|g| g.matches_value(name))
        {
            return Err(BlockReason::Forbidden {
                field: "event_name".into(),
            });
        }
        let Value::Object(src) = event else {
            return Err(BlockReason::Invalid {
                field: "event".into(),
                message: "must be a JSON object".into(),
            });
        };
        let mut ev = Map::new();
        for (k, v) in src {
            if k == CONSENT_FIELD {
                // Already recorded by the consent step.
                continue;
            }
            if EVENT_KEYS.contains(&k.as_str()) {
                ev.insert(k.clone(), v.clone());
            } else {
                run.redact(k, RedactionAction::Dropped, None);
                if !SECRET_KEYS.contains(&k.as_str()) {
                    run.gone.push((k.clone(), v.clone()));
                }
            }
        }
        if let Some(Value::Object(cd)) = ev.get_mut("custom_data") {
            d.filter_custom_data(cd, run);
        }

        self.scrub_health(d, &mut ev, run)?;
        self.rewrite_urls(d, &mut ev, run)?;
        d.identifiers(&mut ev, run)?;

        if let Some(ldu) = d.cfg.limited_data_use {
            ev.insert(
                "data_processing_options".into(),
                Value::Array(vec![Value::String("LDU".into())]),
            );
            ev.insert("data_processing_options_country".into(), ldu.country.into());
            ev.insert("data_processing_options_state".into(), ldu.state.into());
            run.notes.push(format!(
                "limited data use injected (country {}, state {})",
                ldu.country, ldu.state
            ));
        }
        Ok(ev)
    }

    /// Scans every forwarded free-text value with the analysis engine's
    /// detector and acts on what counts: block, or remove the value. URL
    /// hits are left to `rewrite_urls` through `run.url_hits`.
    fn scrub_health(
        &self,
        d: &Dest,
        ev: &mut Map<String, Value>,
        run: &mut Run,
    ) -> Result<(), BlockReason> {
        let mut leaves = Leaves::default();
        for (k, v) in ev.iter() {
            if NO_TEXT_KEYS.contains(&k.as_str()) {
                continue;
            }
            let kind = match k.as_str() {
                "event_source_url" | "referrer_url" => Kind::Url,
                "event_name" => {
                    // The detector reads the event name itself (field
                    // `event`), with the rules for names.
                    leaves.event_name = Some(leaves.targets.len());
                    leaves.targets.push(Target {
                        path: vec![Seg::Key(k.clone())],
                        kind: Kind::Required,
                    });
                    continue;
                }
                _ => Kind::Field,
            };
            leaves.walk(&mut vec![Seg::Key(k.clone())], v, kind, 0);
        }
        // A plaintext external_id is the one identifier that may spell out
        // a condition ("hiv-clinic-patient-42"): read it before it is hashed.
        if let Some(Value::Object(ud)) = ev.get("user_data")
            && let Some(v) = ud.get("external_id")
        {
            let base = vec![Seg::Key("user_data".into()), Seg::Key("external_id".into())];
            let mut push = |path: Vec<Seg>, s: &str| {
                if !is_hashed("external_id", s) {
                    leaves.leaf(path, s, Kind::Field);
                }
            };
            match v {
                Value::String(s) => push(base, s),
                Value::Array(items) => {
                    for (i, it) in items.iter().enumerate() {
                        if let Value::String(s) = it {
                            let mut p = base.clone();
                            p.push(Seg::Idx(i));
                            push(p, s);
                        }
                    }
                }
                _ => {}
            }
        }

        for (i, (field, v)) in run.gone.iter().enumerate() {
            leaves.walk(&mut vec![Seg::Key(field.clone())], v, Kind::Gone(i), 0);
        }

        let page_url = ev
            .get("event_source_url")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let event_name = ev
            .get("event_name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let hits = self.detect(&event_name, page_url, &mut leaves, d.cfg.strict_health);

        let mut remove: Vec<(Vec<Seg>, Option<HealthCategory>)> = Vec::new();
        for (target, cat) in hits {
            let t = &leaves.targets[target];
            let field = path_string(&t.path);
            match t.kind {
                Kind::Url => {
                    if !run.url_hits.iter().any(|(f, _)| *f == field) {
                        run.url_hits.push((field, cat));
                    }
                }
                Kind::Gone(i) => {
                    let field = &run.gone[i].0;
                    if let Some(r) = run
                        .redactions
                        .iter_mut()
                        .find(|r| r.field == *field && r.category.is_none())
                    {
                        r.category = Some(cat);
                    }
                }
                Kind::Required => {
                    return Err(BlockReason::Health {
                        category: cat,
                        field,
                    });
                }
                Kind::Field => match d.cfg.health_action.fields {
                    HealthAction::Block => {
                        return Err(BlockReason::Health {
                            category: cat,
                            field,
                        });
                    }
                    _ => {
                        if !remove.iter().any(|(p, _)| *p == t.path) {
                            remove.push((t.path.clone(), Some(cat)));
                        }
                    }
                },
            }
        }
        for (path, why) in leaves.too_long {
            if matches!(path.first(), Some(Seg::Key(k)) if run.gone.iter().any(|(f, _)| f == k)) {
                // Already dropped by rule.
                continue;
            }
            if !remove.iter().any(|(p, _)| *p == path) {
                run.notes.push(format!(
                    "{} dropped: longer than {} bytes or nested deeper than {}, not scanned",
                    path_string(&path),
                    MAX_SCANNED,
                    MAX_DEPTH
                ));
                remove.push((path, why));
            }
        }
        // Deepest and highest index first, so that removing an array element
        // never shifts one still to be removed.
        remove.sort_by(|a, b| b.0.cmp(&a.0));
        for (path, cat) in remove {
            if remove_at(ev, &path) {
                let action = if cat.is_some() {
                    RedactionAction::Redacted
                } else {
                    RedactionAction::Dropped
                };
                run.redact(&path_string(&path), action, cat);
            }
        }
        Ok(())
    }

    /// Runs the detector over all leaves as one synthetic event (so that weak
    /// terms see the page and event-name context, as in analysis) and
    /// returns `(target, category)` for every hit that counts.
    fn detect(
        &self,
        event_name: &str,
        page_url: Option<String>,
        leaves: &mut Leaves,
        strict: bool,
    ) -> Vec<(usize, HealthCategory)> {
        if leaves.item_target.is_empty() && event_name.is_empty() {
            return Vec::new();
        }
        let custom = std::mem::take(&mut leaves.fields);
        let ev = synthetic_event(event_name, page_url, custom);
        let found = self.health.match_event(&ev);
        let mut out = Vec::new();
        for e in &found {
            if !counts(e, strict) {
                continue;
            }
            let target = if e.field == "event" {
                leaves.event_name
            } else if e.field.starts_with("page_url") {
                leaves.page_url
            } else if let Some(rest) = e.field.strip_prefix("custom_data.") {
                rest.rsplit_once('~')
                    .and_then(|(_, n)| {
                        let digits: String = n.chars().take_while(char::is_ascii_digit).collect();
                        digits.parse::<usize>().ok()
                    })
                    .and_then(|i| leaves.item_target.get(i))
                    .copied()
            } else {
                None
            };
            if let Some(t) = target {
                out.push((t, e.category));
            }
        }
        out
    }

    /// `event_source_url` and `referrer_url` per `url_mode`, or a block when
    /// one carries health information and `health_action.urls` is block.
    fn rewrite_urls(
        &self,
        d: &Dest,
        ev: &mut Map<String, Value>,
        run: &mut Run,
    ) -> Result<(), BlockReason> {
        for key in ["event_source_url", "referrer_url"] {
            let Some(Value::String(url)) = ev.get(key) else {
                continue;
            };
            let hit = run.url_hits.iter().find(|(f, _)| f == key).map(|(_, c)| *c);
            if let Some(category) = hit
                && d.cfg.health_action.urls == HealthAction::Block
            {
                return Err(BlockReason::Health {
                    category,
                    field: key.into(),
                });
            }
            let new = match (d.cfg.url_mode, hit) {
                (UrlMode::KeepIfClean, None) => continue,
                (UrlMode::Origin, _) => generalize(url, &[]),
                (UrlMode::PageType | UrlMode::KeepIfClean, _) => generalize(url, &self.page_types),
            };
            match new {
                Some(n) if n == *url => {}
                Some(n) => {
                    ev.insert(key.into(), Value::String(n));
                    run.redact(key, RedactionAction::Generalized, hit);
                }
                None => {
                    // Not a URL with a host: nothing safe to keep.
                    ev.remove(key);
                    let action = if hit.is_some() {
                        RedactionAction::Redacted
                    } else {
                        RedactionAction::Dropped
                    };
                    run.redact(key, action, hit);
                }
            }
        }
        Ok(())
    }
}

/// Does this evidence count for the gateway? As in analysis (strong, or
/// weak with a second signal), but a weak event name does not vouch for
/// itself (`Schedule` is a standard event).
fn counts(e: &HealthEvidence, strict: bool) -> bool {
    if strict || e.strength == Strength::Strong {
        return true;
    }
    if e.field == "event" {
        return e.signals.iter().any(|s| !s.starts_with("event:"));
    }
    !e.signals.is_empty()
}

fn synthetic_event(name: &str, page_url: Option<String>, custom: leakscope_core::Fields) -> Event {
    Event {
        category: Category::Advertising,
        event: name.to_owned(),
        page_url,
        method: "POST".into(),
        server_side: true,
        custom_data: custom,
        ..Event::empty(Vendor::MetaCapi, Source::new("gateway", 0))
    }
}

/// `origin/[page-type]` or `origin/`; `None` for what has no host.
fn generalize(url: &str, page_types: &[PageType]) -> Option<String> {
    let u = url::Url::parse(url.trim()).ok()?;
    u.host_str()?;
    let origin = u.origin().ascii_serialization();
    if origin == "null" {
        return None;
    }
    let path = url_decode(u.path());
    for p in page_types {
        if p.matcher.matches(&path) {
            return Some(format!("{origin}/[{}]", p.name));
        }
    }
    Some(format!("{origin}/"))
}

/// The per-event working state.
struct Run {
    redactions: Vec<Redaction>,
    notes: Vec<String>,
    /// Health found in a page URL, for the URL step.
    url_hits: Vec<(String, HealthCategory)>,
    /// Values dropped by rule (field path, value): scanned only to label
    /// their redaction with a health category.
    gone: Vec<(String, Value)>,
}

impl Run {
    fn redact(&mut self, field: &str, action: RedactionAction, category: Option<HealthCategory>) {
        self.redactions.push(Redaction {
            field: field.to_owned(),
            action,
            category,
        });
    }
}

/// Consent, fail-closed. An explicit signal on the event wins over a stored
/// record; a denial or `opt_out` always blocks.
fn check_consent(
    event: &Value,
    record: Option<&ConsentRecord>,
    d: &Dest,
    now: i64,
    run: &mut Run,
) -> Result<(), BlockReason> {
    let rule = &d.cfg.consent;
    if event.get("opt_out").and_then(Value::as_bool) == Some(true) {
        run.notes
            .push("consent: the event is marked opt_out".into());
        return Err(BlockReason::NoConsent);
    }
    if let Some(sig) = event.get(CONSENT_FIELD) {
        run.redact(CONSENT_FIELD, RedactionAction::Dropped, None);
        return match read_signal(sig, &rule.signals) {
            Signal::Granted => {
                run.notes.push("consent: granted on the event".into());
                Ok(())
            }
            Signal::Denied(why) => {
                run.notes.push(format!("consent: {why}"));
                Err(BlockReason::NoConsent)
            }
        };
    }
    if let Some(r) = record {
        let stale = rule
            .record_max_age_days
            .is_some_and(|days| now - r.at > i64::from(days) * DAY);
        if stale {
            run.notes
                .push("consent: stored record is older than record_max_age_days".into());
        } else if r.advertising {
            run.notes.push("consent: granted by a stored record".into());
            return Ok(());
        } else {
            run.notes.push("consent: denied by a stored record".into());
            return Err(BlockReason::NoConsent);
        }
    }
    if rule.required {
        run.notes
            .push("consent: no consent signal on the event and no stored record".into());
        Err(BlockReason::NoConsent)
    } else {
        run.notes
            .push("consent: none given; not required by this policy".into());
        Ok(())
    }
}

enum Signal {
    Granted,
    Denied(String),
}

/// One consent value as the policy reads it: `Some(true)` granted,
/// `Some(false)` denied, `None` neither (which also counts as no consent).
pub fn scalar_consent(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "granted" | "true" | "yes" | "1" => Some(true),
            "denied" | "false" | "no" | "0" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// `"granted"`/`true`, or an object whose every required key is `"granted"`/`true`.
fn read_signal(v: &Value, required: &[String]) -> Signal {
    let one = scalar_consent;
    match v {
        Value::Object(m) => {
            for key in required {
                match m.get(key).map(one) {
                    Some(Some(true)) => {}
                    Some(Some(false)) => return Signal::Denied(format!("{key} denied")),
                    Some(None) => {
                        return Signal::Denied(format!("{key} has an unrecognised value"));
                    }
                    None => return Signal::Denied(format!("{key} missing from the signal")),
                }
            }
            Signal::Granted
        }
        other => match one(other) {
            Some(true) => Signal::Granted,
            Some(false) => Signal::Denied("denied on the event".into()),
            None => Signal::Denied(format!("unrecognised {CONSENT_FIELD} value")),
        },
    }
}

impl Dest {
    fn compile(path: &str, cfg: &DestinationPolicy) -> Result<Dest, ConfigError> {
        let at = |field: &str| format!("{path}.{field}");
        for k in &cfg.custom_data_allow {
            if SECRET_KEYS.iter().any(|s| s.eq_ignore_ascii_case(k)) {
                return Err(ConfigError::invalid(
                    at("custom_data_allow"),
                    format!("{k:?} is a credential and can never be forwarded"),
                ));
            }
            if k.trim().is_empty() {
                return Err(ConfigError::invalid(at("custom_data_allow"), "empty key"));
            }
        }
        if cfg.health_action.fields == HealthAction::Generalize {
            return Err(ConfigError::invalid(
                at("health_action.fields"),
                "generalize applies to URLs only; use block or redact",
            ));
        }
        if cfg.health_action.urls == HealthAction::Redact {
            return Err(ConfigError::invalid(
                at("health_action.urls"),
                "a page URL is generalised, not removed (Meta requires it for website events); use generalize or block",
            ));
        }
        if cfg.consent.signals.is_empty() {
            return Err(ConfigError::invalid(
                at("consent.signals"),
                "at least one consent key (e.g. \"ad_user_data\") is needed",
            ));
        }
        if let Some(ldu) = cfg.limited_data_use {
            if ldu.country > 1 {
                return Err(ConfigError::invalid(
                    at("limited_data_use.country"),
                    format!("{} is not 0 (geolocate) or 1 (United States)", ldu.country),
                ));
            }
            if ldu.country == 0 && ldu.state != 0 {
                return Err(ConfigError::invalid(
                    at("limited_data_use.state"),
                    "a state needs country = 1; with country = 0 Meta geolocates and state must be 0",
                ));
            }
            if ldu.state != 0 && !(1000..2000).contains(&ldu.state) {
                return Err(ConfigError::invalid(
                    at("limited_data_use.state"),
                    format!(
                        "{} is not 0 or a Meta state code (1000 = California, ...)",
                        ldu.state
                    ),
                ));
            }
        }
        let mut reject = Vec::new();
        for (i, r) in cfg.reject_plaintext.iter().enumerate() {
            let (key, glob) = match r.split_once(':') {
                Some((k, g)) => (k.trim(), Some(g)),
                None => (r.trim(), None),
            };
            if !HASHED_KEYS.contains(&key) {
                return Err(ConfigError::invalid(
                    format!("{path}.reject_plaintext[{i}]"),
                    format!(
                        "{key:?} is not a user_data key that is sent hashed ({})",
                        HASHED_KEYS.join(", ")
                    ),
                ));
            }
            let glob = match glob {
                Some(g) => Some(Glob::new(g).map_err(|e| {
                    ConfigError::invalid(format!("{path}.reject_plaintext[{i}]"), e)
                })?),
                None => None,
            };
            reject.push((key.to_owned(), glob));
        }
        for (i, k) in cfg.drop_identifiers.iter().enumerate() {
            if !HASHED_KEYS.contains(&k.as_str()) && !PLAIN_KEYS.contains(&k.as_str()) {
                return Err(ConfigError::invalid(
                    format!("{path}.drop_identifiers[{i}]"),
                    format!("{k:?} is not a user_data key"),
                ));
            }
        }
        let mut block_events = Vec::new();
        for (i, g) in cfg.block_events.iter().enumerate() {
            if g.trim().is_empty() {
                return Err(ConfigError::invalid(
                    format!("{path}.block_events[{i}]"),
                    "empty event name pattern",
                ));
            }
            block_events.push(
                Glob::new(g)
                    .map_err(|e| ConfigError::invalid(format!("{path}.block_events[{i}]"), e))?,
            );
        }
        Ok(Dest {
            block_events,
            cfg: cfg.clone(),
            allow: cfg.custom_data_allow.iter().cloned().collect(),
            contents_allow: cfg.contents_allow.iter().cloned().collect(),
            reject,
            drop_ids: cfg.drop_identifiers.iter().cloned().collect(),
        })
    }

    /// Drops what is not allowlisted; the dropped values go to `run.gone`
    /// so that the audit can say which health category the allowlist kept
    /// back.
    fn filter_custom_data(&self, cd: &mut Map<String, Value>, run: &mut Run) {
        for (k, v) in std::mem::take(cd) {
            if self.allow.contains(&k) && !SECRET_KEYS.contains(&k.as_str()) {
                cd.insert(k, v);
            } else {
                let field = format!("custom_data.{k}");
                run.redact(&field, RedactionAction::Dropped, None);
                if !SECRET_KEYS.contains(&k.as_str()) {
                    run.gone.push((field, v));
                }
            }
        }
        if let Some(Value::Array(items)) = cd.get_mut("contents") {
            for (i, item) in items.iter_mut().enumerate() {
                if let Value::Object(m) = item {
                    for (k, v) in std::mem::take(m) {
                        if self.contents_allow.contains(&k) {
                            m.insert(k, v);
                        } else {
                            let field = format!("custom_data.contents[{i}].{k}");
                            run.redact(&field, RedactionAction::Dropped, None);
                            run.gone.push((field, v));
                        }
                    }
                }
            }
        }
    }

    /// Hash what Meta wants hashed (never twice), keep what it needs plain,
    /// drop the rest; block on a forbidden plaintext.
    fn identifiers(&self, ev: &mut Map<String, Value>, run: &mut Run) -> Result<(), BlockReason> {
        let Some(Value::Object(ud)) = ev.get_mut("user_data") else {
            return Ok(());
        };
        let keys: Vec<String> = ud.keys().cloned().collect();
        for k in keys {
            let field = format!("user_data.{k}");
            if self.drop_ids.contains(&k) {
                ud.remove(&k);
                run.redact(&field, RedactionAction::Dropped, None);
                continue;
            }
            if PLAIN_KEYS.contains(&k.as_str()) {
                continue;
            }
            if !HASHED_KEYS.contains(&k.as_str()) {
                ud.remove(&k);
                run.redact(&field, RedactionAction::Dropped, None);
                continue;
            }
            let Some(v) = ud.get_mut(&k) else { continue };
            let (mut items, was_array) = match std::mem::take(v) {
                Value::Array(a) => (a, true),
                other => (vec![other], false),
            };
            let mut hashed = false;
            let mut dropped = false;
            let mut out = Vec::with_capacity(items.len());
            for it in items.drain(..) {
                let s = match it {
                    Value::String(s) => s,
                    Value::Number(n) => n.to_string(),
                    _ => {
                        dropped = true;
                        continue;
                    }
                };
                if is_hashed(&k, &s) {
                    out.push(Value::String(lower_hash(&s)));
                    continue;
                }
                for (rk, glob) in &self.reject {
                    if *rk == k && glob.as_ref().is_none_or(|g| g.matches_value(&s)) {
                        return Err(BlockReason::Forbidden { field });
                    }
                }
                match normalize(&k, &s) {
                    Some(n) => {
                        out.push(Value::String(sha256_hex(&n)));
                        hashed = true;
                    }
                    None => dropped = true,
                }
            }
            if dropped {
                run.notes
                    .push(format!("{field}: a value Meta cannot use was dropped"));
            }
            if out.is_empty() {
                ud.remove(&k);
                run.redact(&field, RedactionAction::Dropped, None);
                continue;
            }
            if hashed {
                run.redact(&field, RedactionAction::Hashed, None);
            }
            *v = if was_array {
                Value::Array(out)
            } else {
                out.swap_remove(0)
            };
        }
        if ud.is_empty() {
            return Err(BlockReason::Invalid {
                field: "user_data".into(),
                message: "no customer information is left after the policy".into(),
            });
        }
        Ok(())
    }
}

/// The hex part lower-cased; a param-builder appendix is case-sensitive.
fn lower_hash(s: &str) -> String {
    match s.split_once('.') {
        Some((h, app)) => format!("{}.{app}", h.to_ascii_lowercase()),
        None => s.to_ascii_lowercase(),
    }
}

impl PageType {
    fn compile(
        path: &str,
        r: &PageTypeRule,
        health: &HealthMatcher,
    ) -> Result<PageType, ConfigError> {
        let name_ok = !r.name.is_empty()
            && r.name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !name_ok {
            return Err(ConfigError::invalid(
                format!("{path}.name"),
                format!("{:?}: use lower-case letters, digits and -", r.name),
            ));
        }
        // The name replaces the path on the wire: it must not say what the
        // path said.
        let ev = synthetic_event(
            "",
            None,
            [("page_type".to_owned(), Value::String(r.name.clone()))]
                .into_iter()
                .collect(),
        );
        if let Some(e) = health.match_event(&ev).iter().find(|e| counts(e, true)) {
            return Err(ConfigError::invalid(
                format!("{path}.name"),
                format!(
                    "{:?} itself reveals health information ({}); name the kind of page, e.g. \"pharmacy-page\"",
                    r.name,
                    e.category.as_str()
                ),
            ));
        }
        let matcher = match (&r.prefix, &r.glob) {
            (Some(p), None) => {
                if !p.starts_with('/') {
                    return Err(ConfigError::invalid(
                        format!("{path}.prefix"),
                        format!("{p:?} must start with /"),
                    ));
                }
                PathMatch::Prefix(p.to_ascii_lowercase())
            }
            (None, Some(g)) => {
                if !g.starts_with('/') && !g.starts_with('*') {
                    return Err(ConfigError::invalid(
                        format!("{path}.glob"),
                        format!("{g:?} must start with / or *"),
                    ));
                }
                if g.matches('*').count() > 8 {
                    return Err(ConfigError::invalid(
                        format!("{path}.glob"),
                        "more than 8 stars",
                    ));
                }
                PathMatch::Glob(
                    Glob::new(g).map_err(|e| ConfigError::invalid(format!("{path}.glob"), e))?,
                )
            }
            (Some(_), Some(_)) => {
                return Err(ConfigError::invalid(
                    path,
                    "give either prefix or glob, not both",
                ));
            }
            (None, None) => {
                return Err(ConfigError::invalid(path, "needs a prefix or a glob"));
            }
        };
        Ok(PageType {
            name: r.name.clone(),
            matcher,
        })
    }
}

/// A TOML key, quoted when it is not bare.
fn toml_key(k: &str) -> String {
    if !k.is_empty()
        && k.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        && !k.bytes().all(|b| b.is_ascii_digit())
    {
        k.to_owned()
    } else {
        format!("{k:?}")
    }
}

/// One step of a path into the event.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Seg {
    Key(String),
    Idx(usize),
}

fn path_string(p: &[Seg]) -> String {
    let mut s = String::new();
    for seg in p {
        match seg {
            Seg::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
            Seg::Idx(i) => {
                s.push('[');
                s.push_str(&i.to_string());
                s.push(']');
            }
        }
    }
    s
}

/// Removes the value at `path`; false when it is not there.
fn remove_at(root: &mut Map<String, Value>, path: &[Seg]) -> bool {
    let Some((Seg::Key(first), rest)) = path.split_first() else {
        return false;
    };
    if rest.is_empty() {
        return root.remove(first).is_some();
    }
    let Some(mut cur) = root.get_mut(first) else {
        return false;
    };
    let (last, mid) = match rest.split_last() {
        Some(x) => x,
        None => return false,
    };
    for seg in mid {
        let next = match (seg, cur) {
            (Seg::Key(k), Value::Object(m)) => m.get_mut(k),
            (Seg::Idx(i), Value::Array(a)) => a.get_mut(*i),
            _ => None,
        };
        match next {
            Some(n) => cur = n,
            None => return false,
        }
    }
    match (last, cur) {
        (Seg::Key(k), Value::Object(m)) => m.shift_remove(k).is_some(),
        (Seg::Idx(i), Value::Array(a)) if *i < a.len() => {
            a.remove(*i);
            true
        }
        _ => false,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Already dropped by rule (index into `Run::gone`): only labelled.
    Gone(usize),
    /// Remove or block per `health_action.fields`.
    Field,
    /// A page URL: generalise or block per `health_action.urls`.
    Url,
    /// Cannot be removed (`event_name`): block.
    Required,
}

struct Target {
    path: Vec<Seg>,
    kind: Kind,
}

/// The strings to scan, each tied to the value that would be removed.
#[derive(Default)]
struct Leaves {
    /// The detector's input: `key~n` → text; `key~n`: keeps the key's
    /// meaning for codes (`icd_code~3`), defeats the detector's id-key
    /// skipping (`order_id~3` is read), and leads back to the leaf.
    fields: leakscope_core::Fields,
    /// Target of item `n`.
    item_target: Vec<usize>,
    targets: Vec<Target>,
    event_name: Option<usize>,
    page_url: Option<usize>,
    /// Values not scanned (too long, too deep): dropped.
    too_long: Vec<(Vec<Seg>, Option<HealthCategory>)>,
}

impl Leaves {
    /// Every string (and unknown object key) under `path`; `path` is a
    /// stack, restored on return, cloned only for the leaves.
    fn walk(&mut self, path: &mut Vec<Seg>, v: &Value, kind: Kind, depth: usize) {
        if depth > MAX_DEPTH {
            self.too_long.push((path.clone(), None));
            return;
        }
        match v {
            Value::String(s) => self.leaf(path.clone(), s, kind),
            Value::Array(a) => {
                for (i, it) in a.iter().enumerate() {
                    path.push(Seg::Idx(i));
                    self.walk(path, it, kind, depth + 1);
                    path.pop();
                }
            }
            Value::Object(m) => {
                for (k, it) in m {
                    path.push(Seg::Key(k.clone()));
                    // Keys are text too: a custom key can name a condition.
                    // Meta's own key names cannot.
                    if !KNOWN_KEYS.contains(&k.as_str()) {
                        self.leaf(path.clone(), k, kind);
                    }
                    self.walk(path, it, kind, depth + 1);
                    path.pop();
                }
            }
            // Numbers, booleans, null: no words.
            _ => {}
        }
    }

    fn leaf(&mut self, path: Vec<Seg>, s: &str, kind: Kind) {
        if s.len() > MAX_SCANNED {
            if kind == Kind::Required || kind == Kind::Url && path.len() == 1 {
                // Handled by their own steps: an unreadable required field
                // blocks, an over-long URL is generalised anyway.
            } else {
                self.too_long.push((path, None));
                return;
            }
        }
        let key = match path.iter().rev().find_map(|s| match s {
            Seg::Key(k) => Some(k.as_str()),
            Seg::Idx(_) => None,
        }) {
            Some(k) => k.chars().filter(|c| *c != '~').take(40).collect::<String>(),
            None => String::new(),
        };
        let t = self.targets.len();
        let top_level = path.len() == 1;
        if kind == Kind::Url && top_level && path == [Seg::Key("event_source_url".into())] {
            self.page_url = Some(t);
        }
        self.targets.push(Target { path, kind });
        let s = &s[..floor_char(s, MAX_SCANNED)];
        self.text(&key, s, t, 0);
    }

    /// One value's text: a URL is split into its pieces (never the host),
    /// anything else decoded and queued for the detector.
    fn text(&mut self, key: &str, s: &str, target: usize, depth: usize) {
        let trimmed = s.trim();
        if trimmed.is_empty() {
            return;
        }
        if depth < 4 && looks_like_url(trimmed) {
            // Every piece of a URL but the host: the detector's own URL
            // reading skips id-like query keys, a gateway must not.
            let (no_frag, frag) = trimmed.split_once('#').unwrap_or((trimmed, ""));
            let (before, query) = no_frag.split_once('?').unwrap_or((no_frag, ""));
            let after_scheme = before.split_once("//").map_or(before, |(_, r)| r);
            let path = after_scheme.find('/').map_or("", |i| &after_scheme[i..]);
            self.text(key, path, target, depth + 1);
            for kv in query.split('&') {
                let (k, v) = kv.split_once('=').unwrap_or(("", kv));
                self.text(key, k, target, depth + 1);
                self.text(key, v, target, depth + 1);
            }
            self.text(key, frag, target, depth + 1);
            return;
        }
        // Decoded here, as many layers as there are (bounded): the detector
        // decides "only digits, read as codes" before it decodes, and
        // `%62%65...` is all digits.
        let mut t = trimmed.to_owned();
        for _ in 0..4 {
            match url_decode(&t) {
                Cow::Owned(d) if d != t => t = d,
                _ => break,
            }
        }
        if depth < 4 && t != trimmed && looks_like_url(t.trim()) {
            // An encoded URL inside a value: read its pieces too.
            let inner = t.clone();
            self.text(key, &inner, target, depth + 1);
            return;
        }
        // The trailing ` ¦` (not ASCII) keeps the detector from taking the
        // text for an opaque token, a URL or digits-only (it would skip it,
        // re-split it, or read only codes: `741741` is a crisis line); it
        // normalises away, and codes are still read with the text.
        t.push_str(" \u{a6}");
        let n = self.item_target.len();
        self.fields.insert(format!("{key}~{n}"), Value::String(t));
        self.item_target.push(target);
    }
}

fn looks_like_url(s: &str) -> bool {
    ["http://", "https://", "//"].iter().any(|p| {
        s.len() > p.len() && s.is_char_boundary(p.len()) && s[..p.len()].eq_ignore_ascii_case(p)
    })
}

fn floor_char(s: &str, max: usize) -> usize {
    if s.len() <= max {
        return s.len();
    }
    let mut i = max;
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}
