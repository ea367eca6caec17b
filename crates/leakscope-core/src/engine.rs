//! The engine: compile the vendor database once, then classify and decode
//! any number of exchanges. `Analyzer` adds the cross-request step (linking
//! Meta's privacy-sandbox twins) for a stream of exchanges.

use std::collections::HashMap;

use url::Url;

use crate::decode::{self, Request};
use crate::error::{DecodeError, DecodeErrorKind};
use crate::model::{EndpointKind, Event, Exchange, Party, Twin, Vendor};
use crate::party;
use crate::vendors::{Classification, VendorDb};

#[derive(Debug, Clone)]
pub struct Engine {
    db: VendorDb,
}

impl Default for Engine {
    fn default() -> Self {
        Engine::new()
    }
}

/// The parts of a URL the classifier needs, found without a full parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UrlParts<'a> {
    pub host: &'a str,
    pub path: &'a str,
    pub query: &'a str,
}

/// Splits `scheme://host[:port]/path?query#frag` cheaply. `None` for
/// URLs without an authority (data:, blob:, about:).
pub fn split_url(url: &str) -> Option<UrlParts<'_>> {
    let rest = &url[url.find("://")? + 3..];
    let auth_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let auth = &rest[..auth_end];
    let auth = auth.rsplit_once('@').map_or(auth, |(_, h)| h);
    let host = if auth.starts_with('[') {
        auth.split_once(']').map_or(auth, |(h, _)| &h[1..])
    } else {
        auth.split_once(':').map_or(auth, |(h, _)| h)
    };
    let tail = &rest[auth_end..];
    let tail = tail.split_once('#').map_or(tail, |(t, _)| t);
    let (path, query) = tail.split_once('?').unwrap_or((tail, ""));
    Some(UrlParts { host, path, query })
}

impl Engine {
    /// An engine with the built-in vendor database.
    pub fn new() -> Engine {
        Engine {
            db: VendorDb::builtin(),
        }
    }

    pub fn with_db(db: VendorDb) -> Engine {
        Engine { db }
    }

    pub fn db(&self) -> &VendorDb {
        &self.db
    }

