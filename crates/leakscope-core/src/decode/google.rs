//! Google: GA4 (`/g/collect`, Measurement Protocol `/mp/collect`), Universal
//! Analytics (`/collect`, `/j/collect`, `/r/collect`, `/batch`, legacy
//! `__utm.gif`), Google Ads conversion / remarketing / form-data hits and
//! Campaign Manager Floodlight (parameters in the path). See wire-formats.md §4.

use serde_json::{Map, Value};

use super::{Request, flatten_json, id_value, json_field_values, json_str, user_datum};
use crate::body::BodyFormat;
use crate::model::{Event, FormField, UserDatum};
use crate::params::{Params, percent_decode};

// ------------------------------------------------------------------ GA4

/// GA4 parameters that carry ids (§4.1, §4.6), by key → id kind.
const GA4_IDS: &[(&str, &str)] = &[
    ("cid", "ga_client_id"),
    ("sid", "ga_session"),
    ("_gl", "google_linker"),
    ("gclid", "gclid"),
    ("dclid", "dclid"),
    ("gbraid", "gbraid"),
    ("wbraid", "wbraid"),
];

pub fn decode_ga4(req: &Request<'_>, out: &mut Vec<Event>) -> Result<(), String> {
    if req.url.path().ends_with("/mp/collect") || req.body.format == BodyFormat::Json {
        return decode_ga4_mp(req, out);
    }
    let lines = body_hits(req);
    if lines.is_empty() {
        if req.query.is_empty() {
            return Err("GA4 hit has no parameters in its URL or body".into());
        }
        out.push(ga4_event(req, &req.query, "query"));
    } else {
        // Shared params ride in the URL; each body line is one event whose
        // own params win (wire-formats §1.2).
        for line in &lines {
            out.push(ga4_event(req, &req.query.overlay(line), req.body_format()));
        }
    }
    Ok(())
}

fn ga4_event(req: &Request<'_>, p: &Params, format: &str) -> Event {
    let mut ev = req.event(p.get_nonempty("en").unwrap_or("(no en)"), format);
    ev.account_id = owned(p.get_nonempty("tid"));
    ev.page_url = page_url(p);
    ev.referrer = owned(p.get_nonempty("dr"));
    ev.page_title = owned(p.get_nonempty("dt"));
    for (k, v) in p.iter() {
        if let Some(x) = k.strip_prefix("ep.") {
            ev.custom_data
                .insert(x.to_owned(), Value::String(v.to_owned()));
        } else if let Some(x) = k.strip_prefix("epn.") {
            ev.custom_data.insert(x.to_owned(), number_or_string(v));
        } else if let Some(x) = k.strip_prefix("up.") {
            ev.custom_data
                .insert(format!("up.{x}"), Value::String(v.to_owned()));
        } else if let Some(x) = k.strip_prefix("upn.") {
            ev.custom_data
                .insert(format!("up.{x}"), number_or_string(v));
        }
    }
    if let Some(cu) = p.get_nonempty("cu") {
        ev.custom_data
            .insert("currency".into(), Value::String(cu.to_owned()));
    }
    let items = ga4_items(p);
    if !items.is_empty() {
        ev.custom_data.insert("items".into(), Value::Array(items));
    }
    if let Some(uid) = p.get_nonempty("uid") {
        ev.user_data.push(user_datum("external_id", "uid", uid));
    }
    for v in p.get_all("em").filter(|v| !v.is_empty()) {
        ev.user_data.extend(user_provided("em", v));
    }
    push_ids(&mut ev, p, GA4_IDS);
    ga4_ui(&mut ev, p);
    ev.raw = p.pairs().to_vec();
    ev
}

/// Enhanced-measurement form and link events put what the user touched in
/// `ep.form_*`, `ep.first_field_*` and `ep.link_*` (also on custom events).
fn ga4_ui(ev: &mut Event, p: &Params) {
    let ep = |k: &str| {
        p.get_nonempty(&format!("ep.{k}"))
            .or_else(|| p.get_nonempty(&format!("epn.{k}")))
            .map(str::to_owned)
    };
    let mut element = Map::new();
    for (k, v) in p.iter() {
        let Some(x) = k.strip_prefix("ep.").or_else(|| k.strip_prefix("epn.")) else {
            continue;
        };
        let ui_key = ["form_", "first_field_", "link_", "file_"]
            .iter()
            .any(|pre| x.starts_with(pre))
            || x == "outbound";
        if ui_key && !v.is_empty() {
            element.insert(x.to_owned(), Value::String(v.to_owned()));
        }
    }
    ev.ui.button_text = ep("form_submit_text").or_else(|| ep("link_text"));
    ev.ui.destination = ep("form_destination").or_else(|| ep("link_url"));
    let field = FormField {
        name: ep("first_field_name"),
        id: ep("first_field_id"),
        input_type: ep("first_field_type"),
        placeholder: None,
    };
    if field != FormField::default() {
        ev.ui.form_fields.push(field);
    }
    if !element.is_empty() {
        ev.ui.element = Some(Value::Object(element));
    }
}

/// `pr<n>=id…~nm…~pr…~qt…~k0<name>~v0<value>` item strings, in index order.
fn ga4_items(p: &Params) -> Vec<Value> {
    let mut items: Vec<(u32, Value)> = p
        .iter()
        .filter_map(|(k, v)| {
            let n = k.strip_prefix("pr")?.parse::<u32>().ok()?;
            Some((n, ga4_item(v)))
        })
        .collect();
    items.sort_by_key(|(n, _)| *n);
    items.into_iter().map(|(_, v)| v).collect()
}

fn ga4_item(s: &str) -> Value {
    let mut obj = Map::new();
    // Custom item parameters come as k<i>=name / v<i>=value pairs.
    let mut custom: Vec<(char, Option<&str>, Option<&str>)> = Vec::new();
    for tok in s.split('~') {
        let mut cs = tok.chars();
        let (Some(a), Some(b)) = (cs.next(), cs.next()) else {
            continue;
        };
        let val = cs.as_str();
        if (a == 'k' || a == 'v') && b.is_ascii_digit() {
            let slot = match custom.iter().position(|(i, _, _)| *i == b) {
                Some(i) => i,
                None => {
                    custom.push((b, None, None));
                    custom.len() - 1
                }
            };
            if a == 'k' {
                custom[slot].1 = Some(val);
            } else {
                custom[slot].2 = Some(val);
            }
            continue;
        }
        let code: String = [a, b].iter().collect();
        let name = match code.as_str() {
            "id" => "item_id",
            "nm" => "item_name",
            "br" => "item_brand",
            "ca" => "item_category",
            "c2" => "item_category2",
            "c3" => "item_category3",
            "c4" => "item_category4",
            "c5" => "item_category5",
            "va" => "item_variant",
            "pr" => "price",
            "qt" => "quantity",
            "cp" => "coupon",
            "ds" => "discount",
            "af" => "affiliation",
            "li" => "item_list_id",
            "ln" => "item_list_name",
            other => other,
        };
        obj.insert(name.to_owned(), Value::String(val.to_owned()));
    }
    for (i, k, v) in custom {
        let key = k.map_or_else(|| format!("v{i}"), str::to_owned);
        obj.insert(key, Value::String(v.unwrap_or("").to_owned()));
    }
    Value::Object(obj)
}

