//! The fuzz targets' bodies under proptest, so stable `cargo test` exercises
//! them too: random bytes, plus inputs shaped like tracker traffic (query
//! strings with pixel keys, gzip/base64-wrapped bodies, multipart), plus the
//! real Meta Pixel requests of the shared corpus as seeds.

use std::io::Write;
use std::sync::LazyLock;

use leakscope_bench::corpus;
use leakscope_bench::fuzz::{self, DecodeTarget};
use proptest::prelude::*;

static TARGET: LazyLock<DecodeTarget> = LazyLock::new(DecodeTarget::default);

/// Keys trackers send (Meta Pixel, GA4, TikTok), with the bracket and prefix
/// shapes the decoders take apart.
fn tracker_query() -> impl Strategy<Value = String> {
    let key = prop::sample::select(vec![
        "id",
        "ev",
        "dl",
        "rl",
        "cd[value]",
        "cd[content_ids]",
        "ud[em]",
        "ud[ph]",
        "udff[em]",
        "fbp",
        "fbc",
        "tid",
        "en",
        "ep.page_title",
        "epn.value",
        "_p",
        "cid",
        "uid",
        "sid",
        "pr1",
        "up.plan",
        "eid",
        "ts",
        "it",
        "ec",
        "cd[",
        "]",
        "%5B",
        "%",
    ]);
    let val = "[ -~]{0,24}|[0-9]{15,17}|%[0-9A-Fa-f]{2}|%E2%82|\\{\"a\":[0-9]\\}|[a-f0-9]{64}";
    prop::collection::vec((key, val), 0..12).prop_map(|kv| {
        kv.into_iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&")
    })
}

/// Pieces of pages with credentials in them, in odd quoting and nesting.
fn html_part() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("<input type=hidden name=csrf value=".to_owned()),
        Just("<meta name='csrf-token' content=\"".to_owned()),
        Just("<INPUT TYPE=PASSWORD VALUE=".to_owned()),
        Just("<a href=\"/me?a=1&amp;access_token=".to_owned()),
        Just("{\"access_token\": \"".to_owned()),
        Just("password: '".to_owned()),
        Just("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.".to_owned()),
        Just("EAAB".to_owned()),
        Just("[redacted: 3 chars]".to_owned()),
        "[a-zA-Z0-9_\\-\"'<>=&;?:/ .]{0,24}",
    ]
}

fn gzip(b: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let _ = e.write_all(b);
    e.finish().unwrap_or_default()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn body_random_bytes(data in prop::collection::vec(any::<u8>(), 0..512)) {
        fuzz::body(&data);
    }

    #[test]
    fn body_wrapped(sel in prop::collection::vec(any::<u8>(), 3), q in tracker_query(), wrap in 0u8..4) {
        // Encodings the peeler must undo: gzip, base64, base64 of gzip.
        let payload = match wrap {
            0 => q.into_bytes(),
            1 => gzip(q.as_bytes()),
            2 => base64_std(q.as_bytes()).into_bytes(),
            _ => base64_std(&gzip(q.as_bytes())).into_bytes(),
        };
        let mut data = sel;
        data.extend(payload);
        fuzz::body(&data);
    }

    #[test]
    fn html_random_bytes(data in prop::collection::vec(any::<u8>(), 0..512)) {
        fuzz::html(&data);
    }

    #[test]
    fn html_shaped(parts in prop::collection::vec(html_part(), 0..12)) {
        fuzz::html(parts.concat().as_bytes());
    }

    #[test]
    fn block_list_random_bytes(data in prop::collection::vec(any::<u8>(), 0..512)) {
        fuzz::block_list(&data);
    }

    #[test]
    fn block_list_shaped(lines in prop::collection::vec(filter_line(), 0..12)) {
        fuzz::block_list(lines.join("\n").as_bytes());
    }

    #[test]
    fn site_html_random_bytes(data in prop::collection::vec(any::<u8>(), 0..512)) {
        fuzz::site_html(&data);
    }

    #[test]
    fn site_html_shaped(parts in prop::collection::vec(html_part(), 0..12)) {
        fuzz::site_html(parts.concat().as_bytes());
    }

    #[test]
    fn params_random_bytes(data in prop::collection::vec(any::<u8>(), 0..512)) {
        fuzz::params(&data);
    }

    #[test]
    fn params_tracker_queries(q in tracker_query()) {
        fuzz::params(q.as_bytes());
    }

    #[test]
    fn decode_random_bytes(data in prop::collection::vec(any::<u8>(), 0..768)) {
        TARGET.run(&data);
    }

    #[test]
    fn decode_tracker_requests(
        url in any::<u8>(), method in any::<u8>(), ct in any::<u8>(), ce in any::<u8>(),
        q in tracker_query(), cookie in "(_fbp|_fbc|_ga|_gcl_aw|_ttp)=[ -:<-~]{0,30}",
        page in "https://clinic\\.example/[a-z/?=&]{0,20}", body in tracker_query(),
    ) {
        TARGET.run(&structured(url, method, ct, ce, &q, &cookie, &page, body.as_bytes()));
    }
}

