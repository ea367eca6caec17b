//! Session recorders: Hotjar, FullStory, Microsoft Clarity (wire-formats.md
//! §14). They stream DOM snapshots, mutations and input rather than named
//! events, so each upload is one event: who (account, user and session ids),
//! where (page), and the payload's scalars in `raw`, where typed text and page
//! content can be searched. Payloads can be large, so `raw` keeps the first
//! [`MAX_SCALARS`] scalars and, after them, only text-bearing strings, and
//! says what it left out.

use serde_json::Value;

use super::{Request, flatten_json, id_value, json_str};
use crate::body::BodyFormat;
use crate::model::{Event, RawField};

/// Scalars of a payload kept in `raw` whatever they are.
pub const MAX_SCALARS: usize = 200;
/// Hard cap on payload entries in `raw` (text-bearing strings past the first
/// [`MAX_SCALARS`] included).
pub const MAX_RAW: usize = 2000;

/// The `raw` key that records what was left out.
pub const TRUNCATED_KEY: &str = "_leakscope.truncated";

/// Flattens a payload into `raw`, bounded: numbers and structure only for the
/// first scalars, strings with letters in them (the ones that can be typed
/// text or page content) up to [`MAX_RAW`].
fn push_payload(prefix: &str, v: &Value, raw: &mut Vec<RawField>) {
    let mut flat = Vec::new();
    flatten_json(prefix, v, &mut flat);
    let total = flat.len();
    let mut kept = 0usize;
    for (i, (k, s)) in flat.into_iter().enumerate() {
        let texty =
            s.chars().any(char::is_alphabetic) && s != "null" && s != "true" && s != "false";
        if (i < MAX_SCALARS || texty) && kept < MAX_RAW {
            raw.push((k, s));
            kept += 1;
        }
    }
    if kept < total {
        raw.push((
            TRUNCATED_KEY.to_owned(),
            format!(
                "kept {kept} of {total} payload scalars (the first {MAX_SCALARS}, then text only, at most {MAX_RAW})"
            ),
        ));
    }
}

/// A body that is not JSON: its text when it is text, a note when it is not.
fn push_body_text(req: &Request<'_>, raw: &mut Vec<RawField>) {
    match req.body.format {
        BodyFormat::Empty => raw.push(("_leakscope.body".into(), "(no body captured)".into())),
        BodyFormat::Binary => raw.push((
            "_leakscope.body".into(),
            format!("({} bytes of binary data)", req.body.bytes.len()),
        )),
        _ => raw.push(("body".into(), req.body.text().into_owned())),
    }
}

fn first_str(v: &Value, keys: &[&str]) -> Option<String> {
    keys.iter()
        .find_map(|k| v.get(*k).and_then(json_str).filter(|s| !s.is_empty()))
}

// ------------------------------------------------------------------ Hotjar

pub fn decode_hotjar(req: &Request<'_>, out: &mut Vec<Event>) -> Result<(), String> {
    let segs: Vec<&str> = req
        .url
        .path_segments()
        .map(|s| s.filter(|x| !x.is_empty()).collect())
        .unwrap_or_default();
    // `/api/v2/client/sites/<site>/<what>` names both the site and the upload.
    let site_pos = segs.iter().position(|s| *s == "sites");
    let site_in_path = site_pos.and_then(|i| segs.get(i + 1)).copied();
    let what = match site_pos {
        Some(i) => segs.get(i + 2..).map(|r| r.join("/")).unwrap_or_default(),
        None => segs.last().map(|s| (*s).to_owned()).unwrap_or_default(),
    };
    let host = req.url.host_str().unwrap_or("");
    let kind = if host.starts_with("content.") {
        "content".to_owned()
    } else if segs.last() == Some(&"ws") {
        "ws".to_owned()
    } else if what.is_empty() {
        "upload".to_owned()
    } else {
        what
    };
    let json = req.body.json();
    let mut ev = req.event(format!("hotjar:{kind}"), upload_format(req));
    ev.account_id = site_in_path
        .map(str::to_owned)
        .or_else(|| req.query.get_nonempty("site_id").map(str::to_owned))
        .or_else(|| json.as_ref().and_then(|j| first_str(j, &["site_id"])));
    if let Some(j) = &json {
        ev.page_url = first_str(j, &["url", "page_url", "href"]);
        ev.referrer = first_str(j, &["referrer"]);
        if let Some(u) = first_str(j, &["user_id"]) {
            ev.ids.push(id_value("hotjar_user", "user_id", &u));
        }
        if let Some(s) = first_str(j, &["session_id"]) {
            ev.ids.push(id_value("hotjar_session", "session_id", &s));
        }
    }
    let mut raw = req.query.pairs().to_vec();
    match &json {
        Some(j) => push_payload("", j, &mut raw),
        None => push_body_text(req, &mut raw),
    }
    ev.raw = raw;
    out.push(ev);
    Ok(())
}

