//! Reddit: the pixel (`alb.reddit.com/rp.gif` GET, `/rp` POST form) and the
//! Conversions API (`ads-api.reddit.com/api/v3/pixels/{id}/conversion_events`,
//! `/api/v2.0/conversions/events/{account}`, JSON). See wire-formats.md §11.

use serde_json::Value;

use super::{
    Nth, Request, flatten_json, id_value, json_str, path_segment_near, plain_datum, user_datum,
};
use crate::model::Event;
use crate::params::json_or_string;

/// Pixel fields with their own slot in the event or that only describe the tag.
const NOT_CUSTOM: &[&str] = &[
    "id",
    "event",
    "em",
    "pn",
    "auto_em",
    "auto_pn",
    "external_id",
    "uuid",
    "click_id",
    "aaid",
    "idfa",
    "ts",
    "sh",
    "sw",
    "v",
    "integration",
    "opt_out",
    "dpm",
    "dpcc",
    "dprc",
];

pub fn decode(req: &Request<'_>, out: &mut Vec<Event>) -> Result<(), String> {
    if req
        .url
        .host_str()
        .is_some_and(|h| h.starts_with("ads-api."))
    {
        return decode_capi(req, out);
    }
    let p = req.all_params();
    if p.is_empty() {
        return Err("Reddit pixel request has no parameters in its URL or body".into());
    }
    let format = req.params_format();
    let base = p.get_nonempty("event").unwrap_or("(no event)");
    // A `Custom` event is named by the site.
    let name = match p.get_nonempty("m.customEventName") {
        Some(c) if base == "Custom" => c,
        _ => base,
    };
    let mut ev = req.event(name, format);
    ev.account_id = p.get_nonempty("id").map(str::to_owned);
    if name != base {
        ev.custom_data.insert("event".into(), base.into());
    }
    for (k, v) in p.iter() {
        if v.is_empty() || NOT_CUSTOM.contains(&k) {
            continue;
        }
        let key = k.strip_prefix("m.").unwrap_or(k);
        ev.custom_data.insert(key.to_owned(), json_or_string(v));
    }
    for (field, key) in [("em", "em"), ("pn", "ph"), ("external_id", "external_id")] {
        if let Some(v) = p.get_nonempty(field) {
            ev.user_data.push(user_datum(key, field, v));
        }
    }
    for key in ["aaid", "idfa"] {
        if let Some(v) = p.get_nonempty(key) {
            ev.ids.push(id_value(key, key, v));
        }
    }
    // Automatic matching: a comma list of hashed emails...
    if let Some(list) = p.get_nonempty("auto_em") {
        for (i, v) in list.split(',').filter(|s| !s.is_empty()).enumerate() {
            ev.user_data
                .push(user_datum("em", &format!("auto_em[{i}]"), v.trim()));
        }
    }
    // ...and a pipe list of `<weight>~<hash>` phones.
    if let Some(list) = p.get_nonempty("auto_pn") {
        for (i, entry) in list.split('|').filter(|s| !s.is_empty()).enumerate() {
            let v = entry.split_once('~').map_or(entry, |(_, h)| h);
            ev.user_data
                .push(user_datum("ph", &format!("auto_pn[{i}]"), v.trim()));
        }
    }
    if let Some(v) = p.get_nonempty("uuid") {
        ev.ids.push(id_value("rdt_uuid", "uuid", v));
    }
    if let Some(v) = p.get_nonempty("click_id") {
        ev.ids.push(id_value("rdt_cid", "click_id", v));
    }
    ev.raw = p.into_pairs();
    out.push(ev);
    Ok(())
}

/// CAPI user fields → normalised user-data keys.
const CAPI_USER_KEYS: &[(&str, &str)] = &[
    ("email", "em"),
    ("phone_number", "ph"),
    ("external_id", "external_id"),
    ("ip_address", "client_ip_address"),
    ("user_agent", "client_user_agent"),
    ("aaid", "aaid"),
    ("idfa", "idfa"),
];

