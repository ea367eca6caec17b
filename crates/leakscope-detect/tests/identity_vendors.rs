//! Identity detector on events decoded by the engine from realistic
//! requests of each vendor (made-up people; hashes of made-up values).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use leakscope_core::{Engine, Event, Exchange, HashAlgo, Header, Source};
use leakscope_detect::identity::identify;
use leakscope_detect::{IdClass, IdentityEvidence};
use sha2::{Digest, Sha256};

const EMAIL: &str = "jane.doe.canary@example.com";

fn sha(s: &str) -> String {
    format!("{:x}", Sha256::digest(s.as_bytes()))
}

fn events(ex: &Exchange) -> Vec<Event> {
    let evs = Engine::new().events(ex).expect("decodes");
    assert!(!evs.is_empty(), "no event for {}", ex.url);
    evs
}

fn with_page(mut ex: Exchange) -> Exchange {
    ex.page_url = Some("https://pharmacy.example/refill".into());
    ex
}

fn find<'a>(ids: &'a [IdentityEvidence], kind: &str, field: &str) -> &'a IdentityEvidence {
    ids.iter()
        .find(|x| x.kind == kind && x.field == field)
        .unwrap_or_else(|| panic!("no {kind} at {field} in {ids:#?}"))
}

#[test]
fn meta_pixel_advanced_matching_cookies_and_placeholders() {
    let url = format!(
        "https://www.facebook.com/tr/?id=1234567890123456&ev=Lead&dl=https%3A%2F%2Fpharmacy.example%2Frefill\
         &ud[em]={}&ud[ph]={}&ud[fn]={}&ud[ct]={}&ud[country]={}&ud[external_id]={}&fbp=fb.1.1715794001001.1234567890",
        sha(EMAIL),
        sha("15550100199"),
        sha("test"),
        sha("menlopark"),
        sha("us"),
        sha(""),
    );
    let mut ex = with_page(Exchange::get(Source::new("t", 0), url));
    ex.request_headers.push(Header::new(
        "Cookie",
        "c_user=100000000000001; datr=AbCdEfGhIjKlMnOp; _fbp=fb.1.1715794001001.1234567890",
    ));
    let ev = &events(&ex)[0];
    let ids = identify(ev);

    let em = find(&ids, "email", "ud[em]");
    assert_eq!(
        (em.class, em.hashed, em.algorithm, em.counts),
        (IdClass::Hashed, true, Some(HashAlgo::Sha256), true)
    );
    assert!(em.is_strong());
    assert!(find(&ids, "phone", "ud[ph]").is_strong());
    assert!(find(&ids, "city", "ud[ct]").counts);

    // sha256("test") in ud[fn], as in real captures: identifies no one.
    let first = find(&ids, "first_name", "ud[fn]");
    assert!(!first.counts);
    assert_eq!(
        first.note.as_deref(),
        Some("SHA-256 of \"test\": identifies no one")
    );
    let ext = find(&ids, "external_id", "ud[external_id]");
    assert!(!ext.counts);
    assert_eq!(
        ext.note.as_deref(),
        Some("SHA-256 of the empty string: identifies no one")
    );
    // A country alone singles out no one.
    assert!(!find(&ids, "country", "ud[country]").counts);

    // c_user: the Facebook account itself.
    let c_user = find(&ids, "c_user", "cookie:c_user");
    assert_eq!(c_user.class, IdClass::Platform);
    assert!(c_user.is_strong());
    assert!(
        c_user
            .note
            .as_deref()
            .unwrap()
            .contains("Facebook login cookie")
    );
    assert_eq!(find(&ids, "fbp", "fbp").class, IdClass::Platform);
    assert_eq!(find(&ids, "datr", "cookie:datr").class, IdClass::Platform);
    // Deduplicated by (kind, field).
    let mut keys: Vec<(&str, &str)> = ids
        .iter()
        .map(|x| (x.kind.as_str(), x.field.as_str()))
        .collect();
    let n = keys.len();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), n);
}

