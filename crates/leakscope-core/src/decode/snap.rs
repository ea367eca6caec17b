//! Snap Pixel: `tr.snapchat.com/p` in its classic shape (GET query or POST
//! form) and its newer JSON shape (`{ctx, req:[{t:{…}}, {md:{…}}, {i:…}]}`),
//! plus the Conversions API (`/v3/{pixel}/events`, legacy `/v2/conversion`).
//! See wire-formats.md §8.

use serde_json::Value;

use super::{
    Nth, Request, flatten_json, hash_shape, id_value, json_str, json_user_fields,
    path_segment_near, plain_datum, user_datum,
};
use crate::model::{Event, HashAlgo, HashEncoding, UserDatum};

/// Classic user-data params → normalised key. All SHA-256 of lowercased values.
const USER_PARAMS: &[(&str, &str)] = &[
    ("u_hem", "em"),
    ("u_hpn", "ph"),
    ("u_fn", "fn"),
    ("u_ln", "ln"),
    ("u_age", "age"),
    ("u_hed", "hed"),
    ("l_city", "ct"),
    ("l_gc", "country"),
    ("l_gpc", "zp"),
    ("l_gr", "st"),
];

/// Classic id params → id kind.
const ID_PARAMS: &[(&str, &str)] = &[
    ("u_c1", "scid"),
    ("u_sclid", "sc_lid"),
    ("u_scsid", "sc_sid"),
    ("ScCid", "sc_click_id"),
    ("sc_click_id", "sc_click_id"),
    ("click_id", "sc_click_id"),
];

/// CAPI `user_data` keys sent in clear by design; ids among them.
const CAPI_PLAIN: &[&str] = &[
    "client_ip_address",
    "client_user_agent",
    "sc_click_id",
    "sc_cookie1",
    "madid",
    "idfv",
];

pub fn decode(req: &Request<'_>, out: &mut Vec<Event>) -> Result<(), String> {
    let path = req.url.path().trim_end_matches('/');
    let json = req.body.json();
    if path.ends_with("/events") || path.ends_with("/v2/conversion") {
        return match json {
            Some(body) => decode_capi(req, body, out),
            None => Err(format!(
                "Conversions API body ({}) is not JSON",
                req.body.format.as_str()
            )),
        };
    }
    if let Some(body) = json {
        return decode_json_pixel(req, body, out);
    }
    let p = req.all_params();
    if p.is_empty() {
        return Err("Snap pixel request has no parameters".into());
    }
    let format = req.params_format();
    let pairs: Vec<(String, String)> = p.into_pairs();
    let mut ev = req.event("", format);
    classic(&mut ev, &pairs, "");
    ev.raw = pairs;
    out.push(ev);
    Ok(())
}

/// Fills an event from classic Snap params (query, form, or a JSON `t` entry
/// turned into pairs). `prefix` locates the pairs for `UserDatum::field`.
fn classic(ev: &mut Event, pairs: &[(String, String)], prefix: &str) {
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(pk, v)| pk == k && !v.is_empty())
            .map(|(_, v)| v.clone())
    };
    let field = |k: &str| {
        if prefix.is_empty() {
            k.to_owned()
        } else {
            format!("{prefix}.{k}")
        }
    };
    ev.event = get("ev").unwrap_or_else(|| "(no ev)".into());
    ev.account_id = get("pid");
    ev.page_url = get("pl").or(ev.page_url.take());
    ev.referrer = get("rf");
    for (k, v) in pairs {
        if v.is_empty() {
            continue;
        }
        if let Some((_, key)) = USER_PARAMS.iter().find(|(n, _)| n == k) {
            ev.user_data.push(snap_datum(key, &field(k), v));
        } else if let Some((_, kind)) = ID_PARAMS.iter().find(|(n, _)| n == k) {
            if !ev.ids.iter().any(|i| i.kind == *kind && i.value == *v) {
                ev.ids.push(id_value(kind, &field(k), v));
            }
        } else if k.starts_with("e_") {
            ev.custom_data
                .insert(k.clone(), crate::params::json_or_string(v));
        }
    }
}

