//! The Northwind demo over loopback: routes, tag scripts and tracker
//! endpoints with a plain HTTP client, then one real-Chromium smoke test
//! (skipped when Chromium is not installed).

mod common;

use std::time::Duration;

use leakscope_sites::pharmacy::{
    FIXTURE_BUTTON_TEXT, FIXTURE_CONSENT_IGNORED, FIXTURE_CONSENT_RESPECTED,
};
use leakscope_sites::trackers::{GA4_ID, META_PIXEL_ID, TIKTOK_CODE};
use leakscope_sites::{PHARMACY_HOST, SiteServer, pharmacy};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

const LIMIT: Duration = Duration::from_secs(20);

struct Reply {
    status: u16,
    head: String,
    body: Vec<u8>,
}

impl Reply {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_owned())
        })
    }
}

/// Minimal HTTP/1.1 client: one request, `Connection: close`, no chunking
/// expected beyond what we strip (axum sends Content-Length for these).
async fn http(
    srv: &SiteServer,
    method: &str,
    host: &str,
    target: &str,
    body: &str,
    extra: &str,
) -> Reply {
    let fut = async {
        let mut s = TcpStream::connect(srv.addr).await.expect("connect");
        let req = format!(
            "{method} {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: {}\r\n{extra}\r\n{body}",
            body.len()
        );
        s.write_all(req.as_bytes()).await.expect("write");
        let mut out = Vec::new();
        s.read_to_end(&mut out).await.expect("read");
        out
    };
    let raw = timeout(LIMIT, fut).await.expect("request timed out");
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("no end of headers");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status");
    Reply {
        status,
        head,
        body: raw[split + 4..].to_vec(),
    }
}

async fn get(srv: &SiteServer, host: &str, target: &str) -> Reply {
    http(srv, "GET", host, target, "", "").await
}

