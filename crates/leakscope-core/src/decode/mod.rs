//! Vendor decoders. Each turns one classified request into zero or more
//! normalized events. A decoder gets a [`Request`] (URL parsed once, query
//! params, body peeled) and pushes `Event`s built with [`Request::event`].
//!
//! To add a vendor: give it a product with `decoder = "<id>"` in
//! `data/vendors.toml`, a `Vendor` variant in `model.rs`, a module here, and a
//! line in [`decode`].

use url::Url;

use crate::body::Body;
use crate::model::{
    Event, Exchange, HashAlgo, HashEncoding, IdValue, Party, Transport, Ui, UserDatum, Vendor,
};
use crate::params::Params;
use crate::vendors::Product;

pub mod adobe;
pub mod bing;
pub mod google;
pub mod linkedin;
pub mod meta;
pub mod nextdoor;
pub mod pinterest;
pub mod recorders;
pub mod reddit;
pub mod snap;
pub mod tiktok;
pub mod x;

/// A request being decoded: everything a decoder needs, computed once.
pub struct Request<'a> {
    pub ex: &'a Exchange,
    pub url: Url,
    pub product: &'a Product,
    pub vendor: Vendor,
    /// True when recognised by its parameters on a non-vendor host.
    pub proxied: bool,
    pub query: Params,
    pub body: Body<'a>,
    /// Form or multipart fields of the body, parsed on first use.
    body_params: std::cell::OnceCell<Params>,
}

impl<'a> Request<'a> {
    pub fn new(
        ex: &'a Exchange,
        url: Url,
        product: &'a Product,
        vendor: Vendor,
        proxied: bool,
    ) -> Request<'a> {
        let query = url.query().map(Params::parse).unwrap_or_default();
        let (raw, params): (&[u8], &[(String, String)]) = match &ex.body {
            Some(b) => (&b.bytes, &b.params),
            None => (&[], &[]),
        };
        let body = Body::new(
            raw,
            ex.content_type(),
            ex.header("content-encoding"),
            params,
        );
        Request {
            ex,
            url,
            product,
            vendor,
            proxied,
            query,
            body,
            body_params: std::cell::OnceCell::new(),
        }
    }

    /// Form or multipart fields of the body (empty for other bodies), parsed once.
    pub fn body_params(&self) -> &Params {
        self.body_params.get_or_init(|| self.body.params())
    }

    /// Where key/value fields were read: `query` when the body has none,
    /// else the body's format (`form`, `multipart`).
    pub fn params_format(&self) -> &'static str {
        if self.body_params().is_empty() {
            "query"
        } else {
            self.body_format()
        }
    }

    /// Query and form/multipart body fields merged, body winning per key.
    pub fn all_params(&self) -> Params {
        let body = self.body_params();
        if body.is_empty() {
            self.query.clone()
        } else if self.query.is_empty() {
            body.clone()
        } else {
            self.query.overlay(body)
        }
    }

    pub fn transport(&self, format: &str) -> Transport {
        Transport {
            method: self.ex.method.clone(),
            content_type: self.ex.content_type().map(str::to_owned),
            format: format.to_owned(),
            encodings: self
                .body
                .encodings
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
        }
    }

    /// A new event for this request, with vendor, request and transport
    /// filled in. `format` says where its fields were read.
    pub fn event(&self, name: impl Into<String>, format: &str) -> Event {
        Event {
            vendor: self.vendor,
            organisation: self.product.organisation.clone(),
            product: self.product.name.clone(),
            category: self.product.category,
            party: if self.proxied {
                Party::FirstPartyProxy
            } else {
                Party::Unknown
            },
            account_id: None,
            event: name.into(),
            page_url: None,
            referrer: None,
            page_title: None,
            request_url: self.ex.url.clone(),
            method: self.ex.method.clone(),
            server_side: self.vendor.is_server_side(),
            custom_data: Default::default(),
            user_data: Vec::new(),
            ids: Vec::new(),
            ui: Ui::default(),
            transport: self.transport(format),
            source: self.ex.source.clone(),
            twins: Vec::new(),
            canaries: Vec::new(),
            raw: Vec::new(),
            consent: None,
            step: None,
        }
    }

    /// Where the body's fields sit, for `Transport::format`.
    pub fn body_format(&self) -> &'static str {
        self.body.format.as_str()
    }
}