fn upload_format(req: &Request<'_>) -> &'static str {
    match req.body.format {
        BodyFormat::Empty => "query",
        f => f.as_str(),
    }
}

// ------------------------------------------------------------------ FullStory

pub fn decode_fullstory(req: &Request<'_>, out: &mut Vec<Event>) -> Result<(), String> {
    let path = req.url.path();
    let kind = if path.starts_with("/rec/page") {
        "page"
    } else if path.starts_with("/rec/bundle") {
        "bundle"
    } else {
        path.rsplit('/').find(|s| !s.is_empty()).unwrap_or("upload")
    };
    let json = req.body.json();
    let q = &req.query;
    let get = |k: &str| {
        q.get_nonempty(k)
            .map(str::to_owned)
            .or_else(|| json.as_ref().and_then(|j| first_str(j, &[k])))
    };
    let mut ev = req.event(format!("fullstory:{kind}"), upload_format(req));
    ev.account_id = get("OrgId");
    ev.page_url = json.as_ref().and_then(|j| first_str(j, &["Url", "url"]));
    ev.referrer = json
        .as_ref()
        .and_then(|j| first_str(j, &["Referrer", "referrer"]));
    for (key, kind) in [
        ("UserId", "fullstory_uid"),
        ("SessionId", "fullstory_session"),
        ("PageId", "fullstory_page"),
    ] {
        if let Some(v) = get(key) {
            ev.ids.push(id_value(kind, key, &v));
        }
    }
    if let Some(Value::Array(evts)) = json.as_ref().and_then(|j| j.get("Evts")) {
        // A summary of what the bundle recorded: how many of each kind.
        let mut kinds: serde_json::Map<String, Value> = serde_json::Map::new();
        for e in evts {
            let k = e
                .get("Kind")
                .and_then(json_str)
                .unwrap_or_else(|| "?".into());
            let n = kinds.get(&k).and_then(Value::as_u64).unwrap_or(0) + 1;
            kinds.insert(k, Value::from(n));
        }
        ev.custom_data
            .insert("event_count".into(), Value::from(evts.len()));
        ev.custom_data.insert("kinds".into(), Value::Object(kinds));
    }
    if let Some(seq) = get("Seq") {
        ev.custom_data.insert("Seq".into(), Value::String(seq));
    }
    let mut raw = q.pairs().to_vec();
    match &json {
        Some(j) => push_payload("", j, &mut raw),
        None => push_body_text(req, &mut raw),
    }
    ev.raw = raw;
    out.push(ev);
    Ok(())
}

// ------------------------------------------------------------------ Clarity

/// Envelope positions (clarity-js `data/envelope.ts`).
const ENVELOPE: [&str; 12] = [
    "version",
    "sequence",
    "start",
    "duration",
    "projectId",
    "userId",
    "sessionId",
    "pageNum",
    "upload",
    "end",
    "applicationPlatform",
    "url",
];

pub fn decode_clarity(req: &Request<'_>, out: &mut Vec<Event>) -> Result<(), String> {
    let json = req.body.json();
    let mut ev = req.event("clarity:upload", upload_format(req));
    let mut raw = req.query.pairs().to_vec();
    let envelope = json
        .as_ref()
        .and_then(|j| j.get("e"))
        .and_then(Value::as_array);
    if let Some(e) = envelope {
        let at = |i: usize| e.get(i).and_then(json_str).filter(|s| !s.is_empty());
        ev.account_id = at(4);
        ev.page_url = at(11);
        if let Some(u) = at(5) {
            ev.ids.push(id_value("clarity_user", "e[5]", &u));
        }
        if let Some(s) = at(6) {
            ev.ids.push(id_value("clarity_session", "e[6]", &s));
        }
        for (i, name) in ENVELOPE.iter().enumerate() {
            if matches!(i, 4 | 5 | 6 | 11) {
                continue;
            }
            if let Some(v) = e.get(i) {
                ev.custom_data.insert((*name).to_owned(), v.clone());
            }
        }
        if let Some(j) = &json {
            for part in ["a", "p"] {
                if let Some(Value::Array(a)) = j.get(part) {
                    ev.custom_data
                        .insert(format!("{part}_count"), Value::from(a.len()));
                }
            }
        }
    }
    match &json {
        Some(j) => push_payload("", j, &mut raw),
        None => push_body_text(req, &mut raw),
    }
    ev.raw = raw;
    out.push(ev);
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::{MAX_RAW, TRUNCATED_KEY};
    use crate::Engine;
    use crate::model::{Exchange, Header, Source, Vendor};
    use proptest::prelude::*;

    fn gz(b: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(b).unwrap();
        e.finish().unwrap()
    }

    fn raw<'a>(e: &'a crate::model::Event, k: &str) -> Option<&'a str> {
        e.raw
            .iter()
            .find(|(rk, _)| rk == k)
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn real_hotjar_visit_data() {
        // gatewayrehab.org capture (markup-high-cost-of-free).
        let mut ex = Exchange::post(Source::new("t", 0), 
            "https://in.hotjar.com/api/v2/client/sites/2455436/visit-data?sv=7",
            "text/plain; charset=UTF-8",
            br#"{"r_value":0.6038647342995169,"is_vpv":false,"session_only":false,"rec_value":0.01,"user_id":"503a75de-88dc-5817-a5ac-a5372ab42af2"}"#.to_vec(),
        );
        ex.page_url = Some("https://www.gatewayrehab.org/".into());
        let ev = Engine::new().events(&ex).unwrap();
        assert_eq!(ev.len(), 1);
        let e = &ev[0];
        assert_eq!(e.vendor, Vendor::Hotjar);
        assert_eq!(e.event, "hotjar:visit-data");
        assert_eq!(e.account_id.as_deref(), Some("2455436"));
        assert_eq!(e.page_url.as_deref(), Some("https://www.gatewayrehab.org/"));
        assert_eq!(e.ids[0].kind, "hotjar_user");
        assert_eq!(e.ids[0].value, "503a75de-88dc-5817-a5ac-a5372ab42af2");
        // Exact number text survives.
        assert_eq!(raw(e, "r_value"), Some("0.6038647342995169"));
        assert_eq!(raw(e, "sv"), Some("7"));
    }

    #[test]
    fn hotjar_gzip_content_snapshot_keeps_page_text() {
        // content.hotjar.io DOM upload, as in the nystateofhealth capture,
        // with made-up page text.
        let mut nodes = String::new();
        for i in 0..400 {
            nodes.push_str(&format!(
                r#"{{"nodeType":1,"id":{i},"tagName":"DIV","attributes":{{}}}},"#
            ));
        }
        let snap = format!(
            r#"{{"docType":"<!DOCTYPE html>","rootId":1,"children":[{nodes}{{"nodeType":3,"id":9999,"textContent":"Your HIV test result is ready, Jane Canary"}}]}}"#
        );
        let ex = Exchange::post(
            Source::new("t", 0),
            "https://content.hotjar.io/?site_id=5156901&gzip=1",
            "text/plain; charset=UTF-8",
            gz(snap.as_bytes()),
        );
        let e = &Engine::new().events(&ex).unwrap()[0];
        assert_eq!(e.event, "hotjar:content");
        assert_eq!(e.account_id.as_deref(), Some("5156901"));
        assert_eq!(e.transport.encodings, vec!["gzip"]);
        assert!(
            e.raw
                .iter()
                .any(|(_, v)| v == "Your HIV test result is ready, Jane Canary"),
            "typed/page text kept past the scalar limit"
        );
        assert!(raw(e, TRUNCATED_KEY).is_some());
        assert!(e.raw.len() < MAX_RAW + 10);
    }

    #[test]
    fn fullstory_page_and_bundle() {
        let page = Exchange::post(Source::new("t", 0), 
            "https://rs.fullstory.com/rec/page",
            "application/json",
            br#"{"OrgId":"o-1CANRY-na1","UserId":"5012345678901234567","Url":"https://therapy.example/intake?step=2","Referrer":"https://search.example/","PageStart":1700000000000}"#.to_vec(),
        );
        let e = &Engine::new().events(&page).unwrap()[0];
        assert_eq!(e.vendor, Vendor::Fullstory);
        assert_eq!(e.event, "fullstory:page");
        assert_eq!(e.account_id.as_deref(), Some("o-1CANRY-na1"));
        assert_eq!(
            e.page_url.as_deref(),
            Some("https://therapy.example/intake?step=2")
        );
        assert_eq!(e.referrer.as_deref(), Some("https://search.example/"));
        assert_eq!(e.ids[0].kind, "fullstory_uid");
        assert_eq!(e.ids[0].value, "5012345678901234567");

        let bundle = Exchange::post(Source::new("t", 0), 
            "https://rs.fullstory.com/rec/bundle/v2?OrgId=o-1CANRY-na1&UserId=5012345678901234567&SessionId=6543210987654321&PageId=111&Seq=9",
            "text/plain",
            br#"{"Seq":9,"When":162400,"Evts":[{"When":1,"Kind":16,"Args":[42,"button"]},{"When":2,"Kind":2,"Args":[7,"jane.doe.canary@example.com"]},{"When":3,"Kind":16,"Args":[43]}]}"#.to_vec(),
        );
        let e = &Engine::new().events(&bundle).unwrap()[0];
        assert_eq!(e.event, "fullstory:bundle");
        assert_eq!(e.account_id.as_deref(), Some("o-1CANRY-na1"));
        assert_eq!(e.custom_data["event_count"], 3);
        assert_eq!(e.custom_data["kinds"]["16"], 2);
        assert!(
            e.ids
                .iter()
                .any(|i| i.kind == "fullstory_session" && i.value == "6543210987654321")
        );
        assert_eq!(
            raw(e, "Evts[1].Args[1]"),
            Some("jane.doe.canary@example.com")
        );
    }

    #[test]
    fn real_fullstory_bundle_keeps_typed_text() {
        // Blacklight's key-logging label in the corpus holds a real bundle
        // body in which a tester typed "TheMarkup" (Kind 18 = input value).
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/corpus/general/blacklight-collector/veteransunited-1.0.3.inspection.json"
        );
        let doc: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).expect("corpus present")).unwrap();
        let kl = &doc["reports"]["key_logging"]["fullstory.com"][0];
        let ex = Exchange::post(
            Source::new("t", 0),
            kl["post_request_url"].as_str().unwrap(),
            "text/plain",
            kl["post_data"].as_str().unwrap().as_bytes().to_vec(),
        );
        let e = &Engine::new().events(&ex).unwrap()[0];
        assert_eq!(e.event, "fullstory:bundle");
        assert_eq!(e.account_id.as_deref(), Some("1002V"));
        assert!(
            e.ids
                .iter()
                .any(|i| i.kind == "fullstory_uid" && i.value == "6184795159805952")
        );
        assert_eq!(e.custom_data["Seq"], "8");
        assert!(e.custom_data["kinds"]["18"].as_u64().unwrap() >= 9);
        assert!(
            e.raw.iter().any(|(_, v)| v == "TheMarkup"),
            "typed text kept"
        );
    }

    #[test]
    fn clarity_gzip_envelope() {
        let body = r#"{"e":["0.8.1",3,12000,5000,"kxdc4874py","1abcdef","2ghijkl",1,0,0,0,"https://pharmacy.example/rx/refill"],"a":[[12000,5,"Refill prescription"]],"p":[[12001,9,"sertraline 50mg"]]}"#;
        let mut ex = Exchange::post(
            Source::new("t", 0),
            "https://k.clarity.ms/collect",
            "text/plain",
            gz(body.as_bytes()),
        );
        ex.request_headers
            .push(Header::new("Accept", "application/x-clarity-gzip"));
        let e = &Engine::new().events(&ex).unwrap()[0];
        assert_eq!(e.vendor, Vendor::Clarity);
        assert_eq!(e.event, "clarity:upload");
        assert_eq!(e.account_id.as_deref(), Some("kxdc4874py"));
        assert_eq!(
            e.page_url.as_deref(),
            Some("https://pharmacy.example/rx/refill")
        );
        assert_eq!(e.ids[0].kind, "clarity_user");
        assert_eq!(e.ids[1].kind, "clarity_session");
        assert_eq!(e.custom_data["sequence"], 3);
        assert_eq!(e.custom_data["a_count"], 1);
        assert_eq!(raw(e, "p[0][2]"), Some("sertraline 50mg"));
    }

    #[test]
    fn real_clarity_upload_without_captured_body() {
        // bewellnm.com capture: the HAR kept no body for the gzip upload.
        let mut ex = Exchange::get(Source::new("t", 0), "https://l.clarity.ms/collect");
        ex.method = "POST".into();
        ex.request_headers
            .push(Header::new("Accept", "application/x-clarity-gzip"));
        ex.page_url = Some("https://www.bewellnm.com/".into());
        let ev = Engine::new().events(&ex).unwrap();
        assert_eq!(ev.len(), 1);
        assert_eq!(ev[0].account_id, None);
        assert_eq!(ev[0].page_url.as_deref(), Some("https://www.bewellnm.com/"));
        assert_eq!(raw(&ev[0], "_leakscope.body"), Some("(no body captured)"));
    }

    #[test]
    fn recorder_scripts_are_not_events() {
        for url in [
            "https://static.hotjar.com/c/hotjar-5156901.js?sv=7",
            "https://www.clarity.ms/tag/oyljg3v3uy",
            "https://edge.fullstory.com/s/fs.js",
            "https://vc.hotjar.io/sessions/1436451?s=0.25",
        ] {
            let ev = Engine::new()
                .events(&Exchange::get(Source::new("t", 0), url))
                .unwrap();
            assert!(ev.is_empty(), "{url}");
        }
    }

    proptest! {
        #[test]
        fn never_panics(q in "[ -~]{0,100}", body in proptest::collection::vec(any::<u8>(), 0..300), gzip in any::<bool>()) {
            let body = if gzip { gz(&body) } else { body };
            for url in [
                "https://in.hotjar.com/api/v2/client/sites/1/visit-data",
                "https://content.hotjar.io/",
                "https://rs.fullstory.com/rec/bundle/v2",
                "https://k.clarity.ms/collect",
            ] {
                let ex = Exchange::post(Source::new("t", 0), format!("{url}?{q}"), "", body.clone());
                let ev = Engine::new().events(&ex).unwrap();
                prop_assert_eq!(ev.len(), 1);
            }
        }

        #[test]
        fn json_payloads_never_panic(j in "\\{\"e\":(\\[\\]|\\[1,2,3,4,5\\]|\\[(null|1|\"x\"|\\{\\}),?\\]|null|\"s\"),\"Evts\":(\\[\\{\\}\\]|1|\\[\\{\"Kind\":\\[\\]\\}\\])\\}") {
            for url in ["https://k.clarity.ms/collect", "https://rs.fullstory.com/rec/page"] {
                let ex = Exchange::post(Source::new("t", 0), url, "application/json", j.clone().into_bytes());
                let _ = Engine::new().events(&ex);
            }
        }
    }
}
