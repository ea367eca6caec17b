//! LinkedIn Insight Tag: `px.ads.linkedin.com/collect` (GET image: page view
//! or conversion), `/attribution_trigger` (GET), and `/wa/` (POST signals,
//! JSON or base64(gzip(JSON)), already peeled by `Body`). See wire-formats.md §6.

use serde_json::Value;

use super::{Request, flatten_json, id_value, json_str, user_datum};
use crate::model::Event;

/// `/wa/` fields that land in dedicated `Event` fields or are plumbing; the
/// rest of a signal is custom data.
const WA_MAPPED: &[&str] = &[
    "pids",
    "url",
    "pageTitle",
    "hem",
    "liFatId",
    "liGiant",
    "signalType",
    "domAttributes",
    "scriptVersion",
    "time",
    "domain",
    "websiteSignalRequestId",
    "isTranslated",
    "isLinkedInApp",
    "misc",
];

/// `/collect` params that describe the conversion rather than the transport.
const COLLECT_CUSTOM: &[&str] = &["conversionId", "eventId", "value", "currency", "tm"];

pub fn decode(req: &Request<'_>, out: &mut Vec<Event>) -> Result<(), String> {
    let path = req.url.path().trim_end_matches('/');
    if path.ends_with("/wa") {
        return decode_wa(req, out);
    }
    let p = req.all_params();
    if p.is_empty() {
        return Err("LinkedIn request has no parameters".into());
    }
    let name = if path.ends_with("/attribution_trigger") {
        "attribution_trigger".to_owned()
    } else {
        match p.get_nonempty("conversionId") {
            Some(c) => format!("conversion:{c}"),
            None => "PageView".to_owned(),
        }
    };
    let format = req.params_format();
    let mut ev = req.event(name, format);
    // `pid` may be a comma list (several partners on one tag): kept as sent.
    ev.account_id = p.get_nonempty("pid").map(str::to_owned);
    ev.page_url = p.get_nonempty("url").map(str::to_owned);
    for k in COLLECT_CUSTOM {
        if let Some(v) = p.get_nonempty(k) {
            ev.custom_data
                .insert((*k).to_owned(), Value::String(v.to_owned()));
        }
    }
    for (key, kind) in [
        ("li_fat_id", "li_fat_id"),
        ("liFatId", "li_fat_id"),
        ("li_giant", "li_giant"),
        ("liGiant", "li_giant"),
        ("li_adsId", "li_ads_id"),
    ] {
        if let Some(v) = p.get_nonempty(key) {
            ev.ids.push(id_value(kind, key, v));
        }
    }
    if let Some(h) = p.get_nonempty("hem") {
        ev.user_data.push(user_datum("em", "hem", h));
    }
    ev.raw = p.into_pairs();
    out.push(ev);
    Ok(())
}

fn s(v: Option<&Value>) -> Option<String> {
    v.and_then(json_str).filter(|s| !s.is_empty())
}

