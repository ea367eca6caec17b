//! The data model: what was captured (`Exchange`) and what it meant (`Event`).
//!
//! Everything here is plain data. Exchanges are immutable evidence; events are
//! derived views and always point back at their exchange through `Source`.

use std::fmt;
use std::sync::Arc;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

/// Where a captured request came from: the input file as the user named it and
/// the 0-based index of the HAR entry, log record or line inside it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Source {
    pub file: Arc<str>,
    pub entry: u64,
}

impl Source {
    pub fn new(file: impl Into<Arc<str>>, entry: u64) -> Self {
        Source {
            file: file.into(),
            entry,
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}#{}", self.file, self.entry)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    pub name: String,
    pub value: String,
}

impl Header {
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        Header {
            name: name.into(),
            value: value.into(),
        }
    }
}

/// A request body as captured. `bytes` is exactly what the capture holds (after
/// undoing only the capture format's own encoding, e.g. HAR's base64 `encoding`).
/// Some HAR writers keep only `postData.params`; those arrive in `params` with
/// `bytes` empty, and are never re-serialised into a body they weren't.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestBody {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bytes: Vec<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub params: Vec<(String, String)>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponseInfo {
    pub status: u16,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<Header>,
    /// The page HTML of a document response, when the capture kept it (at
    /// most `MAX_DOCUMENT_BODY` bytes, cut on a character boundary): what
    /// site context reads (titles, metadata, Schema.org types). Never kept
    /// for other responses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

/// Most bytes of a document's HTML an `Exchange` keeps.
pub const MAX_DOCUMENT_BODY: usize = 512 * 1024;

/// One captured HTTP request (and what is known of its response).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exchange {
    pub source: Source,
    pub method: String,
    pub url: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub request_headers: Vec<Header>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<RequestBody>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<ResponseInfo>,
    /// The script or document that caused the request (CDP initiator URL or stack top).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initiator: Option<String>,
    /// URL of the frame that sent the request, when the capture knows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frame_url: Option<String>,
    /// URL of the top-level page the request belongs to (HAR page, CDP document URL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_url: Option<String>,
    /// Capture time as the capture wrote it (ISO-8601 for HAR, seconds for CDP).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    /// Resource type as the capture names it (xhr, image, ping, script...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_type: Option<String>,
    /// Consent state in force when the request left, when the capture knows
    /// it (the scanner does): `none`, `rejected`, `accepted`, `gpc`.
    /// HAR carries it as the custom entry field `_consent`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consent: Option<String>,
    /// The scan step that caused the request (HAR `_step`), e.g. `3-click-refill`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
}

impl Exchange {
    /// A GET of `url` with nothing else known (URL lists).
    pub fn get(source: Source, url: impl Into<String>) -> Self {
        Exchange {
            source,
            method: "GET".into(),
            url: url.into(),
            request_headers: Vec::new(),
            body: None,
            response: None,
            initiator: None,
            frame_url: None,
            page_url: None,
            timestamp: None,
            resource_type: None,
            consent: None,
            step: None,
        }
    }

    /// A POST of `body` to `url` (JSONL ingest, fixtures). An empty
    /// `content_type` means none was captured: the body's format is then
    /// sniffed and a `Content-Type` header, if one is added, still applies.
    pub fn post(
        source: Source,
        url: impl Into<String>,
        content_type: &str,
        body: impl Into<Vec<u8>>,
    ) -> Self {
        Exchange {
            method: "POST".into(),
            body: Some(RequestBody {
                bytes: body.into(),
                content_type: (!content_type.is_empty()).then(|| content_type.to_owned()),
                params: Vec::new(),
            }),
            ..Exchange::get(source, url)
        }
    }

    /// First request header with this name, case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.request_headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.as_str())
    }

    /// The request's content type: the body's own, else the header.
    pub fn content_type(&self) -> Option<&str> {
        self.body
            .as_ref()
            .and_then(|b| b.content_type.as_deref())
            .or_else(|| self.header("content-type"))
    }

    /// Cookies sent with the request, from every `Cookie` header, in order.
    pub fn cookies(&self) -> impl Iterator<Item = (&str, &str)> {
        self.request_headers
            .iter()
            .filter(|h| h.name.eq_ignore_ascii_case("cookie"))
            .flat_map(|h| h.value.split(';'))
            .filter_map(|kv| {
                let kv = kv.trim();
                if kv.is_empty() {
                    return None;
                }
                Some(match kv.split_once('=') {
                    Some((k, v)) => (k.trim(), v.trim()),
                    None => ("", kv),
                })
            })
    }
}

