//! Unit tests that need the internal chunk-size knob.

use std::io::Write;

use leakscope_core::Exchange;

use crate::{Format, IngestError, Options, Summary, Warning, read_with};

fn run_opts(
    input: &[u8],
    opts: Options,
) -> (Result<Summary, IngestError>, Vec<Exchange>, Vec<Warning>) {
    let mut exs = Vec::new();
    let mut warns = Vec::new();
    let r = read_with(input, "t.har", opts, &mut |e| exs.push(e), &mut |w| {
        warns.push(w)
    });
    (r, exs, warns)
}

fn run(input: &[u8]) -> (Result<Summary, IngestError>, Vec<Exchange>, Vec<Warning>) {
    run_opts(input, Options::default())
}

fn tiny(chunk: usize) -> Options {
    Options {
        chunk,
        max_record: 1 << 20,
    }
}

const HAR: &str = r#"{"log": {"version": "1.2", "creator": {"name": "t", "version": "1"},
 "pages": [{"id": "page_1", "title": "https://clinic.example/book", "startedDateTime": "2026-01-05T10:00:00Z"},
           {"id": "page_2", "title": "Booking"}],
 "entries": [
  {"pageref": "page_1", "startedDateTime": "2026-01-05T10:00:01.000Z", "_resourceType": "ping",
   "_initiator": {"type": "script", "stack": {"callFrames": [], "parent": {"callFrames": [{"url": "https://connect.facebook.net/en_US/fbevents.js"}]}}},
   "request": {"method": "POST", "url": "https://www.facebook.com/tr/",
     "headers": [{"name": "Content-Type", "value": "application/x-www-form-urlencoded"}],
     "cookies": [{"name": "_fbp", "value": "fb.1.1767607200000.555"}, {"name": "c_user", "value": "REDACTED"}],
     "postData": {"mimeType": "application/x-www-form-urlencoded", "text": "aWQ9MTIzNCZldj1MZWFkJnVkW2VtXT1qYW5lLmRvZS5jYW5hcnklNDBleGFtcGxlLmNvbQ==", "encoding": "base64"}},
   "response": {"status": 200, "headers": [{"name": "content-type", "value": "text/plain"}],
     "content": {"size": 4, "text": "}]{\" \\\" {[ \"log\": {\"entries\": ["}}},
  {"pageref": "page_2", "_initiator": "https://clinic.example/app.js",
   "request": {"method": "POST", "url": "https://clinic.example/form?q=\"}]",
     "headers": [{"name": "Cookie", "value": "sid=1"}], "cookies": [{"name": "sid", "value": "1"}],
     "postData": {"mimeType": "application/x-www-form-urlencoded", "params": [{"name": "email", "value": "jane.doe.canary@example.com"}, {"name": "dob", "value": "1990-01-01"}]}},
   "response": {"status": 302, "headers": []}},
  {"request": {"method": "GET", "headers": []}, "response": {"status": 0}},
  {"request": {"method": "GET", "url": "https://region1.google-analytics.com/g/collect?v=2&tid=G-CANARY&en=page_view"}}
 ]}}"#;

fn check_sample(exs: &[Exchange], warns: &[Warning], s: &Summary) {
    assert_eq!(s.format, Format::Har);
    assert_eq!(s.exchanges, 3);
    assert_eq!(s.skipped, 1);
    assert_eq!(exs.len(), 3);
    let a = &exs[0];
    assert_eq!(a.source.entry, 0);
    assert_eq!(&*a.source.file, "t.har");
    assert_eq!(a.method, "POST");
    let body = a.body.as_ref().expect("body");
    assert_eq!(
        body.bytes,
        b"id=1234&ev=Lead&ud[em]=jane.doe.canary%40example.com".to_vec()
    );
    assert_eq!(
        body.content_type.as_deref(),
        Some("application/x-www-form-urlencoded")
    );
    // Cookie header rebuilt from request.cookies since none was captured.
    assert_eq!(
        a.header("cookie"),
        Some("_fbp=fb.1.1767607200000.555; c_user=REDACTED")
    );
    assert_eq!(a.page_url.as_deref(), Some("https://clinic.example/book"));
    assert_eq!(
        a.initiator.as_deref(),
        Some("https://connect.facebook.net/en_US/fbevents.js")
    );
    assert_eq!(a.resource_type.as_deref(), Some("ping"));
    assert_eq!(a.timestamp.as_deref(), Some("2026-01-05T10:00:01.000Z"));
    assert_eq!(a.response.as_ref().map(|r| r.status), Some(200));

    let b = &exs[1];
    assert_eq!(b.url, "https://clinic.example/form?q=\"}]");
    assert_eq!(b.source.entry, 1);
    // A captured Cookie header is kept as is, never doubled.
    assert_eq!(b.cookies().count(), 1);
    let body = b.body.as_ref().expect("params body");
    assert!(body.bytes.is_empty());
    assert_eq!(
        body.params,
        vec![
            (
                "email".to_string(),
                "jane.doe.canary@example.com".to_string()
            ),
            ("dob".to_string(), "1990-01-01".to_string())
        ]
    );
    assert_eq!(b.page_url, None, "page title is not a URL");
    assert_eq!(
        b.initiator.as_deref(),
        Some("https://clinic.example/app.js")
    );

    let c = &exs[2];
    assert_eq!(c.source.entry, 3, "entry index survives a skipped entry");
    assert_eq!(warns.len(), 1);
    assert_eq!(warns[0].position.entry, Some(2));
    let shown = warns[0].to_string();
    assert!(shown.starts_with("t.har: entry 2 (byte "), "{shown}");
    assert!(shown.contains("request.url"), "{shown}");
}