/// A `/wa/` "website actions" signal: page visits, clicks, form submits.
fn decode_wa(req: &Request<'_>, out: &mut Vec<Event>) -> Result<(), String> {
    let Some(body) = req.body.json() else {
        return Err(if req.body.bytes.is_empty() {
            "LinkedIn /wa/ request has no body".into()
        } else {
            format!(
                "LinkedIn /wa/ body ({}, peeled: {:?}) is not JSON",
                req.body.format.as_str(),
                req.body.encodings
            )
        });
    };
    let Value::Object(sig) = &body else {
        return Err("LinkedIn /wa/ body is not a JSON object".into());
    };
    let name = s(sig.get("signalType")).unwrap_or_else(|| "(no signalType)".into());
    let mut ev = req.event(name, "json");
    ev.account_id = match sig.get("pids") {
        Some(Value::Array(a)) => {
            let ids: Vec<String> = a.iter().filter_map(|x| s(Some(x))).collect();
            (!ids.is_empty()).then(|| ids.join(","))
        }
        other => s(other),
    };
    ev.page_url = s(sig.get("url"));
    ev.page_title = s(sig.get("pageTitle"));
    if let Some(h) = s(sig.get("hem")) {
        ev.user_data.push(user_datum("em", "hem", &h));
    }
    for (key, kind) in [("liFatId", "li_fat_id"), ("liGiant", "li_giant")] {
        if let Some(v) = s(sig.get(key)) {
            ev.ids.push(id_value(kind, key, &v));
        }
    }
    if let Some(dom) = sig.get("domAttributes").filter(|d| d.is_object()) {
        ev.ui.button_text = s(dom.get("innerText")).map(|t| t.trim().to_owned());
        let is_submit = matches!(dom.get("isFormSubmission"), Some(Value::Bool(true)));
        ev.ui.destination = s(sig.get("href")).or_else(|| {
            if is_submit {
                s(dom.get("formAction"))
            } else {
                None
            }
        });
        ev.ui.element = Some(dom.clone());
    }
    for (k, v) in sig {
        if WA_MAPPED.contains(&k.as_str()) || v.is_null() || v == &Value::String(String::new()) {
            continue;
        }
        ev.custom_data.insert(k.clone(), v.clone());
    }
    let mut raw = Vec::new();
    flatten_json("", &body, &mut raw);
    ev.raw = raw;
    out.push(ev);
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use base64::Engine as _;
    use proptest::prelude::*;

    use crate::Engine;
    use crate::model::{Exchange, HashAlgo, Source, Vendor};

    const EM: &str = "309a0a5c3e211326ae75ca18196d301a9bdbd1a882a4d2569511033da23f0abd";

    /// Real: pennie.com (Pennsylvania's ACA exchange) page view, corpus entry 149.
    #[test]
    fn real_collect_pageview() {
        let url = "https://px.ads.linkedin.com/collect?v=2&fmt=js&pid=4172257&time=1745853829508&li_adsId=57ad20ef-f0c8-4d73-b4f6-813faf499af1&url=https%3A%2F%2Fpennie.com%2F";
        let e = &Engine::new()
            .events(&Exchange::get(Source::new("t", 149), url))
            .unwrap()[0];
        assert_eq!(e.vendor, Vendor::Linkedin);
        assert_eq!(e.event, "PageView");
        assert_eq!(e.account_id.as_deref(), Some("4172257"));
        assert_eq!(e.page_url.as_deref(), Some("https://pennie.com/"));
        assert!(e.ids.iter().any(|i| i.kind == "li_ads_id"
            && i.value == "57ad20ef-f0c8-4d73-b4f6-813faf499af1"));
        assert_eq!(e.transport.format, "query");
        assert_eq!(e.raw.len(), 6);
    }

    /// Real: cityofhope.org (cancer centre) conversion, and Nevada's two-partner pid.
    #[test]
    fn real_conversion_and_multi_pid() {
        let url = "https://px.ads.linkedin.com/collect/?pid=1928898&conversionId=2243572&fmt=gif";
        let e = &Engine::new()
            .events(&Exchange::get(Source::new("t", 276), url))
            .unwrap()[0];
        assert_eq!(e.event, "conversion:2243572");
        assert_eq!(e.custom_data["conversionId"], "2243572");
        let url = "https://px.ads.linkedin.com/attribution_trigger?pid=301905%2C3597804&time=1745853804580&url=https%3A%2F%2Fwww.nevadahealthlink.com%2F";
        let e = &Engine::new()
            .events(&Exchange::get(Source::new("t", 120), url))
            .unwrap()[0];
        assert_eq!(e.event, "attribution_trigger");
        assert_eq!(e.account_id.as_deref(), Some("301905,3597804"));
        assert_eq!(
            e.page_url.as_deref(),
            Some("https://www.nevadahealthlink.com/")
        );
    }

    #[test]
    fn collect_click_id_from_param() {
        let url = "https://px.ads.linkedin.com/collect?v=2&fmt=js&pid=123456&url=https%3A%2F%2Fclinic.example%2Fdepression-screening&time=1&li_fat_id=canary-fat-id-0001";
        let e = &Engine::new()
            .events(&Exchange::get(Source::new("t", 0), url))
            .unwrap()[0];
        assert!(
            e.ids
                .iter()
                .any(|i| i.kind == "li_fat_id" && i.value == "canary-fat-id-0001")
        );
    }

    /// Real: marylandhealthconnection.gov `/wa/` page visit (plain JSON).
    #[test]
    fn real_wa_page_visit() {
        let body = r#"{"pids":[5485124],"scriptVersion":213,"time":1745853789144,"domain":"marylandhealthconnection.gov","url":"https://marylandhealthconnection.gov/","pageTitle":"Home - Maryland Health Connection","websiteSignalRequestId":"3af65630-e7f3-3bc9-d59b-2c112b56a098","isTranslated":false,"liFatId":"","liGiant":"","misc":{"psbState":-4},"isLinkedInApp":false,"hem":null,"signalType":"PAGE_VISIT"}"#;
        let ex = Exchange::post(
            Source::new("t", 0),
            "https://px.ads.linkedin.com/wa/",
            "text/plain;charset=UTF-8",
            body.as_bytes(),
        );
        let e = &Engine::new().events(&ex).unwrap()[0];
        assert_eq!(e.event, "PAGE_VISIT");
        assert_eq!(e.account_id.as_deref(), Some("5485124"));
        assert_eq!(
            e.page_url.as_deref(),
            Some("https://marylandhealthconnection.gov/")
        );
        assert_eq!(
            e.page_title.as_deref(),
            Some("Home - Maryland Health Connection")
        );
        assert!(e.user_data.is_empty() && e.ids.is_empty() && e.ui.is_empty());
        assert!(e.raw.iter().any(|(k, v)| k == "misc.psbState" && v == "-4"));
        assert!(e.raw.iter().any(|(k, v)| k == "hem" && v == "null"));
    }

    fn click_signal() -> String {
        format!(
            r#"{{"pids":[5143044],"scriptVersion":148,"time":1715794001783,"domain":"clinic.example","url":"https://clinic.example/std-testing/book","pageTitle":"Book an STD test | Clinic","websiteSignalRequestId":"9ad0a468-0000","isTranslated":false,"liFatId":"canary-fat","liGiant":"","misc":{{"psbState":-4}},"isLinkedInApp":false,"hem":"{EM}","signalType":"CLICK","href":"","domAttributes":{{"elementSemanticType":null,"elementValue":null,"elementType":"submit","tagName":"BUTTON","innerText":"  BOOK MY STD TEST ","cursor":"pointer","formAction":"appointments/confirm","isFormSubmission":true}},"innerElements":null,"elementCrumbsTree":[{{"tagName":"main","nthChild":5,"id":"site-root"}},{{"tagName":"form","nthChild":1,"id":"std-booking"}}]}}"#
        )
    }

    #[test]
    fn wa_click_base64_gzip_body() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(click_signal().as_bytes()).unwrap();
        let b64 = base64::engine::general_purpose::STANDARD.encode(gz.finish().unwrap());
        let ex = Exchange::post(
            Source::new("t", 0),
            "https://px.ads.linkedin.com/wa/",
            "text/plain;charset=UTF-8",
            b64.as_bytes(),
        );
        let e = &Engine::new().events(&ex).unwrap()[0];
        assert_eq!(e.transport.encodings, vec!["base64", "gzip"]);
        assert_eq!(e.event, "CLICK");
        assert_eq!(e.account_id.as_deref(), Some("5143044"));
        assert_eq!(e.page_title.as_deref(), Some("Book an STD test | Clinic"));
        assert_eq!(e.ui.button_text.as_deref(), Some("BOOK MY STD TEST"));
        assert_eq!(e.ui.destination.as_deref(), Some("appointments/confirm"));
        assert_eq!(e.ui.element.as_ref().unwrap()["tagName"], "BUTTON");
        let em = &e.user_data[0];
        assert_eq!((em.key.as_str(), em.field.as_str()), ("em", "hem"));
        assert_eq!(em.algorithm, Some(HashAlgo::Sha256));
        assert!(
            e.ids
                .iter()
                .any(|i| i.kind == "li_fat_id" && i.value == "canary-fat")
        );
        assert_eq!(e.custom_data["elementCrumbsTree"][1]["id"], "std-booking");
        assert!(
            e.raw
                .iter()
                .any(|(k, v)| k == "elementCrumbsTree[1].id" && v == "std-booking")
        );
    }

    /// Real: raz-kids.com `/wa/` CLICK on a link (edtech corpus, entry 0).
    #[test]
    fn real_wa_click_link() {
        let body = r#"{"pids":[1096801],"scriptVersion":1022,"time":1700083208763,"domain":"raz-kids.com","url":"https://raz-kids.com/","pageTitle":"Raz-Kids","websiteSignalRequestId":"51452326-cd07-d54d-388b-a7776c6a5390","isTranslated":false,"liFatId":"","liGiant":"","misc":{"psbState":31},"signalType":"CLICK","href":"https://www.kidsa-z.com/main/Logout","domAttributes":{"elementSemanticType":null,"elementValue":null,"elementType":null,"tagName":"A","backgroundImageSrc":null,"imageSrc":null,"imageAlt":null,"innerText":"KIDS LOGIN","elementTitle":null,"cursor":"pointer"},"innerElements":null,"elementCrumbsTree":[{"tagName":"div","nthChild":13,"classes":["siteContainer","siteContainer-bg"]},{"tagName":"div","nthChild":0,"classes":["kidsLogin"]},{"tagName":"a","nthChild":0,"classes":["kidsLoginButton"],"attributes":{"href":"https://www.kidsa-z.com/main/Logout"}}],"isFilteredByClient":false}"#;
        let ex = Exchange::post(
            Source::new("t", 0),
            "https://px.ads.linkedin.com/wa/",
            "text/plain;charset=UTF-8",
            body.as_bytes(),
        );
        let e = &Engine::new().events(&ex).unwrap()[0];
        assert_eq!(e.event, "CLICK");
        assert_eq!(e.account_id.as_deref(), Some("1096801"));
        assert_eq!(e.ui.button_text.as_deref(), Some("KIDS LOGIN"));
        assert_eq!(
            e.ui.destination.as_deref(),
            Some("https://www.kidsa-z.com/main/Logout")
        );
        assert_eq!(e.ui.element.as_ref().unwrap()["tagName"], "A");
        assert_eq!(e.custom_data["elementCrumbsTree"][2]["tagName"], "a");
    }

    #[test]
    fn wa_without_body_is_an_error() {
        let ex = Exchange::post(
            Source::new("t", 0),
            "https://px.ads.linkedin.com/wa/",
            "text/plain",
            b"",
        );
        assert!(Engine::new().events(&ex).is_err());
        let ex = Exchange::post(
            Source::new("t", 0),
            "https://px.ads.linkedin.com/wa/",
            "text/plain",
            b"garbage",
        );
        assert!(Engine::new().events(&ex).is_err());
    }

    #[test]
    fn li_sync_is_not_an_event() {
        let url = "https://www.linkedin.com/px/li_sync?redirect=https%3A%2F%2Fpx.ads.linkedin.com%2Fcollect%3Fv%3D2%26pid%3D4172257";
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
                                        json in "\\{(\"(pids|url|hem|signalType|domAttributes|innerText|liFatId|isFormSubmission)\":(\\{|\\[|\"x\"|1|null|true),?){0,8}\\}?\\]?\\}?",
                                        q in "[a-zA-Z_=&%0-9]{0,60}") {
            let engine = Engine::new();
            let _ = engine.events(&Exchange::post(Source::new("t", 0), "https://px.ads.linkedin.com/wa/", "text/plain", body.clone()));
            let _ = engine.events(&Exchange::post(Source::new("t", 0), "https://px.ads.linkedin.com/wa/", "text/plain", json.as_bytes()));
            let b64 = base64::engine::general_purpose::STANDARD.encode(&body);
            let _ = engine.events(&Exchange::post(Source::new("t", 0), "https://px.ads.linkedin.com/wa/", "text/plain", b64.as_bytes()));
            let _ = engine.events(&Exchange::get(Source::new("t", 0), format!("https://px.ads.linkedin.com/collect?{q}")));
        }
    }
}
