//! Nextdoor Pixel: `flask.nextdoor.com/pixel` (GET image) and
//! `flask.nextdoor.com/events/*` (XHR, JSON). The format is only partly known
//! (wire-formats.md §12, low confidence): known fields get their slots, the
//! rest goes to custom data, and keys that look like contact fields are user
//! data whatever their shape.

use serde_json::Value;

use super::{Request, flatten_json, id_value, json_str, user_datum};
use crate::model::Event;
use crate::params::{Params, json_or_string};

/// Tag/browser fields (seen in real `ndp.js` 8.x hits): raw only.
const NOT_CUSTOM: &[&str] = &[
    "pid",
    "ev",
    "pl",
    "rf",
    "ndclid",
    "ndclid_src",
    "vrs",
    "tm",
    "iid",
    "pageid",
    "sessionid",
    "tz",
    "sw",
    "sh",
    "noscript",
    "cd",
];

/// Contact-looking keys → normalised user-data key.
const USER_KEYS: &[(&str, &str)] = &[
    ("em", "em"),
    ("email", "em"),
    ("hashed_email", "em"),
    ("hem", "em"),
    ("ph", "ph"),
    ("phone", "ph"),
    ("phone_number", "ph"),
    ("hashed_phone", "ph"),
    ("fn", "fn"),
    ("first_name", "fn"),
    ("ln", "ln"),
    ("last_name", "ln"),
    ("zp", "zp"),
    ("zip", "zp"),
    ("postal_code", "zp"),
    ("external_id", "external_id"),
];

fn user_key(k: &str) -> Option<&'static str> {
    let last = k
        .rsplit(['.', '['])
        .next()
        .unwrap_or(k)
        .trim_end_matches(']');
    USER_KEYS
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(last))
        .map(|(_, key)| *key)
}

pub fn decode(req: &Request<'_>, out: &mut Vec<Event>) -> Result<(), String> {
    if let Some(json) = req.body.json() {
        return decode_json(req, &json, out);
    }
    let p = req.all_params();
    if p.is_empty() {
        return Err("Nextdoor request has no parameters in its URL or body".into());
    }
    let format = req.params_format();
    let mut ev = req.event(p.get_nonempty("ev").unwrap_or("(no ev)"), format);
    ev.account_id = p.get_nonempty("pid").map(str::to_owned);
    ev.page_url = p.get_nonempty("pl").map(str::to_owned);
    ev.referrer = p.get_nonempty("rf").map(str::to_owned);
    if let Some(Value::Object(cd)) = p.get_nonempty("cd").map(json_or_string) {
        for (k, v) in cd {
            push_field(&mut ev, &format!("cd.{k}"), &k, v);
        }
    } else if let Some(cd) = p.get_nonempty("cd") {
        ev.custom_data.insert("cd".into(), cd.into());
    }
    for (k, v) in p.iter() {
        if v.is_empty() || NOT_CUSTOM.contains(&k) {
            continue;
        }
        push_field(&mut ev, k, k, json_or_string(v));
    }
    pixel_ids(&mut ev, &p);
    ev.raw = p.into_pairs();
    out.push(ev);
    Ok(())
}

fn pixel_ids(ev: &mut Event, p: &Params) {
    for (key, kind) in [
        ("ndclid", "ndclid"),
        ("sessionid", "nextdoor_session"),
        ("iid", "nextdoor_iid"),
    ] {
        if let Some(v) = p.get_nonempty(key) {
            ev.ids.push(id_value(kind, key, v));
        }
    }
}

/// A custom field, or user data when the key names a contact field.
fn push_field(ev: &mut Event, field: &str, key: &str, v: Value) {
    if let Some(uk) = user_key(key)
        && let Some(s) = json_str(&v).filter(|s| !s.is_empty())
    {
        ev.user_data.push(user_datum(uk, field, &s));
        return;
    }
    ev.custom_data.insert(key.to_owned(), v);
}

