//! Adobe: AppMeasurement hits (`/b/ss/{rsid}/{n}/{version}/s{rand}`, GET query
//! or POST form `AQB=1…AQE=1`, often on a CNAME'd first-party host) and the
//! Experience Platform Web SDK (`/ee[/<region>]/v1/{interact,collect}`, JSON).
//! See wire-formats.md §13.

use serde_json::{Map, Value};

use super::{Request, flatten_json, id_value, json_path, json_str, user_datum};
use crate::model::Event;
use crate::params::percent_decode;

pub fn decode(req: &Request<'_>, out: &mut Vec<Event>) -> Result<(), String> {
    let path = req.url.path();
    if path.contains("/b/ss/") {
        return decode_appmeasurement(req, out);
    }
    if path.contains("/ee/") {
        return decode_web_sdk(req, out);
    }
    Err(format!("not an Adobe collection path: {path}"))
}

// ------------------------------------------------------------ AppMeasurement

/// Top-level variables that carry what the site tracks (besides the numbered
/// eVars `v<n>`, props `c<n>`, hierarchies `h<n>` and list props `l<n>`).
const NAMED_CUSTOM: &[&str] = &[
    "pageName",
    "pageType",
    "ch",
    "server",
    "events",
    "products",
    "purchaseID",
    "xact",
    "cc",
    "v0",
    "pe",
    "pev1",
    "pev2",
    "pev3",
    "pid",
    "pidt",
    "oid",
    "oidt",
    "ot",
];

/// `v12`, `c3`, `h1`, `l2`: a letter then digits only.
fn numbered_var(k: &str) -> bool {
    let mut chars = k.chars();
    matches!(chars.next(), Some('v' | 'c' | 'h' | 'l'))
        && k.len() > 1
        && chars.all(|c| c.is_ascii_digit())
}

/// Context data is written with a stacking syntax: `c.` pushes a prefix,
/// `.c` pops it, so `c.&a.&activitymap.&link=Refill&.activitymap&.a&.c` is
/// `c.a.activitymap.link=Refill`. Returns `(key, value, in_context)` in wire
/// order with full dotted keys.
fn resolve_context(pairs: &[(String, String)]) -> Vec<(String, &str, bool)> {
    let mut stack: Vec<&str> = Vec::new();
    let mut out = Vec::with_capacity(pairs.len());
    for (k, v) in pairs {
        if v.is_empty() && k.len() > 1 {
            if let Some(name) = k.strip_suffix('.')
                && !name.starts_with('.')
            {
                stack.push(name);
                continue;
            }
            if let Some(name) = k.strip_prefix('.') {
                if let Some(i) = stack.iter().rposition(|s| *s == name) {
                    stack.truncate(i);
                }
                continue;
            }
        }
        if stack.is_empty() {
            out.push((k.clone(), v.as_str(), false));
        } else {
            out.push((format!("{}.{k}", stack.join(".")), v.as_str(), true));
        }
    }
    out
}