#[tokio::test]
async fn site_pages_exist_with_their_forms_and_tags() {
    let srv = SiteServer::start(pharmacy()).await.expect("start");
    let home = get(&srv, PHARMACY_HOST, "/").await;
    assert_eq!(home.status, 200);
    let html = home.text();
    for needle in [
        "<form role=\"search\" action=\"/search\"",
        "name=\"q\"",
        "href=\"tel:+15555550142\"",
        "/static/otSDKStub.js",
        // TikTok runs outside the consent manager, Meta and GA4 are gated.
        "<script>\n(function(w,d,name){w.TiktokAnalyticsObject",
        &format!("q.load('{TIKTOK_CODE}')"),
        "<script type=\"text/plain\" class=\"optanon-category-C0004\" data-gpc-optout>",
        &format!("fbq('init','{META_PIXEL_ID}')"),
        &format!("gtag('config','{GA4_ID}')"),
        "href=\"/store-hours\"",
        "href=\"/about\"",
    ] {
        assert!(html.contains(needle), "home page lacks {needle:?}");
    }

    let search = get(&srv, PHARMACY_HOST, "/search?q=plan+b").await.text();
    assert!(search.contains("/drugs/levonorgestrel-1-5mg"), "{search}");
    assert!(search.contains(r#"fbq('track','Search',{"search_string":"plan b""#));
    assert!(search.contains(r#"gtag('event','search',{"search_term":"plan b"})"#));
    assert!(search.contains(r#"ttq.track('Search',{"query":"plan b"})"#));
    assert!(search.contains("value=\"plan b\""));

    let drug = get(&srv, PHARMACY_HOST, "/drugs/truvada").await;
    assert_eq!(drug.status, 200);
    let drug = drug.text();
    assert!(drug.contains(
        "<title>Truvada (emtricitabine/tenofovir DF 200/300 mg) | Northwind Pharmacy</title>"
    ));
    assert!(drug.contains("fbq('track','ViewContent',{\"content_name\":\"Truvada"));
    assert!(drug.contains("\"content_category\":\"HIV PrEP\""));
    assert!(drug.contains("gtag('event','view_item',"));
    assert!(drug.contains("ttq.track('ViewContent',"));
    assert!(drug.contains(">Add to cart</button>"));
    assert!(drug.contains("application/ld+json"));
    for slug in ["levonorgestrel-1-5mg", "sertraline-50mg"] {
        assert_eq!(
            get(&srv, PHARMACY_HOST, &format!("/drugs/{slug}"))
                .await
                .status,
            200
        );
    }
    assert_eq!(get(&srv, PHARMACY_HOST, "/drugs/nope").await.status, 404);

    let refill = get(&srv, PHARMACY_HOST, "/pharmacy/refill").await.text();
    for field in [
        "first_name",
        "last_name",
        "email",
        "phone",
        "dob",
        "rx_number",
        "notes",
    ] {
        assert!(
            refill.contains(&format!("name=\"{field}\"")),
            "refill form lacks {field}"
        );
    }
    assert!(refill.contains(">Refill prescription</button>"));

    let book = get(
        &srv,
        PHARMACY_HOST,
        "/appointments/book?service=hiv-prep-consultation",
    )
    .await
    .text();
    assert!(book.contains(
        "<option value=\"hiv-prep-consultation\" selected>HIV PrEP consultation</option>"
    ));
    assert!(book.contains("Birth control consultation"));
    assert!(book.contains(">Book appointment</button>"));

    for path in [
        "/about",
        "/store-hours",
        "/privacy",
        "/drugs",
        "/static/site.css",
        "/static/site.js",
        "/static/otSDKStub.js",
    ] {
        assert_eq!(get(&srv, PHARMACY_HOST, path).await.status, 200, "{path}");
    }
    let consent = get(&srv, PHARMACY_HOST, "/static/otSDKStub.js")
        .await
        .text();
    for id in [
        "onetrust-banner-sdk",
        "onetrust-accept-btn-handler",
        "onetrust-reject-all-handler",
        "OnetrustActiveGroups",
        "OptanonConsent",
    ] {
        assert!(consent.contains(id), "consent script lacks {id}");
    }
}

#[tokio::test]
async fn forms_redirect_to_confirmations_that_repeat_the_choice() {
    let srv = SiteServer::start(pharmacy()).await.expect("start");
    let r = http(
        &srv,
        "POST",
        PHARMACY_HOST,
        "/pharmacy/refill",
        "first_name=Jane&last_name=Canary&email=jane.canary%40example.com&rx_number=RX-7654321&medication=sertraline-50mg&store=0421&notes=dizzy",
        "Content-Type: application/x-www-form-urlencoded\r\n",
    )
    .await;
    assert_eq!(r.status, 303);
    let loc = r.header("location").expect("location");
    assert_eq!(
        loc,
        "/pharmacy/refill/confirmation?rx=RX-7654321&medication=sertraline-50mg&store=0421"
    );
    let done = get(&srv, PHARMACY_HOST, &loc).await.text();
    assert!(done.contains("Sertraline 50 mg tablets (Zoloft)"));

    let r = http(
        &srv,
        "POST",
        PHARMACY_HOST,
        "/appointments/book",
        "service=hiv-prep-consultation&date=2026-12-03&store=0421&email=x%40example.com",
        "Content-Type: application/x-www-form-urlencoded\r\n",
    )
    .await;
    assert_eq!(r.status, 303);
    let loc = r.header("location").expect("location");
    assert!(
        loc.starts_with("/appointments/confirmation?service=hiv-prep-consultation&date=2026-12-03"),
        "{loc}"
    );
    assert!(
        get(&srv, PHARMACY_HOST, &loc)
            .await
            .text()
            .contains("HIV PrEP consultation")
    );

    let cart = http(
        &srv,
        "POST",
        PHARMACY_HOST,
        "/api/cart",
        r#"{"sku":"NW-300300"}"#,
        "Content-Type: application/json\r\n",
    )
    .await;
    assert_eq!(cart.status, 200);
    let bad = http(&srv, "POST", PHARMACY_HOST, "/api/cart", "not json", "").await;
    assert_eq!(bad.status, 400);
    assert!(bad.text().contains("sku"));
}

#[tokio::test]
async fn tracker_hosts_serve_tags_and_answer_like_the_real_ones() {
    let srv = SiteServer::start(pharmacy()).await.expect("start");
    let fbevents = get(&srv, "connect.facebook.net", "/en_US/fbevents.js").await;
    assert_eq!(fbevents.status, 200);
    assert!(
        fbevents
            .header("content-type")
            .unwrap_or_default()
            .contains("javascript")
    );
    let js = fbevents.text();
    for needle in [
        "SubscribedButtonClick",
        "buttonFeatures",
        "formFeatures",
        "'ud['",
        "formPOST",
        "__nwSha256",
        "Microdata",
    ] {
        assert!(js.contains(needle), "fbevents.js lacks {needle}");
    }
    let config = get(
        &srv,
        "connect.facebook.net",
        "/signals/config/1234567890123456?v=2.9.176&r=stable",
    )
    .await;
    assert!(config.text().contains("__nwConfig('1234567890123456'"));
    let hostile = get(
        &srv,
        "connect.facebook.net",
        "/signals/config/1');alert(1)//",
    )
    .await;
    assert!(
        !hostile.text().contains("alert"),
        "config echoes only digits"
    );

    let gtag = get(
        &srv,
        "www.googletagmanager.com",
        &format!("/gtag/js?id={GA4_ID}"),
    )
    .await
    .text();
    assert!(gtag.contains("/g/collect") && gtag.contains("form_submit_text"));
    let ttq = get(
        &srv,
        "analytics.tiktok.com",
        &format!("/i18n/pixel/events.js?sdkid={TIKTOK_CODE}&lib=ttq"),
    )
    .await
    .text();
    assert!(
        ttq.contains("/api/v2/pixel")
            && ttq.contains("_inspection")
            && ttq.contains("anonymous_id")
    );

    let px = get(&srv, "www.facebook.com", "/tr/?id=1&ev=PageView").await;
    assert_eq!(px.status, 200);
    assert!(px.body.starts_with(b"GIF89a"));
    let px_post = http(
        &srv,
        "POST",
        "www.facebook.com",
        "/tr/",
        "id=1&ev=Lead",
        "Content-Type: application/x-www-form-urlencoded\r\n",
    )
    .await;
    assert_eq!(px_post.status, 200);
    let ga = http(
        &srv,
        "POST",
        "region1.google-analytics.com",
        "/g/collect?v=2&tid=G-X",
        "en=page_view",
        "",
    )
    .await;
    assert_eq!(ga.status, 204);
    let tt = http(
        &srv,
        "POST",
        "analytics.tiktok.com",
        "/api/v2/pixel",
        "{}",
        "",
    )
    .await;
    assert_eq!(tt.status, 200);
    assert!(tt.text().contains("\"code\":0"));
    // Unknown paths on tracker hosts never fail.
    for (host, path) in [
        (
            "www.facebook.com",
            "/privacy_sandbox/pixel/register/trigger/",
        ),
        ("analytics.tiktok.com", "/api/v2/pixel/act"),
        ("connect.facebook.net", "/x.js"),
    ] {
        assert!(get(&srv, host, path).await.status < 300, "{host}{path}");
    }
    let tr_hits = srv.sink.to_host("facebook.com");
    assert!(
        tr_hits
            .iter()
            .any(|r| r.method == "POST" && r.body == b"id=1&ev=Lead")
    );
}

#[tokio::test]
async fn consent_fixtures_differ_only_in_gating() {
    let srv = SiteServer::start(pharmacy()).await.expect("start");
    let good = get(&srv, PHARMACY_HOST, FIXTURE_CONSENT_RESPECTED)
        .await
        .text();
    assert!(good.contains("/static/otSDKStub.js"));
    assert!(
        good.contains(
            "<script type=\"text/plain\" class=\"optanon-category-C0004\">\n(function(w,d,name)"
        ),
        "TikTok gated"
    );
    assert!(!good.contains("<script>\n(function(w,d,name)"));
    let bad = get(&srv, PHARMACY_HOST, FIXTURE_CONSENT_IGNORED)
        .await
        .text();
    assert!(bad.contains("/static/otSDKStub.js"));
    assert!(!bad.contains("type=\"text/plain\""), "nothing gated");
    let button = get(&srv, PHARMACY_HOST, FIXTURE_BUTTON_TEXT).await.text();
    assert!(button.contains(">Check my HIV test results</button>"));
    assert!(button.contains("<script>\n(function(w,d){if(w.fbq)"));
    assert!(!button.contains("otSDKStub"));
}

#[tokio::test]
async fn sec_gpc_header_is_reflected_for_the_consent_script() {
    let srv = SiteServer::start(pharmacy()).await.expect("start");
    let on = http(&srv, "GET", PHARMACY_HOST, "/", "", "Sec-GPC: 1\r\n")
        .await
        .text();
    assert!(on.contains("<html lang=\"en\" data-gpc=\"1\">"));
    let off = get(&srv, PHARMACY_HOST, "/").await.text();
    assert!(off.contains("data-gpc=\"0\""));
}

/// Loads the home page in headless Chromium and clicks nothing: the banner is
/// shown, TikTok has already reported the page view, Meta and GA4 have not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_without_consent_sees_tiktok_but_not_meta() {
    let Some(bin) = common::chromium() else {
        eprintln!("skipped: no Chromium at /usr/lib/chromium/chromium (set LEAKSCOPE_CHROMIUM)");
        return;
    };
    let srv = SiteServer::start(pharmacy()).await.expect("start");
    let dom = common::dump_dom(&bin, &srv, &srv.url(PHARMACY_HOST, "/")).await;
    assert!(
        dom.contains("id=\"onetrust-banner-sdk\""),
        "banner not in DOM:\n{dom}"
    );

    let tiktok: Vec<_> = srv
        .sink
        .to_host("analytics.tiktok.com")
        .into_iter()
        .filter(|r| r.method == "POST" && r.target.starts_with("/api/v2/pixel"))
        .collect();
    let pageview = tiktok
        .iter()
        .find_map(|r| {
            let v: serde_json::Value = serde_json::from_slice(&r.body).ok()?;
            (v["event"] == "Pageview").then_some(v)
        })
        .expect("TikTok Pageview before any consent");
    assert_eq!(pageview["context"]["pixel"]["code"], TIKTOK_CODE);
    assert!(
        pageview["context"]["page"]["url"]
            .as_str()
            .is_some_and(|u| u.starts_with("http://northwind-pharmacy.test:")),
        "{pageview}"
    );
    assert!(
        srv.sink.to_host("facebook.com").is_empty(),
        "Meta hit without consent"
    );
    assert!(
        srv.sink.to_host("connect.facebook.net").is_empty(),
        "Meta tag loaded without consent"
    );
    assert!(
        srv.sink.to_host("google-analytics.com").is_empty(),
        "GA4 hit without consent"
    );
}

/// The contrast case: a banner that gates every tag lets nothing out before
/// a choice, while the consent-ignored page reaches all three vendors.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_consent_fixtures_gate_or_leak_before_any_choice() {
    let Some(bin) = common::chromium() else {
        eprintln!("skipped: no Chromium at /usr/lib/chromium/chromium (set LEAKSCOPE_CHROMIUM)");
        return;
    };
    let srv = SiteServer::start(pharmacy()).await.expect("start");
    let trackers = |srv: &SiteServer| -> Vec<String> {
        srv.sink
            .all()
            .into_iter()
            .filter(|r| {
                [
                    "facebook.net",
                    "facebook.com",
                    "googletagmanager.com",
                    "google-analytics.com",
                    "tiktok.com",
                ]
                .iter()
                .any(|t| r.host == *t || r.host.ends_with(&format!(".{t}")))
            })
            .map(|r| r.url())
            .collect()
    };
    let dom = common::dump_dom(
        &bin,
        &srv,
        &srv.url(PHARMACY_HOST, FIXTURE_CONSENT_RESPECTED),
    )
    .await;
    assert!(dom.contains("id=\"onetrust-reject-all-handler\""), "{dom}");
    assert_eq!(
        trackers(&srv),
        Vec::<String>::new(),
        "a tracker was contacted before consent"
    );

    srv.sink.clear();
    common::dump_dom(&bin, &srv, &srv.url(PHARMACY_HOST, FIXTURE_CONSENT_IGNORED)).await;
    let hit = trackers(&srv);
    for host in [
        "www.facebook.com/tr",
        "region1.google-analytics.com/g/collect",
        "analytics.tiktok.com/api/v2/pixel",
    ] {
        assert!(hit.iter().any(|u| u.contains(host)), "no {host} in {hit:?}");
    }
}
