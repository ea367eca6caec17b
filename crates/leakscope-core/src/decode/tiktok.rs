//! TikTok: the Pixel (`analytics.tiktok.com/api/v2/pixel[/act|/batch]`, JSON
//! bodies or the base64 `analytics_message` GET fallback) and the Events API
//! (`business-api.tiktok.com/open_api/v1.3/{event,pixel}/{track,batch}/`).
//! See wire-formats.md §5.

use serde_json::Value;

use super::{
    Request, flatten_json, id_value, json_field_values, json_nonempty, json_path, json_str,
    plain_datum, user_datum,
};
use crate::model::Event;
use crate::params::{json_or_string, percent_decode};

/// TikTok's user-data keys → the normalised `UserDatum::key`.
const USER_KEYS: &[(&str, &str)] = &[
    ("email", "em"),
    ("auto_email", "em"),
    ("sha256_email", "em"),
    ("phone_number", "ph"),
    ("phone", "ph"),
    ("auto_phone_number", "ph"),
    ("sha256_phone_number", "ph"),
    ("external_id", "external_id"),
    ("first_name", "fn"),
    ("last_name", "ln"),
    ("city", "ct"),
    ("state", "st"),
    ("zip_code", "zp"),
    ("country", "country"),
    ("ip", "client_ip_address"),
    ("user_agent", "client_user_agent"),
    ("locale", "locale"),
];

/// Sent in clear by design: never flagged as hashes by accident of shape.
const PLAIN_KEYS: &[&str] = &["client_ip_address", "client_user_agent", "locale"];

/// User fields that are cookie/click ids rather than personal data.
const USER_ID_KEYS: &[(&str, &str)] = &[
    ("anonymous_id", "ttp"),
    ("ttp", "ttp"),
    ("ttclid", "ttclid"),
];

pub fn decode_pixel(req: &Request<'_>, out: &mut Vec<Event>) -> Result<(), String> {
    let (body, format) = match req.body.json() {
        Some(v) => (v, "json"),
        None => match req.query.get_nonempty("analytics_message") {
            Some(m) => (decode_analytics_message(m)?, "base64_json"),
            None if req.body.bytes.is_empty() => {
                return Err("pixel request has no JSON body and no `analytics_message`".into());
            }
            None => {
                return Err(format!(
                    "pixel body ({}) is not JSON",
                    req.body.format.as_str()
                ));
            }
        },
    };
    let Value::Object(mut top) = body else {
        return Err("pixel JSON body is not an object".into());
    };
    let is_act = req.url.path().trim_end_matches('/').ends_with("/act");
    // The GET fallback's other query params are part of the request too.
    let mut top_raw: Vec<(String, String)> = if format == "base64_json" {
        req.query.pairs().to_vec()
    } else {
        Vec::new()
    };
    if let Some(Value::Array(batch)) = top.shift_remove("batch") {
        for (k, v) in &top {
            flatten_json(k, v, &mut top_raw);
        }
        super::redact_raw_secrets(&mut top_raw);
        let top_code = top
            .get("pixel_code")
            .and_then(json_str)
            .filter(|s| !s.is_empty());
        for (i, e) in batch.iter().enumerate() {
            let mut ev = tiktok_event(req, e, &format!("batch[{i}]"), format, is_act, false);
            if ev.account_id.is_none() {
                ev.account_id.clone_from(&top_code);
            }
            let mut raw = top_raw.clone();
            flatten_json(&format!("batch[{i}]"), e, &mut raw);
            ev.raw = raw;
            out.push(ev);
        }
        return Ok(());
    }
    let e = Value::Object(top);
    let mut ev = tiktok_event(req, &e, "", format, is_act, false);
    flatten_json("", &e, &mut top_raw);
    super::redact_raw_secrets(&mut top_raw);
    ev.raw = top_raw;
    out.push(ev);
    Ok(())
}