/// `user_datum`, also recognising the flag-prefixed hashes scevent.js sends
/// (observed: `FFF` + SHA-256 hex in `u_hem`, 2021–2025 captures).
fn snap_datum(key: &str, field: &str, v: &str) -> UserDatum {
    let mut d = user_datum(key, field, v);
    if !d.hashed
        && v.len() == 67
        && v.is_char_boundary(3)
        && v[..3].bytes().all(|c| c.is_ascii_hexdigit())
        && hash_shape(&v[3..]) == Some((HashAlgo::Sha256, HashEncoding::Hex))
    {
        d.hashed = true;
        d.algorithm = Some(HashAlgo::Sha256);
        d.encoding = Some(HashEncoding::Hex);
    }
    d
}

/// A JSON object's entries as string pairs (values: strings unquoted, the
/// rest as JSON text).
fn pairs_of(v: &Value) -> Vec<(String, String)> {
    match v {
        Value::Object(m) => m
            .iter()
            .filter_map(|(k, x)| json_str(x).map(|s| (k.clone(), s)))
            .collect(),
        _ => Vec::new(),
    }
}

/// The newer browser shape: shared `ctx`, then one entry per request in `req`.
/// `t` entries are tracking events, `md` page metadata; `i` (pixel-id pings)
/// and `log` (script errors) are not events.
fn decode_json_pixel(req: &Request<'_>, body: Value, out: &mut Vec<Event>) -> Result<(), String> {
    let Value::Object(mut top) = body else {
        return Err("Snap JSON body is not an object".into());
    };
    let Some(Value::Array(entries)) = top.shift_remove("req") else {
        return Err("Snap JSON body has no `req` array".into());
    };
    let ctx = top.get("ctx").cloned().unwrap_or(Value::Null);
    let page = ctx.get("url").and_then(json_str).filter(|s| !s.is_empty());
    let mut top_raw = Vec::new();
    for (k, v) in &top {
        flatten_json(k, v, &mut top_raw);
    }
    for (i, entry) in entries.iter().enumerate() {
        let prefix = format!("req[{i}]");
        let mut ev = req.event("", "json");
        ev.page_url.clone_from(&page);
        if let Some(t) = entry.get("t").filter(|t| t.is_object()) {
            classic(&mut ev, &pairs_of(t), &format!("{prefix}.t"));
        } else if let Some(md) = entry.get("md").filter(|m| m.is_object()) {
            ev.event = "metadata".into();
            ev.account_id = match md.get("pids") {
                Some(Value::Array(a)) => {
                    let ids: Vec<String> = a.iter().filter_map(json_str).collect();
                    (!ids.is_empty()).then(|| ids.join(","))
                }
                _ => None,
            };
            if let Some(Value::Array(tags)) = md.get("md") {
                ev.page_title = tags.iter().find_map(|t| {
                    t.get("tagData")
                        .and_then(|d| d.get("title"))
                        .and_then(json_str)
                        .filter(|s| !s.is_empty())
                });
                ev.custom_data
                    .insert("md".into(), Value::Array(tags.clone()));
            }
        } else {
            continue;
        }
        // The `_scid` cookie rides in ctx even when an entry omits it.
        if let Some(c1) = ctx.get("c1").and_then(json_str).filter(|s| !s.is_empty())
            && !ev.ids.iter().any(|x| x.kind == "scid" && x.value == c1)
        {
            ev.ids.push(id_value("scid", "ctx.c1", &c1));
        }
        let mut raw = top_raw.clone();
        flatten_json(&prefix, entry, &mut raw);
        ev.raw = raw;
        out.push(ev);
    }
    Ok(())
}