fn decode_capi(req: &Request<'_>, out: &mut Vec<Event>) -> Result<(), String> {
    let Some(Value::Object(mut body)) = req.body.json() else {
        return Err(format!(
            "Reddit CAPI body ({}) is not a JSON object",
            req.body_format()
        ));
    };
    // v3 nests the list under `data.events`; v2.0 has it at the top.
    let events = match body.get_mut("data").and_then(|d| d.get_mut("events")) {
        Some(e) => e.take(),
        None => body.shift_remove("events").unwrap_or(Value::Null),
    };
    let Value::Array(events) = events else {
        return Err("Reddit CAPI body has no `events` array".into());
    };
    let mut top = Vec::new();
    for (k, v) in &body {
        flatten_json(k, v, &mut top);
    }
    let account = capi_account(req.url.path());
    for (i, e) in events.iter().enumerate() {
        let ty = e.get("event_type");
        let base = ty
            .and_then(|t| t.get("tracking_type"))
            .and_then(json_str)
            .unwrap_or_else(|| "(no tracking_type)".into());
        let name = match ty
            .and_then(|t| t.get("custom_event_name"))
            .and_then(json_str)
        {
            Some(c) if !c.is_empty() && base.eq_ignore_ascii_case("custom") => c,
            _ => base,
        };
        let mut ev = req.event(name, "json");
        ev.account_id = account.clone();
        ev.page_url = e.get("event_source_url").and_then(json_str);
        if let Some(Value::Object(meta)) = e.get("event_metadata") {
            for (k, v) in meta {
                ev.custom_data.insert(k.clone(), v.clone());
            }
        }
        if let Some(Value::Object(user)) = e.get("user") {
            for (k, v) in user {
                let field = format!("events[{i}].user.{k}");
                if let Some((_, key)) = CAPI_USER_KEYS.iter().find(|(n, _)| n == k) {
                    if let Some(s) = json_str(v).filter(|s| !s.is_empty()) {
                        ev.user_data.push(match *key {
                            "client_ip_address" | "client_user_agent" => {
                                plain_datum(key, &field, &s)
                            }
                            _ => user_datum(key, &field, &s),
                        });
                    }
                } else if k == "uuid" {
                    if let Some(s) = json_str(v).filter(|s| !s.is_empty()) {
                        ev.ids.push(id_value("rdt_uuid", &field, &s));
                    }
                } else {
                    ev.custom_data.insert(format!("user.{k}"), v.clone());
                }
            }
        }
        if let Some(c) = e.get("click_id").and_then(json_str) {
            ev.ids
                .push(id_value("rdt_cid", &format!("events[{i}].click_id"), &c));
        }
        let mut raw = top.clone();
        flatten_json(&format!("events[{i}]"), e, &mut raw);
        ev.raw = raw;
        out.push(ev);
    }
    Ok(())
}

