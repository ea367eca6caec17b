//! Meta: the Pixel (`facebook.com/tr`, any transport) and the Conversions API
//! (`graph.facebook.com/{version}/{pixel}/events`, JSON or form). See
//! wire-formats.md §2 and §3.

use serde_json::Value;

use super::{
    Nth, Request, flatten_json, id_value, json_str, json_user_fields, path_segment_near,
    plain_datum, user_datum,
};
use crate::model::{Event, FormField};
use crate::params::json_or_string;

/// Pixel param groups that carry user data, hashed after normalisation.
const USER_DATA_GROUPS: [&str; 3] = ["ud", "udff", "aud"];

pub fn decode_pixel(req: &Request<'_>, out: &mut Vec<Event>) -> Result<(), String> {
    let p = req.all_params();
    if p.is_empty() {
        // `/tr` with nothing in it: a bare ping (or a body the capture lost).
        return Err("pixel request has no parameters in its URL or body".into());
    }
    let name = p.get_nonempty("ev").unwrap_or("(no ev)");
    let format = req.params_format();
    let mut ev = req.event(name, format);
    ev.account_id = p.get_nonempty("id").map(str::to_owned);
    ev.page_url = p.get_nonempty("dl").map(str::to_owned);
    ev.referrer = p.get_nonempty("rl").map(str::to_owned);

    for (k, v) in p.bracketed("cd") {
        ev.custom_data.insert(k.to_owned(), json_or_string(v));
    }
    for group in USER_DATA_GROUPS {
        for (k, v) in p.bracketed(group) {
            if !v.is_empty() {
                ev.user_data
                    .push(user_datum(k, &format!("{group}[{k}]"), v));
            }
        }
    }
    for (key, kind) in [("fbp", "fbp"), ("fbc", "fbc")] {
        if let Some(v) = p.get_nonempty(key) {
            ev.ids.push(id_value(kind, key, v));
        }
    }

    ev.page_title = p
        .get_nonempty("pmd[title]")
        .map(str::to_owned)
        .or_else(|| title_from(&ev.custom_data, "pageFeatures"))
        .or_else(|| title_from(&ev.custom_data, "Meta"));

    // The automatic button-click channel.
    if let Some(t) = p.get_nonempty("cd[buttonText]") {
        ev.ui.button_text = Some(t.to_owned());
    }
    if let Some(feat) = ev
        .custom_data
        .get("buttonFeatures")
        .filter(|v| v.is_object())
    {
        if ev.ui.button_text.is_none() {
            ev.ui.button_text = feat
                .get("innerText")
                .and_then(json_str)
                .filter(|s| !s.is_empty());
        }
        ev.ui.destination = feat
            .get("destination")
            .and_then(json_str)
            .filter(|s| !s.is_empty());
        ev.ui.element = Some(feat.clone());
    }
    if let Some(Value::Array(fields)) = ev.custom_data.get("formFeatures") {
        ev.ui.form_fields = fields.iter().map(form_field).collect();
    }
    ev.raw = p.into_pairs();
    out.push(ev);
    Ok(())
}

fn title_from(cd: &crate::model::Fields, key: &str) -> Option<String> {
    cd.get(key)?
        .get("title")
        .and_then(json_str)
        .filter(|s| !s.is_empty())
}

fn form_field(v: &Value) -> FormField {
    let s = |k: &str| v.get(k).and_then(json_str).filter(|s| !s.is_empty());
    FormField {
        name: s("name"),
        id: s("id"),
        input_type: s("inputType").or_else(|| s("type")),
        placeholder: s("placeholder"),
    }
}

/// Conversions API fields that are secrets: kept out of every output.
pub const CAPI_SECRET_KEYS: &[&str] = &["access_token", "appsecret_proof", "accessKey"];

/// User-data keys that are sent unhashed by design (the gateway's policy
/// reads the same list).
pub const CAPI_PLAIN_KEYS: &[&str] = &[
    "client_ip_address",
    "client_user_agent",
    "fbc",
    "fbp",
    "subscription_id",
    "fb_login_id",
    "lead_id",
    "anon_id",
    "madid",
    "page_id",
    "page_scoped_user_id",
    "ctwa_clid",
    "ig_account_id",
    "ig_sid",
];