/// Conversions API v3 (`{"data":[…]}`, Meta-like) or legacy v2 (an event
/// object or array of them with `pixel_id`, `event_type`, `hashed_email`…).
fn decode_capi(req: &Request<'_>, body: Value, out: &mut Vec<Event>) -> Result<(), String> {
    let pixel = capi_pixel(req.url.path());
    let (events, list, top_raw): (Vec<Value>, &str, Vec<(String, String)>) = match body {
        Value::Object(mut m) => match m.shift_remove("data") {
            Some(Value::Array(d)) => {
                let mut top = Vec::new();
                for (k, v) in &m {
                    flatten_json(k, v, &mut top);
                }
                (d, "data", top)
            }
            Some(_) => return Err("Conversions API `data` is not an array".into()),
            None => (vec![Value::Object(m)], "", Vec::new()),
        },
        Value::Array(a) => (a, "", Vec::new()),
        _ => return Err("Conversions API body is not a JSON object or array".into()),
    };
    for (i, e) in events.iter().enumerate() {
        let prefix = if list.is_empty() && events.len() == 1 {
            String::new()
        } else {
            format!("{list}[{i}]")
        };
        let at = |k: &str| {
            if prefix.is_empty() {
                k.to_owned()
            } else {
                format!("{prefix}.{k}")
            }
        };
        let s = |k: &str| e.get(k).and_then(json_str).filter(|s| !s.is_empty());
        let name = s("event_name")
            .or_else(|| s("event_type"))
            .unwrap_or_else(|| "(no event_name)".into());
        let mut ev = req.event(name, "json");
        ev.server_side = true;
        ev.account_id = pixel.clone().or_else(|| s("pixel_id"));
        ev.page_url = s("event_source_url").or_else(|| s("page_url"));
        if let Some(Value::Object(cd)) = e.get("custom_data") {
            for (k, v) in cd {
                ev.custom_data.insert(k.clone(), v.clone());
            }
        }
        if let Some(Value::Object(ud)) = e.get("user_data") {
            for (k, field, val) in json_user_fields(&at("user_data"), ud) {
                match k {
                    "sc_click_id" => ev.ids.push(id_value("sc_click_id", &field, &val)),
                    "sc_cookie1" => ev.ids.push(id_value("scid", &field, &val)),
                    _ if CAPI_PLAIN.contains(&k) => ev.user_data.push(plain_datum(k, &field, &val)),
                    _ => ev.user_data.push(snap_datum(k, &field, &val)),
                }
            }
        }
        // Legacy v2 flat fields.
        for (k, key) in [
            ("hashed_email", "em"),
            ("hashed_phone_number", "ph"),
            ("hashed_ip_address", "client_ip_address"),
        ] {
            if let Some(v) = s(k) {
                ev.user_data.push(snap_datum(key, &at(k), &v));
            }
        }
        for (k, kind) in [("uuid_c1", "scid"), ("click_id", "sc_click_id")] {
            if let Some(v) = s(k) {
                ev.ids.push(id_value(kind, &at(k), &v));
            }
        }
        let mut raw = top_raw.clone();
        flatten_json(&prefix, e, &mut raw);
        ev.raw = raw;
        out.push(ev);
    }
    Ok(())
}