/// Measurement Protocol: `{client_id, user_id, events:[{name, params}],
/// user_data:{sha256_email_address, …}}`, one event per entry.
fn decode_ga4_mp(req: &Request<'_>, out: &mut Vec<Event>) -> Result<(), String> {
    let Some(Value::Object(body)) = req.body.json() else {
        return Err("Measurement Protocol body is not a JSON object".into());
    };
    let Some(Value::Array(events)) = body.get("events") else {
        return Err("Measurement Protocol body has no `events` array".into());
    };
    let q = &req.query;
    let account = q
        .get_nonempty("measurement_id")
        .or_else(|| q.get_nonempty("firebase_app_id"))
        .or_else(|| q.get_nonempty("tid"));
    let mut top: Vec<(String, String)> = q.pairs().to_vec();
    for (k, v) in &body {
        if k != "events" {
            flatten_json(k, v, &mut top);
        }
    }
    let s = |k: &str| body.get(k).and_then(json_str).filter(|s| !s.is_empty());
    for (i, e) in events.iter().enumerate() {
        let name = e
            .get("name")
            .and_then(json_str)
            .unwrap_or_else(|| "(no name)".into());
        let mut ev = req.event(name, "json");
        ev.account_id = owned(account);
        if let Some(Value::Object(params)) = e.get("params") {
            let ps = |k: &str| params.get(k).and_then(json_str).filter(|s| !s.is_empty());
            ev.page_url = ps("page_location");
            ev.referrer = ps("page_referrer");
            ev.page_title = ps("page_title");
            for (k, v) in params {
                ev.custom_data.insert(k.clone(), v.clone());
            }
        }
        if let Some(cid) = s("client_id") {
            ev.ids.push(id_value("ga_client_id", "client_id", &cid));
        }
        if let Some(aid) = s("app_instance_id") {
            ev.ids
                .push(id_value("firebase_app_instance", "app_instance_id", &aid));
        }
        if let Some(uid) = s("user_id") {
            ev.user_data
                .push(user_datum("external_id", "user_id", &uid));
        }
        if let Some(ud) = body.get("user_data") {
            mp_user_data(ud, "user_data", &mut ev.user_data);
        }
        let mut raw = top.clone();
        flatten_json(&format!("events[{i}]"), e, &mut raw);
        ev.raw = raw;
        out.push(ev);
    }
    Ok(())
}

/// MP `user_data`: `sha256_email_address`, `sha256_phone_number` (strings or
/// arrays) and `address` objects (`sha256_first_name`, `postal_code`…).
fn mp_user_data(v: &Value, field: &str, out: &mut Vec<UserDatum>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let f = format!("{field}.{k}");
                if matches!(x, Value::Object(_) | Value::Array(_)) && k == "address" {
                    mp_user_data(x, &f, out);
                    continue;
                }
                let key = match k.strip_prefix("sha256_").unwrap_or(k) {
                    "email_address" => "em",
                    "phone_number" => "ph",
                    "first_name" => "fn",
                    "last_name" => "ln",
                    "street" => "street",
                    "city" => "ct",
                    "region" => "st",
                    "postal_code" => "zp",
                    "country" => "country",
                    other => other,
                };
                for (f, s) in json_field_values(&f, x) {
                    out.push(user_datum(key, &f, &s));
                }
            }
        }
        Value::Array(a) => {
            for (j, x) in a.iter().enumerate() {
                mp_user_data(x, &format!("{field}[{j}]"), out);
            }
        }
        _ => {}
    }
}

// ------------------------------------------------------------------ UA

const UA_IDS: &[(&str, &str)] = &[
    ("cid", "ga_client_id"),
    ("_gid", "ga_gid"),
    ("gclid", "gclid"),
    ("dclid", "dclid"),
];

/// UA fields with a readable name in `custom_data`.
const UA_CUSTOM: &[(&str, &str)] = &[
    ("ec", "category"),
    ("ea", "action"),
    ("el", "label"),
    ("ev", "value"),
    ("ti", "transaction_id"),
    ("tr", "revenue"),
    ("cu", "currency"),
    ("sn", "social_network"),
    ("sa", "social_action"),
    ("st", "social_target"),
    ("exd", "exception"),
];

pub fn decode_ua(req: &Request<'_>, out: &mut Vec<Event>) -> Result<(), String> {
    if req.url.path().contains("__utm.gif") {
        return decode_urchin(req, out);
    }
    let lines = body_hits(req);
    if lines.is_empty() {
        if req.query.is_empty() {
            return Err("Universal Analytics hit has no parameters in its URL or body".into());
        }
        out.push(ua_event(req, &req.query, "query"));
    } else {
        // `/batch` bodies hold one full hit per line.
        for line in &lines {
            out.push(ua_event(req, &req.query.overlay(line), req.body_format()));
        }
    }
    Ok(())
}

fn ua_event(req: &Request<'_>, p: &Params, format: &str) -> Event {
    let t = p.get_nonempty("t").unwrap_or("(no t)");
    let mut ev = req.event(t, format);
    ev.account_id = owned(p.get_nonempty("tid"));
    ev.page_url = page_url(p);
    ev.referrer = owned(p.get_nonempty("dr"));
    ev.page_title = owned(p.get_nonempty("dt"));
    for (key, name) in UA_CUSTOM {
        if let Some(v) = p.get_nonempty(key) {
            ev.custom_data
                .insert((*name).to_owned(), Value::String(v.to_owned()));
        }
    }
    for (k, v) in p.iter() {
        let indexed = ["cd", "cm", "cg"].iter().any(|pre| {
            k.strip_prefix(pre)
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|c| c.is_ascii_digit()))
        });
        if indexed {
            ev.custom_data
                .insert(k.to_owned(), Value::String(v.to_owned()));
        }
    }
    if let Some(uid) = p.get_nonempty("uid") {
        ev.user_data.push(user_datum("external_id", "uid", uid));
    }
    push_ids(&mut ev, p, UA_IDS);
    // Click-tracking tags put the link (or its text) in the event label.
    if t == "event"
        && let Some(el) = p.get_nonempty("el")
    {
        if looks_like_url(el) {
            ev.ui.destination = Some(el.to_owned());
        } else if p
            .get("ea")
            .is_some_and(|a| a.to_ascii_lowercase().contains("click"))
        {
            ev.ui.button_text = Some(el.to_owned());
        }
    }
    ev.raw = p.pairs().to_vec();
    ev
}

/// Legacy ga.js `__utm.gif`: `utmac` account, `utmhn`+`utmp` page, `utmt`
/// hit type, `utme=5(category*action*label)(value)`.
fn decode_urchin(req: &Request<'_>, out: &mut Vec<Event>) -> Result<(), String> {
    let p = req.all_params();
    if p.is_empty() {
        return Err("__utm.gif hit has no parameters".into());
    }
    let format = req.params_format();
    let mut ev = req.event(p.get_nonempty("utmt").unwrap_or("pageview"), format);
    ev.account_id = owned(p.get_nonempty("utmac"));
    ev.page_url = match (p.get_nonempty("utmhn"), p.get_nonempty("utmp")) {
        (_, Some(path)) if looks_like_url(path) && !path.starts_with('/') => Some(path.to_owned()),
        (Some(host), Some(path)) => Some(join_host_path(host, path)),
        _ => None,
    };
    ev.referrer = owned(p.get_nonempty("utmr").filter(|r| *r != "-" && *r != "0"));
    ev.page_title = owned(p.get_nonempty("utmdt"));
    if let Some(e) = p.get_nonempty("utme") {
        if let Some(inner) = e
            .strip_prefix("5(")
            .and_then(|r| r.split_once(')'))
            .map(|(a, _)| a)
        {
            for (name, v) in ["category", "action", "label"].iter().zip(inner.split('*')) {
                ev.custom_data
                    .insert((*name).to_owned(), Value::String(v.to_owned()));
            }
        }
        ev.custom_data
            .insert("utme".into(), Value::String(e.to_owned()));
    }
    if let Some(utma) = p
        .get_nonempty("utmcc")
        .and_then(|cc| {
            cc.split(';').find_map(|c| {
                c.trim()
                    .strip_prefix("+__utma=")
                    .or_else(|| c.trim().strip_prefix("__utma="))
            })
        })
        .filter(|v| !v.is_empty())
    {
        ev.ids.push(id_value("utma", "utmcc:__utma", utma));
    }
    ev.raw = p.into_pairs();
    out.push(ev);
    Ok(())
}

// ------------------------------------------------------------------ Google Ads