pub fn decode_capi(req: &Request<'_>, out: &mut Vec<Event>) -> Result<(), String> {
    let (data, top, format): (Value, Vec<(String, String)>, &str) = match req.body.json() {
        Some(Value::Object(mut m)) => {
            let data = m.shift_remove("data").unwrap_or(Value::Null);
            // Query fields (a token, test_event_code) sit beside a JSON body.
            let mut top: Vec<(String, String)> = req
                .query
                .iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect();
            for (k, v) in &m {
                flatten_json(k, v, &mut top);
            }
            (data, top, "json")
        }
        Some(_) => return Err("CAPI JSON body is not an object with a `data` array".into()),
        None => {
            let p = req.all_params();
            let Some(d) = p.get("data") else {
                return Err(format!(
                    "CAPI body ({}) has no `data` field",
                    req.body_format()
                ));
            };
            let data = serde_json::from_str(d)
                .map_err(|e| format!("CAPI `data` field is not JSON: {e}"))?;
            let top = p
                .iter()
                .filter(|(k, _)| *k != "data")
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect();
            (data, top, req.body_format())
        }
    };
    let Value::Array(events) = data else {
        return Err("CAPI `data` is not an array of events".into());
    };
    // Meta's Python SDK (EventRequest.execute) JSON-encodes each event, then
    // the list: `data` arrives as an array of JSON *strings*. Read those as
    // the objects they hold.
    let events: Vec<Value> = events
        .into_iter()
        .map(|e| match e {
            Value::String(s) => match serde_json::from_str::<Value>(&s) {
                Ok(v @ Value::Object(_)) => v,
                _ => Value::String(s),
            },
            other => other,
        })
        .collect();
    let pixel = capi_pixel_id(req.url.path());
    let top: Vec<(String, String)> = top
        .into_iter()
        .map(|(k, v)| {
            if CAPI_SECRET_KEYS.contains(&k.as_str()) {
                (k, redacted(&v))
            } else {
                (k, v)
            }
        })
        .collect();
    for (i, e) in events.iter().enumerate() {
        let name = e
            .get("event_name")
            .and_then(json_str)
            .unwrap_or_else(|| "(no event_name)".into());
        let mut ev = req.event(name, format);
        ev.account_id = pixel.clone();
        ev.page_url = e.get("event_source_url").and_then(json_str);
        ev.referrer = e.get("referrer_url").and_then(json_str);
        if let Some(Value::Object(cd)) = e.get("custom_data") {
            for (k, v) in cd {
                ev.custom_data.insert(k.clone(), v.clone());
            }
        }
        if let Some(Value::Object(ud)) = e.get("user_data") {
            for (k, field, s) in json_user_fields(&format!("data[{i}].user_data"), ud) {
                if k == "fbp" || k == "fbc" {
                    ev.ids.push(id_value(k, &field, &s));
                }
                ev.user_data.push(if CAPI_PLAIN_KEYS.contains(&k) {
                    plain_datum(k, &field, &s)
                } else {
                    user_datum(k, &field, &s)
                });
            }
        }
        let mut raw = top.clone();
        flatten_json(&format!("data[{i}]"), e, &mut raw);
        ev.raw = raw;
        out.push(ev);
    }
    Ok(())
}

/// The pixel (dataset) id: the path segment before `events`.
fn capi_pixel_id(path: &str) -> Option<String> {
    path_segment_near(path, &["events"], Nth::Last, -1).map(str::to_owned)
}

/// A secret's replacement: says that it was there and how long it was.
pub fn redacted(v: &str) -> String {
    format!("[redacted: {} chars]", v.chars().count())
}

#[cfg(test)]
mod tests {
    use crate::Engine;
    use crate::model::{Exchange, HashAlgo, Source, Vendor};

