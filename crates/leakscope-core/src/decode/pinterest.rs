//! Pinterest: the Tag (`ct.pinterest.com/v3/` and `/user/`, GET with JSON in
//! the `ad`, `pd`, `ed` params; `/md/` page metadata POST) and the
//! Conversions API (`api.pinterest.com/v5/ad_accounts/{id}/events`, legacy
//! `ct.pinterest.com/events/v3`). See wire-formats.md §7.

use serde_json::Value;

use super::{
    Nth, Request, flatten_json, id_value, json_nonempty, json_path, json_user_fields,
    path_segment_near, plain_datum, user_datum,
};
use crate::model::Event;
use crate::params::json_or_string;

/// Partner-data (`pd`) and CAPI `user_data` keys that are personal data.
const USER_KEYS: &[&str] = &[
    "em",
    "ph",
    "fn",
    "ln",
    "ge",
    "db",
    "ct",
    "st",
    "zp",
    "country",
    "external_id",
    "hashed_maids",
    "client_ip_address",
    "client_user_agent",
];

/// Sent in clear by design.
const PLAIN_KEYS: &[&str] = &["client_ip_address", "client_user_agent"];

/// Cookie and click ids, wherever they ride (query, `pd`, CAPI `user_data`).
const ID_KEYS: &[(&str, &str)] = &[
    ("epik", "epik"),
    ("_epik", "epik"),
    ("click_id", "epik"),
    ("derived_epik", "derived_epik"),
    ("_derived_epik", "derived_epik"),
    ("pin_unauth", "pin_unauth"),
    ("_pin_unauth", "pin_unauth"),
    ("pinterest_ct_ua", "pinterest_ct_ua"),
];

pub fn decode(req: &Request<'_>, out: &mut Vec<Event>) -> Result<(), String> {
    let path = req.url.path().trim_end_matches('/');
    if let Some(body) = req.body.json() {
        if body.get("data").is_some() {
            return decode_capi(req, body, out);
        }
        if path.ends_with("/md") {
            return decode_md(req, body, out);
        }
    }
    if req.url.host_str() == Some("api.pinterest.com") || path.starts_with("/events/") {
        return Err(format!(
            "Conversions API body ({}) has no `data` array",
            req.body.format.as_str()
        ));
    }
    let p = req.all_params();
    if p.is_empty() {
        return Err("Pinterest tag request has no parameters".into());
    }
    let name = match p.get_nonempty("event") {
        Some(e) => e.to_owned(),
        // `/user/` carries identity (tid + hashed email) with no event name.
        None if path.ends_with("/user") => "user_sync".to_owned(),
        None => "(no event)".to_owned(),
    };
    let format = req.params_format();
    let mut ev = req.event(name, format);
    ev.account_id = p.get_nonempty("tid").map(str::to_owned);

    if let Some(ad) = p.get_nonempty("ad").map(json_or_string) {
        ev.page_url = json_nonempty(ad.get("loc"));
        ev.referrer = json_nonempty(ad.get("ref"));
    }
    for (group, field) in [("ed", "ed"), ("ov", "ov")] {
        if let Some(Value::Object(m)) = p.get_nonempty(group).map(json_or_string) {
            for (k, v) in m {
                ev.custom_data.insert(k, v);
            }
        } else if let Some(v) = p.get_nonempty(group) {
            ev.custom_data
                .insert(field.to_owned(), Value::String(v.to_owned()));
        }
        for (k, v) in p.bracketed(group) {
            ev.custom_data.insert(k.to_owned(), json_or_string(v));
        }
    }

    // Partner data: JSON `pd={"em":…}` or bracketed `pd[em]=…`.
    let mut pd: Vec<(String, String, String)> = Vec::new();
    if let Some(Value::Object(m)) = p.get_nonempty("pd").map(json_or_string) {
        for (k, field, v) in json_user_fields("pd", &m) {
            pd.push((k.to_owned(), field, v));
        }
    }
    for (k, v) in p.bracketed("pd") {
        pd.push((k.to_owned(), format!("pd[{k}]"), v.to_owned()));
    }
    for (k, field, v) in pd {
        if let Some((_, kind)) = ID_KEYS.iter().find(|(n, _)| *n == k) {
            ev.ids.push(id_value(kind, &field, &v));
        } else if USER_KEYS.contains(&k.as_str()) {
            ev.user_data.push(datum(&k, &field, &v));
        } else {
            ev.custom_data.insert(format!("pd.{k}"), Value::String(v));
        }
    }
    for (key, kind) in ID_KEYS {
        if let Some(v) = p.get_nonempty(key) {
            ev.ids.push(id_value(kind, key, v));
        }
    }
    // Automatic enhanced match: a hashed email under `aem`.
    if let Some(v) = p.get_nonempty("aem") {
        ev.user_data.push(datum("em", "aem", v));
    }
    ev.raw = p.into_pairs();
    out.push(ev);
    Ok(())
}

