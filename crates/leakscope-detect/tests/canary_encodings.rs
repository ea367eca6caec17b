//! Canary search: one test per encoding of wire-formats.md §15, with the
//! worked vectors of §15.2. Canaries are made up; no real person.

use std::io::Write;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use leakscope_core::{CanaryHit, Exchange, Header, Source};
use leakscope_detect::{Canary, CanaryKind, CanaryMatcher};
use sha2::{Digest, Sha512};

const EMAIL: &str = "jane.canary+rx7@example.com";
// §15.2 vectors for EMAIL.
const SHA256: &str = "9b1c839d08d785404fa95b6210c7fb8b1a17271aeb925c1e86cba0e1f7701945";
const MD5: &str = "a82ca134699a64c5b294f6e186df8291";
const SHA1: &str = "bf53dfdebffb6414d105a156132ecf3ba9a838d1";
const SHA256_B64URL: &str = "mxyDnQjXhUBPqVtiEMf7ixoXJxrrklwehsug4fdwGUU";
const URL_ONCE: &str = "jane.canary%2Brx7%40example.com";
const URL_TWICE: &str = "jane.canary%252Brx7%2540example.com";
const BASE64: &str = "amFuZS5jYW5hcnkrcng3QGV4YW1wbGUuY29t";

fn matcher(values: &[&str]) -> CanaryMatcher {
    let canaries: Vec<Canary> = values.iter().map(|v| Canary::new(*v)).collect();
    CanaryMatcher::new(&canaries).expect("valid canaries")
}

fn get(url: &str) -> Exchange {
    Exchange::get(Source::new("test", 0), url)
}

fn post(url: &str, ct: &str, body: impl Into<Vec<u8>>) -> Exchange {
    Exchange::post(Source::new("test", 0), url, ct, body)
}

fn gzip(b: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(b).unwrap();
    e.finish().unwrap()
}

fn zlib(b: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(b).unwrap();
    e.finish().unwrap()
}

fn raw_deflate(b: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(b).unwrap();
    e.finish().unwrap()
}

fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// The single hit of a scan, as `(field, chain)`.
fn one(hits: &[CanaryHit]) -> (&str, &str) {
    assert_eq!(hits.len(), 1, "{hits:#?}");
    (hits[0].field.as_str(), hits[0].chain.as_str())
}

const COLLECT: &str = "https://collector.example/c";

#[test]
fn worked_vectors_of_section_15_2_are_the_needles() {
    let m = matcher(&[EMAIL]);
    for (v, chain) in [
        (SHA256, "sha256(normalize_email)"),
        (MD5, "md5(normalize_email)"),
        (SHA1, "sha1(normalize_email)"),
        (SHA256_B64URL, "base64url(sha256(normalize_email))"),
    ] {
        let hits = m.scan(&get(&format!("{COLLECT}?h={v}")));
        assert_eq!(one(&hits), ("url.query.h", chain), "{v}");
        assert_eq!(hits[0].value, EMAIL);
        assert_eq!(hits[0].value_kind, "email");
    }
}

#[test]
fn plain_in_a_query() {
    let m = matcher(&[EMAIL]);
    let hits = m.scan(&get(&format!("{COLLECT}?u={EMAIL}&t=1")));
    assert_eq!(one(&hits), ("url.query.u", "email"));
}

#[test]
fn url_encoded_once_and_twice() {
    let m = matcher(&[EMAIL]);
    let hits = m.scan(&get(&format!("{COLLECT}?u={URL_ONCE}")));
    assert_eq!(one(&hits), ("url.query.u", "url → email"));
    let hits = m.scan(&get(&format!("{COLLECT}?u={URL_TWICE}")));
    assert_eq!(one(&hits), ("url.query.u", "url → url → email"));
}

#[test]
fn base64_of_the_value_itself() {
    let m = matcher(&[EMAIL]);
    assert_eq!(STANDARD.encode(EMAIL), BASE64);
    let hits = m.scan(&get(&format!("{COLLECT}?d={BASE64}")));
    assert_eq!(one(&hits), ("url.query.d", "base64 → email"));
}