    /// Vendor classification by host and path only: the hot path for the
    /// many requests that are not trackers.
    pub fn classify(&self, url: &str) -> Option<Classification<'_>> {
        let p = split_url(url)?;
        if p.host.bytes().any(|c| c.is_ascii_uppercase()) {
            let lower = p.host.to_ascii_lowercase();
            return self.db.classify(&lower, p.path);
        }
        self.db.classify(p.host, p.path)
    }

    /// Recognises a tracker protocol on a host that is not the vendor's own
    /// (server-side GTM, Meta's CAPI gateway, site-hosted pixel endpoints), by
    /// the shape of its parameters.
    pub fn proxy_vendor(&self, ex: &Exchange) -> Option<Vendor> {
        let p = split_url(&ex.url)?;
        let q = p.query.as_bytes();
        let has = |needle: &[u8]| {
            memchr::memmem::find(q, needle).is_some_and(|i| i == 0 || q[i - 1] == b'&')
        };
        if has(b"ev=") && has(b"id=") && meta_pixel_id_in(p.query) {
            return Some(Vendor::MetaPixel);
        }
        if (p.path.ends_with("/tr") || p.path.ends_with("/tr/"))
            && let Some(b) = &ex.body
        {
            let body = &b.bytes;
            let has_b = |n: &[u8]| memchr::memmem::find(body, n).is_some();
            if (has_b(b"ev=") || has_b(b"name=\"ev\"")) && (has_b(b"id=") || has_b(b"name=\"id\""))
            {
                return Some(Vendor::MetaPixel);
            }
        }
        if has(b"tid=G-") && (has(b"v=2") || p.path.ends_with("/collect")) {
            return Some(Vendor::Ga4);
        }
        if p.path.contains("/pagead/conversion/")
            || p.path.contains("/pagead/viewthroughconversion/")
        {
            return Some(Vendor::GoogleAds);
        }
        if is_capi_path(p.path) && ex.method.eq_ignore_ascii_case("POST") {
            return Some(Vendor::MetaCapi);
        }
        if ex.method.eq_ignore_ascii_case("POST")
            && let Some(b) = &ex.body
            && memchr::memmem::find(&b.bytes, b"\"pixel\"").is_some()
            && memchr::memmem::find(&b.bytes, b"\"code\"").is_some()
            && memchr::memmem::find(&b.bytes, b"\"context\"").is_some()
        {
            return Some(Vendor::Tiktok);
        }
        // Adobe collection is usually CNAME'd (`smetrics.<site>`): the
        // AppMeasurement path and the Web SDK edge path are its signature.
        if p.path.contains("/b/ss/")
            || (p.path.contains("/ee/")
                && (p.path.ends_with("/v1/interact") || p.path.ends_with("/v1/collect"))
                && has(b"configId="))
        {
            return Some(Vendor::Adobe);
        }
        None
    }

    /// Decodes one exchange into events, appended to `out`. Requests that are
    /// not tracker events add nothing. Events are finished: page URL,
    /// party and cookie ids filled in.
    pub fn decode(&self, ex: &Exchange, out: &mut Vec<Event>) -> Result<(), DecodeError> {
        let (product, vendor, proxied) = match self.classify(&ex.url) {
            Some(c) if c.kind == EndpointKind::Event => match c.decoder() {
                Some(v) => (c.product, v, false),
                None => return Ok(()),
            },
            Some(_) => return Ok(()),
            None => match self.proxy_vendor(ex) {
                Some(v) => match self.db.products().iter().find(|p| p.decoder == Some(v)) {
                    Some(p) => (p, v, true),
                    None => return Ok(()),
                },
                None => return Ok(()),
            },
        };
        let url = Url::parse(&ex.url).map_err(|e| DecodeError {
            at: ex.source.clone(),
            vendor,
            kind: DecodeErrorKind::Malformed,
            reason: format!("URL does not parse: {e}"),
        })?;
        let req = Request::new(ex, url, product, vendor, proxied);
        let start = out.len();
        let res = decode::decode(&req, out).map_err(|reason| DecodeError {
            at: ex.source.clone(),
            vendor,
            kind: if req.query.is_empty()
                && req.body.bytes.is_empty()
                && req.body.har_params.is_empty()
            {
                DecodeErrorKind::Empty
            } else {
                DecodeErrorKind::Malformed
            },
            reason,
        });
        for ev in &mut out[start..] {
            finish(ev, ex, req.url.host_str().unwrap_or(""));
        }
        res
    }

    /// Convenience: all events of one exchange.
    pub fn events(&self, ex: &Exchange) -> Result<Vec<Event>, DecodeError> {
        let mut out = Vec::new();
        self.decode(ex, &mut out)?;
        Ok(out)
    }

    pub fn analyzer(&self) -> Analyzer<'_> {
        Analyzer {
            engine: self,
            events: Vec::new(),
            errors: Vec::new(),
            exchanges: 0,
        }
    }
}

fn meta_pixel_id_in(query: &str) -> bool {
    query.split('&').any(|kv| {
        kv.strip_prefix("id=")
            .is_some_and(|v| v.len() >= 15 && v.bytes().all(|c| c.is_ascii_digit()))
    })
}

/// `/v21.0/123/events`, `/123/events`, `/capi/123/events`.
fn is_capi_path(path: &str) -> bool {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let digits = |s: &str| s.len() >= 6 && s.bytes().all(|c| c.is_ascii_digit());
    match segs.as_slice() {
        [id, "events"] => digits(id),
        [v, id, "events"] => {
            digits(id)
                && (*v == "capi"
                    || (v.starts_with('v')
                        && v[1..]
                            .split('.')
                            .all(|d| !d.is_empty() && d.bytes().all(|c| c.is_ascii_digit()))))
        }
        _ => false,
    }
}