/// `/v3/{pixel}/events` → `{pixel}`; a bare `/v3/events` has none (a
/// segment starting with `v` is the API version, never a pixel id).
fn capi_pixel(path: &str) -> Option<String> {
    path_segment_near(path, &["events"], Nth::Last, -1)
        .filter(|id| !id.starts_with('v'))
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use crate::Engine;
    use crate::model::{Exchange, HashAlgo, Source, Vendor};

    /// Real: coverme.gov (Maine's ACA exchange) GET page view, corpus entry 37.
    #[test]
    fn real_get_page_view() {
        let url = "https://tr.snapchat.com/p?pid=fb3f6f54-b0f5-424b-b408-dce156401ea5&ev=PAGE_VIEW&intg=gtm&pids=fb3f6f54-b0f5-424b-b408-dce156401ea5&u_c1=d5e7a73d-6e80-4b31-ab82-f85cad561680&cdid=%40-72af1bb9-5c9c-453f-9236-2f352deb63f8&u_sclid=71ed6b39-f63d-4cda-afb4-ca33d59cd188&u_scsid=bab5399c-06bc-4422-8b58-c87a155fd832&gat=AW-687475555%2CGTM-K3WKZ36%2CG-Q6HZMZKJ12&gac=69c5225e&bg=false&bt=1d53c387&d_bvs=&huah=true&m_dcl=1711&m_fcps=1490&m_pi=1703&m_pl=0&m_pv=2&m_rd=1985&m_sh=812&m_sl=1969&m_sw=375&pl=https%3A%2F%2Fwww.coverme.gov%2F&trackId=86fbd80e-5cfa-410c-afa1-e34e890be502&ts=1745853783236&v=3.44.6-2504241707";
        let e = &Engine::new()
            .events(&Exchange::get(Source::new("t", 37), url))
            .unwrap()[0];
        assert_eq!(e.vendor, Vendor::Snap);
        assert_eq!(e.event, "PAGE_VIEW");
        assert_eq!(
            e.account_id.as_deref(),
            Some("fb3f6f54-b0f5-424b-b408-dce156401ea5")
        );
        assert_eq!(e.page_url.as_deref(), Some("https://www.coverme.gov/"));
        assert!(
            e.ids
                .iter()
                .any(|i| i.kind == "scid" && i.value == "d5e7a73d-6e80-4b31-ab82-f85cad561680")
        );
        assert!(e.raw.iter().any(|(k, v)| k == "d_bvs" && v.is_empty()));
    }

    /// Real: plannedparenthood.org (Gulf Coast) form POST with `FFF`-flagged u_hem.
    #[test]
    fn real_form_post_flagged_hash() {
        let body = "pid=e28abec5-490a-43ca-a207-2bb7cf6e0a47&ev=PAGE_VIEW&pl=https%3A%2F%2Fwww.plannedparenthood.org%2Fplanned-parenthood-gulf-coast&ts=1634242818923&rf=&v=1.5&if=false&bt=__LIVE__&u_hem=FFF7b7416ec1f35b8a794c92887c2c62529b2179b6fa911173803c59c0c463ba572&u_c1=24cfeb7b-5448-4277-9f09-1b809887db00&m_sl=4076&m_rd=5959&m_pi=1496&m_pl=2438&m_ic=0";
        let ex = Exchange::post(
            Source::new("t", 0),
            "https://tr.snapchat.com/p",
            "application/x-www-form-urlencoded",
            body.as_bytes(),
        );
        let e = &Engine::new().events(&ex).unwrap()[0];
        assert_eq!(e.transport.format, "form");
        assert_eq!(
            e.page_url.as_deref(),
            Some("https://www.plannedparenthood.org/planned-parenthood-gulf-coast")
        );
        let em = &e.user_data[0];
        assert_eq!((em.key.as_str(), em.field.as_str()), ("em", "u_hem"));
        assert!(em.hashed);
        assert_eq!(em.algorithm, Some(HashAlgo::Sha256));
    }

    #[test]
    fn classic_search_with_user_data() {
        // Omnibug-shaped, health-flavoured.
        let body = "pid=b2ade379-a55e-4ca7-893b-b9fac04c843f&ev=SEARCH&pl=https%3A%2F%2Fpharmacy.example%2Fsearch%3Fq%3Dnaloxone&ts=1583875341291&rf=https%3A%2F%2Fpharmacy.example%2F&v=1.4&e_ss=naloxone+nasal+spray&e_desc=Search+results&u_hem=f660ab912ec121d1b1e928a0bb4bc61b15f5ad44d5efdc4e1c92a25e99b8e44a&u_hpn=009875cdd7e8a0abe6dc0444d693ff435599e9c68793dac5bc277066d4bc0dc3&u_c1=842d7ddb-e7ea-478c-85a7-cd256905dd2c";
        let ex = Exchange::post(
            Source::new("t", 0),
            "https://tr.snapchat.com/p",
            "application/x-www-form-urlencoded",
            body.as_bytes(),
        );
        let e = &Engine::new().events(&ex).unwrap()[0];
        assert_eq!(e.event, "SEARCH");
        assert_eq!(e.referrer.as_deref(), Some("https://pharmacy.example/"));
        assert_eq!(e.custom_data["e_ss"], "naloxone nasal spray");
        assert_eq!(e.custom_data["e_desc"], "Search results");
        assert!(e.user_data.iter().any(|d| d.key == "ph" && d.hashed));
    }

    /// Real: accesshealthct.com (Connecticut's ACA exchange) JSON batch of two
    /// `t` entries, corpus entry 61 (session blob shortened).
    #[test]
    fn real_json_two_events() {
        let body = r#"{"ctx":{"bt":"1d53c387","c1":"07c004fb-8e39-4d09-96fb-86677b3a3651","lc":"22cf7a63-ef48-4f48-a701-71b54818d610","ls":"126440f4-65f9-47fc-88a3-dcc6c0a7ffd6","r":"7406a24f-0a9a-444b-8f3e-5d1f75a7cb07","si":"KkwHwAT7jjkB","ss":"295581eb-745b-4a4d-9c0a-a0a5fcabdfe9","bg":false,"sh":812,"sw":375,"ua":"Mozilla/5.0 (iPhone; CPU iPhone OS 15_0 like Mac OS X)","url":"https://www.accesshealthct.com/","v":"3.44.6-2504241707","a":[19,21,23,24,0],"p":[7280,7287,null,0,7514],"pv":2,"rd":7740,"sa":1745853762102,"sps":226,"ts":1745853762329,"d_bvs":"","huah":true,"cbt":[]},"req":[{"t":{"pid":"ae31b5c2-c9a3-409b-8af8-adb22bb87ecd","ev":"PAGE_VIEW","u_hem":"FFF7b7416ec1f35b8a794c92887c2c62529b2179b6fa911173803c59c0c463ba572","u_c1":"07c004fb-8e39-4d09-96fb-86677b3a3651","cdid":"@-7b4f6ad9-941a-4510-8fb8-bc918f7556c5","u_sclid":"126440f4-65f9-47fc-88a3-dcc6c0a7ffd6","u_scsid":"295581eb-745b-4a4d-9c0a-a0a5fcabdfe9","gat":["G-GKZ9FW7VB1","GTM-5X659MQ"],"gac":"b86d975d"},"del":202},{"t":{"pid":"ae31b5c2-c9a3-409b-8af8-adb22bb87ecd","ev":"VIEW_CONTENT","u_hem":"FFF7b7416ec1f35b8a794c92887c2c62529b2179b6fa911173803c59c0c463ba572","u_c1":"07c004fb-8e39-4d09-96fb-86677b3a3651","cdid":"@-79a3910c-47ca-4076-aabc-6d715b1505a2","u_sclid":"126440f4-65f9-47fc-88a3-dcc6c0a7ffd6","u_scsid":"295581eb-745b-4a4d-9c0a-a0a5fcabdfe9","gat":["G-GKZ9FW7VB1","GTM-5X659MQ"],"gac":"b86d975d"},"del":202},{"i":{"pids":["ae31b5c2-c9a3-409b-8af8-adb22bb87ecd"]},"del":242}],"u_scsid":"295581eb-745b-4a4d-9c0a-a0a5fcabdfe9"}"#;
        let ex = Exchange::post(
            Source::new("t", 0),
            "https://tr.snapchat.com/p",
            "text/plain;charset=UTF-8",
            body.as_bytes(),
        );
        let ev = Engine::new().events(&ex).unwrap();
        assert_eq!(ev.len(), 2, "the `i` entry is not an event");
        assert_eq!(ev[0].event, "PAGE_VIEW");
        assert_eq!(ev[1].event, "VIEW_CONTENT");
        let e = &ev[1];
        assert_eq!(
            e.account_id.as_deref(),
            Some("ae31b5c2-c9a3-409b-8af8-adb22bb87ecd")
        );
        assert_eq!(
            e.page_url.as_deref(),
            Some("https://www.accesshealthct.com/")
        );
        assert_eq!(e.user_data[0].field, "req[1].t.u_hem");
        assert!(e.user_data[0].hashed);
        assert_eq!(e.ids.iter().filter(|i| i.kind == "scid").count(), 1);
        assert!(e.raw.iter().any(|(k, v)| k == "ctx.p[2]" && v == "null"));
        assert!(e.raw.iter().any(|(k, _)| k == "req[1].t.gat[1]"));
        assert!(!e.raw.iter().any(|(k, _)| k.starts_with("req[0]")));
    }

    #[test]
    fn json_md_entry_is_metadata() {
        let body = r#"{"ctx":{"c1":"canary-c1","url":"https://nystateofhealth.ny.gov/"},"req":[{"md":{"md":[{"tagProtocol":3,"tagData":{"og:title":"NY State of Health"}},{"tagProtocol":5,"tagData":{"title":"New York State of Health | Health Plan Marketplace"}}],"pids":["0f1eea97-1608-4e57-913f-85381331c142"]},"del":398},{"log":{"name":"TPFA","message":""},"del":230}]}"#;
        let ex = Exchange::post(
            Source::new("t", 0),
            "https://tr.snapchat.com/p",
            "text/plain",
            body.as_bytes(),
        );
        let ev = Engine::new().events(&ex).unwrap();
        assert_eq!(ev.len(), 1);
        assert_eq!(ev[0].event, "metadata");
        assert_eq!(
            ev[0].page_title.as_deref(),
            Some("New York State of Health | Health Plan Marketplace")
        );
        assert_eq!(
            ev[0].account_id.as_deref(),
            Some("0f1eea97-1608-4e57-913f-85381331c142")
        );
    }

    #[test]
    fn capi_v3_token_redacted() {
        let body = r#"{"data":[{"event_name":"SIGN_UP","event_time":1700000000,"action_source":"WEB","event_source_url":"https://clinic.example/hepatitis-c/signup","user_data":{"em":["542d240129883c019e106e3b1b2d3f1f3d2b1e0a9c8b7a6f5e4d3c2b1a093345"],"ph":["dc008fda46e2e64002cf2f82a4906236282d431c4f75e5b60bfe79fc48546383"],"sc_click_id":"canary-click","sc_cookie1":"canary-scid","client_ip_address":"203.0.113.5"},"custom_data":{"sign_up_method":"email"}}]}"#;
        let ex = Exchange::post(
            Source::new("t", 0),
            "https://tr.snapchat.com/v3/0f1eea97-1608-4e57-913f-85381331c142/events?access_token=snap-canary-secret",
            "application/json",
            body.as_bytes(),
        );
        let e = &Engine::new().events(&ex).unwrap()[0];
        assert!(e.server_side);
        assert_eq!(e.event, "SIGN_UP");
        assert_eq!(
            e.account_id.as_deref(),
            Some("0f1eea97-1608-4e57-913f-85381331c142")
        );
        assert_eq!(
            e.page_url.as_deref(),
            Some("https://clinic.example/hepatitis-c/signup")
        );
        assert!(e.user_data.iter().any(|d| d.key == "em" && d.hashed));
        assert!(
            e.ids
                .iter()
                .any(|i| i.kind == "sc_click_id" && i.value == "canary-click")
        );
        assert!(
            e.ids
                .iter()
                .any(|i| i.kind == "scid" && i.value == "canary-scid")
        );
        let s = serde_json::to_string(e).unwrap();
        assert!(!s.contains("snap-canary-secret"), "{s}");
    }

    #[test]
    fn cookie_match_is_not_an_event() {
        let url = "https://tr.snapchat.com/cm/i?pid=0a87feb4-55c8-440d-8842-1f93d6cc53a4&u_scsid=x&u_sclid=y";
        assert!(
            Engine::new()
                .events(&Exchange::get(Source::new("t", 0), url))
                .unwrap()
                .is_empty()
        );
    }

    proptest! {
        #[test]
        fn arbitrary_bodies_never_panic(body in proptest::collection::vec(any::<u8>(), 0..400),
                                        json in "\\{(\"(ctx|req|t|md|i|data|user_data|ev|pid|u_hem|url|c1|pids|tagData|title)\":(\\{|\\[|\"x\"|\"FFF\u{e9}\u{e9}\"|1|null),?){0,8}\\}?\\]?\\}?",
                                        q in "[a-zA-Z_=&%0-9]{0,80}") {
            let engine = Engine::new();
            for url in ["https://tr.snapchat.com/p", "https://tr.snapchat.com/v3/abc/events",
                        "https://tr.snapchat.com/v2/conversion"] {
                let _ = engine.events(&Exchange::post(Source::new("t", 0), url, "text/plain", body.clone()));
                let _ = engine.events(&Exchange::post(Source::new("t", 0), url, "application/json", json.as_bytes()));
            }
            let _ = engine.events(&Exchange::get(Source::new("t", 0), format!("https://tr.snapchat.com/p?{q}")));
        }

        #[test]
        fn flagged_hash_check_never_panics(v in "\\PC{0,70}") {
            let _ = super::snap_datum("em", "u_hem", &v);
        }
    }
}