const ADS_IDS: &[(&str, &str)] = &[
    ("gclaw", "gclid"),
    ("gclid", "gclid"),
    ("gbraid", "gbraid"),
    ("wbraid", "wbraid"),
    ("dclid", "dclid"),
    ("auid", "gcl_au"),
    ("gac", "gac"),
    ("gacid", "ga_client_id"),
];

/// Ads fields with a readable name in `custom_data`.
const ADS_CUSTOM: &[(&str, &str)] = &[
    ("label", "label"),
    ("value", "value"),
    ("currency_code", "currency"),
    ("oid", "order_id"),
    ("bttype", "bttype"),
    ("ec_mode", "ec_mode"),
];

/// Path markers → default event name; the `{id}` follows the marker.
const ADS_PATHS: &[(&str, &str)] = &[
    ("/pagead/viewthroughconversion/", "conversion"),
    ("/pagead/1p-conversion/", "conversion"),
    ("/pagead/conversion/", "conversion"),
    ("/ccm/conversion/", "conversion"),
    ("/pagead/1p-user-list/", "user_list"),
    ("/ads/user-lists/", "user_list"),
    ("/rmkt/collect/", "remarketing"),
    ("/pagead/form-data/", "form_data"),
    ("/ccm/form-data/", "form_data"),
    ("/td/rul/", "remarketing"),
    ("/td/ga/rul", "remarketing"),
    ("/ads/ga-audiences", "remarketing"),
    ("/ccm/collect", "page_view"),
    ("/pagead/landing", "landing"),
];

pub fn decode_ads(req: &Request<'_>, out: &mut Vec<Event>) -> Result<(), String> {
    let p = req.all_params();
    let (kind, id) = ads_path(req.url.path());
    if p.is_empty() && id.is_none() {
        return Err("Google Ads hit has no account id and no parameters".into());
    }
    // `data=event=purchase;ecomm_prodid=…` (semicolon-separated k=v).
    let data: Vec<(&str, &str)> = p
        .get("data")
        .map(|d| {
            d.split(';')
                .filter(|kv| !kv.is_empty())
                .map(|kv| kv.split_once('=').unwrap_or((kv, "")))
                .collect()
        })
        .unwrap_or_default();
    let name = data
        .iter()
        .find(|(k, v)| *k == "event" && !v.is_empty())
        .map(|(_, v)| *v)
        .or_else(|| p.get_nonempty("en"))
        .unwrap_or(kind);
    let format = req.params_format();
    let mut ev = req.event(name, format);
    ev.account_id = id
        .map(|i| format!("AW-{i}"))
        .or_else(|| owned(p.get_nonempty("tid")));
    ev.page_url = owned(p.get_nonempty("url").or_else(|| p.get_nonempty("dl")));
    ev.referrer = owned(p.get_nonempty("ref").or_else(|| p.get_nonempty("dr")));
    ev.page_title = owned(p.get_nonempty("tiba").or_else(|| p.get_nonempty("dt")));
    for (key, cname) in ADS_CUSTOM {
        if let Some(v) = p.get_nonempty(key) {
            ev.custom_data
                .insert((*cname).to_owned(), Value::String(v.to_owned()));
        }
    }
    for (k, v) in data.iter().filter(|(k, _)| *k != "event") {
        ev.custom_data
            .insert((*k).to_owned(), Value::String((*v).to_owned()));
    }
    for v in p.get_all("em").filter(|v| !v.is_empty()) {
        ev.user_data.extend(user_provided("em", v));
    }
    push_ids(&mut ev, &p, ADS_IDS);
    // GA audience pings carry the GA client id as `cid`; elsewhere `cid` is
    // an opaque Google value.
    if p.get("tid")
        .is_some_and(|t| t.starts_with("G-") || t.starts_with("UA-"))
    {
        push_ids(&mut ev, &p, &[("cid", "ga_client_id")]);
    }
    ev.raw = p.into_pairs();
    out.push(ev);
    Ok(())
}

/// The event kind a path implies and the numeric account id in it.
fn ads_path(path: &str) -> (&'static str, Option<&str>) {
    for (marker, kind) in ADS_PATHS {
        if let Some(i) = path.find(marker) {
            let seg = path[i + marker.len()..]
                .split(['/', ';'])
                .next()
                .unwrap_or("");
            let seg = seg.strip_prefix("AW-").unwrap_or(seg);
            let id = (!seg.is_empty() && seg.bytes().all(|c| c.is_ascii_digit())).then_some(seg);
            return (kind, id);
        }
    }
    ("conversion", None)
}

// ------------------------------------------------------------------ Floodlight

const FLOODLIGHT_IDS: &[(&str, &str)] = &[
    ("auiddc", "gcl_au"),
    ("gclaw", "gclid"),
    ("gclid", "gclid"),
    ("gcldc", "gclid"),
    ("dclid", "dclid"),
    ("gbraid", "gbraid"),
    ("wbraid", "wbraid"),
    ("dc_rdid", "dc_rdid"),
];

/// Floodlight fields kept in `custom_data` (besides `u<n>`).
const FLOODLIGHT_CUSTOM: &[&str] = &["type", "cat", "ord", "num", "qty", "cost", "tran"];

pub fn decode_floodlight(req: &Request<'_>, out: &mut Vec<Event>) -> Result<(), String> {
    let path = Params::from_pairs(floodlight_path_params(req.url.path()));
    let q = req.all_params();
    let p = if q.is_empty() { path } else { path.overlay(&q) };
    if p.is_empty() {
        return Err("Floodlight hit has no parameters in its path or query".into());
    }
    let ty = p.get_nonempty("type");
    let cat = p.get_nonempty("cat");
    let name = match (ty, cat) {
        (Some(t), Some(c)) => format!("{t}:{c}"),
        (Some(x), None) | (None, Some(x)) => x.to_owned(),
        (None, None) => "(no type/cat)".to_owned(),
    };
    let mut ev = req.event(name, "path");
    ev.account_id = p.get_nonempty("src").map(|s| format!("DC-{s}"));
    ev.page_url = owned(p.get_nonempty("~oref"));
    for key in FLOODLIGHT_CUSTOM {
        if let Some(v) = p.get_nonempty(key) {
            ev.custom_data
                .insert((*key).to_owned(), Value::String(v.to_owned()));
        }
    }
    for (k, v) in p.iter() {
        let custom_var = k
            .strip_prefix('u')
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|c| c.is_ascii_digit()));
        if custom_var && !v.is_empty() {
            ev.custom_data
                .insert(k.to_owned(), Value::String(v.to_owned()));
        }
    }
    // The advertiser's own id for the user.
    if let Some(m) = p.get_nonempty("match_id") {
        ev.user_data.push(user_datum("external_id", "match_id", m));
    }
    push_ids(&mut ev, &p, FLOODLIGHT_IDS);
    ev.raw = p.into_pairs();
    out.push(ev);
    Ok(())
}

/// `;`-separated `k=v` after the last `/` or `;` before the first `=`:
/// `/activity;src=1;type=a`, `/ddm/activity/src=1;type=a`,
/// `/ddm/fls/p/src=1;~oref=https://…` (later values may hold raw slashes).
fn floodlight_path_params(path: &str) -> Vec<(String, String)> {
    let Some(eq) = path.find('=') else {
        return Vec::new();
    };
    let start = path[..eq].rfind([';', '/']).map_or(0, |i| i + 1);
    path[start..]
        .split(';')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (
                percent_decode(k).into_owned(),
                percent_decode(v).into_owned(),
            )
        })
        .collect()
}

// ------------------------------------------------------------------ shared