/// Stable vendor ids. The serialised names are part of leakscope's output
/// contract: never rename one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Vendor {
    MetaPixel,
    MetaCapi,
    Ga4,
    GoogleUa,
    GoogleAds,
    Floodlight,
    Tiktok,
    TiktokEventsApi,
    Linkedin,
    Pinterest,
    Snap,
    Bing,
    X,
    Reddit,
    Nextdoor,
    Adobe,
    Hotjar,
    Fullstory,
    Clarity,
    /// A known tracker host with no event decoder (Criteo, The Trade Desk...).
    Other,
}

impl Vendor {
    pub const ALL: [Vendor; 20] = [
        Vendor::MetaPixel,
        Vendor::MetaCapi,
        Vendor::Ga4,
        Vendor::GoogleUa,
        Vendor::GoogleAds,
        Vendor::Floodlight,
        Vendor::Tiktok,
        Vendor::TiktokEventsApi,
        Vendor::Linkedin,
        Vendor::Pinterest,
        Vendor::Snap,
        Vendor::Bing,
        Vendor::X,
        Vendor::Reddit,
        Vendor::Nextdoor,
        Vendor::Adobe,
        Vendor::Hotjar,
        Vendor::Fullstory,
        Vendor::Clarity,
        Vendor::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Vendor::MetaPixel => "meta_pixel",
            Vendor::MetaCapi => "meta_capi",
            Vendor::Ga4 => "ga4",
            Vendor::GoogleUa => "google_ua",
            Vendor::GoogleAds => "google_ads",
            Vendor::Floodlight => "floodlight",
            Vendor::Tiktok => "tiktok",
            Vendor::TiktokEventsApi => "tiktok_events_api",
            Vendor::Linkedin => "linkedin",
            Vendor::Pinterest => "pinterest",
            Vendor::Snap => "snap",
            Vendor::Bing => "bing",
            Vendor::X => "x",
            Vendor::Reddit => "reddit",
            Vendor::Nextdoor => "nextdoor",
            Vendor::Adobe => "adobe",
            Vendor::Hotjar => "hotjar",
            Vendor::Fullstory => "fullstory",
            Vendor::Clarity => "clarity",
            Vendor::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Vendor> {
        Vendor::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// Server-to-server APIs: their events never pass through a browser.
    pub fn is_server_side(self) -> bool {
        matches!(self, Vendor::MetaCapi | Vendor::TiktokEventsApi)
    }
}

impl fmt::Display for Vendor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a tracker host is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Advertising,
    Analytics,
    SessionReplay,
    TagManager,
    Consent,
    Cdn,
    Social,
    Other,
}

/// Who receives the request, relative to the page that sent it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Party {
    /// A registrable domain other than the page's.
    ThirdParty,
    /// The page's own registrable domain.
    FirstParty,
    /// The page's own domain, but carrying a tracker's protocol (sGTM, CAPI
    /// gateway, a site-hosted pixel endpoint): data that goes on to the vendor.
    FirstPartyProxy,
    /// No page is known (URL lists, server logs): nothing to compare against.
    Unknown,
}

/// What kind of request a vendor endpoint is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndpointKind {
    /// Carries events: decoded.
    Event,
    /// Loads the tracker's code or configuration.
    Script,
    /// Vendor health pings, performance beacons: recognised, not events.
    Telemetry,
    /// Anything else on a vendor host (images, cookie syncs...).
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HashAlgo {
    Md5,
    Sha1,
    Sha256,
    Sha512,
}

/// How a hashed value is written on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HashEncoding {
    Hex,
    Base64,
    Base64Url,
}

/// One user-data field of an event (advanced matching, CAPI `user_data`...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserDatum {
    /// Normalised key: `em`, `ph`, `fn`, `ln`, `ge`, `db`, `ct`, `st`, `zp`,
    /// `country`, `external_id`, `client_ip_address`, ...
    pub key: String,
    /// Where it sat on the wire, e.g. `ud[em]` or `data[0].user_data.em[1]`.
    pub field: String,
    pub value: String,
    pub hashed: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub algorithm: Option<HashAlgo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding: Option<HashEncoding>,
}

/// A cookie, click or device id that ties an event to a browser or person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdValue {
    /// `fbp`, `fbc`, `fbclid`, `c_user`, `ga_client_id`, `gclid`, `ttp`,
    /// `ttclid`, `li_fat_id`, `uet_vid`, `epik`, `scid`, `twclid`, `rdt_uuid`...
    pub kind: String,
    pub field: String,
    pub value: String,
}

/// A form field described by a tracker (Meta `formFeatures`, GA4 form events).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormField {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placeholder: Option<String>,
}