fn decode_appmeasurement(req: &Request<'_>, out: &mut Vec<Event>) -> Result<(), String> {
    let path = req.url.path();
    let after = path
        .split_once("/b/ss/")
        .map(|(_, rest)| rest)
        .unwrap_or("");
    let mut segs = after.split('/');
    let rsid = segs.next().map(percent_decode).filter(|s| !s.is_empty());
    let mode = segs.next().unwrap_or("");
    let version = segs.next().map(percent_decode);

    // Query and form body in wire order (not overlaid: the stacking syntax
    // depends on order).
    let mut pairs = req.query.pairs().to_vec();
    let format = req.params_format();
    pairs.extend(req.body_params().pairs().iter().cloned());
    if pairs.is_empty() && rsid.is_none() {
        return Err("AppMeasurement hit has no report suite and no parameters".into());
    }
    let resolved = resolve_context(&pairs);
    // Later values win, as the collection server reads them.
    let top = |key: &str| {
        resolved
            .iter()
            .rev()
            .find(|(k, v, ctx)| !ctx && k == key && !v.is_empty())
            .map(|(_, v, _)| *v)
    };
    let ctx = |key: &str| {
        resolved
            .iter()
            .rev()
            .find(|(k, v, c)| *c && k == key && !v.is_empty())
            .map(|(_, v, _)| *v)
    };

    let pe = top("pe");
    let name = match pe {
        Some(pe @ ("lnk_o" | "lnk_d" | "lnk_e")) => top("pev2").unwrap_or(match pe {
            "lnk_d" => "download",
            "lnk_e" => "exit_link",
            _ => "link_click",
        }),
        Some(other) => top("pev2").unwrap_or(other),
        None => "pageview",
    };
    let mut ev = req.event(name, format);
    ev.account_id = rsid.as_deref().map(str::to_owned);
    // `D=<var>` is a server-side copy, not a URL.
    let not_copy = |s: &&str| !s.starts_with("D=");
    ev.page_url = top("g").filter(not_copy).map(str::to_owned);
    ev.referrer = top("r").filter(not_copy).map(str::to_owned);
    ev.page_title = top("pageName").map(str::to_owned);

    for (k, v, in_ctx) in &resolved {
        if v.is_empty() {
            continue;
        }
        if *in_ctx {
            if k.starts_with("cid.") {
                // Customer ids: `cid.<namespace>.id` (with `.as` auth state).
                if k.ends_with(".id") {
                    ev.user_data.push(user_datum("external_id", k, v));
                }
            } else if !k.starts_with("d.") {
                ev.custom_data.insert(k.clone(), Value::String((*v).into()));
            }
        } else if numbered_var(k) || NAMED_CUSTOM.contains(&k.as_str()) {
            ev.custom_data.insert(k.clone(), Value::String((*v).into()));
        }
    }
    for (field, key) in [("zip", "zp"), ("state", "st")] {
        if let Some(v) = top(field) {
            ev.user_data.push(user_datum(key, field, v));
        }
    }

    // Activity Map: the clicked element's text and where it sat.
    if let Some(link) = ctx("c.a.activitymap.link") {
        ev.ui.button_text = Some(link.to_owned());
    }
    let am: Map<String, Value> = resolved
        .iter()
        .filter_map(|(k, v, c)| {
            let rest = k.strip_prefix("c.a.activitymap.")?;
            (*c && !v.is_empty()).then(|| (rest.to_owned(), Value::String((*v).into())))
        })
        .collect();
    if !am.is_empty() {
        ev.ui.element = Some(Value::Object(am));
    }
    if matches!(pe, Some("lnk_o" | "lnk_d" | "lnk_e")) {
        // `pev2` is the link's name as the site chose it (often a label such
        // as "formAbandonment", not the text shown): it names the event.
        ev.ui.destination = top("pev1").map(str::to_owned);
    }

    for (key, kind) in [
        ("mid", "adobe_ecid"),
        ("aid", "adobe_aid"),
        ("vid", "adobe_vid"),
        ("fid", "adobe_fid"),
    ] {
        if let Some(v) = top(key) {
            ev.ids.push(id_value(kind, key, v));
        }
    }

    let mut raw = Vec::with_capacity(pairs.len() + 3);
    if let Some(r) = &rsid {
        raw.push(("path.rsid".to_owned(), r.to_string()));
    }
    if !mode.is_empty() {
        raw.push(("path.mode".to_owned(), mode.to_owned()));
    }
    if let Some(v) = version {
        raw.push(("path.version".to_owned(), v.into_owned()));
    }
    raw.extend(pairs);
    ev.raw = raw;
    out.push(ev);
    Ok(())
}

// ------------------------------------------------------------ Web SDK

/// XDM keys that describe the page/device/SDK, not the site's own data.
const XDM_TECHNICAL: &[&str] = &[
    "eventType",
    "web",
    "identityMap",
    "timestamp",
    "device",
    "environment",
    "implementationDetails",
    "placeContext",
    "_id",
    "eventMergeId",
];