/// Runs the vendor's decoder. `Err` carries a reason; the caller adds where.
pub fn decode(req: &Request<'_>, out: &mut Vec<Event>) -> Result<(), String> {
    match req.vendor {
        Vendor::MetaPixel => meta::decode_pixel(req, out),
        Vendor::MetaCapi => meta::decode_capi(req, out),
        Vendor::Ga4 => google::decode_ga4(req, out),
        Vendor::GoogleUa => google::decode_ua(req, out),
        Vendor::GoogleAds => google::decode_ads(req, out),
        Vendor::Floodlight => google::decode_floodlight(req, out),
        Vendor::Tiktok => tiktok::decode_pixel(req, out),
        Vendor::TiktokEventsApi => tiktok::decode_events_api(req, out),
        Vendor::Linkedin => linkedin::decode(req, out),
        Vendor::Pinterest => pinterest::decode(req, out),
        Vendor::Snap => snap::decode(req, out),
        Vendor::Bing => bing::decode(req, out),
        Vendor::X => x::decode(req, out),
        Vendor::Reddit => reddit::decode(req, out),
        Vendor::Nextdoor => nextdoor::decode(req, out),
        Vendor::Adobe => adobe::decode(req, out),
        Vendor::Hotjar => recorders::decode_hotjar(req, out),
        Vendor::Fullstory => recorders::decode_fullstory(req, out),
        Vendor::Clarity => recorders::decode_clarity(req, out),
        Vendor::Other => Ok(()),
    }
}

// ------------------------------------------------------------------ helpers

/// Recognises a hashed value by its shape (wire-formats §1.4): hex of MD5,
/// SHA-1, SHA-256 or SHA-512 (either case), or base64/base64url of 32 or 64
/// bytes. A Meta param-builder appendix (`.AQ`, `.AQYCAQMA`) is ignored.
pub fn hash_shape(value: &str) -> Option<(HashAlgo, HashEncoding)> {
    let v = strip_meta_appendix(value.trim());
    let all_hex = !v.is_empty() && v.bytes().all(|c| c.is_ascii_hexdigit());
    if all_hex {
        return match v.len() {
            32 => Some((HashAlgo::Md5, HashEncoding::Hex)),
            40 => Some((HashAlgo::Sha1, HashEncoding::Hex)),
            64 => Some((HashAlgo::Sha256, HashEncoding::Hex)),
            128 => Some((HashAlgo::Sha512, HashEncoding::Hex)),
            _ => None,
        };
    }
    let b64ish = |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'-' | b'_' | b'=');
    if matches!(v.len(), 43 | 44 | 86 | 88) && v.bytes().all(b64ish) {
        let enc = if v.bytes().any(|c| c == b'-' || c == b'_') || !v.ends_with('=') {
            HashEncoding::Base64Url
        } else {
            HashEncoding::Base64
        };
        let bytes = crate::body::decode_base64_any(v.as_bytes())?;
        return match bytes.len() {
            32 => Some((HashAlgo::Sha256, enc)),
            64 => Some((HashAlgo::Sha512, enc)),
            _ => None,
        };
    }
    None
}

/// Strips Meta's capi-param-builder appendix from `<hex64>.<appendix>`.
pub fn strip_meta_appendix(v: &str) -> &str {
    if let Some((head, tail)) = v.rsplit_once('.')
        && matches!(tail.len(), 2 | 8)
        && tail
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        && head.len() == 64
        && head.bytes().all(|c| c.is_ascii_hexdigit())
    {
        return head;
    }
    v
}

/// A user-data field, hashed or plain by shape.
pub fn user_datum(key: &str, field: &str, value: &str) -> UserDatum {
    let shape = hash_shape(value);
    UserDatum {
        key: key.to_owned(),
        field: field.to_owned(),
        value: value.to_owned(),
        hashed: shape.is_some(),
        algorithm: shape.map(|s| s.0),
        encoding: shape.map(|s| s.1),
    }
}

/// A user-data field sent in clear by design (IP address, user agent): never
/// taken for a hash by accident of shape.
pub fn plain_datum(key: &str, field: &str, value: &str) -> UserDatum {
    UserDatum {
        hashed: false,
        algorithm: None,
        encoding: None,
        ..user_datum(key, field, value)
    }
}