#[test]
fn base64_at_each_of_three_alignments_inside_a_binary_blob() {
    // A blob that does not decode to text: only the aligned needles find it.
    let m = matcher(&[EMAIL]);
    for lead in 0..3 {
        let mut blob = vec![0xff, 0xfe, 0x00, 0x81][..lead + 1].to_vec();
        blob.extend_from_slice(EMAIL.as_bytes());
        blob.extend_from_slice(&[0x00, 0x9f, 0xc3]);
        let b64 = STANDARD.encode(&blob);
        let hits = m.scan(&post(COLLECT, "text/plain", format!("blob:{b64};")));
        assert_eq!(one(&hits), ("body", "base64 → email"), "lead {lead}");
    }
}

#[test]
fn base64_at_each_alignment_inside_json_is_decoded_and_says_so() {
    let m = matcher(&[EMAIL]);
    for pad in ["", "x", "xy"] {
        let json = format!(r#"{{"k{pad}":"{EMAIL}","n":1}}"#);
        let b64 = STANDARD.encode(json);
        let hits = m.scan(&get(&format!("{COLLECT}?m={}", enc(&b64))));
        let want = if enc(&b64) == b64 {
            "base64 → json → email"
        } else {
            "url → base64 → json → email"
        };
        assert_eq!(one(&hits), ("url.query.m", want), "{pad:?}");
    }
}

#[test]
fn base64url_without_padding() {
    let m = matcher(&[EMAIL]);
    // '?' and '>' make the standard alphabet's '+' and '/' appear.
    let json = format!(r#"{{"who??>>":"{EMAIL}","x":"~~~"}}"#);
    let b64 = URL_SAFE_NO_PAD.encode(json);
    assert!(b64.contains('-') || b64.contains('_'), "{b64}");
    let hits = m.scan(&get(&format!("{COLLECT}?m={b64}")));
    assert_eq!(one(&hits), ("url.query.m", "base64 → json → email"));
}

#[test]
fn json_escaped() {
    let m = matcher(&[EMAIL]);
    // Inside a JSON body the parser reads the escapes: the field path says JSON.
    let body = r#"{"user":{"contact":"jane.canary+rx7\u0040example.com"}}"#;
    let hits = m.scan(&post(COLLECT, "application/json", body));
    assert_eq!(one(&hits), ("body.json.user.contact", "email"));
    // Inside a script-like text payload the escapes are a layer of their own.
    let body = r#"window.__u = "jane.canary\u002Brx7\u0040example.com"; x=\/y"#;
    let hits = m.scan(&post(COLLECT, "text/plain", body));
    assert_eq!(one(&hits), ("body", "json → email"));
}

#[test]
fn html_entities() {
    let m = matcher(&[EMAIL]);
    let body = r#"<input name="email" value="jane.canary&#43;rx7&#64;example.com">"#;
    let hits = m.scan(&post(COLLECT, "text/html", body));
    assert_eq!(one(&hits), ("body", "html → email"));
    let m = matcher(&["Canary Pill & Co Rx"]);
    let hits = m.scan(&post(
        COLLECT,
        "text/html",
        "<p>canary pill &amp; co rx</p>",
    ));
    assert_eq!(one(&hits), ("body", "html → search"));
    assert_eq!(hits[0].value_kind, "search");
}

#[test]
fn gzip_body_and_gzip_inside_base64() {
    let m = matcher(&[EMAIL]);
    let json = format!(r#"{{"email":"{EMAIL}"}}"#);
    let hits = m.scan(&post(
        COLLECT,
        "application/octet-stream",
        gzip(json.as_bytes()),
    ));
    assert_eq!(one(&hits), ("body.json.email", "gzip → email"));
    let b64 = STANDARD.encode(gzip(json.as_bytes()));
    let hits = m.scan(&post(
        COLLECT,
        "application/json",
        format!(r#"{{"z":"{b64}"}}"#),
    ));
    assert_eq!(one(&hits), ("body.json.z", "base64 → gzip → json → email"));
}

#[test]
fn deflate_by_content_encoding_and_zlib_inside_base64() {
    let m = matcher(&[EMAIL]);
    let json = format!(r#"{{"email":"{EMAIL}"}}"#);
    let mut ex = post(COLLECT, "application/json", raw_deflate(json.as_bytes()));
    ex.request_headers
        .push(Header::new("Content-Encoding", "deflate"));
    let hits = m.scan(&ex);
    assert_eq!(one(&hits), ("body.json.email", "deflate → email"));
    let b64 = STANDARD.encode(zlib(json.as_bytes()));
    let hits = m.scan(&get(&format!("{COLLECT}?z={}", enc(&b64))));
    assert_eq!(
        one(&hits),
        ("url.query.z", "url → base64 → deflate → json → email")
    );
}

#[test]
fn lz_string_base64_uri_and_utf16() {
    let m = matcher(&[EMAIL]);
    let json = format!(r#"{{"session":[{{"t":"input","v":"{EMAIL}"}}]}}"#);
    let b64 = lz_str::compress_to_base64(&json);
    let hits = m.scan(&get(&format!("{COLLECT}?lz={}", enc(&b64))));
    assert_eq!(
        one(&hits),
        ("url.query.lz", "url → lz_string → json → email")
    );

    let uri = lz_str::compress_to_encoded_uri_component(&json);
    let hits = m.scan(&get(&format!("{COLLECT}?lz={uri}")));
    assert_eq!(one(&hits), ("url.query.lz", "lz_string → json → email"));

    let utf16 = lz_str::compress_to_utf16(&json);
    let body = serde_json::json!({ "blob": utf16 }).to_string();
    let hits = m.scan(&post(COLLECT, "application/json", body));
    assert_eq!(one(&hits), ("body.json.blob", "lz_string → json → email"));
}

#[test]
fn email_hashes_after_normalisation() {
    // As a user might type it: mixed case and a trailing space.
    let typed = "Jane.Canary+RX7@Example.com ";
    let m = CanaryMatcher::new(&[Canary::with_kind(typed, CanaryKind::Email)]).unwrap();
    let sha512 = format!("{:x}", Sha512::digest(EMAIL.as_bytes()));
    for (h, chain) in [
        (MD5.to_owned(), "md5(normalize_email)"),
        (SHA1.to_owned(), "sha1(normalize_email)"),
        (SHA256.to_owned(), "sha256(normalize_email)"),
        (SHA256.to_uppercase(), "sha256(normalize_email)"),
        (sha512, "sha512(normalize_email)"),
    ] {
        let hits = m.scan(&get(&format!("{COLLECT}?h={h}")));
        assert_eq!(one(&hits), ("url.query.h", chain));
        assert_eq!(hits[0].value, typed);
    }
}

#[test]
fn documented_vendor_vectors() {
    // Meta doc: John_Smith@gmail.com → 62a14e44…; Google's gmail rule forks it.
    let m = matcher(&["John_Smith@gmail.com"]);
    let hits = m.scan(&get(&format!(
        "{COLLECT}?h=62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f"
    )));
    assert_eq!(one(&hits).1, "sha256(normalize_email)");
    // Google drops the dots of a gmail local part.
    let m = matcher(&["Jane.Q.Canary@gmail.com"]);
    let google = hex_sha256("janeqcanary@gmail.com");
    let hits = m.scan(&get(&format!("{COLLECT}?h={google}")));
    assert_eq!(one(&hits).1, "sha256(normalize_email_google)");

    // Snap doc: Person@Example.com → 542d2401…, +44 844 412 4653 → dc008fda….
    let m = matcher(&["Person@Example.com", "+44 844 412 4653"]);
    let hits = m.scan(&get(&format!(
        "{COLLECT}?u_hem=542d240129883c019e106e3b1b2d3f3cb3537c43c425364de8e951d5a3083345\
         &u_hpn=dc008fda46e2e64002cf2f82a4906236282d431c4f75e5b60bfe79fc48546383"
    )));
    assert_eq!(hits.len(), 2, "{hits:#?}");
    assert_eq!(hits[0].chain, "sha256(normalize_email)");
    assert_eq!(hits[1].chain, "sha256(normalize_phone)");
    assert_eq!(hits[1].value_kind, "phone");
}

fn hex_sha256(s: &str) -> String {
    format!("{:x}", sha2::Sha256::digest(s.as_bytes()))
}

#[test]
fn phone_hashes_after_each_vendor_normalisation() {
    // Meta doc: (650)555-1212 → 16505551212 → e323ec62…
    let m = matcher(&["+1 (650) 555-1212"]);
    let meta = "e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176";
    assert_eq!(hex_sha256("16505551212"), meta);
    let google = URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(b"+16505551212"));
    for (v, chain) in [
        (meta.to_owned(), "sha256(normalize_phone)"),
        (hex_sha256("+16505551212"), "sha256(e164_phone)"),
        (google, "base64url(sha256(e164_phone))"),
        (
            format!("{:x}", md5::Md5::digest(b"16505551212")),
            "md5(normalize_phone)",
        ),
    ] {
        let hits = m.scan(&get(&format!("{COLLECT}?p={v}")));
        assert_eq!(one(&hits), ("url.query.p", chain));
    }
    // Plain, in each written form.
    for (v, chain) in [
        ("%2B16505551212", "url → e164_phone"),
        ("16505551212", "normalize_phone"),
        ("6505551212", "national_phone"),
    ] {
        let hits = m.scan(&get(&format!("{COLLECT}?p={v}")));
        assert_eq!(one(&hits), ("url.query.p", chain));
    }
}

#[test]
fn name_hashes_after_normalisation() {
    let m = matcher(&["Zephyrine Quillfeather"]);
    for (v, chain) in [
        (
            hex_sha256("zephyrinequillfeather"),
            "sha256(normalize_name)",
        ),
        (hex_sha256("zephyrine"), "sha256(normalize_name_part)"),
        (hex_sha256("quillfeather"), "sha256(normalize_name_part)"),
        (hex_sha256("zephyrine quillfeather"), "sha256(lower)"),
    ] {
        let hits = m.scan(&get(&format!("{COLLECT}?n={v}")));
        assert_eq!(one(&hits), ("url.query.n", chain));
        assert_eq!(hits[0].value_kind, "name");
    }
    let hits = m.scan(&get(&format!("{COLLECT}?q=Zephyrine+Quillfeather")));
    assert_eq!(one(&hits), ("url.query.q", "form_encoded"));
}

#[test]
fn search_term_in_page_url_of_a_pixel() {
    let m = matcher(&["canary morning pill"]);
    assert_eq!(m.canaries()[0].kind, CanaryKind::Search);
    let dl = enc("https://shop.example/search?q=canary+morning+pill");
    let hits = m.scan(&get(&format!("{COLLECT}?dl={dl}")));
    assert_eq!(one(&hits), ("url.query.dl", "url → form_encoded"));
    assert_eq!(hits[0].value_kind, "search");
}

#[test]
fn stacked_three_layers_url_base64_gzip_json() {
    let m = matcher(&[EMAIL]);
    let json = format!(r#"{{"user":{{"email":"{EMAIL}"}}}}"#);
    let layered = enc(&STANDARD.encode(gzip(json.as_bytes())));
    let hits = m.scan(&get(&format!("{COLLECT}?p={layered}")));
    assert_eq!(
        one(&hits),
        ("url.query.p", "url → base64 → gzip → json → email")
    );
    // Three layers under the transport's own URL encoding: double URL,
    // base64, gzip.
    let twice = enc(&layered);
    let hits = m.scan(&get(&format!("{COLLECT}?p={twice}")));
    assert_eq!(
        one(&hits),
        ("url.query.p", "url → url → base64 → gzip → json → email")
    );
}

#[test]
fn cookie_referer_and_headers() {
    let m = matcher(&[EMAIL]);
    let mut ex = get(COLLECT);
    ex.request_headers.push(Header::new(
        "Cookie",
        format!("_ga=GA1.1.1.2; _uid={URL_ONCE}; other=1"),
    ));
    ex.request_headers.push(Header::new(
        "Referer",
        format!("https://shop.example/account?email={URL_ONCE}"),
    ));
    ex.request_headers
        .push(Header::new("X-User-Hash", SHA256.to_uppercase()));
    let hits = m.scan(&ex);
    let got: Vec<(&str, &str)> = hits
        .iter()
        .map(|h| (h.field.as_str(), h.chain.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("cookie:_uid", "url → email"),
            ("header:referer", "url → email"),
            ("header:x-user-hash", "sha256(normalize_email)"),
        ]
    );
}

#[test]
fn one_hit_per_canary_and_field() {
    let m = matcher(&[EMAIL, "+1 555 010 0199"]);
    let url = format!("{COLLECT}?a={EMAIL}%20{EMAIL}&b={SHA256}&c=15550100199&c2={URL_ONCE}");
    let hits = m.scan(&get(&url));
    let got: Vec<(&str, &str)> = hits
        .iter()
        .map(|h| (h.field.as_str(), h.value_kind.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("url.query.a", "email"),
            ("url.query.b", "email"),
            ("url.query.c", "phone"),
            ("url.query.c2", "email"),
        ]
    );
}