/// The pixel or ad account id: the segment before `conversion_events`, or after
/// `conversions/events`.
fn capi_account(path: &str) -> Option<String> {
    // A v3 path is read as v3 only, even when its pixel segment is empty.
    let near = |marker: &[&str], offset| path_segment_near(path, marker, Nth::First, offset);
    if path.split('/').any(|s| s == "conversion_events") {
        return near(&["conversion_events"], -1).map(str::to_owned);
    }
    near(&["conversions", "events"], 2).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use crate::Engine;
    use crate::model::{Exchange, HashAlgo, Source, Vendor};
    use proptest::prelude::*;

    const H1: &str = "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f";
    const H2: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    #[test]
    fn omnibug_style_get() {
        // wire-formats.md §11 example (Omnibug fixture).
        let url = "https://alb.reddit.com/rp.gif?ts=1708362676211&id=xx_abc123z&event=AddToCart&m.itemCount=2&m.value=&m.valueDecimal=20&m.currency=USD&m.transactionId=&m.customEventName=&m.products=&m.conversionId=&uuid=c6959068-f901-4338-a393-7dda9cbd1fc3&aaid=&em=&external_id=&idfa=&integration=reddit&opt_out=0&sh=2560&sw=1440&v=rdt_c9439d84&dpm=&dpcc=&dprc=";
        let ev = Engine::new()
            .events(&Exchange::get(Source::new("t", 0), url))
            .unwrap();
        let e = &ev[0];
        assert_eq!(e.vendor, Vendor::Reddit);
        assert_eq!(e.event, "AddToCart");
        assert_eq!(e.account_id.as_deref(), Some("xx_abc123z"));
        assert_eq!(e.custom_data["itemCount"], "2");
        assert_eq!(e.custom_data["currency"], "USD");
        assert!(!e.custom_data.contains_key("value"), "empty values skipped");
        assert!(e.user_data.is_empty());
        assert_eq!(e.ids[0].kind, "rdt_uuid");
        assert_eq!(e.ids[0].value, "c6959068-f901-4338-a393-7dda9cbd1fc3");
        assert!(e.raw.iter().any(|(k, v)| k == "m.value" && v.is_empty()));
    }

    #[test]
    fn real_page_visit() {
        // nj.gov Blacklight label (markup-healthcare-exchange-tracking).
        let url = "https://alb.reddit.com/rp.gif?ts=1745853811442&id=t2_es2a8zhv&event=PageVisit&m.itemCount=&m.value=&m.valueDecimal=&m.currency=&m.transactionId=&m.customEventName=&m.products=&m.conversionId=&uuid=e6da8ac5-a519-4f2a-9d31-0f67a6925e89&aaid=&em=&pn=&external_id=&idfa=&integration=reddit&partner=&opt_out=0&sh=2560&sw=1440&v=rdt_d9500dd4&dpm=&dpcc=&dprc=";
        let mut ex = Exchange::get(Source::new("t", 0), url);
        ex.page_url = Some("https://www.nj.gov/getcoverednj/".into());
        let e = &Engine::new().events(&ex).unwrap()[0];
        assert_eq!(e.event, "PageVisit");
        assert_eq!(e.account_id.as_deref(), Some("t2_es2a8zhv"));
        assert_eq!(
            e.page_url.as_deref(),
            Some("https://www.nj.gov/getcoverednj/")
        );
        assert!(e.custom_data.is_empty(), "{:?}", e.custom_data);
        assert!(e.user_data.is_empty());
        assert_eq!(e.ids.len(), 1);
        assert_eq!(e.raw.len(), 26);
    }

    #[test]
    fn custom_event_with_auto_matching_and_products() {
        let q = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("id", "t2_canary01")
            .append_pair("event", "Custom")
            .append_pair("m.customEventName", "BookTherapySession")
            .append_pair(
                "m.products",
                r#"[{"id":"rx-42","name":"Sertraline 50mg","category":"mental-health"}]"#,
            )
            .append_pair("em", H1)
            .append_pair("auto_em", &format!("{H1},{H2}"))
            .append_pair("auto_pn", &format!("1~{H2}|0.5~{H1}"))
            .append_pair("external_id", "patient-0042")
            .append_pair("click_id", "abc.def-123")
            .finish();
        let e = &Engine::new()
            .events(&Exchange::post(
                Source::new("t", 0),
                "https://alb.reddit.com/rp",
                "application/x-www-form-urlencoded",
                q.clone(),
            ))
            .unwrap()[0];
        assert_eq!(e.event, "BookTherapySession");
        assert_eq!(e.custom_data["event"], "Custom");
        assert_eq!(e.custom_data["products"][0]["name"], "Sertraline 50mg");
        assert_eq!(e.transport.format, "form");
        let keys: Vec<_> = e
            .user_data
            .iter()
            .map(|d| (d.key.as_str(), d.field.as_str()))
            .collect();
        assert_eq!(
            keys,
            [
                ("em", "em"),
                ("external_id", "external_id"),
                ("em", "auto_em[0]"),
                ("em", "auto_em[1]"),
                ("ph", "auto_pn[0]"),
                ("ph", "auto_pn[1]")
            ]
        );
        assert_eq!(e.user_data[4].value, H2);
        assert_eq!(e.user_data[4].algorithm, Some(HashAlgo::Sha256));
        assert!(!e.user_data[1].hashed);
        assert!(
            e.ids
                .iter()
                .any(|i| i.kind == "rdt_cid" && i.value == "abc.def-123")
        );
    }

    #[test]
    fn capi_v3_and_v2() {
        let v3 = format!(
            r#"{{"data":{{"test_mode":false,"events":[{{"event_at":"2025-01-02T03:04:05Z","action_source":"WEBSITE","event_type":{{"tracking_type":"Purchase"}},"click_id":"cid-1","user":{{"email":"{H1}","ip_address":"203.0.113.9","user_agent":"Mozilla/5.0","uuid":"1700000000.abc-uuid","screen_dimensions":{{"width":1,"height":2}}}},"event_metadata":{{"currency":"USD","value_decimal":89.5,"item_count":1,"products":[{{"id":"plan-b","name":"Levonorgestrel"}}],"conversion_id":"1234567890123456789"}}}}]}}}}"#
        );
        let e = &Engine::new()
            .events(&Exchange::post(
                Source::new("t", 0),
                "https://ads-api.reddit.com/api/v3/pixels/a2_canary9/conversion_events",
                "application/json",
                v3.clone(),
            ))
            .unwrap()[0];
        assert_eq!(e.event, "Purchase");
        assert_eq!(e.account_id.as_deref(), Some("a2_canary9"));
        assert_eq!(e.custom_data["products"][0]["name"], "Levonorgestrel");
        assert_eq!(e.custom_data["conversion_id"], "1234567890123456789");
        let em = e.user_data.iter().find(|d| d.key == "em").unwrap();
        assert!(em.hashed);
        let ip = e
            .user_data
            .iter()
            .find(|d| d.key == "client_ip_address")
            .unwrap();
        assert!(!ip.hashed);
        assert!(e.ids.iter().any(|i| i.kind == "rdt_uuid"));
        assert!(e.ids.iter().any(|i| i.kind == "rdt_cid"));
        assert!(
            e.raw
                .iter()
                .any(|(k, v)| k == "data.test_mode" && v == "false")
        );

        let v2 = r#"{"test_mode":true,"events":[{"event_type":{"tracking_type":"Custom","custom_event_name":"QuizCompleted"},"user":{"email":"jane.doe.canary@example.com"}},{"event_type":{"tracking_type":"PageVisit"}}]}"#;
        let ev = Engine::new()
            .events(&Exchange::post(
                Source::new("t", 0),
                "https://ads-api.reddit.com/api/v2.0/conversions/events/t2_acct7",
                "application/json",
                v2,
            ))
            .unwrap();
        assert_eq!(ev.len(), 2);
        assert_eq!(ev[0].event, "QuizCompleted");
        assert_eq!(ev[1].event, "PageVisit");
        assert_eq!(ev[0].account_id.as_deref(), Some("t2_acct7"));
        assert!(!ev[0].user_data[0].hashed);
    }

    #[test]
    fn capi_without_events_is_an_error() {
        let err = Engine::new()
            .events(&Exchange::post(
                Source::new("t", 0),
                "https://ads-api.reddit.com/api/v2.0/conversions/events/t2_x",
                "application/json",
                r#"{"events":5}"#,
            ))
            .unwrap_err();
        assert!(err.reason.contains("events"), "{err}");
    }

    proptest! {
        #[test]
        fn never_panics(q in "[ -~]{0,200}", body in "[ -~]{0,200}") {
            for url in ["https://alb.reddit.com/rp", "https://ads-api.reddit.com/api/v2.0/conversions/events/x"] {
                let ex = Exchange::post(Source::new("t", 0), format!("{url}?{q}"), "application/json", body.clone());
                let _ = Engine::new().events(&ex);
            }
        }

        #[test]
        fn capi_json_never_panics(j in "\\{\"events\":\\[(\\{\\}|\\{\"user\":(1|\\{\\}|\\[\\])\\}|\\{\"event_type\":(null|\"x\"|\\{\\})\\}|1)\\]\\}") {
            let _ = Engine::new().events(&Exchange::post(Source::new("t", 0), "https://ads-api.reddit.com/api/v3/pixels/p/conversion_events", "application/json", j.clone()));
        }
    }
}