/// The `/events/*` XHR: the same fields, in JSON, by several possible names.
fn decode_json(req: &Request<'_>, json: &Value, out: &mut Vec<Event>) -> Result<(), String> {
    let items: Vec<&Value> = match json {
        Value::Array(a) => a.iter().collect(),
        Value::Object(m) => match m.get("events") {
            Some(Value::Array(a)) => a.iter().collect(),
            _ => vec![json],
        },
        _ => return Err("Nextdoor JSON body is neither an object nor an array".into()),
    };
    let top = |k: &str| json.get(k).and_then(json_str).filter(|s| !s.is_empty());
    for (i, item) in items.iter().enumerate() {
        let s = |keys: &[&str]| {
            keys.iter()
                .find_map(|k| item.get(*k).and_then(json_str).filter(|s| !s.is_empty()))
        };
        let name =
            s(&["ev", "event", "event_name", "eventName"]).unwrap_or_else(|| "(no ev)".into());
        let mut ev = req.event(name, "json");
        ev.account_id = s(&["pid", "pixel_id", "pixelId"])
            .or_else(|| top("pid"))
            .or_else(|| top("pixel_id"))
            .or_else(|| req.query.get_nonempty("pid").map(str::to_owned));
        ev.page_url = s(&["pl", "page_url", "url", "event_source_url"]);
        ev.referrer = s(&["rf", "referrer"]);
        let mut flat = Vec::new();
        flatten_json("", item, &mut flat);
        for (k, v) in &flat {
            let last = k.rsplit('.').next().unwrap_or(k);
            if let Some(uk) = user_key(k)
                && !v.is_empty()
                && v != "null"
            {
                ev.user_data.push(user_datum(uk, k, v));
            } else if last == "ndclid" && !v.is_empty() {
                ev.ids.push(id_value("ndclid", k, v));
            }
        }
        if let Value::Object(m) = item {
            for (k, v) in m {
                let skip = matches!(
                    k.as_str(),
                    "ev" | "event" | "event_name" | "eventName" | "pid" | "pixel_id" | "pixelId"
                ) || user_key(k).is_some();
                if !skip {
                    ev.custom_data.insert(k.clone(), v.clone());
                }
            }
        }
        let mut raw = req.query.pairs().to_vec();
        if items.len() == 1 && std::ptr::eq(items[0], json) {
            raw.extend(flat);
        } else {
            flatten_json(&format!("events[{i}]"), item, &mut raw);
        }
        ev.raw = raw;
        out.push(ev);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::Engine;
    use crate::model::{Exchange, Source, Vendor};
    use proptest::prelude::*;

    #[test]
    fn real_page_view() {
        // nevadahealthlink.com capture (markup-healthcare-exchange-tracking).
        let url = "https://flask.nextdoor.com/pixel?pid=fea81577-7339-483f-b784-c1e88061c380&vrs=8.6&ev=PAGE_VIEW&pl=https%3A%2F%2Fwww.nevadahealthlink.com%2F&ndclid=&ndclid_src=0&rf=&sem=&tm=Manual&iid=65af59c8-8ac6-4dc1-ab1e-896c8be8895f&pageid=f865ac3e-aa57-41bc-8546-8fe11083994e&sessionid=55f08192-68d3-4512-ba18-eb63b0637902&cd=%7B%7D&tz=America%2FLos_Angeles&sw=375&sh=812";
        let ev = Engine::new()
            .events(&Exchange::get(Source::new("t", 0), url))
            .unwrap();
        assert_eq!(ev.len(), 1);
        let e = &ev[0];
        assert_eq!(e.vendor, Vendor::Nextdoor);
        assert_eq!(e.event, "PAGE_VIEW");
        assert_eq!(
            e.account_id.as_deref(),
            Some("fea81577-7339-483f-b784-c1e88061c380")
        );
        assert_eq!(
            e.page_url.as_deref(),
            Some("https://www.nevadahealthlink.com/")
        );
        assert!(e.custom_data.is_empty(), "{:?}", e.custom_data);
        assert!(e.ids.iter().any(|i| i.kind == "nextdoor_session"));
        assert_eq!(e.raw.len(), 16);
    }

    #[test]
    fn conversion_with_custom_data_and_contact_fields() {
        let cd = r#"{"order_value":"120","product":"Hearing aid fitting","email":"jane.doe.canary@example.com"}"#;
        let q = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("pid", "11111111-2222-3333-4444-555555555555")
            .append_pair("ev", "CONVERSION")
            .append_pair("pl", "https://audiology.example/book/thanks")
            .append_pair("cd", cd)
            .append_pair("ndclid", "nd-click-1")
            .finish();
        let e = &Engine::new()
            .events(&Exchange::get(
                Source::new("t", 0),
                format!("https://flask.nextdoor.com/pixel?{q}"),
            ))
            .unwrap()[0];
        assert_eq!(e.event, "CONVERSION");
        assert_eq!(e.custom_data["product"], "Hearing aid fitting");
        assert_eq!(e.user_data[0].key, "em");
        assert_eq!(e.user_data[0].field, "cd.email");
        assert!(!e.user_data[0].hashed);
        assert!(
            e.ids
                .iter()
                .any(|i| i.kind == "ndclid" && i.value == "nd-click-1")
        );
    }

    #[test]
    fn events_xhr_json() {
        let ex = Exchange::post(
            Source::new("t", 0),
            "https://flask.nextdoor.com/events/v1",
            "application/json",
            br#"{"pid":"abc-uuid","event":"LEAD","page_url":"https://clinic.example/rehab/intake","custom_data":{"program":"Detox"},"user":{"hashed_email":"62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f"}}"#,
        );
        let e = &Engine::new().events(&ex).unwrap()[0];
        assert_eq!(e.event, "LEAD");
        assert_eq!(e.account_id.as_deref(), Some("abc-uuid"));
        assert_eq!(
            e.page_url.as_deref(),
            Some("https://clinic.example/rehab/intake")
        );
        assert_eq!(e.custom_data["custom_data"]["program"], "Detox");
        assert_eq!(e.user_data[0].key, "em");
        assert!(e.user_data[0].hashed);
        assert!(e.raw.iter().any(|(k, _)| k == "user.hashed_email"));
    }

    proptest! {
        #[test]
        fn never_panics(q in "[ -~]{0,200}", body in "[ -~]{0,200}") {
            let ex = Exchange::post(Source::new("p", 0), format!("https://flask.nextdoor.com/events/x?{q}"), "", body);
            let _ = Engine::new().events(&ex);
        }
    }
}
