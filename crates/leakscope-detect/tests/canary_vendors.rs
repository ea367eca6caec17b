//! Canaries in each vendor's real transport (wire-formats.md §2–§11), and
//! in an unknown third party's collector.

use std::io::Write;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use leakscope_core::{CanaryHit, Engine, Exchange, Source, Vendor};
use leakscope_detect::{Canary, CanaryMatcher, Detector, Pipeline};
use sha2::{Digest, Sha256};

const EMAIL: &str = "jane.canary+rx7@example.com";
const SHA256: &str = "9b1c839d08d785404fa95b6210c7fb8b1a17271aeb925c1e86cba0e1f7701945";
const PHONE: &str = "+1 (555) 010-0199";

fn matcher() -> CanaryMatcher {
    CanaryMatcher::new(&[Canary::new(EMAIL), Canary::new(PHONE)]).unwrap()
}

fn sha(s: &str) -> String {
    format!("{:x}", Sha256::digest(s.as_bytes()))
}

fn hits_of(ex: &Exchange) -> Vec<(String, String, String)> {
    matcher()
        .scan(ex)
        .into_iter()
        .map(|h: CanaryHit| (h.value_kind, h.field, h.chain))
        .collect()
}

fn t(kind: &str, field: &str, chain: &str) -> (String, String, String) {
    (kind.into(), field.into(), chain.into())
}

#[test]
fn meta_pixel_get_with_hashed_advanced_matching() {
    let url = format!(
        "https://www.facebook.com/tr/?id=1234567890123456&ev=Lead&dl=https%3A%2F%2Fpharmacy.example%2Frefill\
         &ud[em]={SHA256}&ud[ph]={}",
        sha("15550100199")
    );
    let ex = Exchange::get(Source::new("t", 0), url);
    assert_eq!(
        hits_of(&ex),
        [
            t("email", "url.query.ud[em]", "sha256(normalize_email)"),
            t("phone", "url.query.ud[ph]", "sha256(normalize_phone)"),
        ]
    );
}

#[test]
fn meta_pixel_form_post_brackets_percent_encoded() {
    let body = format!("id=1&ev=Lead&ud%5Bem%5D={SHA256}");
    let ex = Exchange::post(
        Source::new("t", 0),
        "https://www.facebook.com/tr/",
        "application/x-www-form-urlencoded",
        body,
    );
    assert_eq!(
        hits_of(&ex),
        [t("email", "body.form[ud[em]]", "sha256(normalize_email)")]
    );
}

#[test]
fn capi_json_user_data_em_array() {
    let body = serde_json::json!({"data": [{"event_name": "Purchase", "event_time": 1715794001,
        "user_data": {"em": [sha("someone.else@example.com"), SHA256], "client_ip_address": "203.0.113.7"}}]})
    .to_string();
    let ex = Exchange::post(
        Source::new("t", 0),
        "https://graph.facebook.com/v19.0/1234567890123456/events",
        "application/json",
        body,
    );
    assert_eq!(
        hits_of(&ex),
        [t(
            "email",
            "body.json.data[0].user_data.em[1]",
            "sha256(normalize_email)"
        )]
    );
}

#[test]
fn ga4_em_parameter_base64url_sha256() {
    let b64 = URL_SAFE_NO_PAD.encode(Sha256::digest(EMAIL.as_bytes()));
    assert_eq!(b64, "mxyDnQjXhUBPqVtiEMf7ixoXJxrrklwehsug4fdwGUU");
    let pn = URL_SAFE_NO_PAD.encode(Sha256::digest(b"+15550100199"));
    let url = format!(
        "https://region1.google-analytics.com/g/collect?v=2&tid=G-CANARY123&cid=1.2&en=purchase&em=tv.1~em.{b64}~pn.{pn}"
    );
    let ex = Exchange::get(Source::new("t", 0), url);
    assert_eq!(
        hits_of(&ex),
        [
            t(
                "email",
                "url.query.em",
                "base64url(sha256(normalize_email))"
            ),
            t("phone", "url.query.em", "base64url(sha256(e164_phone))"),
        ]
    );
}

#[test]
fn tiktok_json_context_user_email() {
    let body = serde_json::json!({"event": "CompletePayment",
        "context": {"user": {"email": SHA256, "phone_number": sha("+15550100199")},
                    "pixel": {"code": "C97F14JC77U63IDI7U40"}}})
    .to_string();
    let ex = Exchange::post(
        Source::new("t", 0),
        "https://analytics.tiktok.com/api/v2/pixel",
        "text/plain;charset=UTF-8",
        body,
    );
    assert_eq!(
        hits_of(&ex),
        [
            t(
                "email",
                "body.json.context.user.email",
                "sha256(normalize_email)"
            ),
            t(
                "phone",
                "body.json.context.user.phone_number",
                "sha256(e164_phone)"
            ),
        ]
    );
}