/// Fills what every event gets the same way: the page URL when the tracker
/// didn't say, click ids in it, identifying cookies sent along, and the party.
fn finish(ev: &mut Event, ex: &Exchange, request_host: &str) {
    if let std::borrow::Cow::Owned(u) = decode::redact_url(&ev.request_url) {
        ev.request_url = u;
    }
    decode::redact_raw_secrets(&mut ev.raw);
    ev.consent.clone_from(&ex.consent);
    ev.step.clone_from(&ex.step);
    if ev.page_url.is_none() {
        ev.page_url = ex
            .page_url
            .as_deref()
            .or_else(|| ex.header("referer"))
            .filter(|u| !u.trim().is_empty())
            .map(str::to_owned);
    }
    if let Some(page) = ev.page_url.clone() {
        decode::click_ids_from_url(ev, "page_url", &page);
    }
    for (name, value) in ex.cookies() {
        if let Some(kind) = decode::id_cookie_kind(name)
            && !value.is_empty()
            && !ev.ids.iter().any(|i| i.kind == kind && i.value == value)
        {
            ev.ids
                .push(decode::id_value(kind, &format!("cookie:{name}"), value));
        }
    }
    if ev.party != Party::FirstPartyProxy {
        ev.party = party::party_of(request_host, ev.page_url.as_deref());
    } else if let Some(page) = ev.page_url.as_deref()
        && party::party_of(request_host, Some(page)) == Party::ThirdParty
    {
        // A tracker protocol on someone else's domain is just a third party.
        ev.party = Party::ThirdParty;
    }
}

/// Streaming analysis: feed exchanges, then `finish` to link twins.
pub struct Analyzer<'e> {
    engine: &'e Engine,
    events: Vec<Event>,
    errors: Vec<DecodeError>,
    exchanges: u64,
}

/// What an analysis produced.
#[derive(Debug, Default)]
pub struct Analysis {
    pub events: Vec<Event>,
    pub errors: Vec<DecodeError>,
    pub exchanges: u64,
}

impl Analyzer<'_> {
    pub fn feed(&mut self, ex: &Exchange) {
        self.exchanges += 1;
        if let Err(e) = self.engine.decode(ex, &mut self.events) {
            self.errors.push(e);
        }
    }

    pub fn finish(mut self) -> Analysis {
        link_meta_twins(&mut self.events);
        Analysis {
            events: self.events,
            errors: self.errors,
            exchanges: self.exchanges,
        }
    }
}