    #[test]
    fn pixel_get_with_button_click() {
        let url = "https://www.facebook.com/tr/?id=562775185088946&ev=SubscribedButtonClick&dl=https%3A%2F%2Fpharmacy.example%2Frefill%3Frx%3D123&rl=&if=false&ts=1707905068229&cd[buttonFeatures]=%7B%22classList%22%3A%22btn%22%2C%22destination%22%3A%22https%3A%2F%2Fpharmacy.example%2Frefill%2Fconfirm%22%2C%22innerText%22%3A%22Refill%20prescription%22%2C%22tag%22%3A%22button%22%7D&cd[buttonText]=Refill%20prescription&cd[formFeatures]=%5B%7B%22id%22%3A%22rx%22%2C%22name%22%3A%22prescription_number%22%2C%22tag%22%3A%22input%22%2C%22inputType%22%3A%22text%22%2C%22placeholder%22%3A%22Rx%20number%22%7D%5D&cd[pageFeatures]=%7B%22title%22%3A%22Refill%20%7C%20Pharmacy%22%7D&fbp=fb.1.1707905062143.381974684&ud[em]=62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f&cud[em]=****%40****.**";
        let ev = Engine::new()
            .events(&Exchange::get(Source::new("t", 3), url))
            .unwrap();
        assert_eq!(ev.len(), 1);
        let e = &ev[0];
        assert_eq!(e.vendor, Vendor::MetaPixel);
        assert_eq!(e.account_id.as_deref(), Some("562775185088946"));
        assert_eq!(e.event, "SubscribedButtonClick");
        assert_eq!(
            e.page_url.as_deref(),
            Some("https://pharmacy.example/refill?rx=123")
        );
        assert_eq!(e.page_title.as_deref(), Some("Refill | Pharmacy"));
        assert_eq!(e.ui.button_text.as_deref(), Some("Refill prescription"));
        assert_eq!(
            e.ui.destination.as_deref(),
            Some("https://pharmacy.example/refill/confirm")
        );
        assert_eq!(
            e.ui.form_fields[0].name.as_deref(),
            Some("prescription_number")
        );
        assert_eq!(
            e.ui.form_fields[0].placeholder.as_deref(),
            Some("Rx number")
        );
        assert_eq!(e.user_data.len(), 1);
        assert_eq!(e.user_data[0].algorithm, Some(HashAlgo::Sha256));
        assert_eq!(e.ids[0].kind, "fbp");
        assert_eq!(e.party, crate::Party::ThirdParty);
        assert!(
            e.raw
                .iter()
                .any(|(k, v)| k == "cud[em]" && v == "****@****.**")
        );
    }

    #[test]
    fn pixel_form_post_body_wins() {
        let ex = Exchange::post(
            Source::new("t", 0),
            "https://www.facebook.com/tr/",
            "application/x-www-form-urlencoded",
            "id=377194366672297&ev=Lead&dl=https%3A%2F%2Fclinic.example%2Fbook&ud%5Bfn%5D=9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08&rqm=formPOST",
        );
        let e = &Engine::new().events(&ex).unwrap()[0];
        assert_eq!(e.event, "Lead");
        assert_eq!(e.transport.format, "form");
        assert_eq!(e.user_data[0].key, "fn");
    }