fn datum(key: &str, field: &str, value: &str) -> crate::model::UserDatum {
    if PLAIN_KEYS.contains(&key) {
        plain_datum(key, field, value)
    } else {
        user_datum(key, field, value)
    }
}

/// Conversions API: `{"data":[{event_name, user_data, custom_data…}]}`.
fn decode_capi(req: &Request<'_>, body: Value, out: &mut Vec<Event>) -> Result<(), String> {
    let Value::Object(mut top) = body else {
        return Err("Conversions API body is not a JSON object".into());
    };
    let Some(Value::Array(events)) = top.shift_remove("data") else {
        return Err("Conversions API `data` is not an array of events".into());
    };
    let account = ad_account_id(req.url.path());
    let mut top_raw = Vec::new();
    for (k, v) in &top {
        flatten_json(k, v, &mut top_raw);
    }
    for (i, e) in events.iter().enumerate() {
        let name = json_nonempty(e.get("event_name")).unwrap_or_else(|| "(no event_name)".into());
        let mut ev = req.event(name, "json");
        ev.server_side = true;
        ev.account_id = account
            .clone()
            .or_else(|| json_nonempty(top.get("ad_account_id")));
        ev.page_url = json_nonempty(e.get("event_source_url"));
        if let Some(Value::Object(cd)) = e.get("custom_data") {
            for (k, v) in cd {
                ev.custom_data.insert(k.clone(), v.clone());
            }
        }
        if let Some(Value::Object(ud)) = e.get("user_data") {
            for (k, field, v) in json_user_fields(&format!("data[{i}].user_data"), ud) {
                if let Some((_, kind)) = ID_KEYS.iter().find(|(n, _)| *n == k) {
                    ev.ids.push(id_value(kind, &field, &v));
                } else {
                    ev.user_data.push(datum(k, &field, &v));
                }
            }
        }
        let mut raw = top_raw.clone();
        flatten_json(&format!("data[{i}]"), e, &mut raw);
        ev.raw = raw;
        out.push(ev);
    }
    Ok(())
}

/// `/v5/ad_accounts/{id}/events` → `{id}` (not `events` when the id is missing).
fn ad_account_id(path: &str) -> Option<String> {
    path_segment_near(path, &["ad_accounts"], Nth::First, 1)
        .filter(|s| *s != "events")
        .map(str::to_owned)
}

/// `/md/`: the tag's page-metadata report (URL, canonical, Open Graph HTML).
fn decode_md(req: &Request<'_>, body: Value, out: &mut Vec<Event>) -> Result<(), String> {
    if !body.is_object() {
        return Err("Pinterest /md/ body is not a JSON object".into());
    }
    let mut ev = req.event("metadata", "json");
    ev.account_id = json_nonempty(body.get("tid"));
    ev.page_url = json_nonempty(json_path(&body, "urls.loc"));
    if let Some(og) = json_nonempty(json_path(&body, "meta.og")) {
        ev.page_title = meta_content(&og, "og:title");
    }
    if let Some(Value::Object(meta)) = body.get("meta") {
        for (k, v) in meta {
            ev.custom_data.insert(k.clone(), v.clone());
        }
    }
    let mut raw = Vec::new();
    flatten_json("", &body, &mut raw);
    ev.raw = raw;
    out.push(ev);
    Ok(())
}