/// Meta sends some events more than once: the `privacy_sandbox/pixel/register/trigger`
/// hit repeats a `/tr` hit with the same parameters, and some builds resend a
/// hit through a second `/tr` variant. Hits with the same pixel, event, `ts`
/// and `ec` are one event: the first `/tr` hit is kept and the others are
/// recorded on it as twins (still evidence of each transmission).
pub fn link_meta_twins(events: &mut Vec<Event>) {
    type Key = (String, String, String, String, std::sync::Arc<str>);
    fn key(e: &Event) -> Option<Key> {
        let get = |k: &str| {
            e.raw
                .iter()
                .find(|(rk, _)| rk == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let ts = get("ts");
        if e.vendor != Vendor::MetaPixel || ts.is_empty() {
            return None;
        }
        Some((
            e.account_id.clone().unwrap_or_default(),
            e.event.clone(),
            ts,
            get("ec"),
            e.source.file.clone(),
        ))
    }
    let is_sandbox = |e: &Event| {
        e.request_url
            .contains("/privacy_sandbox/pixel/register/trigger")
    };
    // The primary of each group: its first plain `/tr` hit, else its first hit.
    let mut primary: HashMap<Key, usize> = HashMap::new();
    for (i, e) in events.iter().enumerate() {
        if let Some(k) = key(e) {
            match primary.get(&k) {
                Some(&p) if !is_sandbox(&events[p]) || is_sandbox(e) => {}
                _ => {
                    primary.insert(k, i);
                }
            }
        }
    }
    let mut drop = vec![false; events.len()];
    let mut links: Vec<(usize, Twin)> = Vec::new();
    for (i, e) in events.iter().enumerate() {
        if let Some(k) = key(e)
            && let Some(&p) = primary.get(&k)
            && p != i
        {
            drop[i] = true;
            links.push((
                p,
                Twin {
                    request_url: e.request_url.clone(),
                    source: e.source.clone(),
                },
            ));
        }
    }
    for (p, t) in links {
        events[p].twins.push(t);
    }
    let mut i = 0;
    events.retain(|_| {
        let keep = !drop[i];
        i += 1;
        keep
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_url_parts() {
        let p = split_url("https://User@WWW.Facebook.com:443/tr/?id=1#x").unwrap();
        assert_eq!(p.host, "WWW.Facebook.com");
        assert_eq!(p.path, "/tr/");
        assert_eq!(p.query, "id=1");
        assert!(split_url("data:image/png;base64,AAAA").is_none());
        let p = split_url("http://[::1]:8080?x").unwrap();
        assert_eq!((p.host, p.path, p.query), ("::1", "", "x"));
    }

    fn with_page(mut ex: Exchange, page: &str) -> Exchange {
        ex.page_url = Some(page.into());
        ex
    }

    #[test]
    fn first_party_proxies_are_recognised_by_shape() {
        use crate::model::Source;
        let engine = Engine::new();
        let page = "https://www.clinic.example/book?reason=ivf";
        // A site-hosted pixel endpoint (Stape / CAPI gateway style).
        let ex = with_page(
            Exchange::get(
                Source::new("t", 0),
                "https://track.clinic.example/tr/?id=1234567890123456&ev=Schedule&dl=https%3A%2F%2Fwww.clinic.example%2Fbook",
            ),
            page,
        );
        let e = &engine.events(&ex).unwrap()[0];
        assert_eq!(
            (e.vendor, e.party),
            (Vendor::MetaPixel, Party::FirstPartyProxy)
        );
        // Server-side GTM receiving GA4 hits.
        let ex = with_page(
            Exchange::get(
                Source::new("t", 1),
                "https://sgtm.clinic.example/g/collect?v=2&tid=G-ABC123&cid=1.2&en=page_view&dl=https%3A%2F%2Fwww.clinic.example%2F",
            ),
            page,
        );
        let e = &engine.events(&ex).unwrap()[0];
        assert_eq!((e.vendor, e.party), (Vendor::Ga4, Party::FirstPartyProxy));
        // Meta's Conversions API Gateway on the site's domain.
        let ex = Exchange::post(
            Source::new("t", 2),
            "https://capig.clinic.example/capi/1234567890123456/events",
            "application/json",
            br#"{"data":[{"event_name":"Lead","event_time":1,"action_source":"website","event_source_url":"https://www.clinic.example/book","user_data":{}}],"accessKey":"k-secret"}"#,
        );
        let e = &engine.events(&ex).unwrap()[0];
        assert_eq!(
            (e.vendor, e.party),
            (Vendor::MetaCapi, Party::FirstPartyProxy)
        );
        assert!(!serde_json::to_string(e).unwrap().contains("k-secret"));
        // An ordinary first-party request is not an event.
        let ex = Exchange::get(
            Source::new("t", 3),
            "https://www.clinic.example/api/slots?id=1234567890123456",
        );
        assert!(engine.events(&ex).unwrap().is_empty());
    }

    #[test]
    fn privacy_sandbox_twin_is_reported_once() {
        use crate::model::Source;
        let engine = Engine::new();
        let q = "id=1234567890123456&ev=PageView&dl=https%3A%2F%2Fclinic.example%2F&ts=1700000000000&ec=0";
        let mut a = engine.analyzer();
        a.feed(&Exchange::get(
            Source::new("t", 0),
            format!("https://www.facebook.com/tr/?{q}&rqm=GET"),
        ));
        a.feed(&Exchange::get(
            Source::new("t", 1),
            format!(
                "https://www.facebook.com/privacy_sandbox/pixel/register/trigger/?{q}&rqm=FGET"
            ),
        ));
        let out = a.finish();
        assert_eq!(out.events.len(), 1);
        assert_eq!(out.events[0].source.entry, 0);
        assert_eq!(out.events[0].twins.len(), 1);
        assert_eq!(out.events[0].twins[0].source.entry, 1);
    }

    #[test]
    fn capi_paths() {
        assert!(is_capi_path("/v21.0/1234567890/events"));
        assert!(is_capi_path("/capi/1234567890/events"));
        assert!(is_capi_path("/1234567890/events/"));
        assert!(!is_capi_path("/v21.0/me/events"));
        assert!(!is_capi_path("/events"));
    }
}