/// Lays out an input the way `fuzz::decode_exchange` reads it.
#[allow(clippy::too_many_arguments)]
fn structured(
    url: u8,
    method: u8,
    ct: u8,
    ce: u8,
    q: &str,
    cookie: &str,
    page: &str,
    body: &[u8],
) -> Vec<u8> {
    let mut d = vec![url, method, ct, ce];
    for chunk in [q.as_bytes(), cookie.as_bytes(), page.as_bytes()] {
        let c = &chunk[..chunk.len().min(255)];
        d.push(c.len() as u8);
        d.extend_from_slice(c);
    }
    d.extend_from_slice(body);
    d
}

fn base64_std(b: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::new();
    for c in b.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                s.push(char::from(A[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                s.push('=');
            }
        }
    }
    s
}

/// Every real Meta Pixel POST body and GET query from the corpus, through
/// all three targets (seeds for the fuzzers, regression inputs here).
#[test]
fn corpus_meta_pixel_seeds() {
    let dir = corpus::corpus_dir(env!("CARGO_MANIFEST_DIR"));
    let Ok(reqs) = corpus::meta_pixel(&dir) else {
        eprintln!("corpus not found at {}; skipped", dir.display());
        return;
    };
    assert!(reqs.len() > 100, "expected the Meta Pixel URLs and POSTs");
    for r in &reqs {
        let body =
            r.ex.body
                .as_ref()
                .map(|b| b.bytes.as_slice())
                .unwrap_or_default();
        let query = r.ex.url.split_once('?').map_or("", |(_, q)| q);
        for ct in 0..12u8 {
            let mut d = vec![ct, 0, 0];
            d.extend_from_slice(body);
            fuzz::body(&d);
        }
        fuzz::params(query.as_bytes());
        fuzz::params(body);
        TARGET.run(&structured(
            0,
            1,
            5,
            0,
            &query[..query.len().min(255)],
            "_fbp=fb.1.1700000000000.123",
            "https://clinic.example/",
            body,
        ));
    }
}

#[test]
fn vendor_urls_cover_the_database() {
    let urls = fuzz::vendor_urls();
    assert!(urls.iter().any(|u| u.contains("facebook.com/tr")));
    assert!(urls.iter().any(|u| u.contains("/g/collect")));
    // Every URL built from the database classifies as that vendor's host.
    let engine = leakscope_core::Engine::new();
    let known = urls.iter().filter(|u| engine.classify(u).is_some()).count();
    assert!(
        known * 10 >= urls.len() * 8,
        "{known} of {} vendor URLs classify",
        urls.len()
    );
}

/// Lines of filter lists and CSP files: rules with options, hosts lines,
/// comments, cosmetics, policies, and junk.
fn filter_line() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("[Adblock Plus 2.0]".to_owned()),
        Just("! comment".to_owned()),
        "[a-z]{1,8}\\.(com|test|example)".prop_map(|h| format!("||{h}^")),
        (
            "[a-z]{1,8}\\.test",
            "/[a-z/]{0,12}",
            prop::sample::select(vec![
                "",
                "$third-party",
                "$domain=clinic.example",
                "$removeparam=dl,image",
                "$image,ping",
                "$domain=",
                "$bogus"
            ])
        )
            .prop_map(|(h, p, o)| format!("||{h}{p}^{o}")),
        "[a-z]{1,8}\\.test".prop_map(|h| format!("0.0.0.0 {h}")),
        Just("example.com##.ad".to_owned()),
        Just(
            "Content-Security-Policy: img-src 'self'; connect-src 'self' https://a.test".to_owned()
        ),
        "[ -~]{0,40}",
    ]
}