    #[test]
    fn capi_json_and_form_agree() {
        let events = r#"[{"event_name":"Purchase","event_time":1730578362,"action_source":"website","event_id":"e1","event_source_url":"https://pharmacy.example/rx/plan-b","user_data":{"em":["309a0a5c3e211326ae75ca18196d301a9bdbd1a882a4d2569511033da23f0abd"],"client_ip_address":"203.0.113.9","fbp":"fb.1.1558571054389.1098115397"},"custom_data":{"content_name":"Levonorgestrel 1.5 mg","value":49.99,"order_id":1234567890123456789}}]"#;
        let json = Exchange::post(
            Source::new("t", 0),
            "https://graph.facebook.com/v21.0/1234567891234567/events",
            "application/json",
            format!(r#"{{"data":{events},"access_token":"EAAB-secret"}}"#),
        );
        let form = Exchange::post(
            Source::new("t", 0),
            "https://graph.facebook.com/v21.0/1234567891234567/events",
            "application/x-www-form-urlencoded",
            format!(
                "data={}&access_token=EAAB-secret",
                url::form_urlencoded::byte_serialize(events.as_bytes()).collect::<String>()
            ),
        );
        let engine = Engine::new();
        for ex in [json, form] {
            let e = &engine.events(&ex).unwrap()[0];
            assert_eq!(e.vendor, Vendor::MetaCapi);
            assert!(e.server_side);
            assert_eq!(e.event, "Purchase");
            assert_eq!(e.account_id.as_deref(), Some("1234567891234567"));
            assert_eq!(
                e.page_url.as_deref(),
                Some("https://pharmacy.example/rx/plan-b")
            );
            assert_eq!(e.custom_data["content_name"], "Levonorgestrel 1.5 mg");
            // 19-digit ids stay exact.
            assert_eq!(e.custom_data["order_id"].to_string(), "1234567890123456789");
            let em = e.user_data.iter().find(|d| d.key == "em").unwrap();
            assert!(em.hashed);
            let ip = e
                .user_data
                .iter()
                .find(|d| d.key == "client_ip_address")
                .unwrap();
            assert!(!ip.hashed);
            // The token never reaches an output.
            let raw = serde_json::to_string(e).unwrap();
            assert!(!raw.contains("EAAB-secret"), "{raw}");
        }
    }

    /// The shape `facebook-business` (Python SDK 26.0.3) sends from
    /// `EventRequest.execute()`: each event JSON-encoded, then the list, so
    /// `data` is an array of strings; the token and proof ride in the query.
    #[test]
    fn capi_python_sdk_string_events_and_query_token() {
        let ev1 = r#"{"event_name": "ViewContent", "event_time": 1795965962, "event_source_url": "https://pharmacy.example/rx/refill?drug=levonorgestrel", "event_id": "evt-1", "user_data": {"em": ["e9667db8610be2a912fad9671af19bff3de1f305c5eb6f906e82fb630ab8e165"], "client_ip_address": "203.0.113.7"}, "custom_data": {"content_name": "Levonorgestrel 1.5 mg tablet"}, "action_source": "website"}"#;
        let ev2 = ev1.replace("ViewContent", "Purchase");
        let data = serde_json::to_string(&[ev1, ev2.as_str()]).unwrap();
        let ex = Exchange::post(
            Source::new("t", 0),
            "https://graph.facebook.com/v26.0/1234567891234567/events?access_token=EAAB-secret&appsecret_proof=51644b1c597504627c413a1452cbb1ee",
            "application/x-www-form-urlencoded",
            format!(
                "data={}",
                url::form_urlencoded::byte_serialize(data.as_bytes()).collect::<String>()
            ),
        );
        let evs = Engine::new().events(&ex).unwrap();
        let names: Vec<&str> = evs.iter().map(|e| e.event.as_str()).collect();
        assert_eq!(names, ["ViewContent", "Purchase"]);
        let e = &evs[0];
        assert_eq!(e.account_id.as_deref(), Some("1234567891234567"));
        assert_eq!(
            e.custom_data["content_name"],
            "Levonorgestrel 1.5 mg tablet"
        );
        assert!(e.user_data.iter().any(|d| d.key == "em" && d.hashed));
        assert!(
            e.request_url.starts_with(
                "https://graph.facebook.com/v26.0/1234567891234567/events?access_token=[redacted"
            ),
            "{}",
            e.request_url
        );
        let out = serde_json::to_string(&evs).unwrap();
        assert!(!out.contains("EAAB-secret"), "{out}");
        assert!(!out.contains("51644b1c597504627c413a1452cbb1ee"), "{out}");
    }

    #[test]
    fn capi_json_body_keeps_query_fields_and_hides_query_token() {
        let ex = Exchange::post(
            Source::new("t", 0),
            "https://graph.facebook.com/v26.0/1234567891234567/events?access_token=EAAB-secret&test_event_code=TEST123#f",
            "application/json",
            r#"{"data":["{\"event_name\":\"Lead\"}"]}"#,
        );
        let e = &Engine::new().events(&ex).unwrap()[0];
        assert_eq!(e.event, "Lead");
        assert!(
            e.raw
                .iter()
                .any(|(k, v)| k == "test_event_code" && v == "TEST123")
        );
        assert!(
            e.request_url.ends_with("&test_event_code=TEST123#f"),
            "{}",
            e.request_url
        );
        assert!(!serde_json::to_string(e).unwrap().contains("EAAB-secret"));
    }

    #[test]
    fn capi_bad_body_is_an_error_not_a_panic() {
        let ex = Exchange::post(
            Source::new("t", 0),
            "https://graph.facebook.com/v21.0/123456789/events",
            "application/json",
            "{\"data\":5}",
        );
        let err = Engine::new().events(&ex).unwrap_err();
        assert!(err.reason.contains("not an array"), "{err}");
    }
}