/// `analytics_message` is base64 JSON; a query parser has turned its `+`
/// into spaces, and some senders percent-encode it twice.
fn decode_analytics_message(m: &str) -> Result<Value, String> {
    let once = percent_decode(m);
    let b64: String = once
        .trim()
        .chars()
        .map(|c| if c == ' ' { '+' } else { c })
        .collect();
    let bytes = crate::body::decode_base64_any(b64.as_bytes())
        .or_else(|| crate::body::decode_base64_any(b64.trim_end_matches('=').as_bytes()))
        .ok_or("`analytics_message` is not base64")?;
    serde_json::from_slice(&bytes).map_err(|e| format!("`analytics_message` is not JSON: {e}"))
}

pub fn decode_events_api(req: &Request<'_>, out: &mut Vec<Event>) -> Result<(), String> {
    let Some(body) = req.body.json() else {
        return Err(format!(
            "Events API body ({}) is not JSON",
            req.body.format.as_str()
        ));
    };
    let Value::Object(mut top) = body else {
        return Err("Events API JSON body is not an object".into());
    };
    // v1.3 `event/track` keeps events in `data`; legacy `pixel/batch` in `batch`.
    let (list_key, events) = match (top.shift_remove("data"), top.shift_remove("batch")) {
        (Some(Value::Array(d)), _) => ("data", Some(d)),
        (_, Some(Value::Array(b))) => ("batch", Some(b)),
        (Some(_), _) => return Err("Events API `data` is not an array of events".into()),
        _ => ("", None),
    };
    let account = top
        .get("event_source_id")
        .or_else(|| top.get("pixel_code"))
        .and_then(json_str)
        .filter(|s| !s.is_empty());
    match events {
        Some(events) => {
            let mut top_raw = Vec::new();
            for (k, v) in &top {
                flatten_json(k, v, &mut top_raw);
            }
            super::redact_raw_secrets(&mut top_raw);
            for (i, e) in events.iter().enumerate() {
                let prefix = format!("{list_key}[{i}]");
                let mut ev = tiktok_event(req, e, &prefix, "json", false, true);
                if ev.account_id.is_none() {
                    ev.account_id.clone_from(&account);
                }
                let mut raw = top_raw.clone();
                flatten_json(&prefix, e, &mut raw);
                super::redact_raw_secrets(&mut raw);
                ev.raw = raw;
                out.push(ev);
            }
        }
        None => {
            // Legacy single-event `pixel/track`: the event is the body itself.
            if !top.contains_key("event") {
                return Err("Events API body has no `data`, `batch` or `event`".into());
            }
            let e = Value::Object(top);
            let mut ev = tiktok_event(req, &e, "", "json", false, true);
            if ev.account_id.is_none() {
                ev.account_id = account;
            }
            let mut raw = Vec::new();
            flatten_json("", &e, &mut raw);
            super::redact_raw_secrets(&mut raw);
            ev.raw = raw;
            out.push(ev);
        }
    }
    Ok(())
}

fn path_of(prefix: &str, rest: &str) -> String {
    if prefix.is_empty() {
        rest.to_owned()
    } else {
        format!("{prefix}.{rest}")
    }
}

