//! Hostile pages end as clear errors or incidents within their timeouts, and
//! the browser stays usable after each of them.

mod common;

use std::time::{Duration, Instant};

use common::*;
use leakscope_browser::{BrowserError, IncidentKind, TabOptions};

async fn still_works(browser: &leakscope_browser::Browser) {
    let cap = capture_page(browser, "http://fixtures.test/beacon.html").await;
    assert!(
        cap.iter().any(|c| c.url.ends_with("/collect")),
        "browser still captures"
    );
    assert!(browser.is_alive());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_pages_end_as_errors_or_incidents_and_the_browser_survives() {
    tokio::time::timeout(TEST_LIMIT, async {
        let Some((srv, browser)) = setup().await else { return };

        // Endless redirects: Chromium gives up, we say why.
        let tab = browser.new_tab(TabOptions::default()).await.unwrap();
        let err = tab.goto("http://fixtures.test/redirect-loop", Duration::from_secs(20)).await.unwrap_err();
        assert!(matches!(&err, BrowserError::Navigation { error, .. } if error.contains("TOO_MANY_REDIRECTS")), "{err}");
        let cap = tab.close().await;
        let hops: Vec<_> = cap.iter().filter(|c| c.url.contains("/redirect-loop")).collect();
        assert!(hops.len() >= 20, "each hop captured: {}", hops.len());
        assert!(hops.iter().filter(|c| c.response.as_ref().is_some_and(|r| r.status == 302)).count() >= 19);
        assert!(hops.iter().skip(1).all(|c| c.redirected_from.is_some()));
        still_works(&browser).await;

        // A page that never finishes: a timeout, on time, and the tab goes on.
        let tab = browser.new_tab(TabOptions::default()).await.unwrap();
        let t0 = Instant::now();
        let err = tab.goto("http://fixtures.test/never-ends", Duration::from_secs(3)).await.unwrap_err();
        assert!(matches!(err, BrowserError::Timeout { .. }), "{err}");
        assert!(t0.elapsed() < Duration::from_secs(10), "took {:?}", t0.elapsed());
        visit(&tab, "http://fixtures.test/pixel.html").await;
        let cap = tab.close().await;
        let doc = cap.iter().find(|c| c.url.ends_with("/never-ends")).expect("hung document captured");
        assert!(doc.failure.is_some() || !doc.finished, "{doc:?}");
        assert!(cap.iter().any(|c| c.url.contains("ev=PageView")));
        still_works(&browser).await;

        // Dialogs are dismissed and the page's script carries on.
        srv.sink.clear();
        let tab = browser.new_tab(TabOptions::default()).await.unwrap();
        visit(&tab, "http://fixtures.test/dialogs.html").await;
        let inc = tab.incidents();
        let cap = tab.close().await;
        assert_eq!(inc.iter().filter(|i| i.kind == IncidentKind::Dialog).count(), 3, "{inc:?}");
        let after = cap.iter().find(|c| c.url.ends_with("/after-dialogs")).expect("script ran on");
        assert_eq!(after.body.as_deref(), Some(&b"confirm=false&prompt=null"[..]));

        // A popup is captured, then closed.
        let tab = browser.new_tab(TabOptions::default()).await.unwrap();
        tab.goto("http://fixtures.test/index.html", Duration::from_secs(20)).await.unwrap();
        tab.evaluate("window.open('http://fixtures.test/popup-inner.html'); 1", Duration::from_secs(5)).await.unwrap();
        // The popup loads on its own; poll (bounded) for its beacon.
        let mut cap = Vec::new();
        let t0 = Instant::now();
        while !cap.iter().any(|c: &leakscope_browser::Captured| c.url.ends_with("/from-popup"))
            && t0.elapsed() < Duration::from_secs(20)
        {
            tokio::time::sleep(Duration::from_millis(200)).await;
            cap.extend(tab.take_requests());
        }
        let inc = tab.incidents();
        cap.extend(tab.close().await);
        assert!(inc.iter().any(|i| i.kind == IncidentKind::Popup), "{inc:?}");
        assert!(cap.iter().any(|c| c.url.ends_with("/from-popup")), "popup traffic captured");

        // A download is denied and reported.
        let tab = browser.new_tab(TabOptions::default()).await.unwrap();
        let r = tab.goto("http://fixtures.test/download", Duration::from_secs(10)).await;
        tab.wait_quiet(Duration::from_millis(500), Duration::from_secs(3)).await;
        let inc = tab.incidents();
        tab.close().await;
        assert!(inc.iter().any(|i| i.kind == IncidentKind::Download), "{r:?} {inc:?}");
        assert!(std::fs::read_dir(".").unwrap().all(|e| !e.unwrap().file_name().to_string_lossy().contains("records")));

        // A 20 MB body: kept up to the cap, marked truncated.
        let tab = browser.new_tab(TabOptions::default()).await.unwrap();
        visit(&tab, "http://fixtures.test/huge.html").await;
        let cap = tab.close().await;
        let huge = cap.iter().find(|c| c.url.ends_with("/huge")).expect("huge POST captured");
        let b = huge.body.as_deref().unwrap_or_default();
        assert!(b.starts_with(b"marker=canary-huge-h1&pad=aaaa"), "{:?}", &b[..b.len().min(40)]);
        assert!(b.len() <= leakscope_browser::MAX_BODY);
        assert!(huge.body_truncated);

        // Infinite scroll: bounded waits still end.
        let tab = browser.new_tab(TabOptions::default()).await.unwrap();
        visit(&tab, "http://fixtures.test/scroll.html").await;
        for _ in 0..5 {
            tab.evaluate("window.scrollTo(0, document.body.scrollHeight); 1", Duration::from_secs(5)).await.unwrap();
            tab.wait_quiet(Duration::from_millis(200), Duration::from_secs(2)).await;
        }
        let cap = tab.close().await;
        assert!(cap.iter().filter(|c| c.url.ends_with("/scroll")).count() >= 3);

        // Script errors are errors, not panics.
        let tab = browser.new_tab(TabOptions::default()).await.unwrap();
        let err = tab.evaluate("throw new Error('canary boom')", Duration::from_secs(5)).await.unwrap_err();
        assert!(matches!(&err, BrowserError::Js(m) if m.contains("canary boom")), "{err}");
        let png = tab.screenshot().await.unwrap();
        assert!(png.starts_with(b"\x89PNG"));
        tab.goto("http://fixtures.test/pixel.html", Duration::from_secs(20)).await.unwrap();
        let dom = tab.dom_snapshot().await.unwrap();
        assert!(dom.starts_with("<!DOCTYPE html>") && dom.contains("Refill your prescription"), "{dom}");
        tab.close().await;

        still_works(&browser).await;
        browser.close().await;
    })
    .await
    .expect("test timed out");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_browser_is_reported_not_hung() {
    tokio::time::timeout(TEST_LIMIT, async {
        let Some((_srv, browser)) = setup().await else {
            return;
        };
        let tab = browser.new_tab(TabOptions::default()).await.unwrap();
        visit(&tab, "http://fixtures.test/pixel.html").await;
        let pid = browser.pid().expect("pid");
        // SIGKILL, as an OOM kill would.
        std::process::Command::new("kill")
            .args(["-9", &pid.to_string()])
            .status()
            .unwrap();
        let t0 = Instant::now();
        while browser.is_alive() && t0.elapsed() < Duration::from_secs(10) {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(!browser.is_alive());
        let err = tab
            .goto("http://fixtures.test/beacon.html", Duration::from_secs(5))
            .await
            .unwrap_err();
        assert!(matches!(err, BrowserError::Crashed(_)), "{err}");
        let cap = tab.close().await;
        assert!(
            cap.iter().any(|c| c.url.contains("ev=PageView")),
            "what was captured is kept"
        );
        assert!(matches!(
            browser.new_tab(TabOptions::default()).await,
            Err(BrowserError::Crashed(_))
        ));
        browser.close().await;
    })
    .await
    .expect("test timed out");
}
