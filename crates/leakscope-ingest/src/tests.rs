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

/// The whole message as `anyhow`'s `{:#}` prints it: each error in the chain once, joined by ": ".
fn chain(e: &IngestError) -> String {
    let mut out = e.to_string();
    let mut cur: Option<&dyn std::error::Error> = std::error::Error::source(e);
    while let Some(c) = cur {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cur = c.source();
    }
    out
}

fn err_of(input: &[u8], label: &str) -> IngestError {
    read_with(input, label, Options::default(), &mut |_| {}, &mut |_| {})
        .expect_err("not a capture")
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bytes).expect("gz");
    gz.finish().expect("gz")
}

#[test]
fn a_missing_file_names_the_os_error_once_and_no_gzip() {
    let e = crate::read_path(
        std::path::Path::new("/nonexistent-leakscope-dir/missing.har"),
        "missing.har",
        &mut |_| {},
        &mut |_| {},
    )
    .expect_err("missing");
    let shown = chain(&e);
    assert!(shown.starts_with("missing.har: cannot read: "), "{shown}");
    assert_eq!(shown.matches("os error 2").count(), 1, "{shown}");
    assert!(shown.ends_with("; check the path"), "{shown}");
    assert!(!shown.contains("gz"), "{shown}");
    assert_eq!(
        e.io_error().map(std::io::Error::kind),
        Some(std::io::ErrorKind::NotFound)
    );
}

#[test]
fn io_errors_in_the_middle_of_a_file_are_printed_once() {
    struct Fails;
    impl std::io::Read for Fails {
        fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("disk on fire"))
        }
    }
    let e =
        read_with(Fails, "t.har", Options::default(), &mut |_| {}, &mut |_| {}).expect_err("fails");
    let shown = chain(&e);
    assert_eq!(
        shown,
        "t.har: cannot read: disk on fire; check the path and that you may read the file"
    );
}

#[test]
fn advice_follows_the_kind_of_io_error() {
    // Made up rather than provoked: as root, a chmod 000 file is still readable.
    let denied = IngestError::io(
        "t.har",
        std::io::Error::from(std::io::ErrorKind::PermissionDenied),
    );
    assert_eq!(
        chain(&denied),
        "t.har: cannot read: permission denied; check that you may read it (file permissions)"
    );
}

#[test]
fn damaged_gzip_gets_the_gzip_advice() {
    let gz = gzip(HAR.as_bytes());
    // Cut short: an incomplete download.
    let cut = &gz[..gz.len() / 2];
    // A corrupt deflate stream: the header is fine, the data is not.
    let mut corrupt = gz.clone();
    for b in &mut corrupt[12..40] {
        *b = 0xff;
    }
    for (name, bytes) in [("cut", cut), ("corrupt", &corrupt[..])] {
        let e = err_of(bytes, "t.har.gz");
        let shown = chain(&e);
        assert!(shown.starts_with("t.har.gz: "), "{name}: {shown}");
        assert!(
            shown.contains("gzip-compressed") || shown.contains("truncated"),
            "{name}: {shown}"
        );
        if matches!(e, IngestError::Io { .. }) {
            assert!(
                shown.contains("damaged or cut short") && shown.contains("download"),
                "{name}: {shown}"
            );
        }
    }
}

#[test]
fn plain_files_never_get_gzip_advice() {
    // A truncated plain HAR, an unknown text, a binary file: no word of gzip.
    for input in [
        &HAR.as_bytes()[..HAR.len() / 2],
        b"organization,domain\nx,y\n",
        b"\0\0\0\x01garbage",
    ] {
        let shown = chain(&err_of(input, "t.har"));
        // ("plain or gzip" in the list of accepted formats is not a hint.)
        for hint in [".gz", "gzip-compressed", "damaged or cut short"] {
            assert!(!shown.contains(hint), "{shown}");
        }
    }
}

#[test]
fn a_gz_name_on_plain_content_is_pointed_out() {
    let shown = chain(&err_of(b"organization,domain\nx,y\n", "sites.csv.gz"));
    assert!(
        shown.contains("The name ends in .gz but the content is not gzip-compressed"),
        "{shown}"
    );
    // A plain capture named .gz is simply read.
    let (r, exs, _) = {
        let mut exs = Vec::new();
        let r = read_with(
            HAR.as_bytes(),
            "t.har.gz",
            Options::default(),
            &mut |e| exs.push(e),
            &mut |_| {},
        );
        (r, exs, ())
    };
    assert_eq!(r.expect("reads").format, Format::Har);
    assert_eq!(exs.len(), 3);
}