/// One TikTok event object (pixel or Events API, any version) → `Event`.
/// `server` says the object came from a server: there `ip`/`user_agent` are
/// the end user's, forwarded, and count as user data.
fn tiktok_event(
    req: &Request<'_>,
    e: &Value,
    prefix: &str,
    format: &str,
    is_act: bool,
    server: bool,
) -> Event {
    let name = if is_act {
        json_nonempty(e.get("action")).or_else(|| json_nonempty(e.get("event")))
    } else {
        json_nonempty(e.get("event")).or_else(|| json_nonempty(e.get("action")))
    }
    .unwrap_or_else(|| "(no event)".into());
    let mut ev = req.event(name, format);

    ev.account_id = json_nonempty(json_path(e, "context.pixel.code"))
        .or_else(|| {
            json_nonempty(json_path(e, "context.pixel.codes"))
                .and_then(|c| c.split('|').next().map(str::to_owned))
                .filter(|s| !s.is_empty())
        })
        .or_else(|| json_nonempty(e.get("pixel_code")));

    let page = e.get("page").or_else(|| json_path(e, "context.page"));
    ev.page_url = page
        .and_then(|p| json_nonempty(p.get("url")))
        .map(|u| undouble(&u));
    ev.referrer = page
        .and_then(|p| json_nonempty(p.get("referrer")))
        .map(|u| undouble(&u));

    for (user_path, user) in [
        ("user", e.get("user")),
        ("context.user", json_path(e, "context.user")),
    ] {
        let Some(Value::Object(user)) = user else {
            continue;
        };
        for (k, v) in user {
            let base = path_of(prefix, &format!("{user_path}.{k}"));
            if let Some((_, kind)) = USER_ID_KEYS.iter().find(|(n, _)| n == k) {
                if let Some(s) = json_nonempty(Some(v)) {
                    ev.ids.push(id_value(kind, &base, &s));
                }
                continue;
            }
            let key = USER_KEYS
                .iter()
                .find(|(n, _)| n == k)
                .map_or(k.as_str(), |(_, norm)| norm);
            // A browser's own user agent is in every request: not a finding.
            if !server && key == "client_user_agent" {
                continue;
            }
            for (field, s) in json_field_values(&base, v) {
                ev.user_data.push(if PLAIN_KEYS.contains(&key) {
                    plain_datum(key, &field, &s)
                } else {
                    user_datum(key, &field, &s)
                });
            }
        }
    }
    if server {
        for k in ["ip", "user_agent"] {
            if let Some(s) = json_nonempty(json_path(e, &format!("context.{k}"))) {
                let key = if k == "ip" {
                    "client_ip_address"
                } else {
                    "client_user_agent"
                };
                let field = path_of(prefix, &format!("context.{k}"));
                ev.user_data.push(plain_datum(key, &field, &s));
            }
        }
    }
    if let Some(s) = json_nonempty(json_path(e, "context.ad.callback")) {
        ev.ids.push(id_value(
            "ttclid",
            &path_of(prefix, "context.ad.callback"),
            &s,
        ));
    }
    if let Some(s) = json_nonempty(json_path(e, "context.csid")) {
        ev.ids
            .push(id_value("ttcsid", &path_of(prefix, "context.csid"), &s));
    }
    if let Some(Value::Array(sessions)) = json_path(e, "context.sessions") {
        for (j, s) in sessions.iter().enumerate() {
            if let Some(csid) = json_nonempty(s.get("csid"))
                && !ev.ids.iter().any(|i| i.kind == "ttcsid" && i.value == csid)
            {
                ev.ids.push(id_value(
                    "ttcsid",
                    &path_of(prefix, &format!("context.sessions[{j}].csid")),
                    &csid,
                ));
            }
        }
    }

    if let Some(Value::Object(props)) = e.get("properties") {
        for (k, v) in props {
            ev.custom_data.insert(k.clone(), v.clone());
        }
    }

    let auto = e.get("auto_collected_properties");
    if let Some(te) = auto
        .and_then(|a| a.get("trigger_element"))
        .filter(|t| t.is_object())
    {
        ev.ui.button_text = json_nonempty(te.get("inner_text")).map(|s| s.trim().to_owned());
        ev.ui.destination = json_nonempty(json_path(te, "attributes.href"));
        ev.ui.element = Some(te.clone());
    }
    ev.page_title = auto
        .and_then(|a| json_path(a, "content_data.meta"))
        .map(|m| match m {
            Value::String(s) => json_or_string(s),
            other => other.clone(),
        })
        .and_then(|m| json_nonempty(m.get("title")))
        .or_else(|| page.and_then(|p| json_nonempty(p.get("title"))));
    ev
}