#[test]
fn capi_user_data_hashes_and_network_fields() {
    let body = serde_json::json!({"data": [{
        "event_name": "Purchase",
        "event_time": 1715794001,
        "action_source": "website",
        "event_source_url": "https://pharmacy.example/checkout",
        "user_data": {
            "em": [sha(EMAIL), sha("")],
            "ph": [sha("15550100199")],
            "client_ip_address": "203.0.113.7",
            "client_user_agent": "Mozilla/5.0 (X11; Linux x86_64)",
            "fbc": "fb.1.1715794001001.IwAR0canary",
            "fbp": "fb.1.1715794001001.1234567890"
        },
        "custom_data": {"currency": "USD", "value": 12.5, "content_name": "Canaryzole 20mg"}
    }]})
    .to_string();
    let ex = Exchange::post(
        Source::new("t", 1),
        "https://graph.facebook.com/v19.0/1234567890123456/events",
        "application/json",
        body,
    );
    let ev = &events(&ex)[0];
    assert!(ev.server_side);
    let ids = identify(ev);
    let em0 = find(&ids, "email", "data[0].user_data.em[0]");
    assert!(em0.counts && em0.hashed);
    assert!(!find(&ids, "email", "data[0].user_data.em[1]").counts);
    let ip = find(&ids, "ip_address", "data[0].user_data.client_ip_address");
    assert_eq!(
        (ip.class, ip.hashed, ip.counts),
        (IdClass::Network, false, true)
    );
    assert!(!ip.is_strong());
    let ua = find(&ids, "user_agent", "data[0].user_data.client_user_agent");
    assert_eq!(ua.class, IdClass::Network);
    assert!(
        ids.iter()
            .any(|x| x.kind == "fbc" && x.class == IdClass::Platform)
    );
}

#[test]
fn capi_with_only_ip_and_user_agent_is_network_only() {
    let body = serde_json::json!({"data": [{
        "event_name": "ViewContent",
        "event_time": 1715794001,
        "action_source": "website",
        "user_data": {"client_ip_address": "2001:db8::7", "client_user_agent": "Mozilla/5.0"}
    }]})
    .to_string();
    let ex = Exchange::post(
        Source::new("t", 2),
        "https://graph.facebook.com/v19.0/1234567890123456/events",
        "application/json",
        body,
    );
    let ids = identify(&events(&ex)[0]);
    assert!(!ids.is_empty());
    assert!(ids.iter().all(|x| x.class == IdClass::Network), "{ids:#?}");
    assert!(!ids.iter().any(IdentityEvidence::is_strong));
}

#[test]
fn tiktok_context_user_email_hashed() {
    let body = serde_json::json!({
        "event": "CompletePayment",
        "message_id": "messageId-1715794001783-1",
        "context": {
            "ad": {"callback": "E.C.P.canaryclick"},
            "user": {"anonymous_id": "01HXCANARYTTP.tt.1", "email": sha(EMAIL), "phone_number": sha("+15550100199")},
            "pixel": {"code": "C97F14JC77U63IDI7U40"},
            "page": {"url": "https://pharmacy.example/checkout", "referrer": ""}
        },
        "properties": {"value": 1, "currency": "USD"}
    })
    .to_string();
    let ex = with_page(Exchange::post(
        Source::new("t", 3),
        "https://analytics.tiktok.com/api/v2/pixel",
        "text/plain;charset=UTF-8",
        body,
    ));
    let ids = identify(&events(&ex)[0]);
    let em = ids.iter().find(|x| x.kind == "email").expect("email");
    assert_eq!(
        (em.class, em.algorithm),
        (IdClass::Hashed, Some(HashAlgo::Sha256))
    );
    assert!(em.field.contains("email"), "{}", em.field);
    assert!(ids.iter().any(|x| x.kind == "phone" && x.hashed));
    assert!(
        ids.iter()
            .any(|x| x.kind == "ttp" && x.class == IdClass::Platform),
        "{ids:#?}"
    );
}

#[test]
fn ga4_user_provided_data_base64url_sha256() {
    let b64 = URL_SAFE_NO_PAD.encode(Sha256::digest(EMAIL.as_bytes()));
    let url = format!(
        "https://region1.google-analytics.com/g/collect?v=2&tid=G-CANARY123&cid=1234567890.1715794001\
         &en=purchase&dl=https%3A%2F%2Fpharmacy.example%2Fcheckout&em=tv.1~em.{b64}~co0.US"
    );
    let ex = with_page(Exchange::get(Source::new("t", 4), url));
    let ids = identify(&events(&ex)[0]);
    let em = ids.iter().find(|x| x.kind == "email").expect("email");
    assert_eq!((em.class, em.hashed), (IdClass::Hashed, true));
    assert!(em.counts);
    assert!(
        ids.iter()
            .any(|x| x.kind == "ga_client_id" && x.class == IdClass::Platform)
    );
    // co0=US: a country, plain and not counted on its own.
    let co = ids.iter().find(|x| x.kind == "country").expect("country");
    assert!(!co.counts && !co.hashed);
}