fn decode_web_sdk(req: &Request<'_>, out: &mut Vec<Event>) -> Result<(), String> {
    let Some(Value::Object(mut body)) = req.body.json() else {
        return Err(format!(
            "Adobe Web SDK body ({}) is not a JSON object",
            req.body_format()
        ));
    };
    let Some(Value::Array(events)) = body.shift_remove("events") else {
        return Err("Adobe Web SDK body has no `events` array".into());
    };
    let account = req
        .query
        .get_nonempty("configId")
        .or_else(|| req.query.get_nonempty("edgeConfigId"))
        .map(str::to_owned);
    let mut top = req.query.pairs().to_vec();
    for (k, v) in &body {
        flatten_json(k, v, &mut top);
    }
    for (i, e) in events.iter().enumerate() {
        let xdm = e.get("xdm").unwrap_or(&Value::Null);
        let s = |path: &str| {
            json_path(xdm, path)
                .and_then(json_str)
                .filter(|s| !s.is_empty())
        };
        let name = s("eventType").unwrap_or_else(|| "(no eventType)".into());
        let mut ev = req.event(name, "json");
        ev.account_id = account.clone();
        ev.page_url = s("web.webPageDetails.URL");
        ev.page_title = s("web.webPageDetails.name");
        ev.referrer = s("web.webReferrer.URL");
        if let Some(wi) = json_path(xdm, "web.webInteraction").filter(|v| v.is_object()) {
            ev.ui.button_text = s("web.webInteraction.name");
            ev.ui.destination = s("web.webInteraction.URL");
            ev.ui.element = Some(wi.clone());
        }
        if let Some(Value::Object(ids)) = xdm.get("identityMap") {
            for (ns, list) in ids {
                let Value::Array(list) = list else { continue };
                for (j, item) in list.iter().enumerate() {
                    let Some(id) = item.get("id").and_then(json_str).filter(|s| !s.is_empty())
                    else {
                        continue;
                    };
                    let field = format!("events[{i}].xdm.identityMap.{ns}[{j}].id");
                    let lower = ns.to_ascii_lowercase();
                    if lower == "ecid" {
                        ev.ids.push(id_value("adobe_ecid", &field, &id));
                    } else if lower.contains("email") {
                        ev.user_data.push(user_datum("em", &field, &id));
                    } else if lower.contains("phone") {
                        ev.user_data.push(user_datum("ph", &field, &id));
                    } else {
                        ev.user_data.push(user_datum("external_id", &field, &id));
                    }
                }
            }
        }
        if let Value::Object(m) = xdm {
            for (k, v) in m {
                if !XDM_TECHNICAL.contains(&k.as_str()) {
                    ev.custom_data.insert(format!("xdm.{k}"), v.clone());
                }
            }
        }
        if let Some(Value::Object(data)) = e.get("data") {
            for (k, v) in data {
                ev.custom_data.insert(k.clone(), v.clone());
            }
        }
        let mut raw = top.clone();
        flatten_json(&format!("events[{i}]"), e, &mut raw);
        ev.raw = raw;
        out.push(ev);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::Engine;
    use crate::model::{Exchange, Party, Source, Vendor};
    use proptest::prelude::*;

    fn get(url: &str) -> crate::model::Event {
        let mut ex = Exchange::get(Source::new("t", 0), url);
        ex.page_url = Some("https://www.savethechildren.org/".into());
        let mut ev = Engine::new().events(&ex).unwrap();
        assert_eq!(ev.len(), 1, "{url}");
        ev.remove(0)
    }

    #[test]
    fn real_cnamed_link_hit_is_a_first_party_proxy() {
        // savethechildren.org capture (markup-nonprofit-privacy), trimmed.
        let e = get(
            "https://smetrics.savethechildren.org/b/ss/stcf.prod.us/5.1/JS-2.22.1-LBWB/s65173634830141?AQB=1&ndh=1&pf=1&t=19%2F9%2F2021%2014%3A48%3A6%202%200&cid.&userid.&id=25320229740607185222798667576333144107&.userid&.cid&mid=25320229740607185222798667576333144107&aamlh=7&ce=Windows-1257&cl=SESSION&pageName=Homepage&g=https%3A%2F%2Fwww.savethechildren.org%2F&cc=USD&events=event11&c2=D%3Dg&v2=D%3DpageName&v3=footer-email-signup&v28=footer-email-signup-GFTWVUIS6DJ0QI99WUTT&v84=Panel%7CEnewsletter%20Signup%7CRegion%203%20of%203%7C%7CAnonymous&pe=lnk_o&pev2=formAbandonment&s=375x812&c=24&j=1.6&v=N&k=Y&bw=375&bh=812&mcorgid=6B0E659F56A9E70D7F000101%40AdobeOrg&lrt=139&AQE=1",
        );
        assert_eq!(e.vendor, Vendor::Adobe);
        assert_eq!(e.party, Party::FirstPartyProxy);
        assert_eq!(e.event, "formAbandonment");
        assert_eq!(e.account_id.as_deref(), Some("stcf.prod.us"));
        assert_eq!(
            e.page_url.as_deref(),
            Some("https://www.savethechildren.org/")
        );
        assert_eq!(e.page_title.as_deref(), Some("Homepage"));
        assert_eq!(e.custom_data["events"], "event11");
        assert_eq!(e.custom_data["v3"], "footer-email-signup");
        assert_eq!(e.custom_data["c2"], "D=g");
        assert!(
            !e.custom_data.contains_key("c"),
            "color depth is not a prop"
        );
        assert!(!e.custom_data.contains_key("v"), "java flag is not an eVar");
        assert_eq!(e.ids[0].kind, "adobe_ecid");
        assert_eq!(e.ids[0].value, "25320229740607185222798667576333144107");
        assert_eq!(e.user_data[0].field, "cid.userid.id");
        assert!(
            e.raw
                .iter()
                .any(|(k, v)| k == "path.version" && v == "JS-2.22.1-LBWB")
        );
        assert!(e.raw.iter().any(|(k, _)| k == "cid."));
    }

    #[test]
    fn real_page_view_with_context_data() {
        // suntrust.com capture (markup-nonprofit-privacy), trimmed.
        let e = get(
            "https://somni.suntrust.com/b/ss/suntrustprod/10/JS-2.17.0/s76403771292554?AQB=1&ndh=1&pf=1&callback=s_c_il[1].doPostbacks&et=1&d.&nsid=0&jsonv=1&.d&mid=78140577610626958184022528448551323274&ce=UTF-8&ns=suntrust&pageName=STcom%7Ccommercial-corporate-banking&g=https%3A%2F%2Fwww.suntrust.com%2Fcommercial-corporate-banking&c.&pt.&rdr=0.09&tot=7.79&.pt&vidAPICheck=VisitorAPI%20Present&EVENTS=event12%2Cevent53%2C&.c&cc=USD&ch=STcom&events=event12%2Cevent53&h1=STcom%7Ccommercial-corporate-banking&c43=English&AQE=1",
        );
        assert_eq!(e.event, "pageview");
        assert_eq!(e.account_id.as_deref(), Some("suntrustprod"));
        assert_eq!(e.custom_data["c.pt.rdr"], "0.09");
        assert_eq!(e.custom_data["c.vidAPICheck"], "VisitorAPI Present");
        assert_eq!(e.custom_data["c.EVENTS"], "event12,event53,");
        assert_eq!(e.custom_data["h1"], "STcom|commercial-corporate-banking");
        assert!(!e.custom_data.contains_key("d.nsid"));
        assert!(!e.custom_data.contains_key("nsid"));
    }

    #[test]
    fn activity_map_click() {
        // wire-formats.md §13.1 Activity Map syntax, health-flavoured.
        let e = get(
            "https://pharmacy.sc.omtrdc.net/b/ss/rx-prod,rx-global/1/JS-2.22.0/s123?AQB=1&pageName=rx%3Arefill&g=https%3A%2F%2Fpharmacy.example%2Frefill&pe=lnk_o&pev1=https%3A%2F%2Fpharmacy.example%2Frefill%2Fconfirm&pev2=Refill%20prescription&c.&a.&activitymap.&page=rx%3Arefill&link=Refill%20prescription&region=refill-form&pageIDType=1&.activitymap&.a&search_term=sertraline&.c&v5=sertraline&zip=94110&mid=111&AQE=1",
        );
        assert_eq!(e.account_id.as_deref(), Some("rx-prod,rx-global"));
        assert_eq!(e.event, "Refill prescription");
        assert_eq!(e.ui.button_text.as_deref(), Some("Refill prescription"));
        assert_eq!(
            e.ui.destination.as_deref(),
            Some("https://pharmacy.example/refill/confirm")
        );
        let el = e.ui.element.as_ref().unwrap();
        assert_eq!(el["region"], "refill-form");
        assert_eq!(el["page"], "rx:refill");
        assert_eq!(e.custom_data["c.a.activitymap.link"], "Refill prescription");
        assert_eq!(e.custom_data["c.search_term"], "sertraline");
        assert_eq!(e.custom_data["v5"], "sertraline");
        assert_eq!(e.user_data[0].key, "zp");
        assert_eq!(e.party, Party::ThirdParty);
    }

    #[test]
    fn real_long_hit_posted_as_form() {
        // healthy.arkansas.gov capture: CDC widget hit (trimmed), moved into a POST body.
        let ex = Exchange::post(
            Source::new("t", 0),
            "https://cdc.112.2o7.net/b/ss/cdcsynd/1/H.21/6183edb0-fdd2-ece1-7f6e-c75bef21d5c4",
            "application/x-www-form-urlencoded",
            "AQB=1&pe=lnk_o&pev2=widget-loaded&c33=widget-loaded&pageName=cdcMaps&c3=www.cdc.gov&c27=Widget%20Framework&server=www.cdc.gov&reportsuite=cdcsynd&c47=https%3A%2F%2Fwww.cdc.gov%2Fcoronavirus%2F2019-ncov%2Fmap-cases-us.json&AQE=1",
        );
        let e = &Engine::new().events(&ex).unwrap()[0];
        assert_eq!(e.event, "widget-loaded");
        assert_eq!(e.account_id.as_deref(), Some("cdcsynd"));
        assert_eq!(e.transport.format, "form");
        assert_eq!(e.custom_data["c27"], "Widget Framework");
        assert_eq!(e.custom_data["server"], "www.cdc.gov");
    }

    #[test]
    fn web_sdk_interact_one_event_per_element() {
        let body = r#"{"events":[{"xdm":{"eventType":"web.webpagedetails.pageViews","web":{"webPageDetails":{"URL":"https://clinic.example/oncology/chemo","name":"Chemotherapy | Clinic"},"webReferrer":{"URL":"https://search.example/?q=chemo"}},"identityMap":{"ECID":[{"id":"12345678901234567890123456789012345678","authenticatedState":"ambiguous"}],"Email":[{"id":"jane.doe.canary@example.com"}]},"timestamp":"2025-01-01T00:00:00Z","_clinic":{"condition":"breast cancer"}},"data":{"__adobe":{"analytics":{"eVar7":"chemo"}}}},{"xdm":{"eventType":"web.webinteraction.linkClicks","web":{"webInteraction":{"name":"Book a consultation","URL":"https://clinic.example/book","type":"other"}}}}],"meta":{"state":{"domain":"clinic.example"}}}"#;
        let ex = Exchange::post(
            Source::new("t", 0),
            "https://edge.adobedc.net/ee/or2/v1/interact?configId=0a1b2c3d-0000-4000-8000-123456789abc&requestId=r1",
            "text/plain;charset=UTF-8",
            body,
        );
        let ev = Engine::new().events(&ex).unwrap();
        assert_eq!(ev.len(), 2);
        let e = &ev[0];
        assert_eq!(e.vendor, Vendor::Adobe);
        assert_eq!(e.event, "web.webpagedetails.pageViews");
        assert_eq!(
            e.account_id.as_deref(),
            Some("0a1b2c3d-0000-4000-8000-123456789abc")
        );
        assert_eq!(
            e.page_url.as_deref(),
            Some("https://clinic.example/oncology/chemo")
        );
        assert_eq!(e.page_title.as_deref(), Some("Chemotherapy | Clinic"));
        assert_eq!(
            e.referrer.as_deref(),
            Some("https://search.example/?q=chemo")
        );
        assert_eq!(e.ids[0].kind, "adobe_ecid");
        assert_eq!(e.ids[0].value, "12345678901234567890123456789012345678");
        assert_eq!(e.user_data[0].key, "em");
        assert!(!e.user_data[0].hashed);
        assert_eq!(e.custom_data["xdm._clinic"]["condition"], "breast cancer");
        assert_eq!(e.custom_data["__adobe"]["analytics"]["eVar7"], "chemo");
        assert!(e.raw.iter().any(|(k, _)| k == "meta.state.domain"));
        let click = &ev[1];
        assert_eq!(click.event, "web.webinteraction.linkClicks");
        assert_eq!(click.ui.button_text.as_deref(), Some("Book a consultation"));
        assert_eq!(
            click.ui.destination.as_deref(),
            Some("https://clinic.example/book")
        );
    }

    #[test]
    fn web_sdk_on_a_cname_is_recognised() {
        let ex = Exchange::post(
            Source::new("t", 0),
            "https://edge.clinic.example/ee/v1/collect?configId=abc",
            "text/plain",
            r#"{"events":[{"xdm":{"eventType":"web.webpagedetails.pageViews"}}]}"#,
        );
        let e = &Engine::new().events(&ex).unwrap()[0];
        assert_eq!(e.vendor, Vendor::Adobe);
        assert_eq!(e.account_id.as_deref(), Some("abc"));
    }

    #[test]
    fn context_stack_tolerates_unbalanced_markers() {
        let e = get("https://x.sc.omtrdc.net/b/ss/r/1/JS/s1?.c&c.&a.&k=1&.zz&.c&.a&top=2&c.&");
        assert_eq!(e.custom_data["c.a.k"], "1");
        assert_eq!(e.event, "pageview");
    }

    proptest! {
        #[test]
        fn never_panics(path in "[a-zA-Z0-9,./%-]{0,40}", q in "[ -~]{0,200}", body in "[ -~]{0,200}") {
            for url in [format!("https://m.example/b/ss/{path}?{q}"), format!("https://edge.adobedc.net/ee/{path}?{q}")] {
                let _ = Engine::new().events(&Exchange::post(Source::new("t", 0), url.clone(), "application/x-www-form-urlencoded", body.clone()));
            }
        }

        #[test]
        fn context_syntax_never_panics(keys in proptest::collection::vec("\\.?[a-c]{0,2}\\.?", 0..20)) {
            let q = keys.join("&");
            let _ = Engine::new().events(&Exchange::get(Source::new("p", 0), format!("https://x.2o7.net/b/ss/r/1/J/s1?{q}")));
        }
    }
}