#[test]
fn har_fields_and_skips() {
    let (r, exs, warns) = run(HAR.as_bytes());
    check_sample(&exs, &warns, &r.expect("reads"));
}

#[test]
fn every_chunk_size_gives_the_same_result() {
    // Entries, strings with braces and escaped quotes, keys: all cut at every possible place.
    for chunk in [1, 2, 3, 5, 7, 16, 64, 100, 333] {
        let (r, exs, warns) = run_opts(HAR.as_bytes(), tiny(chunk));
        check_sample(
            &exs,
            &warns,
            &r.unwrap_or_else(|e| panic!("chunk {chunk}: {e}")),
        );
    }
}

#[test]
fn byte_order_mark_is_skipped() {
    let mut v = b"\xef\xbb\xbf".to_vec();
    v.extend_from_slice(HAR.as_bytes());
    let (r, exs, warns) = run_opts(&v, tiny(5));
    check_sample(&exs, &warns, &r.expect("reads"));
}

#[test]
fn gzip_har_is_sniffed() {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(HAR.as_bytes()).expect("gz");
    let bytes = gz.finish().expect("gz");
    assert_eq!(crate::detect(&bytes), Some(Format::Har));
    let (r, exs, warns) = run_opts(&bytes, tiny(10));
    check_sample(&exs, &warns, &r.expect("reads gzip"));
}

#[test]
fn wrong_shape_entry_is_skipped_with_its_index() {
    let har = r#"{"log":{"entries":[{"request":{"url":"https://a.example/1"}},{"request":{"url":"https://a.example/2","headers":[{"name":1}]}},["not an entry"],{"request":{"url":"https://a.example/4","postData":{"text":"x=1"}}}]}}"#;
    let (r, exs, warns) = run_opts(har.as_bytes(), tiny(8));
    let s = r.expect("reads");
    assert_eq!(
        exs.iter().map(|e| e.source.entry).collect::<Vec<_>>(),
        vec![0, 1, 3]
    );
    assert_eq!(s.skipped, 1);
    assert_eq!(warns.len(), 1);
    assert_eq!(warns[0].position.entry, Some(2));
    // A header without a string name is dropped, not the request.
    assert!(exs[1].request_headers.is_empty());
}

#[test]
fn truncated_file_names_entry_and_byte() {
    let cut = &HAR.as_bytes()[..HAR
        .find("\"request\": {\"method\": \"GET\", \"headers\"")
        .expect("marker")
        + 20];
    let (r, exs, _) = run_opts(cut, tiny(64));
    let e = r.expect_err("truncated");
    assert_eq!(exs.len(), 2, "entries before the cut are delivered");
    match &e {
        IngestError::Truncated { position, .. } => {
            assert_eq!(position.entry, Some(2));
            let b = position.byte.expect("byte") as usize;
            assert_eq!(&HAR.as_bytes()[b..b + 13], b"{\"request\": {");
        }
        other => panic!("expected Truncated, got {other:?}"),
    }
    let msg = e.to_string();
    assert!(msg.starts_with("t.har: entry 2 (byte "), "{msg}");
    assert!(msg.contains("truncated"), "{msg}");
}