/// A page URL that arrives percent-encoded once more than it should.
fn undouble(u: &str) -> String {
    let lower = u.get(..10).unwrap_or(u).to_ascii_lowercase();
    if lower.starts_with("http%3a") || lower.starts_with("https%3a") {
        percent_decode(u).into_owned()
    } else {
        u.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use proptest::prelude::*;

    use crate::Engine;
    use crate::model::{Exchange, HashAlgo, Header, Source, Vendor};

    const EM: &str = "309a0a5c3e211326ae75ca18196d301a9bdbd1a882a4d2569511033da23f0abd";

    /// Made up: a telehealth checkout with identify() data and a ttclid.
    fn canary_body() -> String {
        format!(
            r#"{{"event":"CompletePayment","event_id":"e-77","message_id":"messageId-1","timestamp":"2024-03-01T10:00:00.000Z","context":{{"ad":{{"sdk_env":"external","callback":"E.C.P.canaryttclid123"}},"user":{{"anonymous_id":"01HCANARYTTP_.tt.1","email":"{EM}","phone_number":"a3f1c0cbd0e1d9c8e0b3f3c7a3b2f1e0d9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a4","external_id":"canary-patient-42"}},"pixel":{{"code":"CCANARY0TIKTOK0PIXEL","runtime":"1"}},"page":{{"url":"https://telehealth.example/checkout?plan=hiv-prep","referrer":"https://telehealth.example/prep"}},"csid":"1709287200000::canarycsid","userAgent":"Mozilla/5.0"}},"properties":{{"content_name":"PrEP consultation","value":89.5,"currency":"USD","query":"hiv prep near me","order_id":1234567890123456789}}}}"#
        )
    }

    #[test]
    fn pixel_post_text_plain_with_user_data_and_ids() {
        let ex = Exchange::post(
            Source::new("t", 0),
            "https://analytics.tiktok.com/api/v2/pixel",
            "text/plain;charset=UTF-8",
            canary_body(),
        );
        let ev = Engine::new().events(&ex).unwrap();
        assert_eq!(ev.len(), 1);
        let e = &ev[0];
        assert_eq!(e.vendor, Vendor::Tiktok);
        assert!(!e.server_side);
        assert_eq!(e.event, "CompletePayment");
        assert_eq!(e.account_id.as_deref(), Some("CCANARY0TIKTOK0PIXEL"));
        assert_eq!(
            e.page_url.as_deref(),
            Some("https://telehealth.example/checkout?plan=hiv-prep")
        );
        assert_eq!(
            e.referrer.as_deref(),
            Some("https://telehealth.example/prep")
        );
        assert_eq!(e.custom_data["content_name"], "PrEP consultation");
        assert_eq!(e.custom_data["query"], "hiv prep near me");
        assert_eq!(e.custom_data["order_id"].to_string(), "1234567890123456789");
        let em = e.user_data.iter().find(|d| d.key == "em").unwrap();
        assert!(em.hashed);
        assert_eq!(em.algorithm, Some(HashAlgo::Sha256));
        assert_eq!(em.field, "context.user.email");
        assert!(e.user_data.iter().any(|d| d.key == "ph" && d.hashed));
        // A non-hex external_id in a hash slot is a plaintext leak.
        let xid = e.user_data.iter().find(|d| d.key == "external_id").unwrap();
        assert!(!xid.hashed);
        let id = |k: &str| e.ids.iter().find(|i| i.kind == k).map(|i| i.value.as_str());
        assert_eq!(id("ttp"), Some("01HCANARYTTP_.tt.1"));
        assert_eq!(id("ttclid"), Some("E.C.P.canaryttclid123"));
        assert_eq!(id("ttcsid"), Some("1709287200000::canarycsid"));
        assert!(
            e.raw
                .iter()
                .any(|(k, v)| k == "context.userAgent" && v == "Mozilla/5.0")
        );
        assert_eq!(e.transport.format, "json");
    }

    /// Real: connectforhealthco.com (Colorado's ACA exchange), corpus entry 113.
    #[test]
    fn real_exchange_pageview() {
        let body = r#"{"event":"Pageview","event_id":"","message_id":"messageId-1745853750673-9572865390382-C8J7IKS8D8GECQQUIMM0","is_onsite":false,"timestamp":"2025-04-28T15:22:30.673Z","context":{"ad":{"sdk_env":"external","jsb_status":2},"device":{"platform":"ios"},"user":{"anonymous_id":"01JSYFW7C6WZRVGAXD5AC7B3J8_.tt.1"},"pixel":{"code":"C8J7IKS8D8GECQQUIMM0","runtime":"1"},"page":{"url":"https://connectforhealthco.com/","referrer":"","load_progress":"1"},"library":{"name":"pixel.js","version":"2.2.0"},"session_id":"99d654f6-2444-11f0-9ac2-08c0ebb54578::upbEgZcK0zznfn2qbPH1-C8J7IKS8D8GECQQUIMM0","pageview_id":"99d654f6-2444-11f0-9ac2-08c0ebb54578-5iL3e.0.0::99d6282c-2444-11f0-9ac2-08c0ebb54578-C8J7IKS8D8GECQQUIMM0","variation_id":"test_2_single_track","csid":"1745853750668::iAITa2viUJhdB6w4WZS9","page_csid":"1745853750668::xcYvzGT2zIAW-YXcoXCk","csct":1,"css":1,"userAgent":"Mozilla/5.0 (iPhone; CPU iPhone OS 15_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/15.4 Mobile/15E148 Safari/604.1"},"_inspection":{"vids":""},"properties":{},"signal_diagnostic_labels":{"raw_email":{"label":"missing"},"raw_auto_email":{"label":"missing"},"raw_phone":{"label":"missing"},"raw_auto_phone":{"label":"missing"},"hashed_email":{"label":"missing"},"hashed_phone":{"label":"missing"}}}"#;
        let mut ex = Exchange::post(
            Source::new("t", 0),
            "https://analytics.tiktok.com/api/v2/pixel",
            "text/plain;charset=UTF-8",
            body,
        );
        ex.request_headers
            .push(Header::new("Referer", "https://connectforhealthco.com/"));
        let e = &Engine::new().events(&ex).unwrap()[0];
        assert_eq!(e.event, "Pageview");
        assert_eq!(e.account_id.as_deref(), Some("C8J7IKS8D8GECQQUIMM0"));
        assert_eq!(
            e.page_url.as_deref(),
            Some("https://connectforhealthco.com/")
        );
        assert_eq!(e.referrer, None);
        assert_eq!(e.party, crate::Party::ThirdParty);
        assert!(e.user_data.is_empty());
        assert!(
            e.ids
                .iter()
                .any(|i| i.kind == "ttp" && i.value == "01JSYFW7C6WZRVGAXD5AC7B3J8_.tt.1")
        );
        assert!(
            e.raw
                .iter()
                .any(|(k, v)| k == "signal_diagnostic_labels.raw_email.label" && v == "missing")
        );
    }

    /// Real shape: classdojo.com auto-click (`/act`, action Click), made
    /// health-flavoured in the button text only.
    #[test]
    fn act_click_fills_ui() {
        let body = r#"{"message_id":"messageId-1700072365127-6243530796427","event_id":"","is_onsite":false,"timestamp":"2023-11-15T18:19:25.127Z","context":{"ad":{"sdk_env":"external","jsb_status":2},"user":{"anonymous_id":"iiulhQoZuEGKaBff7VNT2IzMMzK"},"pixel":{"code":"CI9MDN3C77U2H86ME27G","runtime":"1","codes":"CI9MDN3C77U2H86ME27G"},"page":{"url":"https://clinic.example/abortion-pill","referrer":""},"library":{"name":"pixel.js","version":"2.1.33"},"device":{"platform":"pc"},"session_id":"319405f6-83e3-11ee-91c8-02001702397c::jXe1Igu47OP8M4KiFD14","pageview_id":"pageId-1700072290307-4640390540921","variation_id":"test_3","index":1},"_inspection":{},"properties":{},"action":"Click","auto_collected_properties":{"page_trigger":"Click","trigger_element":{"tag":"A","attributes":{"class":"btn","href":"https://clinic.example/book"},"inner_text":"Book abortion pill visit","xpath":"/HTML/body[1]/div[1]/a[1]","num_child_buttons":0,"timestamp":"2023-11-15T18:19:25.126Z","position":{"x":337.1015625,"y":376.390625}}}}"#;
        let ex = Exchange::post(
            Source::new("t", 0),
            "https://analytics.tiktok.com/api/v2/pixel/act",
            "text/plain;charset=UTF-8",
            body,
        );
        let e = &Engine::new().events(&ex).unwrap()[0];
        assert_eq!(e.event, "Click");
        assert_eq!(e.account_id.as_deref(), Some("CI9MDN3C77U2H86ME27G"));
        assert_eq!(
            e.ui.button_text.as_deref(),
            Some("Book abortion pill visit")
        );
        assert_eq!(
            e.ui.destination.as_deref(),
            Some("https://clinic.example/book")
        );
        let el = e.ui.element.as_ref().unwrap();
        assert_eq!(el["tag"], "A");
        assert_eq!(el["xpath"], "/HTML/body[1]/div[1]/a[1]");
        // The `position.x` float survives exactly.
        assert!(e.raw.iter().any(|(k, v)| k
            == "auto_collected_properties.trigger_element.position.x"
            && v == "337.1015625"));
    }

    /// Real: coverme.gov `/act` Metadata — the page title rides in content_data.
    #[test]
    fn act_metadata_gives_title() {
        let body = r#"{"event_id":"","message_id":"messageId-1","is_onsite":false,"context":{"user":{"anonymous_id":"x_.tt.1"},"pixel":{"code":"CT3QOPRC77U4G4EGV490","runtime":"1","codes":"CT3QOPRC77U4G4EGV490"},"page":{"url":"https://www.coverme.gov/","referrer":""}},"properties":{},"action":"Metadata","auto_collected_properties":{"page_trigger":"PageView","content_data":{"open_graph":"{}","microdata":"[]","json_ld":"[]","meta":"{\"title\":\"Home | CoverME.gov\"}"}}}"#;
        let ex = Exchange::post(
            Source::new("t", 0),
            "https://analytics.tiktok.com/api/v2/pixel/act",
            "text/plain;charset=UTF-8",
            body,
        );
        let e = &Engine::new().events(&ex).unwrap()[0];
        assert_eq!(e.event, "Metadata");
        assert_eq!(e.page_title.as_deref(), Some("Home | CoverME.gov"));
        assert!(e.ui.is_empty());
    }

    #[test]
    fn batch_gives_one_event_each() {
        let one = canary_body();
        let two = one
            .replace("CompletePayment", "Search")
            .replace("CCANARY0TIKTOK0PIXEL", "CSECOND0TIKTOK0PIXEL");
        let ex = Exchange::post(
            Source::new("t", 0),
            "https://analytics.tiktok.com/api/v2/pixel/batch",
            "text/plain;charset=UTF-8",
            format!(r#"{{"batch":[{one},{two}],"batch_id":"b1"}}"#),
        );
        let ev = Engine::new().events(&ex).unwrap();
        assert_eq!(ev.len(), 2);
        assert_eq!(ev[0].event, "CompletePayment");
        assert_eq!(ev[1].event, "Search");
        assert_eq!(ev[1].account_id.as_deref(), Some("CSECOND0TIKTOK0PIXEL"));
        assert_eq!(ev[1].user_data[0].field, "batch[1].context.user.email");
        assert!(ev[1].raw.iter().any(|(k, v)| k == "batch_id" && v == "b1"));
        assert!(ev[1].raw.iter().any(|(k, _)| k.starts_with("batch[1].")));
        assert!(!ev[1].raw.iter().any(|(k, _)| k.starts_with("batch[0].")));
    }

    #[test]
    fn get_fallback_analytics_message() {
        let b64 = base64::engine::general_purpose::STANDARD.encode(canary_body());
        // Percent-encode the way a browser would put it in a URL.
        let enc: String = url::form_urlencoded::byte_serialize(b64.as_bytes()).collect();
        let url = format!("https://analytics.tiktok.com/api/v2/pixel?analytics_message={enc}");
        let e = &Engine::new()
            .events(&Exchange::get(Source::new("t", 1), url))
            .unwrap()[0];
        assert_eq!(e.event, "CompletePayment");
        assert_eq!(e.account_id.as_deref(), Some("CCANARY0TIKTOK0PIXEL"));
        assert_eq!(e.transport.format, "base64_json");
        assert!(e.user_data.iter().any(|d| d.key == "em" && d.hashed));
        // A `+` that a query parser made a space is restored.
        let raw_plus = b64.replace('+', " ");
        let url = format!(
            "https://analytics.tiktok.com/api/v2/pixel?analytics_message={}",
            raw_plus.replace(' ', "+")
        );
        let e = &Engine::new()
            .events(&Exchange::get(Source::new("t", 2), url))
            .unwrap()[0];
        assert_eq!(e.event, "CompletePayment");
    }

    #[test]
    fn events_api_v13_never_leaks_token() {
        let body = format!(
            r#"{{"event_source":"web","event_source_id":"CCANARY0TIKTOK0PIXEL","test_event_code":"TEST123","data":[{{"event":"SubmitForm","event_time":1700000000,"event_id":"ev-1","user":{{"email":["{EM}"],"phone":"a3f1c0cbd0e1d9c8e0b3f3c7a3b2f1e0d9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a4","external_id":"{EM}","ttp":"01HCANARYTTP_.tt.1","ttclid":"E.C.P.canary","ip":"203.0.113.9","user_agent":"Mozilla/5.0 canary"}},"page":{{"url":"https://fertility.example/ivf-consult","referrer":"https://fertility.example/"}},"properties":{{"content_name":"IVF consultation","value":0}}}},{{"event":"Lead","event_time":1700000001,"user":{{"email":"{EM}"}},"page":{{"url":"https://fertility.example/thanks"}}}}]}}"#
        );
        let mut ex = Exchange::post(
            Source::new("t", 0),
            "https://business-api.tiktok.com/open_api/v1.3/event/track/",
            "application/json",
            body.clone(),
        );
        ex.request_headers
            .push(Header::new("Access-Token", "tt-secret-canary-token"));
        let ev = Engine::new().events(&ex).unwrap();
        assert_eq!(ev.len(), 2);
        let e = &ev[0];
        assert_eq!(e.vendor, Vendor::TiktokEventsApi);
        assert!(e.server_side);
        assert_eq!(e.event, "SubmitForm");
        assert_eq!(e.account_id.as_deref(), Some("CCANARY0TIKTOK0PIXEL"));
        assert_eq!(
            e.page_url.as_deref(),
            Some("https://fertility.example/ivf-consult")
        );
        assert_eq!(e.custom_data["content_name"], "IVF consultation");
        let em = e.user_data.iter().find(|d| d.key == "em").unwrap();
        assert_eq!(em.field, "data[0].user.email[0]");
        assert!(em.hashed);
        let ip = e
            .user_data
            .iter()
            .find(|d| d.key == "client_ip_address")
            .unwrap();
        assert!(!ip.hashed);
        assert!(e.ids.iter().any(|i| i.kind == "ttp"));
        assert!(
            e.ids
                .iter()
                .any(|i| i.kind == "ttclid" && i.value == "E.C.P.canary")
        );
        assert!(
            e.raw
                .iter()
                .any(|(k, v)| k == "test_event_code" && v == "TEST123")
        );
        assert_eq!(ev[1].event, "Lead");
        for e in &ev {
            let s = serde_json::to_string(e).unwrap();
            assert!(!s.contains("tt-secret-canary-token"), "{s}");
        }
    }

    #[test]
    fn events_api_legacy_track_and_batch() {
        let one = format!(
            r#"{{"pixel_code":"CLEGACY0TIKTOK0PIXEL","event":"ViewContent","timestamp":"2024-01-01T00:00:00Z","access_token":"body-secret-canary","context":{{"ad":{{"callback":"E.C.P.legacy"}},"page":{{"url":"https://pharmacy.example/rx/naltrexone"}},"user":{{"email":"{EM}","ttp":"legacy-ttp"}},"ip":"198.51.100.7","user_agent":"UA"}},"properties":{{"content_name":"Naltrexone"}}}}"#
        );
        let ex = Exchange::post(
            Source::new("t", 0),
            "https://business-api.tiktok.com/open_api/v1.3/pixel/track/",
            "application/json",
            one.clone(),
        );
        let e = &Engine::new().events(&ex).unwrap()[0];
        assert_eq!(e.event, "ViewContent");
        assert_eq!(e.account_id.as_deref(), Some("CLEGACY0TIKTOK0PIXEL"));
        assert_eq!(
            e.page_url.as_deref(),
            Some("https://pharmacy.example/rx/naltrexone")
        );
        assert!(
            e.ids
                .iter()
                .any(|i| i.kind == "ttclid" && i.value == "E.C.P.legacy")
        );
        assert!(e.user_data.iter().any(|d| d.key == "client_ip_address"));
        let s = serde_json::to_string(e).unwrap();
        assert!(!s.contains("body-secret-canary"), "{s}");

        let batch = r#"{"pixel_code":"CLEGACY0TIKTOK0PIXEL","batch":[{"event":"ViewContent","context":{"page":{"url":"https://a.example/"}}},{"event":"AddToCart","context":{"page":{"url":"https://a.example/cart"}}}]}"#;
        let ex = Exchange::post(
            Source::new("t", 0),
            "https://business-api.tiktok.com/open_api/v1.3/pixel/batch/",
            "application/json",
            batch,
        );
        let ev = Engine::new().events(&ex).unwrap();
        assert_eq!(ev.len(), 2);
        assert_eq!(ev[1].event, "AddToCart");
        assert_eq!(ev[1].account_id.as_deref(), Some("CLEGACY0TIKTOK0PIXEL"));
    }

    #[test]
    fn telemetry_is_not_an_event_and_bad_bodies_are_errors() {
        let ex = Exchange::post(
            Source::new("t", 0),
            "https://analytics.tiktok.com/api/v2/pixel/perf",
            "text/plain",
            "{}",
        );
        assert!(Engine::new().events(&ex).unwrap().is_empty());
        let ex = Exchange::post(
            Source::new("t", 0),
            "https://analytics.tiktok.com/api/v2/pixel",
            "text/plain",
            "not json at all",
        );
        assert!(Engine::new().events(&ex).is_err());
        let ex = Exchange::post(
            Source::new("t", 0),
            "https://business-api.tiktok.com/open_api/v1.3/event/track/",
            "application/json",
            r#"{"data":5}"#,
        );
        assert!(Engine::new().events(&ex).is_err());
    }

    proptest! {
        #[test]
        fn arbitrary_bodies_never_panic(body in proptest::collection::vec(any::<u8>(), 0..400),
                                        json in "\\{(\"(event|action|batch|data|context|user|page|properties|pixel|code|auto_collected_properties|trigger_element)\":(\\{|\\[|\"x\"|1|null),?){0,8}\\}?\\]?\\}?",
                                        msg in "[A-Za-z0-9+/= %]{0,80}") {
            let engine = Engine::new();
            for url in [
                "https://analytics.tiktok.com/api/v2/pixel",
                "https://analytics.tiktok.com/api/v2/pixel/act",
                "https://analytics.tiktok.com/api/v2/pixel/batch",
                "https://business-api.tiktok.com/open_api/v1.3/event/track/",
                "https://business-api.tiktok.com/open_api/v1.3/pixel/batch/",
            ] {
                let mut ex = Exchange::post(Source::new("t", 0), url, "text/plain", "");
                if let Some(b) = ex.body.as_mut() { b.bytes = body.clone(); }
                let _ = engine.events(&ex);
                let ex = Exchange::post(Source::new("t", 0), url, "text/plain", json.clone());
                let _ = engine.events(&ex);
            }
            let _ = engine.events(&Exchange::get(
                Source::new("t", 0),
                format!("https://analytics.tiktok.com/api/v2/pixel?analytics_message={msg}"),
            ));
        }
    }
}