#[test]
fn tiktok_get_fallback_base64_analytics_message() {
    let json =
        serde_json::json!({"event": "Lead", "context": {"user": {"email": SHA256}}}).to_string();
    let url = format!(
        "https://analytics.tiktok.com/api/v2/pixel?analytics_message={}",
        STANDARD.encode(json).replace('=', "%3D")
    );
    let ex = Exchange::get(Source::new("t", 0), url);
    assert_eq!(
        hits_of(&ex),
        [t(
            "email",
            "url.query.analytics_message",
            "url → base64 → json → sha256(normalize_email)"
        )]
    );
}

#[test]
fn linkedin_wa_base64_gzip_json_hem() {
    let json = serde_json::json!({"pids": [5143044], "scriptVersion": 210, "signalType": "CLICK",
        "url": "https://clinic.example/intake", "hem": SHA256})
    .to_string();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(json.as_bytes()).unwrap();
    let body = STANDARD.encode(gz.finish().unwrap());
    let ex = Exchange::post(
        Source::new("t", 0),
        "https://px.ads.linkedin.com/wa/",
        "text/plain;charset=UTF-8",
        body,
    );
    assert_eq!(
        hits_of(&ex),
        [t(
            "email",
            "body.json.hem",
            "base64 → gzip → sha256(normalize_email)"
        )]
    );
}

#[test]
fn snap_u_hem_with_the_fff_flag_prefix() {
    // Real captures carry `FFF` + SHA-256 hex in u_hem (wire-formats §8 decoder note).
    let body = format!(
        "pid=b2ade379-a55e-4ca7-893b-b9fac04c843f&ev=PURCHASE&u_hem=FFF{SHA256}&u_hpn={}",
        sha("15550100199")
    );
    let ex = Exchange::post(
        Source::new("t", 0),
        "https://tr.snapchat.com/p",
        "application/x-www-form-urlencoded",
        body,
    );
    assert_eq!(
        hits_of(&ex),
        [
            t("email", "body.form[u_hem]", "sha256(normalize_email)"),
            t("phone", "body.form[u_hpn]", "sha256(normalize_phone)"),
        ]
    );
}

#[test]
fn reddit_auto_em_list_and_weighted_auto_pn() {
    let url = format!(
        "https://alb.reddit.com/rp.gif?id=t2_canary1&event=Purchase&auto_em={},{SHA256}&auto_pn=0.9~{}|0.1~{}",
        sha("someone.else@example.com"),
        sha("+15550100199"),
        sha("+15550100198"),
    );
    let ex = Exchange::get(Source::new("t", 0), url);
    assert_eq!(
        hits_of(&ex),
        [
            t("email", "url.query.auto_em", "sha256(normalize_email)"),
            t("phone", "url.query.auto_pn", "sha256(e164_phone)"),
        ]
    );
}

#[test]
fn bing_nested_pid_query() {
    let nested = format!("em={SHA256}&ph={}", sha("+15550100199"));
    let url = format!(
        "https://bat.bing.com/action/0?ti=123456&Ver=2&evt=custom&pid={}",
        percent_encoding::utf8_percent_encode(&nested, percent_encoding::NON_ALPHANUMERIC)
    );
    let ex = Exchange::get(Source::new("t", 0), url);
    assert_eq!(
        hits_of(&ex),
        [
            t("email", "url.query.pid", "url → sha256(normalize_email)"),
            t("phone", "url.query.pid", "url → sha256(e164_phone)"),
        ]
    );
}

#[test]
fn unknown_third_party_collector_post() {
    let body = serde_json::json!({"batch": [{"type": "identify", "traits":
        {"contact": EMAIL, "tel": PHONE}, "context": {"page": {"url": "https://clinic.example/intake"}}}]})
    .to_string();
    let mut ex = Exchange::post(
        Source::new("capture.har", 42),
        "https://collector.unknown-analytics.example/ingest",
        "application/json",
        body,
    );
    ex.page_url = Some("https://clinic.example/intake".into());
    assert_eq!(
        hits_of(&ex),
        [
            t("email", "body.json.batch[0].traits.contact", "email"),
            t("phone", "body.json.batch[0].traits.tel", "phone"),
        ]
    );
    // Through the pipeline: no decoder knows the host, the leak is still an event.
    let engine = Engine::new();
    let detector = Detector::new(&[Canary::new(EMAIL)]).unwrap();
    let mut p = Pipeline::new(&engine, &detector);
    p.feed(&ex);
    let report = p.finish();
    assert_eq!(report.events.len(), 1);
    let ev = &report.events[0];
    assert_eq!(ev.vendor, Vendor::Other);
    assert_eq!(ev.canaries.len(), 1);
    assert_eq!(ev.canaries[0].field, "body.json.batch[0].traits.contact");
}
