//! Our look-alike tags must say what the real ones say: what Chromium sends
//! from a fixture page is fed to leakscope-core's decoders (tested on real
//! captures) and must come out as the right vendor, account, event and page.

mod common;

use leakscope_core::{Engine, Event, Exchange, Header, Source, Vendor};
use leakscope_sites::pharmacy::{FIXTURE_CONSENT_IGNORED, FIXTURE_PATIENT_EMAIL};
use leakscope_sites::trackers::{GA4_ID, META_PIXEL_ID, TIKTOK_CODE};
use leakscope_sites::{PHARMACY_HOST, SinkRecord, SiteServer, pharmacy};

fn exchange(i: usize, r: &SinkRecord) -> Exchange {
    let source = Source::new("sink", i as u64);
    let mut ex = if r.method == "GET" {
        Exchange::get(source, r.url())
    } else {
        Exchange::post(
            source,
            r.url(),
            r.header("content-type").unwrap_or(""),
            r.body.clone(),
        )
    };
    ex.method.clone_from(&r.method);
    ex.request_headers = r
        .headers
        .iter()
        .map(|(n, v)| Header {
            name: n.clone(),
            value: v.clone(),
        })
        .collect();
    ex
}

/// SHA-256 and base64 of [`FIXTURE_PATIENT_EMAIL`] (checked with Python's
/// hashlib; wire-formats.md §15.2 lists the same hash).
const EMAIL_SHA256: &str = "9b1c839d08d785404fa95b6210c7fb8b1a17271aeb925c1e86cba0e1f7701945";
const EMAIL_BASE64: &str = "amFuZS5jYW5hcnkrcng3QGV4YW1wbGUuY29t";

fn email_hash(e: &Event) -> Option<&str> {
    e.user_data
        .iter()
        .find(|u| u.key == "em")
        .map(|u| u.value.as_str())
}

fn find<'e>(events: &'e [Event], vendor: Vendor, name: &str) -> &'e Event {
    events
        .iter()
        .find(|e| e.vendor == vendor && e.event == name)
        .unwrap_or_else(|| {
            let seen: Vec<_> = events
                .iter()
                .map(|e| (e.vendor, e.event.as_str()))
                .collect();
            panic!("no {vendor:?} {name}; decoded: {seen:?}")
        })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_the_tags_send_decodes_like_the_real_vendors() {
    let Some(bin) = common::chromium() else {
        eprintln!("skipped: no Chromium at /usr/lib/chromium/chromium (set LEAKSCOPE_CHROMIUM)");
        return;
    };
    let srv = SiteServer::start(pharmacy()).await.expect("start");
    let page = srv.url(PHARMACY_HOST, FIXTURE_CONSENT_IGNORED);
    common::dump_dom(&bin, &srv, &page).await;

    let engine = Engine::new();
    let mut analyzer = engine.analyzer();
    for (i, r) in srv.sink.all().iter().enumerate() {
        if r.host != PHARMACY_HOST {
            analyzer.feed(&exchange(i, r));
        }
    }
    let analysis = analyzer.finish();
    assert!(
        analysis.errors.is_empty(),
        "decode errors: {:?}",
        analysis.errors
    );
    let events = analysis.events;

    let pv = find(&events, Vendor::MetaPixel, "PageView");
    assert_eq!(pv.account_id.as_deref(), Some(META_PIXEL_ID));
    assert_eq!(pv.page_url.as_deref(), Some(page.as_str()));
    assert_eq!(
        pv.page_title.as_deref(),
        Some("Consent ignored | Northwind Pharmacy")
    );
    assert!(pv.ids.iter().any(|id| id.kind == "fbp"), "{:?}", pv.ids);
    // The privacy-sandbox copy of the hit is linked to it, not counted twice.
    assert!(
        pv.request_url.contains("/tr/") && !pv.twins.is_empty(),
        "{} twins {:?}",
        pv.request_url,
        pv.twins
    );
    // Manual advanced matching, hashed in the page by our pure-JS SHA-256
    // (plain http is not a secure context: no crypto.subtle).
    assert_eq!(FIXTURE_PATIENT_EMAIL, "jane.canary+rx7@example.com");
    assert_eq!(email_hash(pv), Some(EMAIL_SHA256), "{:?}", pv.user_data);
    assert!(pv.user_data.iter().all(|u| u.key != "em" || u.hashed));
    find(&events, Vendor::MetaPixel, "Microdata");

    let ga = find(&events, Vendor::Ga4, "page_view");
    assert_eq!(ga.account_id.as_deref(), Some(GA4_ID));
    assert_eq!(ga.page_url.as_deref(), Some(page.as_str()));
    assert_eq!(
        ga.page_title.as_deref(),
        Some("Consent ignored | Northwind Pharmacy")
    );

    let tt = find(&events, Vendor::Tiktok, "Pageview");
    assert_eq!(tt.account_id.as_deref(), Some(TIKTOK_CODE));
    assert_eq!(tt.page_url.as_deref(), Some(page.as_str()));
    assert!(tt.ids.iter().any(|id| id.kind == "ttp"), "{:?}", tt.ids);
    let seen = find(&events, Vendor::Tiktok, "ViewContent");
    assert_eq!(email_hash(seen), Some(EMAIL_SHA256), "{:?}", seen.user_data);
    assert!(
        seen.raw
            .iter()
            .any(|(k, v)| k.ends_with("_inspection.aem") && v == EMAIL_BASE64),
        "{:?}",
        seen.raw
    );
}