#[test]
fn broken_json_names_the_byte() {
    let har = r#"{"log":{"entries":[{"request":{"url":"https://a.example/"}},{"request":{"url":"https://b.example/" "method":"GET"}}]}}"#;
    let (r, exs, _) = run_opts(har.as_bytes(), tiny(16));
    assert_eq!(exs.len(), 1);
    match r.expect_err("broken") {
        IngestError::Syntax { position, .. } => {
            assert_eq!(position.entry, Some(1));
            let at = har.find(r#" "method""#).expect("marker") as u64;
            let b = position.byte.expect("byte");
            assert!((at..=at + 1).contains(&b), "byte {b}, expected about {at}");
        }
        other => panic!("expected Syntax, got {other:?}"),
    }
}

#[test]
fn entry_larger_than_the_limit_is_refused() {
    let big = "a".repeat(200_000); // beyond the 64 KiB detection head
    let har =
        format!(r#"{{"log":{{"entries":[{{"request":{{"url":"https://a.example/{big}"}}}}]}}}}"#);
    let opts = Options {
        chunk: 256,
        max_record: 100_000,
    };
    let (r, _, _) = run_opts(har.as_bytes(), opts);
    match r.expect_err("too large") {
        IngestError::TooLarge {
            position, limit, ..
        } => {
            assert_eq!(limit, 100_000);
            assert_eq!(position.entry, Some(0));
        }
        other => panic!("expected TooLarge, got {other:?}"),
    }
}

#[test]
fn pages_after_entries_leave_page_url_unknown() {
    let har = r#"{"log":{"entries":[{"pageref":"p","request":{"url":"https://a.example/"}}],"pages":[{"id":"p","title":"https://site.example/"}]}}"#;
    let (r, exs, _) = run(har.as_bytes());
    r.expect("reads");
    assert_eq!(exs[0].page_url, None);
}

#[test]
fn lines_cut_at_any_chunk_size() {
    let text = "# Meta Pixel URLs\n\nhttps://www.facebook.com/tr/?id=1234&ev=PageView\r\nnot a url\nHTTPS://EXAMPLE.COM/x\nhttps://last.example/no-newline";
    for chunk in [1, 3, 10, 1000] {
        let (r, exs, warns) = run_opts(text.as_bytes(), tiny(chunk));
        let s = r.expect("reads");
        assert_eq!(s.format, Format::UrlList);
        assert_eq!(
            exs.iter()
                .map(|e| (e.source.entry, e.url.as_str()))
                .collect::<Vec<_>>(),
            vec![
                (2, "https://www.facebook.com/tr/?id=1234&ev=PageView"),
                (4, "HTTPS://EXAMPLE.COM/x"),
                (5, "https://last.example/no-newline")
            ]
        );
        assert_eq!(warns.len(), 1);
        assert_eq!(
            warns[0].to_string(),
            "t.har: line 4: not an http(s) URL; skipped"
        );
    }
}

#[test]
fn devtools_log_redirects_extra_info_and_post_entries() {
    let log = r#"[
 {"method":"Network.requestWillBeSentExtraInfo","params":{"requestId":"1","headers":{":authority":"www.facebook.com","cookie":"fr=canary-fr; datr=canary"},"associatedCookies":[]}},
 {"method":"Network.requestWillBeSent","params":{"requestId":"1","documentURL":"https://clinic.example/","type":"Ping","wallTime":1767607200.123456789012,"timestamp":5.5,
   "initiator":{"type":"script","stack":{"callFrames":[{"url":"https://connect.facebook.net/en_US/fbevents.js"}]}},
   "request":{"url":"http://www.facebook.com/tr/","method":"POST","headers":{"Content-Type":"application/x-www-form-urlencoded"},"hasPostData":true,
     "postDataEntries":[{"bytes":"aWQ9MTIzNCZldj1M"},{"bytes":"ZWFk"}]}}},
 {"method":"Network.requestWillBeSentExtraInfo","params":{"requestId":"1","headers":{},"associatedCookies":[{"blockedReasons":[],"cookie":{"name":"fr","value":"hop2"}},{"blockedReasons":["SameSiteLax"],"cookie":{"name":"x","value":"y"}}]}},
 {"method":"Network.requestWillBeSent","params":{"requestId":"1","documentURL":"https://clinic.example/","type":"Ping","redirectResponse":{"status":307,"headers":{"Location":"https://www.facebook.com/tr/"}},
   "request":{"url":"https://www.facebook.com/tr/","method":"POST","headers":{},"postData":"id=1234&ev=Lead"}}},
 {"method":"Network.responseReceived","params":{"requestId":"1","response":{"status":200,"headers":{}}}},
 {"method":"Network.requestWillBeSent","params":{"requestId":"2","request":{"url":"data:image/gif;base64,R0lG","method":"GET","headers":{}}}}
]"#;
    for chunk in [7, 1 << 20] {
        let (r, exs, warns) = run_opts(log.as_bytes(), tiny(chunk));
        let s = r.expect("reads");
        assert_eq!(s.format, Format::DevtoolsLog);
        assert_eq!((s.exchanges, s.skipped), (2, 1));
        assert!(warns.is_empty());
        let (a, b) = (&exs[0], &exs[1]);
        assert_eq!((a.source.entry, b.source.entry), (1, 3));
        assert_eq!(
            a.body.as_ref().map(|b| b.bytes.as_slice()),
            Some(&b"id=1234&ev=Lead"[..])
        );
        assert_eq!(a.content_type(), Some("application/x-www-form-urlencoded"));
        assert_eq!(a.header("cookie"), Some("fr=canary-fr; datr=canary"));
        assert!(a.header(":authority").is_none());
        assert_eq!(a.response.as_ref().map(|r| r.status), Some(307));
        assert_eq!(
            a.initiator.as_deref(),
            Some("https://connect.facebook.net/en_US/fbevents.js")
        );
        assert_eq!(a.page_url.as_deref(), Some("https://clinic.example/"));
        assert_eq!(a.timestamp.as_deref(), Some("1767607200.123456789012"));
        assert_eq!(a.resource_type.as_deref(), Some("Ping"));
        assert_eq!(b.header("cookie"), Some("fr=hop2"));
        assert_eq!(b.response.as_ref().map(|r| r.status), Some(200));
    }
}

#[test]
fn perflog_wrapped_messages() {
    let inner = r#"{"message":{"method":"Network.requestWillBeSent","params":{"requestId":"9","request":{"url":"https://ct.pinterest.com/v3/?tid=2612345678901","method":"GET","headers":{}}}},"webview":"ABC"}"#;
    let log = format!(
        r#"[{{"level":"INFO","message":{},"timestamp":1767607200000}}]"#,
        serde_json::to_string(inner).expect("json")
    );
    assert_eq!(crate::detect(log.as_bytes()), Some(Format::DevtoolsLog));
    let (r, exs, _) = run(log.as_bytes());
    r.expect("reads");
    assert_eq!(exs.len(), 1);
    assert_eq!(exs[0].url, "https://ct.pinterest.com/v3/?tid=2612345678901");
}

#[test]
fn json_lines_with_header_shapes_and_bad_lines() {
    let text = concat!(
        r#"{"file":"x.har","method":"POST","url":"https://www.facebook.com/tr/","mime":"application/x-www-form-urlencoded","body":"id=1&ev=Lead"}"#,
        "\n",
        "{broken\n",
        r#"{"url":"https://a.example/","headers":[{"name":"Cookie","value":"_fbp=fb.1.2.3"}]}"#,
        "\n",
        r#"{"url":"https://b.example/","headers":{"Content-Type":"text/plain"},"body":"hi"}"#,
        "\n"
    );
    let (r, exs, warns) = run_opts(text.as_bytes(), tiny(9));
    let s = r.expect("reads");
    assert_eq!(s.format, Format::JsonLines);
    assert_eq!(exs.len(), 3);
    assert_eq!(exs[0].method, "POST");
    assert_eq!(
        exs[0].content_type(),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(exs[1].source.entry, 2);
    assert_eq!(exs[1].method, "GET");
    assert_eq!(exs[1].header("cookie"), Some("_fbp=fb.1.2.3"));
    assert_eq!(exs[2].method, "POST");
    assert_eq!(exs[2].content_type(), Some("text/plain"));
    assert_eq!(warns.len(), 1);
    assert!(
        warns[0].to_string().starts_with("t.har: line 2: "),
        "{}",
        warns[0]
    );
}

#[test]
fn unknown_formats_say_what_is_accepted() {
    for input in [
        &b"organization,domain\nx,y\n"[..],
        b"",
        b"{\n \"title\": \"Blacklight Inspection\"\n}",
        b"[1,2,3]",
    ] {
        let (r, _, _) = run(input);
        let msg = r.expect_err("unknown").to_string();
        assert!(msg.starts_with("t.har: unknown capture format"), "{msg}");
        assert!(msg.contains("HAR 1.2"), "{msg}");
    }
}

mod fuzz {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512), chunk in 1usize..64) {
            let _ = run_opts(&bytes, tiny(chunk));
        }

        #[test]
        fn mutated_har_never_panics(pos in 0usize..HAR.len(), len in 0usize..8, b in any::<u8>(), chunk in 1usize..200, mode in 0u8..3) {
            let mut v = HAR.as_bytes().to_vec();
            match mode {
                0 => v[pos] = b,
                1 => { v.drain(pos..(pos + len).min(v.len())); }
                _ => v.insert(pos, b),
            }
            let _ = run_opts(&v, tiny(chunk));
        }

        #[test]
        fn mutated_gzip_never_panics(pos in 0usize..200, b in any::<u8>(), cut in 0usize..400) {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            gz.write_all(HAR.as_bytes()).expect("gz");
            let mut v = gz.finish().expect("gz");
            let p = pos.min(v.len() - 1);
            v[p] = b;
            v.truncate(v.len().min(cut.max(2)));
            let _ = run_opts(&v, tiny(17));
        }

        #[test]
        fn cutting_a_har_never_panics_and_keeps_a_prefix(cut in 0usize..HAR.len()) {
            let (r, exs, _) = run_opts(&HAR.as_bytes()[..cut], tiny(13));
            prop_assert!(r.is_err());
            prop_assert!(exs.len() <= 3);
        }
    }
}
