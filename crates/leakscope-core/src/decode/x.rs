//! X (Twitter) pixel: `analytics.twitter.com`, `analytics.x.com` and `t.co`
//! `/[1/]i/adsct` (GET image) and `/adsctp` (POST form). See wire-formats.md §10.

use serde_json::Value;

use super::{Request, id_value, json_str, user_datum};
use crate::model::Event;
use crate::params::json_or_string;

/// Fields with their own slot in the event or that only describe the tag.
const NOT_CUSTOM: &[&str] = &[
    "txn_id",
    "events",
    "event",
    "tw_document_href",
    "tw_iframe_status",
    "twclid",
    "p_id",
    "p_user_id",
    "pl_id",
    "event_id",
    "tpx_cb",
    "type",
    "version",
    "bci",
    "eci",
    "dv",
    "clid_src",
    "integration",
];

/// Event-parameter keys that carry a person (hashed by the docs, sometimes not).
const USER_KEYS: &[(&str, &str)] = &[
    ("email_address", "em"),
    ("phone_number", "ph"),
    ("hashed_email", "em"),
    ("hashed_phone_number", "ph"),
];

pub fn decode(req: &Request<'_>, out: &mut Vec<Event>) -> Result<(), String> {
    let p = req.all_params();
    if p.is_empty() {
        return Err("X pixel request has no parameters in its URL or body".into());
    }
    let format = req.params_format();
    // (name, params) per event: `events=[[name,{..}],...]` carries several.
    let mut named: Vec<(String, String, Option<Value>)> = Vec::new();
    if let Some(Value::Array(list)) = p.get_nonempty("events").map(json_or_string) {
        for (i, item) in list.iter().enumerate() {
            let name = item
                .get(0)
                .and_then(json_str)
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "(no name)".into());
            let params = item.get(1).filter(|v| !v.is_null()).cloned();
            named.push((name, format!("events[{i}]"), params));
        }
    }
    if named.is_empty()
        && let Some(v) = p.get_nonempty("event")
    {
        let obj = json_or_string(v);
        // `event={}` is the base tag's page view; a conversion sends its params.
        let empty = obj.as_object().is_some_and(|m| m.is_empty());
        let name = if empty { "pageview" } else { "conversion" };
        named.push((name.into(), "event".into(), (!empty).then_some(obj)));
    }
    if named.is_empty() {
        // No event at all: the base page view, or a partner's id sync
        // (`p_id=<partner>&p_user_id=<their id>`) that has no pixel.
        let name = if p.contains("txn_id") || p.contains("tw_iframe_status") {
            "pageview"
        } else {
            "id_sync"
        };
        named.push((name.into(), String::new(), None));
    }
    for (name, field, params) in named {
        let mut ev = req.event(name, format);
        ev.account_id = p.get_nonempty("txn_id").map(str::to_owned);
        ev.page_url = p.get_nonempty("tw_document_href").map(str::to_owned);
        if let Some(pl) = p.get_nonempty("pl_id") {
            ev.custom_data.insert("pl_id".into(), pl.into());
        }
        for (k, v) in p.iter() {
            if !NOT_CUSTOM.contains(&k) && !v.is_empty() {
                ev.custom_data.insert(k.to_owned(), json_or_string(v));
            }
        }
        if let Some(Value::Object(m)) = &params {
            for (k, v) in m {
                if let Some((_, key)) = USER_KEYS.iter().find(|(n, _)| n == k) {
                    if let Some(s) = json_str(v).filter(|s| !s.is_empty()) {
                        ev.user_data
                            .push(user_datum(key, &format!("{field}.{k}"), &s));
                    }
                    continue;
                }
                if k == "twclid"
                    && let Some(s) = json_str(v).filter(|s| !s.is_empty())
                {
                    ev.ids.push(id_value("twclid", &format!("{field}.{k}"), &s));
                    continue;
                }
                ev.custom_data.insert(k.clone(), v.clone());
            }
        } else if let Some(other) = params {
            ev.custom_data.insert(field.clone(), other);
        }
        if let Some(v) = p.get_nonempty("twclid") {
            ev.ids.push(id_value("twclid", "twclid", v));
        }
        if let Some(v) = p.get_nonempty("event_id") {
            ev.ids.push(id_value("x_event_id", "event_id", v));
        }
        // `p_user_id` is 0 on the pixel; a partner's user id on an id sync.
        if let Some(v) = p.get_nonempty("p_user_id").filter(|v| *v != "0") {
            ev.ids.push(id_value("x_partner_user_id", "p_user_id", v));
        }
        if let Some(pid) = p.get_nonempty("p_id").filter(|v| *v != "Twitter") {
            ev.custom_data.insert("p_id".into(), pid.into());
        }
        ev.raw = p.pairs().to_vec();
        out.push(ev);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::Engine;
    use crate::model::{Exchange, HashAlgo, Source, Vendor};
    use proptest::prelude::*;

    fn events(url: &str) -> Vec<crate::model::Event> {
        Engine::new()
            .events(&Exchange::get(Source::new("t", 0), url))
            .unwrap()
    }

    #[test]
    fn real_events_pageview_on_t_co_and_analytics() {
        // cityofhope.org capture (markup-nonprofit-privacy): the t.co twin and the analytics hit.
        for host in ["t.co", "analytics.twitter.com"] {
            let ev = events(&format!(
                "https://{host}/i/adsct?type=javascript&version=2.0.4&p_id=Twitter&p_user_id=0&txn_id=nvd6c&events=%5B%5B%22pageview%22%2C%7B%7D%5D%5D&tw_sale_amount=0&tw_order_quantity=0&tw_iframe_status=0&event_id=718db044-0832-4bf2-9561-64a3c14a329f&tw_document_href=https%3A%2F%2Fwww.cityofhope.org%2Fpatients%2Fliving-with-cancer%2Fpatient-education"
            ));
            assert_eq!(ev.len(), 1);
            let e = &ev[0];
            assert_eq!(e.vendor, Vendor::X);
            assert_eq!(e.event, "pageview");
            assert_eq!(e.account_id.as_deref(), Some("nvd6c"));
            assert_eq!(
                e.page_url.as_deref(),
                Some("https://www.cityofhope.org/patients/living-with-cancer/patient-education")
            );
            assert_eq!(e.custom_data["tw_sale_amount"], "0");
            assert!(e.ids.iter().any(|i| i.kind == "x_event_id"));
        }
    }

    #[test]
    fn real_v2_empty_event_object_is_a_pageview() {
        // nj.gov capture (markup-healthcare-exchange-tracking).
        let ev = events(
            "https://analytics.twitter.com/1/i/adsct?bci=4&dv=America%2FLos_Angeles%26en-US%26Google%20Inc.%26MacIntel%26127%26375%26812%268%2624%26375%26812%260%26na&eci=3&event=%7B%7D&event_id=7a15a6c1-ede9-495f-ae35-a8b54edd4ad4&integration=gtm&p_id=Twitter&p_user_id=0&pl_id=f26868a4-42c2-4e2d-9af1-5e97f233e4a8&tw_document_href=https%3A%2F%2Fwww.nj.gov%2Fgetcoverednj%2F&tw_iframe_status=0&txn_id=o0wja&type=javascript&version=2.3.33",
        );
        assert_eq!(ev[0].event, "pageview");
        assert_eq!(ev[0].account_id.as_deref(), Some("o0wja"));
        assert_eq!(
            ev[0].custom_data["pl_id"],
            "f26868a4-42c2-4e2d-9af1-5e97f233e4a8"
        );
        assert!(ev[0].raw.iter().any(|(k, _)| k == "dv"));
    }

    #[test]
    fn real_partner_id_sync_has_no_pixel() {
        // www.suntrust.com capture: a partner's cookie match on the adsct path.
        let e = &events(
            "https://analytics.twitter.com/i/adsct?p_user_id=74846030843795394934358744143253798181&p_id=38594",
        )[0];
        assert_eq!(e.event, "id_sync");
        assert_eq!(e.account_id, None);
        assert_eq!(e.custom_data["p_id"], "38594");
        assert_eq!(e.ids[0].value, "74846030843795394934358744143253798181");
    }

    #[test]
    fn purchase_with_user_data_and_click_id() {
        let em = "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f";
        let events_json = format!(
            r#"[["purchase",{{"value":"29.95","currency":"USD","num_items":"3","content_name":"Prenatal vitamins","email_address":"{em}"}}]]"#
        );
        let q = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("txn_id", "o1abc")
            .append_pair("events", &events_json)
            .append_pair(
                "tw_document_href",
                "https://pharmacy.example/checkout/thanks",
            )
            .append_pair("twclid", "2-abcdef123")
            .append_pair("tw_sale_amount", "29.95")
            .finish();
        let e = &events(&format!("https://analytics.x.com/1/i/adsct?{q}"))[0];
        assert_eq!(e.event, "purchase");
        assert_eq!(e.custom_data["content_name"], "Prenatal vitamins");
        assert_eq!(e.custom_data["value"], "29.95");
        assert_eq!(e.user_data[0].key, "em");
        assert_eq!(e.user_data[0].field, "events[0].email_address");
        assert_eq!(e.user_data[0].algorithm, Some(HashAlgo::Sha256));
        assert!(
            e.ids
                .iter()
                .any(|i| i.kind == "twclid" && i.value == "2-abcdef123")
        );
    }

    #[test]
    fn adsctp_form_post_conversion_with_plain_email() {
        let ex = Exchange::post(
            Source::new("t", 0),
            "https://analytics.twitter.com/1/i/adsctp",
            "application/x-www-form-urlencoded",
            "txn_id=o1abc&event=%7B%22email_address%22%3A%22jane.doe.canary%40example.com%22%2C%22value%22%3A%2249%22%7D&tw_document_href=https%3A%2F%2Fclinic.example%2Fivf%2Fbooked&tw_iframe_status=0",
        );
        let e = &Engine::new().events(&ex).unwrap()[0];
        assert_eq!(e.event, "conversion");
        assert_eq!(e.transport.format, "form");
        assert_eq!(
            e.page_url.as_deref(),
            Some("https://clinic.example/ivf/booked")
        );
        assert_eq!(e.user_data[0].value, "jane.doe.canary@example.com");
        assert!(!e.user_data[0].hashed);
        assert_eq!(e.custom_data["value"], "49");
    }

    #[test]
    fn several_events_in_one_hit() {
        let ev = events(
            "https://t.co/i/adsct?txn_id=o1&events=%5B%5B%22pageview%22%2Cnull%5D%2C%5B%22signup%22%2C%7B%7D%5D%5D",
        );
        let names: Vec<_> = ev.iter().map(|e| e.event.as_str()).collect();
        assert_eq!(names, ["pageview", "signup"]);
    }

    proptest! {
        #[test]
        fn never_panics(q in "[ -~]{0,200}", body in "[ -~]{0,200}") {
            let ex = Exchange::post(Source::new("p", 0), format!("https://analytics.twitter.com/i/adsctp?{q}"), "application/x-www-form-urlencoded", body);
            let _ = Engine::new().events(&ex);
        }

        #[test]
        fn events_json_never_panics(j in "\\[\\[\"[a-z]{0,5}\",(null|\\{\\}|\\[\\]|1|\"x\")\\]\\]") {
            let q: String = url::form_urlencoded::byte_serialize(j.as_bytes()).collect();
            let _ = Engine::new().events(&Exchange::get(Source::new("p", 0), format!("https://t.co/i/adsct?events={q}")));
        }
    }
}