/// The values of one JSON field as `(field, text)`: a scalar once, an
/// array's elements as `field[j]`. Nulls and empty strings are skipped.
pub fn json_field_values(field: &str, v: &serde_json::Value) -> Vec<(String, String)> {
    let values: Vec<(String, &serde_json::Value)> = match v {
        serde_json::Value::Array(a) => a
            .iter()
            .enumerate()
            .map(|(j, x)| (format!("{field}[{j}]"), x))
            .collect(),
        other => vec![(field.to_owned(), other)],
    };
    values
        .into_iter()
        .filter_map(|(f, x)| Some((f, json_str(x).filter(|s| !s.is_empty())?)))
        .collect()
}

/// Every value of a JSON object of user fields (CAPI `user_data`) as
/// `(key, field, text)`, fields `{prefix}.{key}` with arrays expanded as by
/// [`json_field_values`]. What each key means is the vendor's to say.
pub fn json_user_fields<'o>(
    prefix: &str,
    obj: &'o serde_json::Map<String, serde_json::Value>,
) -> Vec<(&'o str, String, String)> {
    obj.iter()
        .flat_map(|(k, v)| {
            json_field_values(&format!("{prefix}.{k}"), v)
                .into_iter()
                .map(move |(field, s)| (k.as_str(), field, s))
        })
        .collect()
}

pub fn id_value(kind: &str, field: &str, value: &str) -> IdValue {
    IdValue {
        kind: kind.to_owned(),
        field: field.to_owned(),
        value: value.to_owned(),
    }
}

/// Click ids that ride in page URLs, by query key → id kind.
pub const CLICK_ID_PARAMS: &[(&str, &str)] = &[
    ("fbclid", "fbclid"),
    ("gclid", "gclid"),
    ("gbraid", "gbraid"),
    ("wbraid", "wbraid"),
    ("dclid", "dclid"),
    ("ttclid", "ttclid"),
    ("msclkid", "msclkid"),
    ("li_fat_id", "li_fat_id"),
    ("twclid", "twclid"),
    ("rdt_cid", "rdt_cid"),
    ("ScCid", "sc_click_id"),
    ("epik", "epik"),
];

/// Cookies that identify a browser or account, by cookie name → id kind.
/// Matched exactly, or as a prefix where the name ends in `*`.
pub const ID_COOKIES: &[(&str, &str)] = &[
    ("_fbp", "fbp"),
    ("_fbc", "fbc"),
    ("c_user", "c_user"),
    ("datr", "datr"),
    ("fr", "fr"),
    ("_ga", "ga_client_id"),
    ("_ga_*", "ga_session"),
    ("_gid", "ga_gid"),
    ("_gcl_au", "gcl_au"),
    ("_gcl_aw", "gclid"),
    ("IDE", "google_ide"),
    ("_ttp", "ttp"),
    ("ttcsid", "ttcsid"),
    ("li_fat_id", "li_fat_id"),
    ("bcookie", "li_bcookie"),
    ("li_sugr", "li_sugr"),
    ("_uetvid", "uet_vid"),
    ("_uetsid", "uet_sid"),
    ("MUID", "muid"),
    ("_pin_unauth", "pin_unauth"),
    ("_epik", "epik"),
    ("_scid", "scid"),
    ("sc_at", "sc_at"),
    ("_twclid", "twclid"),
    ("guest_id", "x_guest_id"),
    ("personalization_id", "x_personalization_id"),
    ("_rdt_uuid", "rdt_uuid"),
    ("_hjSessionUser_*", "hotjar_user"),
    ("_clck", "clarity_user"),
    ("_clsk", "clarity_session"),
    ("fs_uid", "fullstory_uid"),
    ("demdex", "adobe_demdex"),
    ("s_ecid", "adobe_ecid"),
];

/// The id kind of a cookie name, if it is one of [`ID_COOKIES`].
pub fn id_cookie_kind(name: &str) -> Option<&'static str> {
    ID_COOKIES
        .iter()
        .find_map(|(n, kind)| match n.strip_suffix('*') {
            Some(prefix) => name.starts_with(prefix).then_some(*kind),
            None => (name == *n).then_some(*kind),
        })
}