/// Body hits as query strings, one per non-empty line (GA4 batches, UA
/// `/batch`); a multipart or HAR-params body is one hit. Empty when the body
/// holds no fields.
fn body_hits(req: &Request<'_>) -> Vec<Params> {
    match req.body.format {
        BodyFormat::Form | BodyFormat::Lines | BodyFormat::Text => {
            let text = req.body.text();
            let lines: Vec<Params> = text
                .split('\n')
                .map(|l| l.trim_end_matches('\r'))
                .filter(|l| !l.trim().is_empty())
                .map(Params::parse)
                .filter(|p| !p.is_empty())
                .collect();
            if lines.is_empty() {
                let p = req.body_params();
                if p.is_empty() {
                    Vec::new()
                } else {
                    vec![p.clone()]
                }
            } else {
                lines
            }
        }
        BodyFormat::Multipart => {
            let p = req.body_params();
            if p.is_empty() {
                Vec::new()
            } else {
                vec![p.clone()]
            }
        }
        BodyFormat::Empty | BodyFormat::Json | BodyFormat::Binary => Vec::new(),
    }
}

/// Google user-provided data (§4.3): `tv.1~em.<b64url>~pn.<b64url>~fn0.…`.
/// Per-field error codes (`e3`) and the `ec` error field are not user data.
fn user_provided(field: &str, v: &str) -> Vec<UserDatum> {
    let mut out = Vec::new();
    if !v.contains('~') && !v.starts_with("tv.") {
        // A bare value: older tags send just the (hashed) email.
        out.push(user_datum("em", field, v));
        return out;
    }
    for tok in v.split('~') {
        let Some((k, val)) = tok.split_once('.') else {
            continue;
        };
        let is_error = val.len() <= 4
            && val
                .strip_prefix('e')
                .is_some_and(|d| !d.is_empty() && d.bytes().all(|c| c.is_ascii_digit()));
        if k == "tv" || k == "ec" || val.is_empty() || is_error {
            continue;
        }
        let base = k.trim_end_matches(|c: char| c.is_ascii_digit());
        let key = match base {
            "em" => "em",
            "pn" => "ph",
            "fn" => "fn",
            "ln" => "ln",
            "pc" => "zp",
            "co" => "country",
            "sa" => "street",
            "ct" => "ct",
            "rg" => "st",
            _ => k,
        };
        out.push(user_datum(key, &format!("{field}~{k}"), val));
    }
    out
}

fn push_ids(ev: &mut Event, p: &Params, table: &[(&str, &str)]) {
    for (key, kind) in table {
        for v in p.get_all(key).filter(|v| !v.is_empty()) {
            if !ev.ids.iter().any(|i| i.kind == *kind && i.value == v) {
                ev.ids.push(id_value(kind, key, v));
            }
        }
    }
}

/// `dl`, else `dh` + `dp`.
fn page_url(p: &Params) -> Option<String> {
    if let Some(dl) = p.get_nonempty("dl") {
        return Some(dl.to_owned());
    }
    match (p.get_nonempty("dh"), p.get_nonempty("dp")) {
        (Some(h), Some(path)) => Some(join_host_path(h, path)),
        (Some(h), None) => Some(format!("https://{h}/")),
        _ => None,
    }
}

fn join_host_path(host: &str, path: &str) -> String {
    if path.starts_with('/') {
        format!("https://{host}{path}")
    } else {
        format!("https://{host}/{path}")
    }
}

fn looks_like_url(s: &str) -> bool {
    s.starts_with("http://") || s.starts_with("https://") || s.starts_with('/')
}

/// `epn.*` values are numbers on the wire; keep the exact text (a value that
/// is not a JSON number, like `NaN`, stays a string).
fn number_or_string(v: &str) -> Value {
    match v.parse::<serde_json::Number>() {
        Ok(n) if n.to_string() == v => Value::Number(n),
        _ => Value::String(v.to_owned()),
    }
}

