//! Every tracker request the server received, the capture has too: same
//! method, URL and body, from pages, iframes, workers and service workers.

mod common;

use std::time::Duration;

use common::*;
use leakscope_browser::{Captured, TabOptions, TargetType};

fn find<'a>(cap: &'a [Captured], method: &str, url_part: &str) -> &'a Captured {
    cap.iter()
        .find(|c| c.method == method && c.url.contains(url_part))
        .unwrap_or_else(|| {
            let seen: Vec<_> = cap
                .iter()
                .map(|c| format!("{} {}", c.method, c.url))
                .collect();
            panic!("no {method} {url_part} captured; saw {seen:#?}")
        })
}

fn body(c: &Captured) -> String {
    String::from_utf8_lossy(c.body.as_deref().unwrap_or_default()).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_tracker_request_the_server_got_is_captured_with_its_body() {
    tokio::time::timeout(TEST_LIMIT, async {
        let Some((srv, browser)) = setup().await else {
            return;
        };
        let pages = [
            "pixel.html",
            "form.html",
            "beacon.html",
            "keepalive.html",
            "iframe.html",
            "worker.html",
            "sw.html",
            "ws.html",
        ];
        let mut all = Vec::new();
        for p in pages {
            srv.sink.clear();
            let cap = capture_page(&browser, &format!("http://fixtures.test/{p}")).await;
            let got: Vec<_> = srv
                .sink
                .all()
                .into_iter()
                .filter(|r| is_tracker(&r.host))
                .collect();
            assert!(!got.is_empty(), "{p}: the tracker got nothing");
            for r in &got {
                let hit = cap.iter().any(|c| {
                    c.method == r.method
                        && sink_url(c) == r.url()
                        && c.body.clone().unwrap_or_default() == r.body
                });
                assert!(
                    hit,
                    "{p}: server got {} {} ({} body bytes) but capture has {:#?}",
                    r.method,
                    r.url(),
                    r.body.len(),
                    cap.iter()
                        .map(|c| format!(
                            "{} {} {:?}",
                            c.method,
                            c.url,
                            c.body.as_ref().map(|b| b.len())
                        ))
                        .collect::<Vec<_>>()
                );
            }
            all.extend(cap);
        }

        let px = find(
            &all,
            "GET",
            "https://www.facebook.com/tr?id=1234567890123456&ev=PageView",
        );
        assert_eq!(px.target_type, Some(TargetType::Page));
        assert_eq!(px.resource_type.as_deref(), Some("image"));
        assert_eq!(px.response.as_ref().map(|r| r.status), Some(200));
        assert!(
            px.headers_from_extra_info,
            "raw headers from ExtraInfo: {:?}",
            px.request_headers
        );
        assert_eq!(
            px.page_url.as_deref(),
            Some("http://fixtures.test/pixel.html")
        );

        let form = find(&all, "POST", "https://www.facebook.com/tr/");
        assert!(body(form).contains("ev=Lead"), "{}", body(form));
        assert!(body(form).contains("Canary+Consult+Zr4"), "{}", body(form));

        let beacon = find(&all, "POST", "http://tracker.test/collect");
        assert_eq!(beacon.resource_type.as_deref(), Some("ping"));
        assert_eq!(
            body(beacon),
            "event=symptom&q=canary-symptom-b3&uid=canary-uid-1"
        );

        let ka = find(&all, "POST", "http://tracker.test/keepalive");
        assert!(body(ka).contains("canary-search-k2"));

        let fr = find(&all, "POST", "http://tracker.test/from-iframe");
        assert_eq!(
            fr.target_type,
            Some(TargetType::Iframe),
            "cross-site frame is an OOPIF"
        );
        assert_eq!(
            fr.frame_url.as_deref(),
            Some("http://frame.test/inner.html")
        );
        assert_eq!(
            fr.page_url.as_deref(),
            Some("http://fixtures.test/iframe.html")
        );
        let frpx = find(&all, "GET", "ev=ViewContent");
        assert_eq!(frpx.target_type, Some(TargetType::Iframe));

        let w = find(&all, "POST", "http://tracker.test/from-worker");
        assert_eq!(w.target_type, Some(TargetType::Worker));
        assert_eq!(body(w), "worker=1&q=canary-worker-w8");

        let sw: Vec<_> = all.iter().filter(|c| c.url.ends_with("/from-sw")).collect();
        assert_eq!(
            sw.len(),
            1,
            "service worker attaches twice but its request is kept once"
        );
        assert_eq!(sw[0].target_type, Some(TargetType::ServiceWorker));
        assert_eq!(body(sw[0]), "sw=1&q=canary-sw-s6");

        let ws = find(&all, "WS", "ws://tracker.test/ws");
        assert_eq!(body(ws), r#"{"event":"refill","rx":"canary-ws-r1"}"#);
        browser.close().await;
    })
    .await
    .expect("test timed out");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn steps_consent_headers_and_navigating_away_lose_nothing() {
    tokio::time::timeout(TEST_LIMIT, async {
        let Some((srv, browser)) = setup().await else { return };
        let tab = browser
            .new_tab(TabOptions {
                extra_headers: vec![("Sec-GPC".into(), "1".into())],
                init_scripts: vec![
                    "Object.defineProperty(Navigator.prototype,'globalPrivacyControl',{get:()=>true,configurable:true})".into(),
                ],
                ..TabOptions::default()
            })
            .await
            .unwrap();
        tab.set_consent(Some("gpc".into()));
        tab.set_step(Some("1-beacon".into()));
        visit(&tab, "http://fixtures.test/beacon.html").await;
        assert_eq!(tab.evaluate("navigator.globalPrivacyControl", Duration::from_secs(5)).await.unwrap(), true);
        let first = tab.take_requests();
        assert!(first.iter().all(|c| c.finished));
        tab.set_step(Some("2-away".into()));
        // Start a beacon and leave the page at once: the request must survive.
        tab.evaluate(
            "navigator.sendBeacon('http://tracker.test/leaving', 'bye=canary-leave-l1'); location.href = 'http://fixtures.test/pixel.html'; 1",
            Duration::from_secs(5),
        )
        .await
        .unwrap();
        tab.wait_quiet(Duration::from_millis(700), Duration::from_secs(8)).await;
        let rest = tab.close().await;
        let b = first.iter().find(|c| c.url.ends_with("/collect")).expect("beacon");
        assert_eq!(b.step.as_deref(), Some("1-beacon"));
        assert_eq!(b.consent.as_deref(), Some("gpc"));
        assert_eq!(b.header("sec-gpc"), Some("1"));
        let leave = rest.iter().find(|c| c.url.ends_with("/leaving")).expect("beacon sent while leaving");
        assert_eq!(leave.step.as_deref(), Some("2-away"));
        assert_eq!(leave.body.as_deref(), Some(&b"bye=canary-leave-l1"[..]));
        assert!(rest.iter().any(|c| c.url.contains("ev=PageView")));
        let sunk = srv.sink.to_host("tracker.test");
        assert!(sunk.iter().all(|r| r.header("sec-gpc") == Some("1")), "{sunk:?}");
        browser.close().await;
    })
    .await
    .expect("test timed out");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_scripts_run_before_the_worker_does() {
    tokio::time::timeout(TEST_LIMIT, async {
        let Some((srv, browser)) = setup().await else { return };
        let gpc = "for (const C of [self.Navigator, self.WorkerNavigator]) if (C) Object.defineProperty(C.prototype, 'globalPrivacyControl', {get: () => true, configurable: true});";
        for (with, want) in [(true, "gpc=1"), (false, "gpc=0")] {
            srv.sink.clear();
            let tab = browser
                .new_tab(TabOptions {
                    init_scripts: vec![gpc.into()],
                    worker_scripts: if with { vec![gpc.into()] } else { Vec::new() },
                    ..TabOptions::default()
                })
                .await
                .unwrap();
            for page in ["worker.html", "sw.html"] {
                visit(&tab, &format!("http://fixtures.test/{page}")).await;
            }
            tab.wait_quiet(Duration::from_millis(700), Duration::from_secs(8)).await;
            tab.close().await;
            let seen: Vec<String> = srv.sink.to_host("tracker.test").iter().map(|r| r.url()).collect();
            // The workers' own scripts already see the property.
            for path in ["/worker-gpc?", "/sw-gpc?"] {
                assert!(
                    seen.iter().any(|u| u.contains(path) && u.ends_with(want)),
                    "{path} {want} (worker scripts: {with}); saw {seen:#?}"
                );
            }
        }
        browser.close().await;
    })
    .await
    .expect("test timed out");
}