/// Adds click ids found in a page URL's query to the event.
pub fn click_ids_from_url(ev: &mut Event, field: &str, page_url: &str) {
    let Some(q) = page_url
        .split_once('?')
        .map(|(_, q)| q.split('#').next().unwrap_or(q))
    else {
        return;
    };
    for (k, v) in url::form_urlencoded::parse(q.as_bytes()) {
        if let Some((_, kind)) = CLICK_ID_PARAMS.iter().find(|(p, _)| *p == k)
            && !v.is_empty()
        {
            ev.ids.push(id_value(kind, &format!("{field}?{k}"), &v));
        }
    }
}

/// Which occurrence of a marker in a URL path to measure from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nth {
    First,
    Last,
}

/// The path segment `offset` places from the `nth` run of segments equal to
/// `marker`, counted from the run's first segment, if it is not empty:
/// `("/v3/123/events", &["events"], Last, -1)` → `123`. Account and pixel
/// ids sit beside fixed words in API paths; vendors add their own rules.
pub fn path_segment_near<'p>(
    path: &'p str,
    marker: &[&str],
    nth: Nth,
    offset: isize,
) -> Option<&'p str> {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let mut runs = segs.windows(marker.len().max(1)).enumerate();
    let is_marker = |(_, w): &(usize, &[&str])| *w == marker;
    let (i, _) = match nth {
        Nth::First => runs.find(is_marker),
        Nth::Last => runs.rfind(is_marker),
    }?;
    let seg = *segs.get(i.checked_add_signed(offset)?)?;
    (!seg.is_empty()).then_some(seg)
}

/// A JSON value as a display string (strings unquoted).
pub fn json_str(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// A JSON value as a display string, unless absent, null or empty.
pub fn json_nonempty(v: Option<&serde_json::Value>) -> Option<String> {
    v.and_then(json_str).filter(|s| !s.is_empty())
}

/// Follows a `.`-separated path of object keys.
pub fn json_path<'v>(v: &'v serde_json::Value, path: &str) -> Option<&'v serde_json::Value> {
    path.split('.').try_fold(v, |cur, k| cur.get(k))
}

/// Flattens a JSON value into `(path, scalar)` pairs for `Event::raw`.
pub fn flatten_json(prefix: &str, v: &serde_json::Value, out: &mut Vec<(String, String)>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten_json(&p, x, out);
            }
        }
        serde_json::Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                flatten_json(&format!("{prefix}[{i}]"), x, out);
            }
        }
        serde_json::Value::Null => out.push((prefix.to_owned(), "null".into())),
        serde_json::Value::String(s) => out.push((prefix.to_owned(), s.clone())),
        other => out.push((prefix.to_owned(), other.to_string())),
    }
}

/// Field names whose values are credentials: redacted wherever a URL or a
/// raw field is output (matched case-insensitively on the last path part).
pub const SECRET_QUERY_KEYS: &[&str] = &[
    "access_token",
    "appsecret_proof",
    "accessKey",
    "access-token",
    "api_secret",
    "api_key",
    "apikey",
    "x-api-key",
    "client_secret",
    "authorization",
    "password",
    "passwd",
    "session_token",
];

/// Is this field (`data[0].access_token`, `Authorization`) a credential?
pub fn is_secret_key(key: &str) -> bool {
    let last = key
        .rsplit(['.', '['])
        .next()
        .unwrap_or(key)
        .trim_end_matches(']');
    SECRET_QUERY_KEYS
        .iter()
        .any(|s| s.eq_ignore_ascii_case(last))
}

/// Replaces credential values in raw fields with a note of their length.
pub fn redact_raw_secrets(raw: &mut [(String, String)]) {
    for (k, v) in raw.iter_mut() {
        if is_secret_key(k) && !v.starts_with("[redacted") {
            *v = meta::redacted(v);
        }
    }
}