fn owned(s: Option<&str>) -> Option<String> {
    s.map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use crate::Engine;
    use crate::model::{Event, Exchange, HashAlgo, HashEncoding, Source, Vendor};

    /// sha256("jane.doe.canary@example.com"), base64url without padding.
    const EM_B64: &str = "6WZ9uGEL4qkS-tlnGvGb_z3h8wXF62-QboL7Ywq44WU";
    /// sha256("+14155550100"), base64url.
    const PN_B64: &str = "QNP04C2yfWbPTP3aUGwslF8RWnlVzISR3amM5b6rzaA";
    /// sha256("jane"), base64url.
    const FN_B64: &str = "gfj23eiDZfOSh5bseqU_coILBtuGZPX-dqfrE-JFRqI";

    fn get(url: &str) -> Vec<Event> {
        Engine::new()
            .events(&Exchange::get(Source::new("t", 0), url))
            .unwrap()
    }

    fn post(url: &str, ct: &str, body: &str) -> Vec<Event> {
        Engine::new()
            .events(&Exchange::post(Source::new("t", 0), url, ct, body))
            .unwrap()
    }

    fn id<'e>(e: &'e Event, kind: &str) -> Option<&'e str> {
        e.ids
            .iter()
            .find(|i| i.kind == kind)
            .map(|i| i.value.as_str())
    }

    // ---------------------------------------------------------------- GA4

    #[test]
    fn ga4_real_page_view_get() {
        // health/markup-healthcare-exchange-tracking/new-jersey-nj.gov, entry 68.
        let url = "https://www.google-analytics.com/g/collect?v=2&tid=G-HTW9MER90K&gtm=45je54n0v882006531z8858902716za200zb858902716&_p=1745853810571&gcd=13l3l3l3l1l1&npa=0&dma=0&cid=666094957.1745853811&ul=en-us&sr=375x812&uaa=&uab=&uafvl=&uamb=0&uam=&uap=&uapv=&uaw=0&are=1&frm=0&pscdl=&_s=1&sid=1745853810&sct=1&seg=0&dl=https%3A%2F%2Fwww.nj.gov%2Fgetcoverednj%2F&dt=GetCoveredNJ&en=page_view&_fv=2&_nsi=1&_ss=1&tfd=1480";
        let ev = get(url);
        assert_eq!(ev.len(), 1);
        let e = &ev[0];
        assert_eq!(e.vendor, Vendor::Ga4);
        assert_eq!(e.event, "page_view");
        assert_eq!(e.account_id.as_deref(), Some("G-HTW9MER90K"));
        assert_eq!(
            e.page_url.as_deref(),
            Some("https://www.nj.gov/getcoverednj/")
        );
        assert_eq!(e.page_title.as_deref(), Some("GetCoveredNJ"));
        assert_eq!(id(e, "ga_client_id"), Some("666094957.1745853811"));
        assert_eq!(id(e, "ga_session"), Some("1745853810"));
        assert_eq!(e.transport.format, "query");
        assert!(e.raw.iter().any(|(k, v)| k == "gcd" && v == "13l3l3l3l1l1"));
    }

    #[test]
    fn ga4_real_post_one_event_per_line() {
        // health/markup-healthcare-exchange-tracking/idaho-yourhealthidaho.org, entry 180.
        let url = "https://analytics.google.com/g/collect?v=2&tid=G-GDHTFM29MT&gtm=45je54n0v868879870z879851639za200zb79851639&_p=1745853772509&cid=1187224471.1745853773&_s=3&sid=1745853772&sct=1&seg=1&dl=https%3A%2F%2Fwww.yourhealthidaho.org%2F&dt=Your%20Health%20Idaho&en=page_view";
        let body = "en=scroll&epn.percent_scrolled=25&_et=115\r\nen=scroll&epn.percent_scrolled=50&_et=2\r\nen=scroll&epn.percent_scrolled=75&_et=2\r\nen=scroll&epn.percent_scrolled=100&_et=2";
        let ev = post(url, "text/plain;charset=UTF-8", body);
        assert_eq!(ev.len(), 4);
        let pct: Vec<String> = ev
            .iter()
            .map(|e| e.custom_data["percent_scrolled"].to_string())
            .collect();
        assert_eq!(pct, ["25", "50", "75", "100"]);
        for e in &ev {
            assert_eq!(e.event, "scroll");
            assert!(e.custom_data["percent_scrolled"].is_number());
            assert_eq!(e.account_id.as_deref(), Some("G-GDHTFM29MT"));
            assert_eq!(
                e.page_url.as_deref(),
                Some("https://www.yourhealthidaho.org/")
            );
            assert_eq!(e.transport.format, "lines");
            // The body line replaced the URL's `en`, it didn't add a second one.
            assert_eq!(e.raw.iter().filter(|(k, _)| k == "en").count(), 1);
        }
    }

    #[test]
    fn ga4_real_items_with_custom_item_params() {
        // health/fb-pixel-inspector/mylabbox, entry 88 (URL shortened).
        let url = "https://analytics.google.com/g/collect?v=2&tid=G-37ZNM9SYHH&gtm=45je3650&cid=1032665442.1686166428&sid=1686166427&dl=https%3A%2F%2Fwww.mylabbox.com%2Fcart%2F&dt=Cart";
        let body = "en=begin_checkout&pr1=idMLB_00FF~nmAt%20Home%20Female%20Fertility%20Test~br~pr149~caWomen's%20Health~qt17~k0google_business_vertical~v0retail&epn.value=2533&cu=USD\r\nen=page_view&_et=1";
        let ev = post(url, "text/plain;charset=UTF-8", body);
        assert_eq!(ev.len(), 2);
        let e = &ev[0];
        assert_eq!(e.event, "begin_checkout");
        assert_eq!(e.custom_data["currency"], "USD");
        assert_eq!(e.custom_data["value"].to_string(), "2533");
        let item = &e.custom_data["items"][0];
        assert_eq!(item["item_id"], "MLB_00FF");
        assert_eq!(item["item_name"], "At Home Female Fertility Test");
        assert_eq!(item["item_category"], "Women's Health");
        assert_eq!(item["price"], "149");
        assert_eq!(item["google_business_vertical"], "retail");
        assert_eq!(ev[1].event, "page_view");
        assert!(!ev[1].custom_data.contains_key("items"));
    }

    #[test]
    fn ga4_real_form_start_describes_the_form() {
        // colorado-connectforhealthco.com inspection.json (GA4 enhanced measurement).
        let url = "https://analytics.google.com/g/collect?v=2&tid=G-D0ZPYJ7VJS&gtm=45je54n0v9115044890za200zb832224389&_p=1745853750047&cid=668205456.1745853750&ul=en-us&sr=375x812&are=1&pae=1&frm=0&pscdl=&_eu=AEEAAAI&_s=2&sid=1745853750&sct=1&seg=0&dl=https%3A%2F%2Fconnectforhealthco.com%2F&dt=Connect%20for%20Health%20Colorado&en=form_start&ep.form_id=&ep.form_name=&ep.form_destination=https%3A%2F%2Fconnectforhealthco.com%2F&epn.form_length=2&ep.first_field_id=&ep.first_field_name=s&ep.first_field_type=search&epn.first_field_position=1&_et=356&tfd=5650";
        let e = &get(url)[0];
        assert_eq!(e.event, "form_start");
        assert_eq!(
            e.ui.destination.as_deref(),
            Some("https://connectforhealthco.com/")
        );
        assert_eq!(e.ui.form_fields.len(), 1);
        assert_eq!(e.ui.form_fields[0].name.as_deref(), Some("s"));
        assert_eq!(e.ui.form_fields[0].input_type.as_deref(), Some("search"));
        assert_eq!(e.ui.form_fields[0].id, None);
        let el = e.ui.element.as_ref().unwrap();
        assert_eq!(el["form_length"], "2");
        assert_eq!(e.custom_data["form_length"].to_string(), "2");
    }

    #[test]
    fn ga4_search_and_form_submit_on_a_pharmacy() {
        let url = "https://region1.google-analytics.com/g/collect?v=2&tid=G-PHARM12345&cid=1111111111.1700000000&sid=1700000001&sct=3&dl=https%3A%2F%2Fpharmacy.example%2Fsearch%3Fq%3Dplan%2Bb&dr=https%3A%2F%2Fpharmacy.example%2F&dt=Search%20results%20%7C%20Pharmacy";
        let body = concat!(
            "en=view_search_results&ep.search_term=plan%20b&_et=40\r\n",
            "en=click&ep.link_url=https%3A%2F%2Fpharmacy.example%2Fpharmacy%2Frefill&ep.link_text=Refill%20my%20prescription&ep.outbound=false\r\n",
            "en=form_submit&dl=https%3A%2F%2Fpharmacy.example%2Fpharmacy%2Frefill&dt=Refill&ep.form_id=refill-form&ep.form_name=refill&ep.form_destination=https%3A%2F%2Fpharmacy.example%2Fpharmacy%2Frefill%2Fsubmit&ep.form_submit_text=Request%20refill&uid=patient-42&em=tv.1~em.",
        )
        .to_owned()
            + EM_B64
            + "~pn."
            + PN_B64
            + "~fn0."
            + FN_B64
            + "~pc0.94043~co0.us~ln0.e3\r\n";
        let ev = post(url, "text/plain;charset=UTF-8", &body);
        assert_eq!(ev.len(), 3);

        let search = &ev[0];
        assert_eq!(search.event, "view_search_results");
        assert_eq!(search.custom_data["search_term"], "plan b");
        assert_eq!(
            search.referrer.as_deref(),
            Some("https://pharmacy.example/")
        );

        let click = &ev[1];
        assert_eq!(
            click.ui.button_text.as_deref(),
            Some("Refill my prescription")
        );
        assert_eq!(
            click.ui.destination.as_deref(),
            Some("https://pharmacy.example/pharmacy/refill")
        );

        let submit = &ev[2];
        assert_eq!(submit.event, "form_submit");
        assert_eq!(
            submit.page_url.as_deref(),
            Some("https://pharmacy.example/pharmacy/refill")
        );
        assert_eq!(submit.page_title.as_deref(), Some("Refill"));
        assert_eq!(submit.ui.button_text.as_deref(), Some("Request refill"));
        assert_eq!(
            submit.ui.destination.as_deref(),
            Some("https://pharmacy.example/pharmacy/refill/submit")
        );
        assert_eq!(
            submit.ui.element.as_ref().unwrap()["form_id"],
            "refill-form"
        );
        let keys: Vec<&str> = submit.user_data.iter().map(|d| d.key.as_str()).collect();
        // `ln0.e3` is an error code, not a name.
        assert_eq!(keys, ["external_id", "em", "ph", "fn", "zp", "country"]);
        let uid = &submit.user_data[0];
        assert_eq!(uid.value, "patient-42");
        assert!(!uid.hashed);
        let em = &submit.user_data[1];
        assert_eq!(em.value, EM_B64);
        assert_eq!(em.field, "em~em");
        assert!(em.hashed);
        assert_eq!(em.algorithm, Some(HashAlgo::Sha256));
        assert_eq!(em.encoding, Some(HashEncoding::Base64Url));
        assert!(submit.user_data[2].hashed && submit.user_data[3].hashed);
        let zp = &submit.user_data[4];
        assert_eq!(zp.value, "94043");
        assert!(!zp.hashed);
        // Shared ids reach every event of the batch.
        for e in &ev {
            assert_eq!(id(e, "ga_client_id"), Some("1111111111.1700000000"));
            assert_eq!(e.account_id.as_deref(), Some("G-PHARM12345"));
        }
    }

    #[test]
    fn ga4_user_properties_and_dh_dp_fallback() {
        let e = &get(
            "https://www.google-analytics.com/g/collect?v=2&tid=G-CLINIC0001&en=page_view&dh=clinic.example&dp=%2Fstd-testing%2Fbook&up.patient_type=returning&upn.visits=7&epn.value=NaN",
        )[0];
        assert_eq!(
            e.page_url.as_deref(),
            Some("https://clinic.example/std-testing/book")
        );
        assert_eq!(e.custom_data["up.patient_type"], "returning");
        assert_eq!(e.custom_data["up.visits"].to_string(), "7");
        // Not a number: kept as the string that was sent.
        assert_eq!(e.custom_data["value"], "NaN");
    }

    #[test]
    fn ga4_measurement_protocol_json() {
        let body = json!({
            "client_id": "123456.7654321",
            "user_id": "member-0042",
            "user_data": {
                "sha256_email_address": ["e9667db8610be2a912fad9671af19bff3de1f305c5eb6f906e82fb630ab8e165"],
                "sha256_phone_number": "40d3f4e02db27d66cf4cfdda506c2c945f115a7955cc8491dda98ce5beabcda0",
                "address": [{"sha256_first_name": "81f8f6dde88365f3928796ec7aa53f72820b06db8664f5fe76a7eb13e24546a2", "postal_code": "94043", "country": "US"}]
            },
            "events": [
                {"name": "appointment_booked", "params": {"page_location": "https://clinic.example/hiv-testing/book", "page_title": "Book an HIV test", "service": "HIV test", "order_id": 1234567890123456789u64}},
                {"name": "purchase", "params": {"value": 49.99, "currency": "USD"}}
            ]
        });
        let ev = post(
            "https://www.google-analytics.com/mp/collect?measurement_id=G-CLINIC0001&api_secret=s3cr3t-value",
            "application/json",
            &body.to_string(),
        );
        assert_eq!(ev.len(), 2);
        let e = &ev[0];
        assert_eq!(e.vendor, Vendor::Ga4);
        assert_eq!(e.event, "appointment_booked");
        assert_eq!(e.account_id.as_deref(), Some("G-CLINIC0001"));
        assert_eq!(
            e.page_url.as_deref(),
            Some("https://clinic.example/hiv-testing/book")
        );
        assert_eq!(e.page_title.as_deref(), Some("Book an HIV test"));
        assert_eq!(e.custom_data["service"], "HIV test");
        assert_eq!(e.custom_data["order_id"].to_string(), "1234567890123456789");
        assert_eq!(id(e, "ga_client_id"), Some("123456.7654321"));
        let keys: Vec<&str> = e.user_data.iter().map(|d| d.key.as_str()).collect();
        assert_eq!(keys, ["external_id", "em", "ph", "fn", "zp", "country"]);
        assert!(e.user_data[1].hashed);
        assert_eq!(e.user_data[1].encoding, Some(HashEncoding::Hex));
        assert_eq!(
            e.user_data[3].field,
            "user_data.address[0].sha256_first_name"
        );
        assert_eq!(ev[1].event, "purchase");
        // The API secret never reaches an output.
        let out = serde_json::to_string(&ev).unwrap();
        assert!(!out.contains("s3cr3t-value"), "{out}");
    }

    #[test]
    fn ga4_on_a_first_party_sgtm_host_is_a_proxy() {
        let e = &get(
            "https://metrics.clinic.example/g/collect?v=2&tid=G-CLINIC0001&cid=1.2&en=page_view&dl=https%3A%2F%2Fclinic.example%2Fprep%2Feligibility&dt=PrEP%20eligibility",
        )[0];
        assert_eq!(e.vendor, Vendor::Ga4);
        assert_eq!(e.party, crate::Party::FirstPartyProxy);
        assert_eq!(e.page_title.as_deref(), Some("PrEP eligibility"));
    }

    // ---------------------------------------------------------------- UA

    #[test]
    fn ua_real_j_collect_with_custom_dimensions() {
        // general/sitespeedio-pagexray/ferguson.har, entry 100 (shortened).
        let url = "https://www.google-analytics.com/j/collect?v=1&_v=j96&a=1061112812&t=pageview&_s=1&dl=https%3A%2F%2Fwww.ferguson.com%2F&dr=&ul=en-gb&de=UTF-8&dt=Plumbing%20Supplies%2C%20HVAC%20Parts%2C%20Pipe%2C%20Valves%20%26%20Fittings%20%E2%80%93%20Ferguson&sd=30-bit&je=0&_u=YGBACUABBAAAAC~&jid=182588813&cid=878270908.1643952222&tid=UA-643778-1&_gid=2103176288.1643952222&_r=1&gtm=2wg220WZL8XZV&cd1=anonymous&cd2=guest&cd14=ferg%3Ahome&cm38=1&cg1=home&z=1323854365";
        let mut ex = Exchange::get(Source::new("t", 0), url);
        ex.method = "POST".into();
        let e = &Engine::new().events(&ex).unwrap()[0];
        assert_eq!(e.vendor, Vendor::GoogleUa);
        assert_eq!(e.event, "pageview");
        assert_eq!(e.account_id.as_deref(), Some("UA-643778-1"));
        assert_eq!(e.page_url.as_deref(), Some("https://www.ferguson.com/"));
        assert_eq!(e.referrer, None);
        assert!(e.page_title.as_deref().unwrap().ends_with("– Ferguson"));
        assert_eq!(e.custom_data["cd14"], "ferg:home");
        assert_eq!(e.custom_data["cm38"], "1");
        assert_eq!(e.custom_data["cg1"], "home");
        assert_eq!(id(e, "ga_client_id"), Some("878270908.1643952222"));
        assert_eq!(id(e, "ga_gid"), Some("2103176288.1643952222"));
    }

    #[test]
    fn ua_real_event_in_post_body() {
        // health/markup-high-cost-of-free/www.nsvrc.org, entry 116.
        let body = "v=1&_v=j81&aip=1&a=1832494955&t=event&_s=5&dl=https%3A%2F%2Fwww.nsvrc.org%2Fblogs&ul=en-us&de=UTF-8&dt=%7C%20National%20Sexual%20Violence%20Resource%20Center%20(NSVRC)&sd=24-bit&sr=375x812&vp=375x812&je=0&ec=Outbound%20links&ea=Click&el=http%3A%2F%2Fwww.google.com%2F&_u=SACAAEAB~&jid=&gjid=&cid=1627696579.1582303273&tid=UA-9619701-1&_gid=1150321910.1582303273&z=579515404";
        let ev = post(
            "https://www.google-analytics.com/collect",
            "text/plain;charset=UTF-8",
            body,
        );
        assert_eq!(ev.len(), 1);
        let e = &ev[0];
        assert_eq!(e.event, "event");
        assert_eq!(e.account_id.as_deref(), Some("UA-9619701-1"));
        assert_eq!(e.page_url.as_deref(), Some("https://www.nsvrc.org/blogs"));
        assert_eq!(e.custom_data["category"], "Outbound links");
        assert_eq!(e.custom_data["action"], "Click");
        assert_eq!(e.custom_data["label"], "http://www.google.com/");
        assert_eq!(e.ui.destination.as_deref(), Some("http://www.google.com/"));
        assert_eq!(e.transport.format, "form");
    }

    #[test]
    fn ua_batch_gives_one_event_per_line() {
        let body = "v=1&tid=UA-1234-5&cid=555.666&uid=patient-7&t=pageview&dh=clinic.example&dp=%2Fabortion-care&dt=Abortion%20care\n\
                    v=1&tid=UA-1234-5&cid=555.666&t=event&ec=cta&ea=click&el=Book%20appointment&dh=clinic.example&dp=%2Fabortion-care\n";
        let ev = post("https://www.google-analytics.com/batch", "text/plain", body);
        assert_eq!(ev.len(), 2);
        assert_eq!(ev[0].event, "pageview");
        assert_eq!(
            ev[0].page_url.as_deref(),
            Some("https://clinic.example/abortion-care")
        );
        assert_eq!(ev[0].page_title.as_deref(), Some("Abortion care"));
        assert_eq!(ev[0].user_data[0].key, "external_id");
        assert_eq!(ev[0].user_data[0].value, "patient-7");
        assert_eq!(ev[1].event, "event");
        assert_eq!(ev[1].ui.button_text.as_deref(), Some("Book appointment"));
        assert_eq!(ev[1].transport.format, "lines");
    }

    #[test]
    fn ua_real_urchin_gif() {
        // health/markup-nonprofit-privacy/www.ppgulfcoast.org, entry 199.
        let url = "https://ssl.google-analytics.com/__utm.gif?utmwv=5.7.2&utms=2&utmn=413554824&utmhn=www.plannedparenthood.org&utmcs=UTF-8&utmsr=375x812&utmvp=375x812&utmsc=24-bit&utmul=en-us&utmje=0&utmfl=-&utmdt=Planned%20Parenthood%20Gulf%20Coast%2C%20Inc.&utmhid=333840735&utmr=-&utmp=%2Fplanned-parenthood-gulf-coast&utmht=1634242826402&utmac=UA-8867852-42&utmgtm=2wgad0N62L8SB&utmcc=__utma%3D34810208.821379171.1634242815.1634242817.1634242817.1%3B%2B__utmz%3D34810208.1634242817.1.1.utmcsr%3D(direct)%7Cutmccn%3D(direct)%7Cutmcmd%3D(none)%3B&utmjid=&utmu=qmAgAABAAAGBAAAAAgAAAAAE~";
        let e = &get(url)[0];
        assert_eq!(e.vendor, Vendor::GoogleUa);
        assert_eq!(e.event, "pageview");
        assert_eq!(e.account_id.as_deref(), Some("UA-8867852-42"));
        assert_eq!(
            e.page_url.as_deref(),
            Some("https://www.plannedparenthood.org/planned-parenthood-gulf-coast")
        );
        assert_eq!(
            e.page_title.as_deref(),
            Some("Planned Parenthood Gulf Coast, Inc.")
        );
        assert_eq!(e.referrer, None);
        assert_eq!(
            id(e, "utma"),
            Some("34810208.821379171.1634242815.1634242817.1634242817.1")
        );
    }

    // ---------------------------------------------------------------- Ads

    #[test]
    fn ads_real_conversion() {
        // connecticut-accesshealthct.com, entry 55 (shortened).
        let url = "https://www.googleadservices.com/pagead/conversion/16698081169/?random=1745853762185&cv=11&fst=1745853762185&bg=ffffff&guid=ON&async=1&gcl_ctr=1&gtm=45be54o0h2v9198268938z8843531469za201zb881041051&gcd=13l3l3l3l1l1&dma=0&u_w=375&u_h=812&url=https%3A%2F%2Fwww.accesshealthct.com%2F&label=Fy-xCPzi4NYZEJH_oZo-&hn=www.googleadservices.com&frm=0&tiba=Access%20Health%20CT%20-%20CT%E2%80%99s%20Official%20Health%20Insurance%20Marketplace&value=0&bttype=purchase&npa=0&auid=284649973.1745853762&fledge=1&capi=2&_tu=Cg&rfmt=3&fmt=4";
        let e = &get(url)[0];
        assert_eq!(e.vendor, Vendor::GoogleAds);
        assert_eq!(e.event, "conversion");
        assert_eq!(e.account_id.as_deref(), Some("AW-16698081169"));
        assert_eq!(e.custom_data["label"], "Fy-xCPzi4NYZEJH_oZo-");
        assert_eq!(e.custom_data["bttype"], "purchase");
        assert_eq!(
            e.page_url.as_deref(),
            Some("https://www.accesshealthct.com/")
        );
        assert_eq!(
            e.page_title.as_deref(),
            Some("Access Health CT - CT’s Official Health Insurance Marketplace")
        );
        assert_eq!(id(e, "gcl_au"), Some("284649973.1745853762"));
    }

    #[test]
    fn ads_real_remarketing_form_start_and_td() {
        // colorado-connectforhealthco.com, entries 140 and 141 (shortened).
        let q = "random=1745853753305&cv=11&fst=1745853753305&bg=ffffff&guid=ON&async=1&gtm=45be54n0h1v9214706059za200&u_w=375&u_h=812&url=https%3A%2F%2Fconnectforhealthco.com%2F&hn=www.googleadservices.com&frm=0&tiba=Connect%20for%20Health%20Colorado&npa=0&auid=1553824274.1745853750&fledge=1&data=event%3Dform_start";
        for url in [
            format!(
                "https://googleads.g.doubleclick.net/pagead/viewthroughconversion/11008580020/?{q}&rfmt=3&fmt=4"
            ),
            format!("https://td.doubleclick.net/td/rul/11008580020?{q}"),
            format!(
                "https://www.google.com/pagead/1p-user-list/11008580020/?{q}&is_vtc=1&cid=CAQSGwDZpuyzrsTiDYPFFJiLHy6FQkBSXCpG1Pf7BQ"
            ),
        ] {
            let e = &get(&url)[0];
            assert_eq!(e.vendor, Vendor::GoogleAds, "{url}");
            assert_eq!(e.event, "form_start", "{url}");
            assert_eq!(e.account_id.as_deref(), Some("AW-11008580020"));
            assert_eq!(e.page_title.as_deref(), Some("Connect for Health Colorado"));
            // `cid` on Ads hits is not a GA client id.
            assert_eq!(id(e, "ga_client_id"), None);
        }
        let e = &get(
            "https://www.google.com/pagead/1p-user-list/11008580020/?random=1&url=https%3A%2F%2Fconnectforhealthco.com%2F&data=event%3Dgtag.config",
        )[0];
        assert_eq!(e.event, "gtag.config");
    }

    #[test]
    fn ads_real_ccm_collect_and_path_kinds() {
        // colorado-connectforhealthco.com, entry 92 (shortened).
        let e = &get(
            "https://www.google.com/ccm/collect?tid=AW-11008580020&en=page_view&dl=https%3A%2F%2Fconnectforhealthco.com%2F&scrsrc=www.googletagmanager.com&frm=0&rnd=1566545153.1745853750&dt=Connect%20for%20Health%20Colorado&auid=1553824274.1745853750&navt=n&npa=0",
        )[0];
        assert_eq!(e.event, "page_view");
        assert_eq!(e.account_id.as_deref(), Some("AW-11008580020"));
        assert_eq!(
            e.page_url.as_deref(),
            Some("https://connectforhealthco.com/")
        );
        assert_eq!(e.page_title.as_deref(), Some("Connect for Health Colorado"));
        // general/sitespeedio-pagexray/case-sensitive-protocol.har, entry 103.
        let e = &get(
            "https://www.google.com/ads/user-lists/1030624533/?guid=ON&script=0&cdct=2&is_vtc=1&random=835852706",
        )[0];
        assert_eq!(e.event, "user_list");
        assert_eq!(e.account_id.as_deref(), Some("AW-1030624533"));
        // health/fb-pixel-inspector/mylabbox, entry 40: GA4 audiences.
        let e = &get(
            "https://td.doubleclick.net/td/ga/rul?tid=G-37ZNM9SYHH&gacid=1032665442.1686166428&gtm=45je3650&aip=1&fledge=1&z=1690441849",
        )[0];
        assert_eq!(e.vendor, Vendor::GoogleAds);
        assert_eq!(e.account_id.as_deref(), Some("G-37ZNM9SYHH"));
        assert_eq!(id(e, "ga_client_id"), Some("1032665442.1686166428"));
    }

    #[test]
    fn ads_enhanced_conversion_em() {
        let url = format!(
            "https://www.google.com/pagead/1p-conversion/987654321/?label=AbC-D_efG&value=120.00&currency_code=USD&oid=RX-5531&url=https%3A%2F%2Fpharmacy.example%2Fcheckout%2Fdone&ref=https%3A%2F%2Fpharmacy.example%2Fcheckout&tiba=Order%20confirmed&gclaw=Cj0KCQjw-canary&em=tv.1~em.{EM_B64}~pn.{PN_B64}~fn0.{FN_B64}~co0.us&ec_mode=a&data=event%3Dpurchase%3Becomm_prodid%3Dlevonorgestrel-1-5mg"
        );
        let e = &get(&url)[0];
        assert_eq!(e.event, "purchase");
        assert_eq!(e.account_id.as_deref(), Some("AW-987654321"));
        assert_eq!(
            e.referrer.as_deref(),
            Some("https://pharmacy.example/checkout")
        );
        assert_eq!(e.custom_data["ecomm_prodid"], "levonorgestrel-1-5mg");
        assert_eq!(e.custom_data["order_id"], "RX-5531");
        assert_eq!(e.custom_data["ec_mode"], "a");
        let ud: Vec<(&str, bool)> = e
            .user_data
            .iter()
            .map(|d| (d.key.as_str(), d.hashed))
            .collect();
        assert_eq!(
            ud,
            [("em", true), ("ph", true), ("fn", true), ("country", false)]
        );
        assert_eq!(e.user_data[0].encoding, Some(HashEncoding::Base64Url));
        assert_eq!(id(e, "gclid"), Some("Cj0KCQjw-canary"));
    }

    #[test]
    fn ads_form_data_multipart_post() {
        let body = format!(
            "--XyZ\r\nContent-Disposition: form-data; name=\"em\"\r\n\r\ntv.1~em.{EM_B64}\r\n--XyZ\r\nContent-Disposition: form-data; name=\"url\"\r\n\r\nhttps://clinic.example/contact?reason=hiv-prep\r\n--XyZ--\r\n"
        );
        let ev = post(
            "https://www.google.com/pagead/form-data/11008580020?gtm=45be54n0h1v9214706059za200&npa=0&frm=0&auid=1553824274.1745853750",
            "multipart/form-data; boundary=XyZ",
            &body,
        );
        let e = &ev[0];
        assert_eq!(e.event, "form_data");
        assert_eq!(e.account_id.as_deref(), Some("AW-11008580020"));
        assert_eq!(e.transport.format, "multipart");
        assert_eq!(
            e.page_url.as_deref(),
            Some("https://clinic.example/contact?reason=hiv-prep")
        );
        assert_eq!(e.user_data.len(), 1);
        assert_eq!(e.user_data[0].value, EM_B64);
        assert!(e.user_data[0].hashed);
    }

    // ---------------------------------------------------------------- Floodlight

    #[test]
    fn floodlight_real_activityi_path_params() {
        // new-jersey-nj.gov, entry 77 (shortened).
        let url = "https://10305561.fls.doubleclick.net/activityi;src=10305561;type=all_p0;cat=all_p0;ord=4754649353037;npa=0;auiddc=116410899.1745853811;u1=https%3A%2F%2Fwww.nj.gov%2Fgetcoverednj%2F;ps=1;pcor=322215235;uaa=;frm=0;_tu=KlA;gtm=45fe54n0v9189014708z8858902716za200zb858902716;dc_fmt=1;epver=2;~oref=https%3A%2F%2Fwww.nj.gov%2Fgetcoverednj%2F?";
        let e = &get(url)[0];
        assert_eq!(e.vendor, Vendor::Floodlight);
        assert_eq!(e.event, "all_p0:all_p0");
        assert_eq!(e.account_id.as_deref(), Some("DC-10305561"));
        assert_eq!(
            e.page_url.as_deref(),
            Some("https://www.nj.gov/getcoverednj/")
        );
        assert_eq!(e.custom_data["u1"], "https://www.nj.gov/getcoverednj/");
        assert_eq!(e.custom_data["ord"], "4754649353037");
        assert_eq!(id(e, "gcl_au"), Some("116410899.1745853811"));
        assert_eq!(e.transport.format, "path");
        assert_eq!(e.raw[0], ("src".to_owned(), "10305561".to_owned()));
    }

    #[test]
    fn floodlight_real_path_variants() {
        // cityofhope.org entry 42, new-jersey-nj.gov entry 78, marchofdimes.org entry 173.
        let e = &get(
            "https://ad.doubleclick.net/ddm/activity/src=9630481;type=invmedia;cat=cityo00;dc_lat=;dc_rdid=;tag_for_child_directed_treatment=;tfua=;npa=;ord=1?",
        )[0];
        assert_eq!(e.event, "invmedia:cityo00");
        assert_eq!(e.account_id.as_deref(), Some("DC-9630481"));
        let e = &get(
            "https://td.doubleclick.net/td/fls/rul/activityi;fledge=1;src=10305561;type=all_p0;cat=all_p0;ord=4754649353037;auiddc=116410899.1745853811;~oref=https%3A%2F%2Fwww.nj.gov%2Fgetcoverednj%2F?",
        )[0];
        assert_eq!(e.vendor, Vendor::Floodlight);
        assert_eq!(e.account_id.as_deref(), Some("DC-10305561"));
        let e = &get(
            "https://adservice.google.com/ddm/fls/p/src=10620626;type=invmedia;cat=8653_0;dc_lat=;dc_rdid=;npa=;gdpr=$%7BGDPR%7D;ord=1;~oref=https://8832015.fls.doubleclick.net/ddm/fls/r/src%3D8832015%3Btype%3Drt%3Bcat%3Dhmpg%3Bord%3D698484298584%3Bgtm%3D2wgai0%3B",
        )[0];
        assert_eq!(e.account_id.as_deref(), Some("DC-10620626"));
        assert_eq!(e.event, "invmedia:8653_0");
        assert!(
            e.page_url
                .as_deref()
                .unwrap()
                .starts_with("https://8832015.fls.doubleclick.net/ddm/fls/r/src=8832015;type=rt")
        );
    }

    #[test]
    fn floodlight_custom_vars_and_ids() {
        let e = &get(
            "https://ad.doubleclick.net/activity;src=2222222;type=pharm0;cat=refil0;u3=Sertraline%2050mg;u7=;qty=1;cost=12.50;ord=txn-77;gclaw=Cj0-canary;dc_rdid=00000000-1111-2222-3333-444444444444;match_id=member-9;~oref=https%3A%2F%2Fpharmacy.example%2Frefill%3Frx%3D1?",
        )[0];
        assert_eq!(e.event, "pharm0:refil0");
        assert_eq!(e.custom_data["u3"], "Sertraline 50mg");
        assert!(!e.custom_data.contains_key("u7"));
        assert_eq!(e.custom_data["cost"], "12.50");
        assert_eq!(id(e, "gclid"), Some("Cj0-canary"));
        assert_eq!(
            id(e, "dc_rdid"),
            Some("00000000-1111-2222-3333-444444444444")
        );
        assert_eq!(e.user_data[0].key, "external_id");
        assert_eq!(
            e.page_url.as_deref(),
            Some("https://pharmacy.example/refill?rx=1")
        );
    }

    // ---------------------------------------------------------------- robustness

    const ENDPOINTS: [&str; 8] = [
        "https://www.google-analytics.com/g/collect?",
        "https://www.google-analytics.com/mp/collect?",
        "https://www.google-analytics.com/collect?",
        "https://ssl.google-analytics.com/__utm.gif?",
        "https://googleads.g.doubleclick.net/pagead/viewthroughconversion/123/?",
        "https://www.google.com/ccm/collect?",
        "https://ad.doubleclick.net/activity;",
        "https://ad.doubleclick.net/ddm/activity/",
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn decoders_never_panic_on_query_strings(
            q in "[a-z0-9_.~;=&%+/:?-]{0,120}|\\PC{0,80}",
            which in 0usize..ENDPOINTS.len(),
        ) {
            let url = format!("{}{}", ENDPOINTS[which], q);
            let _ = Engine::new().events(&Exchange::get(Source::new("p", 0), url));
        }

        #[test]
        fn decoders_never_panic_on_bodies(
            body in "[a-z0-9_.~;=&%+\r\n{}\\[\\]\":,-]{0,160}|\\PC{0,80}",
            which in 0usize..ENDPOINTS.len(),
        ) {
            let ex = Exchange::post(Source::new("p", 0), format!("{}v=2&en=x", ENDPOINTS[which]), "", body);
            let _ = Engine::new().events(&ex);
        }
    }
}