/// What the user touched: the button-text / form-field channel.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Ui {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub button_text: Option<String>,
    /// The element as the tracker described it (tag, classes, id...), verbatim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub element: Option<serde_json::Value>,
    /// Where the clicked element leads (link href, form action).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub form_fields: Vec<FormField>,
}

impl Ui {
    pub fn is_empty(&self) -> bool {
        self.button_text.is_none()
            && self.element.is_none()
            && self.destination.is_none()
            && self.form_fields.is_empty()
    }
}

/// How the event travelled.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transport {
    pub method: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// Where the event's fields were read: `query`, `form`, `multipart`, `json`,
    /// `lines`, `path`, `base64_json`...
    pub format: String,
    /// Encodings peeled off the body, outermost first: `gzip`, `br`, `base64`...
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub encodings: Vec<String>,
}

/// A raw field exactly as decoded from the wire (percent-decoding only), in
/// wire order, duplicates kept.
pub type RawField = (String, String);

/// Ordered map for custom data: JSON-looking values are parsed, others kept as strings.
pub type Fields = IndexMap<String, serde_json::Value>;

/// Another transmission of the same event (Meta's privacy-sandbox twin of a
/// `/tr` hit): reported once, with its twin kept as evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Twin {
    pub request_url: String,
    pub source: Source,
}

/// A value we planted (a canary: made-up email, phone, name or search term)
/// found in a request, with the exact chain of encodings it was found under.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CanaryHit {
    /// `email`, `phone`, `name`, `search` or `other`.
    pub value_kind: String,
    /// The canary as planted (ours, made up: safe to print).
    pub value: String,
    /// Where in the request: `url.query.q`, `body.ud[em]`, `cookie:_uid`, `header:referer`...
    pub field: String,
    /// Decoding steps outermost first, ending in what matched, e.g.
    /// `base64 → json → email` or `sha256(normalize_email)`.
    pub chain: String,
}

/// One normalized tracker event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub vendor: Vendor,
    pub organisation: String,
    pub product: String,
    pub category: Category,
    pub party: Party,
    /// Pixel, tag or account id, exactly as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    pub event: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referrer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_title: Option<String>,
    pub request_url: String,
    pub method: String,
    /// True for server-to-server APIs (CAPI, TikTok Events API).
    #[serde(default)]
    pub server_side: bool,
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub custom_data: Fields,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub user_data: Vec<UserDatum>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ids: Vec<IdValue>,
    #[serde(default, skip_serializing_if = "Ui::is_empty")]
    pub ui: Ui,
    pub transport: Transport,
    pub source: Source,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub twins: Vec<Twin>,
    /// Planted values found in the request that carried this event.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub canaries: Vec<CanaryHit>,
    /// Every field as decoded, in wire order, nothing dropped.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub raw: Vec<RawField>,
    /// Consent state when the request left (copied from the exchange).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consent: Option<String>,
    /// Scan step that caused the request (copied from the exchange).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
}

impl Event {
    /// An event with nothing decoded: for matching text that is not a
    /// tracker request (a page title, a link, a gateway event's leaves)
    /// with the same detectors, fields set with struct-update syntax.
    pub fn empty(vendor: Vendor, source: Source) -> Event {
        Event {
            vendor,
            organisation: String::new(),
            product: String::new(),
            category: Category::Other,
            party: Party::Unknown,
            account_id: None,
            event: String::new(),
            page_url: None,
            referrer: None,
            page_title: None,
            request_url: String::new(),
            method: "GET".into(),
            server_side: false,
            custom_data: Default::default(),
            user_data: Vec::new(),
            ids: Vec::new(),
            ui: Ui::default(),
            transport: Transport::default(),
            source,
            twins: Vec::new(),
            canaries: Vec::new(),
            raw: Vec::new(),
            consent: None,
            step: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn post_keeps_the_body_and_reads_an_empty_content_type_as_none() {
        let ex = Exchange::post(
            Source::new("t", 0),
            "https://collector.example/e",
            "application/json",
            r#"{"email":"jane.doe.canary@example.com"}"#,
        );
        assert_eq!(ex.method, "POST");
        assert_eq!(ex.content_type(), Some("application/json"));
        let body = ex.body.as_ref().map(|b| b.bytes.as_slice());
        assert_eq!(
            body,
            Some(&br#"{"email":"jane.doe.canary@example.com"}"#[..])
        );

        // JSONL records with no mime: the Content-Type header still applies.
        let mut ex = Exchange::post(Source::new("t", 1), "https://c.example/", "", vec![1u8]);
        assert_eq!(ex.content_type(), None);
        ex.request_headers
            .push(Header::new("Content-Type", "text/plain"));
        assert_eq!(ex.content_type(), Some("text/plain"));
    }
}