#[test]
fn binary_files_are_named_not_printed() {
    let mut tar = vec![0u8; 1024];
    tar[..9].copy_from_slice(b"capture/\0");
    tar[257..263].copy_from_slice(b"ustar\0");
    let cases: Vec<(Vec<u8>, &str, &str)> = vec![
        (
            b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\x01\x02".to_vec(),
            "shot.png: this is a PNG image, not a capture; pass the capture file itself",
            "Save all as HAR",
        ),
        (
            b"PK\x03\x04\x14\0\0\0\x08\0capture.har".to_vec(),
            "c.zip: this is a ZIP archive, not a capture; ",
            "extract it and pass the .har inside",
        ),
        (
            b"\x7fELF\x02\x01\x01\0\0\0".to_vec(),
            "a.out: this is a program (ELF executable), not a capture",
            "pass the capture file itself",
        ),
        (
            b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec(),
            "policy.pdf: this is a PDF document, not a capture",
            "pass the capture file itself",
        ),
        (
            b"\x13\x00\xf1\x9c random \xff\xfe bytes".to_vec(),
            "blob: this is a binary file, not a capture; pass the capture file itself",
            "HAR 1.2",
        ),
        (
            gzip(b"\x01\x02\x00\x03\xfe"),
            "blob.gz: this is a gzip-compressed binary file, not a capture",
            "pass the capture file itself",
        ),
        (
            gzip(&tar),
            "c.tar.gz: this is a gzip-compressed tar archive, not a capture",
            "extract it (tar -xf) and pass the .har inside",
        ),
        (
            gzip(b"SQLite format 3\0\x10\0"),
            "db.gz: this is a gzip-compressed SQLite database, not a capture",
            "pass the capture file itself",
        ),
    ];
    for (bytes, start, advice) in cases {
        let label = start.split(':').next().expect("label");
        let e = err_of(&bytes, label);
        assert!(matches!(e, IngestError::NotACapture { .. }), "{e:?}");
        let shown = chain(&e);
        assert!(shown.starts_with(start), "{shown}");
        assert!(shown.contains(advice), "{shown}");
        assert!(
            !shown.chars().any(|c| c == '\u{fffd}' || c.is_control()),
            "garbled: {shown:?}"
        );
    }
}

#[test]
fn utf16_and_html_say_what_they_are() {
    let utf16: Vec<u8> = "\u{feff}{\"log\": {\"entries\": []}}"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    let shown = chain(&err_of(&utf16, "ps.har"));
    assert!(
        shown
            .starts_with("ps.har: unknown capture format (it is UTF-16 text). Convert it to UTF-8"),
        "{shown}"
    );
    assert!(shown.contains("iconv -f UTF-16 -t UTF-8 ps.har"), "{shown}");

    let shown = chain(&err_of(
        b"<!DOCTYPE html>\n<html><body>Sign in to continue",
        "export.har",
    ));
    assert!(
        shown.starts_with("export.har: unknown capture format (it starts with \"<!DOCTYPE html> <html><body>Sign\"). This is a web page (HTML), not a capture"),
        "{shown}"
    );
}

#[test]
fn text_snippets_are_cut_at_a_character_boundary() {
    // 31 ASCII bytes then a 4-byte character straddling the old 48-byte cut.
    let mut v = "x".repeat(46).into_bytes();
    v.extend_from_slice("\u{1f600}\u{1f600}".as_bytes());
    let shown = chain(&err_of(&v, "t.txt"));
    assert!(!shown.contains('\u{fffd}'), "{shown}");
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
        fn error_messages_are_never_garbled(bytes in proptest::collection::vec(any::<u8>(), 0..1200)) {
            // Whatever the bytes, the error is words: no raw control characters, no U+FFFD.
            if let Err(e) = read_with(&bytes[..], "t.har", Options::default(), &mut |_| {}, &mut |_| {}) {
                let shown = chain(&e);
                prop_assert!(shown.starts_with("t.har: "), "{}", shown);
                prop_assert!(!shown.chars().any(|c| c == '\u{fffd}' || c.is_control()), "{:?}", shown);
            }
        }

        #[test]
        fn cutting_a_har_never_panics_and_keeps_a_prefix(cut in 0usize..HAR.len()) {
            let (r, exs, _) = run_opts(&HAR.as_bytes()[..cut], tiny(13));
            prop_assert!(r.is_err());
            prop_assert!(exs.len() <= 3);
        }
    }
}