/// The `content` of `<meta property="{prop}" content="…">` in an HTML snippet
/// (the tag serialises the page's Open Graph tags this way).
fn meta_content(html: &str, prop: &str) -> Option<String> {
    let needle = format!("property=\"{prop}\"");
    let at = html.find(&needle)?;
    let tag_end = html[at..].find('>').map_or(html.len(), |e| at + e);
    let tag_start = html[..at].rfind('<').unwrap_or(0);
    let tag = &html[tag_start..tag_end];
    let c = tag.find("content=\"")? + "content=\"".len();
    let end = tag[c..].find('"')?;
    let v = tag[c..c + end]
        .replace("&amp;", "&")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">");
    (!v.is_empty()).then_some(v)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use crate::Engine;
    use crate::model::{Exchange, HashAlgo, Source, Vendor};

    fn get(url: &str) -> Vec<crate::Event> {
        Engine::new()
            .events(&Exchange::get(Source::new("t", 0), url))
            .unwrap()
    }

    /// Real: yourhealthidaho.org (Idaho's ACA exchange) init hit, corpus entry 158.
    #[test]
    fn real_v3_init_with_hashed_email() {
        let e = &get(
            "https://ct.pinterest.com/v3/?tid=2613441547282&pd=%7B%22em%22%3A%2224aba99b2defbb47ee981b4200313f61f3ae31541d8717bdac1e463c838939b0%22%7D&event=init&ad=%7B%22loc%22%3A%22https%3A%2F%2Fwww.yourhealthidaho.org%2F%22%2C%22ref%22%3A%22%22%2C%22if%22%3Afalse%2C%22sh%22%3A812%2C%22sw%22%3A375%2C%22mh%22%3A%228821a9da%22%2C%22is_eu%22%3Atrue%2C%22architecture%22%3A%22%22%2C%22bitness%22%3A%22%22%2C%22brands%22%3A%5B%5D%2C%22mobile%22%3Afalse%2C%22model%22%3A%22%22%2C%22platform%22%3A%22%22%2C%22platformVersion%22%3A%22%22%2C%22uaFullVersion%22%3A%22%22%2C%22ecm_enabled%22%3Atrue%7D&cb=1745853773205",
        )[0];
        assert_eq!(e.vendor, Vendor::Pinterest);
        assert_eq!(e.event, "init");
        assert_eq!(e.account_id.as_deref(), Some("2613441547282"));
        assert_eq!(
            e.page_url.as_deref(),
            Some("https://www.yourhealthidaho.org/")
        );
        assert_eq!(e.referrer, None);
        let em = &e.user_data[0];
        assert_eq!((em.key.as_str(), em.field.as_str()), ("em", "pd.em"));
        assert_eq!(em.algorithm, Some(HashAlgo::Sha256));
        assert_eq!(e.raw.len(), 5);
    }

    /// Real: nevadahealthlink.com `/user/` sync, corpus entry 153.
    #[test]
    fn real_user_sync() {
        let e = &get(
            "https://ct.pinterest.com/user/?tid=2613373493470&pd=%7B%22em%22%3A%2224aba99b2defbb47ee981b4200313f61f3ae31541d8717bdac1e463c838939b0%22%7D&cb=1745853804786&dep=2%2CPAGE_LOAD",
        )[0];
        assert_eq!(e.event, "user_sync");
        assert_eq!(e.account_id.as_deref(), Some("2613373493470"));
        assert!(e.user_data[0].hashed);
    }

    #[test]
    fn checkout_with_event_data_and_ids() {
        // Omnibug-shaped, made health-flavoured; sha1 email and bracket pd.
        let url = "https://ct.pinterest.com/v3/?event=checkout&ed=%7B%22value%22%3A116%2C%22order_quantity%22%3A2%2C%22currency%22%3A%22USD%22%2C%22search_query%22%3A%22prenatal%20vitamins%22%2C%22line_items%22%3A%5B%7B%22product_name%22%3A%22Prenatal%20Vitamins%20(90)%22%2C%22product_id%22%3A%2211%22%2C%22product_price%22%3A48%7D%5D%7D&tid=2612345678901&pd[em]=a94a8fe5ccb19ba61c4c0873d391e987982fbbd3&pd[pin_unauth]=dWlkPWNhbmFyeQ&ad=%7B%22loc%22%3A%22https%3A%2F%2Fpharmacy.example%2Fcheckout%22%2C%22ref%22%3A%22https%3A%2F%2Fpharmacy.example%2Fcart%22%7D&epik=dj0yJnU9Y2FuYXJ5&cb=1583868246432";
        let e = &get(url)[0];
        assert_eq!(e.event, "checkout");
        assert_eq!(
            e.page_url.as_deref(),
            Some("https://pharmacy.example/checkout")
        );
        assert_eq!(e.referrer.as_deref(), Some("https://pharmacy.example/cart"));
        assert_eq!(e.custom_data["search_query"], "prenatal vitamins");
        assert_eq!(
            e.custom_data["line_items"][0]["product_name"],
            "Prenatal Vitamins (90)"
        );
        assert_eq!(e.user_data[0].field, "pd[em]");
        assert_eq!(e.user_data[0].algorithm, Some(HashAlgo::Sha1));
        let id = |k: &str| e.ids.iter().find(|i| i.kind == k).map(|i| i.value.as_str());
        assert_eq!(id("pin_unauth"), Some("dWlkPWNhbmFyeQ"));
        assert_eq!(id("epik"), Some("dj0yJnU9Y2FuYXJ5"));
    }

    #[test]
    fn capi_events() {
        let body = r#"{"data":[{"event_name":"lead","action_source":"web","event_time":1700000000,"event_id":"ev-9","event_source_url":"https://therapy.example/anxiety/intake","user_data":{"em":["309a0a5c3e211326ae75ca18196d301a9bdbd1a882a4d2569511033da23f0abd"],"ph":["a3f1c0cbd0e1d9c8e0b3f3c7a3b2f1e0d9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a4"],"client_ip_address":"203.0.113.9","client_user_agent":"Mozilla/5.0","click_id":"dj0yJnU9Y2FuYXJ5"},"custom_data":{"lead_type":"anxiety therapy","value":"0"}},{"event_name":"page_visit","action_source":"web","event_time":1700000001,"user_data":{"em":["309a0a5c3e211326ae75ca18196d301a9bdbd1a882a4d2569511033da23f0abd"]}}]}"#;
        let mut ex = Exchange::post(
            Source::new("t", 0),
            "https://api.pinterest.com/v5/ad_accounts/549755885175/events",
            "application/json",
            body.as_bytes(),
        );
        ex.request_headers.push(crate::model::Header::new(
            "Authorization",
            "Bearer pina_canary_secret",
        ));
        let ev = Engine::new().events(&ex).unwrap();
        assert_eq!(ev.len(), 2);
        let e = &ev[0];
        assert!(e.server_side);
        assert_eq!(e.event, "lead");
        assert_eq!(e.account_id.as_deref(), Some("549755885175"));
        assert_eq!(
            e.page_url.as_deref(),
            Some("https://therapy.example/anxiety/intake")
        );
        assert_eq!(e.custom_data["lead_type"], "anxiety therapy");
        let em = e.user_data.iter().find(|d| d.key == "em").unwrap();
        assert_eq!(em.field, "data[0].user_data.em[0]");
        assert!(em.hashed);
        let ip = e
            .user_data
            .iter()
            .find(|d| d.key == "client_ip_address")
            .unwrap();
        assert!(!ip.hashed);
        assert!(e.ids.iter().any(|i| i.kind == "epik"));
        assert_eq!(ev[1].event, "page_visit");
        let s = serde_json::to_string(&ev).unwrap();
        assert!(!s.contains("pina_canary_secret"));
    }

    /// Real shape: suntrust.com `/md/` metadata POST, corpus entry 103.
    #[test]
    fn md_metadata() {
        let body = r#"{"urls":{"loc":"https://www.suntrust.com/","canonical":"https://www.suntrust.com/"},"meta":{"og":"<meta property=\"og:title\" content=\"SunTrust Bank | Personal, Mortgage &amp; Small Business Banking\"><meta property=\"og:url\" content=\"https://www.suntrust.com/\">"},"aux":{"micro_s":13330},"tid":"2615943045272"}"#;
        let ex = Exchange::post(
            Source::new("t", 0),
            "https://ct.pinterest.com/md/",
            "text/plain",
            body.as_bytes(),
        );
        let e = &Engine::new().events(&ex).unwrap()[0];
        assert_eq!(e.event, "metadata");
        assert_eq!(e.account_id.as_deref(), Some("2615943045272"));
        assert_eq!(e.page_url.as_deref(), Some("https://www.suntrust.com/"));
        assert_eq!(
            e.page_title.as_deref(),
            Some("SunTrust Bank | Personal, Mortgage & Small Business Banking")
        );
    }

    proptest! {
        #[test]
        fn arbitrary_bodies_never_panic(body in proptest::collection::vec(any::<u8>(), 0..400),
                                        json in "\\{(\"(data|event_name|user_data|custom_data|em|urls|loc|meta|og|tid)\":(\\{|\\[|\"x\"|\"<meta property=\\\\\"og:title\\\\\" content=\"|1|null),?){0,8}\\}?\\]?\\}?",
                                        q in "[a-z_=&%0-9\\[\\]{}\"]{0,80}") {
            let engine = Engine::new();
            for url in ["https://ct.pinterest.com/v3/", "https://ct.pinterest.com/md/",
                        "https://api.pinterest.com/v5/ad_accounts/1/events"] {
                let _ = engine.events(&Exchange::post(Source::new("t", 0), url, "text/plain", body.clone()));
                let _ = engine.events(&Exchange::post(Source::new("t", 0), url, "application/json", json.as_bytes()));
            }
            let _ = engine.events(&Exchange::get(Source::new("t", 0), format!("https://ct.pinterest.com/v3/?{q}")));
        }
    }
}
