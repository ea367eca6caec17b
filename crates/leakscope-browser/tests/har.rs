//! HAR round trip: what the browser captured, written as HAR and read back by
//! leakscope-ingest, gives the same exchanges and the same decoded events.

mod common;

use common::*;
use leakscope_browser::har;
use leakscope_core::{Engine, Source};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn har_round_trip_keeps_exchanges_and_decoded_events() {
    tokio::time::timeout(TEST_LIMIT, async {
        let Some((_srv, browser)) = setup().await else {
            return;
        };
        let tab = browser
            .new_tab(leakscope_browser::TabOptions::default())
            .await
            .unwrap();
        tab.set_consent(Some("rejected".into()));
        tab.set_step(Some("rejected/1-all".into()));
        visit(&tab, "http://fixtures.test/all.html").await;
        tab.set_step(Some("rejected/2-ws".into()));
        visit(&tab, "http://fixtures.test/ws.html").await;
        let cap = tab.close().await;
        assert!(cap.len() >= 10, "{}", cap.len());

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.har");
        har::write_har(&path, &cap, &browser.info()).unwrap();
        let label = "run.har";
        let mut back = Vec::new();
        let mut warnings = Vec::new();
        leakscope_ingest::read_path(&path, label, &mut |e| back.push(e), &mut |w| {
            warnings.push(w)
        })
        .unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        let ours: Vec<_> = cap
            .iter()
            .enumerate()
            .map(|(i, c)| c.to_exchange(Source::new(label, i as u64)))
            .collect();
        assert_eq!(ours.len(), back.len());
        for (a, b) in ours.iter().zip(&back) {
            assert_eq!(
                (&a.method, &a.url, &a.consent, &a.step),
                (&b.method, &b.url, &b.consent, &b.step)
            );
            assert_eq!(
                a.body.as_ref().map(|x| &x.bytes),
                b.body.as_ref().map(|x| &x.bytes),
                "{}",
                a.url
            );
            assert_eq!(a.frame_url, b.frame_url);
            assert_eq!(a.page_url, b.page_url, "{}", a.url);
            assert_eq!(a.resource_type, b.resource_type);
            assert_eq!(a.initiator, b.initiator, "{}", a.url);
        }
        assert!(
            ours.iter()
                .all(|e| e.consent.as_deref() == Some("rejected"))
        );
        assert!(
            ours.iter()
                .any(|e| e.method == "WS" && e.step.as_deref() == Some("rejected/2-ws"))
        );

        let engine = Engine::new();
        let decode = |xs: &[leakscope_core::Exchange]| {
            let mut out = Vec::new();
            for x in xs {
                if let Ok(evs) = engine.events(x) {
                    out.extend(evs);
                }
            }
            out
        };
        let (ev_a, ev_b) = (decode(&ours), decode(&back));
        let meta: Vec<_> = ev_a
            .iter()
            .filter(|e| e.vendor == leakscope_core::Vendor::MetaPixel)
            .collect();
        assert!(meta.iter().any(|e| e.event == "PageView"), "{meta:#?}");
        assert!(
            meta.iter().any(|e| e.event == "Lead"),
            "the form POST decodes: {meta:#?}"
        );
        assert!(
            meta.iter().any(|e| e.event == "ViewContent"),
            "the iframe pixel decodes"
        );
        assert_eq!(ev_a, ev_b, "same events from the capture and from its HAR");
        browser.close().await;
    })
    .await
    .expect("test timed out");
}