/// The URL with the values of [`SECRET_QUERY_KEYS`] replaced by a note of
/// their length. Everything else is left byte for byte.
pub fn redact_url(url: &str) -> std::borrow::Cow<'_, str> {
    let Some((head, rest)) = url.split_once('?') else {
        return url.into();
    };
    let (query, frag) = match rest.split_once('#') {
        Some((q, f)) => (q, Some(f)),
        None => (rest, None),
    };
    let mut changed = false;
    let parts: Vec<String> = query
        .split('&')
        .map(|kv| match kv.split_once('=') {
            Some((k, v)) if is_secret_key(&crate::params::percent_decode(k)) => {
                changed = true;
                format!("{k}={}", meta::redacted(v).replace(' ', "%20"))
            }
            _ => kv.to_owned(),
        })
        .collect();
    if !changed {
        return url.into();
    }
    let mut out = format!("{head}?{}", parts.join("&"));
    if let Some(f) = frag {
        out.push('#');
        out.push_str(f);
    }
    out.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_shapes() {
        let sha = "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f";
        assert_eq!(hash_shape(sha), Some((HashAlgo::Sha256, HashEncoding::Hex)));
        assert_eq!(
            hash_shape(&format!("{sha}.AQYCAQMA")),
            Some((HashAlgo::Sha256, HashEncoding::Hex))
        );
        assert_eq!(
            hash_shape("5d41402abc4b2a76b9719d911017c592"),
            Some((HashAlgo::Md5, HashEncoding::Hex))
        );
        // Google's base64url SHA-256 (43 chars, no padding).
        assert_eq!(
            hash_shape("YqFORPdlQZ0Q_qmTZzYacnwSNl4lIPMiGNUF7ZqgD2I"),
            Some((HashAlgo::Sha256, HashEncoding::Base64Url))
        );
        assert_eq!(hash_shape("john@example.com"), None);
        assert_eq!(hash_shape("16505551212"), None);
    }

    #[test]
    fn path_segments_near_a_marker() {
        let near = path_segment_near;
        assert_eq!(
            near("/v19.0/123/events", &["events"], Nth::Last, -1),
            Some("123")
        );
        assert_eq!(near("/v3/events", &["events"], Nth::Last, -1), Some("v3"));
        assert_eq!(near("/events", &["events"], Nth::Last, -1), None);
        assert_eq!(near("/a//events", &["events"], Nth::Last, -1), None);
        let pins = "/v5/ad_accounts/549/events";
        assert_eq!(near(pins, &["ad_accounts"], Nth::First, 1), Some("549"));
        let v2 = "/api/v2.0/conversions/events/t2_acct";
        assert_eq!(
            near(v2, &["conversions", "events"], Nth::First, 2),
            Some("t2_acct")
        );
        assert_eq!(near(v2, &["conversions", "pixels"], Nth::First, 2), None);
        // First and last differ only when the marker repeats.
        let twice = "/x/events/y/events";
        assert_eq!(near(twice, &["events"], Nth::First, -1), Some("x"));
        assert_eq!(near(twice, &["events"], Nth::Last, -1), Some("y"));
    }

    #[test]
    fn user_fields_expand_arrays_and_skip_empties() {
        let sha = "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f";
        let ud = serde_json::json!({"em": [sha, "", null], "ph": "", "client_ip_address": sha});
        let serde_json::Value::Object(ud) = ud else {
            unreachable!()
        };
        let got = json_user_fields("data[0].user_data", &ud);
        let want = [
            ("em", "data[0].user_data.em[0]"),
            ("client_ip_address", "data[0].user_data.client_ip_address"),
        ];
        assert_eq!(got.len(), want.len());
        for ((k, field, v), (wk, wf)) in got.iter().zip(want) {
            assert_eq!((*k, field.as_str(), v.as_str()), (wk, wf, sha));
        }
        // A plain field keeps its value but is never called a hash.
        let d = plain_datum("client_ip_address", "ip", sha);
        assert_eq!(
            (d.value.as_str(), d.hashed, d.algorithm),
            (sha, false, None)
        );
        assert!(user_datum("em", "em", sha).hashed);
    }

    #[test]
    fn secrets_are_found_at_any_depth() {
        assert!(is_secret_key("access_token"));
        assert!(is_secret_key("data[0].Access_Token"));
        assert!(is_secret_key("headers[Authorization]"));
        assert!(!is_secret_key("event_id"));
        assert_eq!(
            redact_url("https://graph.facebook.com/v21.0/1/events?access%5Ftoken=EAAB&x=1"),
            "https://graph.facebook.com/v21.0/1/events?access%5Ftoken=[redacted:%204%20chars]&x=1"
        );
    }

    #[test]
    fn cookie_kinds() {
        assert_eq!(id_cookie_kind("_fbp"), Some("fbp"));
        assert_eq!(id_cookie_kind("_ga_ABC123"), Some("ga_session"));
        assert_eq!(id_cookie_kind("_gat"), None);
    }
}