#[test]
fn html_documents_keep_their_body_and_nothing_else_does() {
    let big = "x".repeat(leakscope_core::MAX_DOCUMENT_BODY + 1000);
    let b64 = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode("<title>Base64 page</title>")
    };
    let har = format!(
        r#"{{"log": {{"entries": [
  {{"_resourceType": "document", "request": {{"method": "GET", "url": "https://clinic.example/"}},
    "response": {{"status": 200, "content": {{"size": 30, "mimeType": "text/html; charset=utf-8", "text": "<title>Clinic \"home\"</title>"}}}}}},
  {{"_resourceType": "script", "request": {{"method": "GET", "url": "https://clinic.example/app.js"}},
    "response": {{"status": 200, "content": {{"mimeType": "text/javascript", "text": "var a = \"<title>no</title>\";"}}}}}},
  {{"request": {{"method": "GET", "url": "https://clinic.example/b64"}},
    "response": {{"status": 200, "content": {{"mimeType": "text/html", "encoding": "base64", "text": "{b64}"}}}}}},
  {{"_resourceType": "xhr", "request": {{"method": "GET", "url": "https://clinic.example/frag"}},
    "response": {{"status": 200, "content": {{"mimeType": "text/html", "text": "<p>fragment</p>"}}}}}},
  {{"_resourceType": "document", "request": {{"method": "GET", "url": "https://clinic.example/big"}},
    "response": {{"status": 200, "content": {{"mimeType": "text/html", "text": "{big}"}}}}}},
  {{"_resourceType": "document", "request": {{"method": "GET", "url": "https://clinic.example/odd"}},
    "response": {{"status": 200, "content": "not an object"}}}}
 ]}}}}"#
    );
    let (r, exs, warns) = run(har.as_bytes());
    r.unwrap();
    assert!(warns.is_empty(), "{warns:?}");
    let bodies: Vec<Option<&str>> = exs
        .iter()
        .map(|e| e.response.as_ref().and_then(|r| r.body.as_deref()))
        .collect();
    assert_eq!(bodies[0], Some("<title>Clinic \"home\"</title>"));
    assert_eq!(bodies[1], None, "scripts are never kept");
    assert_eq!(bodies[2], Some("<title>Base64 page</title>"));
    assert_eq!(bodies[3], None, "only documents");
    assert_eq!(
        bodies[4].map(str::len),
        Some(leakscope_core::MAX_DOCUMENT_BODY)
    );
    assert_eq!(bodies[5], None);
    assert_eq!(exs[5].response.as_ref().map(|r| r.status), Some(200));
}

#[test]
fn requests_the_browser_refused_never_left_and_are_not_read() {
    // leakscope's `_failure` (scan --block), DevTools' `_error` (an ad
    // blocker, the page's CSP); a refused *response* did leave.
    let har = r#"{"log":{"entries":[
      {"request":{"method":"GET","url":"https://www.facebook.com/tr/?id=1&ev=PageView"},"_failure":"net::ERR_BLOCKED_BY_CLIENT"},
      {"request":{"method":"GET","url":"https://www.facebook.com/tr/?id=1&ev=Lead"},"_error":"net::ERR_BLOCKED_BY_CSP"},
      {"request":{"method":"GET","url":"https://www.facebook.com/tr/?id=1&ev=Search"},"_error":"net::ERR_BLOCKED_BY_RESPONSE"},
      {"request":{"method":"GET","url":"https://clinic.example/"}}
    ]}}"#;
    let (r, exs, warns) = run(har.as_bytes());
    let s = r.expect("reads");
    assert_eq!(
        exs.iter().map(|e| e.source.entry).collect::<Vec<_>>(),
        [2, 3],
        "{exs:?}"
    );
    assert_eq!(s.skipped, 0);
    assert!(warns.is_empty(), "{warns:?}");
}