#[test]
fn snap_u_hem_with_flag_prefix() {
    let body = format!(
        "pid=b2ade379-a55e-4ca7-893b-b9fac04c843f&ev=PURCHASE&pl=https%3A%2F%2Fpharmacy.example%2Fcheckout\
         &u_hem=FFF{}&u_c1=842d7ddb-e7ea-478c-85a7-cd256905dd2c",
        sha(EMAIL)
    );
    let ex = with_page(Exchange::post(
        Source::new("t", 5),
        "https://tr.snapchat.com/p",
        "application/x-www-form-urlencoded",
        body,
    ));
    let ids = identify(&events(&ex)[0]);
    let em = find(&ids, "email", "u_hem");
    assert!(em.hashed && em.counts);
    let empty = format!("FFF{}", sha(""));
    assert_eq!(
        leakscope_detect::identity::placeholder_hash(&empty),
        Some("SHA-256 of the empty string: identifies no one")
    );
    assert!(ids.iter().any(|x| x.kind == "scid"));
}

#[test]
fn reddit_auto_em_list() {
    let url = format!(
        "https://alb.reddit.com/rp.gif?ts=1715794001783&id=t2_canary1&event=Purchase&auto_em={},{}&uuid=c6959068-f901-4338-a393-7dda9cbd1fc3",
        sha(EMAIL),
        sha("other.person.canary@example.com")
    );
    let ex = with_page(Exchange::get(Source::new("t", 6), url));
    let ids = identify(&events(&ex)[0]);
    let emails: Vec<&IdentityEvidence> = ids.iter().filter(|x| x.kind == "email").collect();
    assert_eq!(emails.len(), 2, "{ids:#?}");
    assert!(emails.iter().all(|x| x.hashed && x.counts));
}

#[test]
fn plain_email_and_phone_in_custom_data_and_page_url() {
    let url = "https://www.facebook.com/tr/?id=1234567890123456&ev=SubmitApplication\
        &dl=https%3A%2F%2Fclinic.example%2Fintake%3Femail%3Dj.doe.canary2%2540example.com\
        &cd[note]=Call%20me%3A%20jane.doe.canary%40example.com&cd[phone]=%2B1%20555%20010%200199\
        &cd[ts]=1715794001783&cd[price]=1234.56&cd[logo]=%2Fimg%2Flogo%402x.png&cd[contact]=test%40test.com";
    let ex = Exchange::get(Source::new("t", 7), url);
    let ev = &events(&ex)[0];
    let ids = identify(ev);
    let note = find(&ids, "email", "custom_data.note");
    assert_eq!(
        (note.class, note.hashed, note.counts),
        (IdClass::Direct, false, true)
    );
    assert!(find(&ids, "email", "dl").counts);
    assert!(find(&ids, "phone", "custom_data.phone").counts);
    let test = find(&ids, "email", "custom_data.contact");
    assert!(!test.counts, "test@test.com is a placeholder");
    // Timestamps, prices and image names are not identifiers.
    assert!(
        !ids.iter().any(|x| x.field.contains("ts")
            || x.field.contains("price")
            || x.field.contains("logo")),
        "{ids:#?}"
    );
}

#[test]
fn placeholder_ids_do_not_count() {
    let url = "https://analytics.twitter.com/i/adsct?p_id=Twitter&p_user_id=0&txn_id=o7z1d&events=%5B%5B%22pageview%22%2Cnull%5D%5D&tw_document_href=https%3A%2F%2Fclinic.example%2F";
    let ex = Exchange::get(Source::new("t", 8), url);
    let ids = identify(&events(&ex)[0]);
    if let Some(x) = ids.iter().find(|x| x.kind == "x_partner_user_id") {
        assert!(!x.counts, "{x:?}");
    }
    assert!(!ids.iter().any(IdentityEvidence::is_strong), "{ids:#?}");
}
