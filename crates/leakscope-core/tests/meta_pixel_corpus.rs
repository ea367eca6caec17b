//! Every real Meta Pixel request in the shared corpus decodes to a
//! `meta_pixel` event with the event name, pixel id and page URL that the
//! request itself carries. The oracle is a plain form-urlencoded parse of the
//! request, independent of the decoder's own parameter handling.

use std::path::PathBuf;

use leakscope_core::{Engine, Exchange, Source, Vendor};

fn corpus(rel: &str) -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/corpus"
    ))
    .join(rel)
}

/// `(ev, id, dl)` as the wire says, from a query or form string.
fn oracle(q: &str) -> (Option<String>, Option<String>, Option<String>) {
    let mut ev = None;
    let mut id = None;
    let mut dl = None;
    for (k, v) in url::form_urlencoded::parse(q.as_bytes()) {
        let slot = match &*k {
            "ev" => &mut ev,
            "id" => &mut id,
            "dl" => &mut dl,
            _ => continue,
        };
        if slot.is_none() && !v.is_empty() {
            *slot = Some(v.into_owned());
        }
    }
    (ev, id, dl)
}

#[test]
fn every_real_pixel_url_decodes() {
    let text = std::fs::read_to_string(corpus("meta_pixel_urls.txt")).expect("corpus present");
    let engine = Engine::new();
    let mut n = 0;
    for (i, url) in text.lines().filter(|l| !l.trim().is_empty()).enumerate() {
        let ex = Exchange::get(Source::new("meta_pixel_urls.txt", i as u64), url);
        let events = engine
            .events(&ex)
            .unwrap_or_else(|e| panic!("line {i}: {e}"));
        assert_eq!(events.len(), 1, "line {i}: {url}");
        let e = &events[0];
        let (ev, id, dl) = oracle(url.split_once('?').map(|x| x.1).unwrap_or(""));
        assert_eq!(e.vendor, Vendor::MetaPixel, "line {i}");
        assert_eq!(
            Some(e.event.clone()),
            ev.or(Some("(no ev)".into())),
            "line {i}: {url}"
        );
        assert_eq!(e.account_id, id, "line {i}: {url}");
        assert_eq!(e.page_url, dl, "line {i}: {url}");
        n += 1;
    }
    assert!(n >= 145, "expected the 145 corpus URLs, read {n}");
}

#[test]
fn every_real_pixel_post_decodes() {
    let text = std::fs::read_to_string(corpus("meta_pixel_posts.jsonl")).expect("corpus present");
    let engine = Engine::new();
    let mut n = 0;
    let mut multipart = 0;
    for (i, line) in text.lines().enumerate() {
        let v: serde_json::Value = serde_json::from_str(line).expect("valid jsonl");
        let s = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
        let mut ex = Exchange::post(
            Source::new("meta_pixel_posts.jsonl", i as u64),
            s("url"),
            &s("mime"),
            s("body"),
        );
        ex.method = s("method");
        let events = engine
            .events(&ex)
            .unwrap_or_else(|e| panic!("line {i}: {e}"));
        assert_eq!(events.len(), 1, "line {i}");
        let e = &events[0];
        assert_eq!(e.vendor, Vendor::MetaPixel);
        // Oracle: the multipart parts or the form body, read independently.
        let body = s("body");
        let (ev, id, dl) = if s("mime").starts_with("multipart/") {
            multipart += 1;
            assert_eq!(e.transport.format, "multipart", "line {i}");
            let mut q = String::new();
            for part in body.split("------WebKitFormBoundary").skip(1) {
                let Some((head, val)) = part.split_once("\r\n\r\n") else {
                    continue;
                };
                let Some(name) = head
                    .split("name=\"")
                    .nth(1)
                    .and_then(|r| r.split('"').next())
                else {
                    continue;
                };
                let val = val.trim_end_matches("\r\n");
                q.push_str(&format!(
                    "{}={}&",
                    name,
                    url::form_urlencoded::byte_serialize(val.as_bytes()).collect::<String>()
                ));
            }
            oracle(&q)
        } else {
            assert_eq!(e.transport.format, "form", "line {i}");
            oracle(&body)
        };
        assert_eq!(Some(e.event.clone()), ev, "line {i}");
        assert_eq!(e.account_id, id, "line {i}");
        assert_eq!(e.page_url, dl, "line {i}");
        // Microdata carries the page's metadata: the title is surfaced.
        if e.event == "Microdata" {
            assert!(
                e.custom_data.contains_key("Meta") || e.custom_data.contains_key("DataLayer"),
                "line {i}"
            );
        }
        n += 1;
    }
    assert_eq!(n, 31);
    assert_eq!(multipart, 20);
}
