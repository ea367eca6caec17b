//! Property: whatever field and encoding a health term from the lexicon
//! travels in, a forwarded event never carries it (checked on the serialised
//! JSON, URL-decoded and normalised like the detector reads text).

use std::sync::LazyLock;

use leakscope_detect::normalize::{normalize, url_decode};
use leakscope_policy::{Decision, Policy, PolicyConfig};
use proptest::prelude::*;
use serde_json::{Value, json};

const NOW: i64 = 1_795_176_000;

/// Strong, lower-case lexicon terms (acronyms are case-sensitive by design
/// and have lower-case twins in the core list).
static TERMS: LazyLock<Vec<String>> = LazyLock::new(|| {
    let files = [
        include_str!("../../../data/lexicon/core.tsv"),
        include_str!("../../../data/lexicon/drugs.tsv"),
        include_str!("../../../data/lexicon/conditions.tsv"),
    ];
    // Tokens of the event skeleton: a term made only of them would be
    // "found" in any output.
    let skeleton = normalize(&event("sku-1", "x").to_string());
    let mut out = Vec::new();
    for f in files {
        for line in f.lines().skip(1) {
            let cols: Vec<&str> = line.split('\t').collect();
            if cols.len() < 3 || cols[2] != "strong" || line.starts_with('#') {
                continue;
            }
            let t = cols[0];
            if t.len() < 4 || skeleton.contains(&format!(" {t} ")) {
                continue;
            }
            out.push(t.to_owned());
        }
    }
    out
});

static DEFAULT: LazyLock<Policy> =
    LazyLock::new(|| Policy::compile(PolicyConfig::default()).expect("default compiles"));
static PERMISSIVE: LazyLock<Policy> = LazyLock::new(|| {
    Policy::from_toml(
        r#"
[default]
custom_data_allow = ["value", "currency", "content_name", "content_category", "contents",
                     "content_ids", "search_string", "order_id", "note"]
contents_allow = ["id", "quantity", "item_price", "title", "description"]
url_mode = "keep-if-clean"

[[page_types]]
name = "product-page"
prefix = "/products"
"#,
    )
    .expect("permissive compiles")
});

fn event(content_id: &str, note: &str) -> Value {
    json!({
        "event_name": "Purchase",
        "event_time": NOW - 30,
        "event_id": "order-1001",
        "action_source": "website",
        "event_source_url": "https://shop.example/checkout/done",
        "referrer_url": "https://shop.example/cart",
        "leakscope_consent": "granted",
        "user_data": {
            "em": "pat.canary@example.net",
            "external_id": "cust-1001",
            "client_user_agent": "Mozilla/5.0 Canary/1.0",
            "client_ip_address": "198.51.100.4"
        },
        "custom_data": {
            "value": 10.5,
            "currency": "USD",
            "content_ids": [content_id],
            "contents": [{"id": content_id, "quantity": 1}],
            "note": note
        }
    })
}

#[derive(Debug, Clone, Copy)]
enum Case {
    Lower,
    Upper,
    Title,
}

#[derive(Debug, Clone, Copy)]
enum Enc {
    Plain,
    /// Every byte but letters and digits as `%XX`.
    Percent,
    /// Every byte as `%XX`.
    PercentAll,
    Plus,
    Double,
    Hyphen,
}

#[derive(Debug, Clone, Copy)]
enum Place {
    ContentName,
    SearchString,
    ContentCategory,
    ContentsTitle,
    ContentsDescription,
    CustomNote,
    OrderId,
    ContentId,
    EventId,
    UrlPath,
    UrlQuery,
    UrlFragment,
    ReferrerQuery,
    ExternalId,
    ValueInUrl,
    /// A whole URL, percent-encoded, inside a value (`?return=https%3A...`).
    EncodedUrlInValue,
}

fn cased(t: &str, c: Case) -> String {
    match c {
        Case::Lower => t.to_owned(),
        Case::Upper => t.to_uppercase(),
        Case::Title => t
            .split(' ')
            .map(|w| {
                let mut cs = w.chars();
                match cs.next() {
                    Some(f) => f.to_uppercase().chain(cs).collect(),
                    None => String::new(),
                }
            })
            .collect::<Vec<String>>()
            .join(" "),
    }
}

fn encoded(t: &str, e: Enc) -> String {
    let pct = |s: &str, all: bool| {
        s.bytes()
            .map(|b| {
                if !all && b.is_ascii_alphanumeric() {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect::<String>()
    };
    match e {
        Enc::Plain => t.to_owned(),
        Enc::Percent => pct(t, false),
        Enc::PercentAll => pct(t, true),
        Enc::Plus => t.replace(' ', "+"),
        Enc::Double => pct(t, false).replace('%', "%25"),
        Enc::Hyphen => t.replace(' ', "-"),
    }
}

fn build(term: &str, case: Case, enc: Enc, place: Place) -> Value {
    let v = encoded(&cased(term, case), enc);
    let text = format!("buy {v} today");
    let mut ev = event("sku-1", "thanks");
    let cd = &mut ev["custom_data"];
    match place {
        Place::ContentName => cd["content_name"] = json!(text),
        Place::SearchString => cd["search_string"] = json!(v),
        Place::ContentCategory => cd["content_category"] = json!(text),
        Place::ContentsTitle => cd["contents"][0]["title"] = json!(text),
        Place::ContentsDescription => cd["contents"][0]["description"] = json!(text),
        Place::CustomNote => cd["note"] = json!(text),
        Place::OrderId => cd["order_id"] = json!(format!("{v}-42")),
        Place::ContentId => cd["content_ids"] = json!(["sku-9", format!("{v}-10mg")]),
        Place::EventId => ev["event_id"] = json!(format!("{v}-1001")),
        Place::UrlPath => {
            ev["event_source_url"] = json!(format!(
                "https://shop.example/products/{}",
                encoded(&cased(term, case), Enc::Hyphen)
            ))
        }
        Place::UrlQuery => {
            ev["event_source_url"] = json!(format!("https://shop.example/search?q={v}&page=2"))
        }
        Place::UrlFragment => {
            ev["event_source_url"] = json!(format!("https://shop.example/info#{v}"))
        }
        Place::ReferrerQuery => {
            ev["referrer_url"] = json!(format!(
                "https://www.search.example/search?client_id=7&q={v}"
            ))
        }
        Place::ExternalId => ev["user_data"]["external_id"] = json!(format!("{v}-patient-7")),
        Place::ValueInUrl => cd["note"] = json!(format!("https://shop.example/p?product_id={v}")),
        Place::EncodedUrlInValue => {
            let inner = format!("https://shop.example/p?product_id={v}");
            let enc: String = inner
                .bytes()
                .map(|b| {
                    if b.is_ascii_alphanumeric() {
                        (b as char).to_string()
                    } else {
                        format!("%{b:02X}")
                    }
                })
                .collect();
            ev["event_source_url"] = json!(format!("https://shop.example/login?return={enc}"))
        }
    }
    ev
}

/// The forwarded body as the detector would read it.
fn readable(d: &Decision) -> String {
    let body = serde_json::to_string(&d.event).expect("serialises");
    normalize(&url_decode(&body))
}

fn case_s() -> impl Strategy<Value = Case> {
    prop_oneof![Just(Case::Lower), Just(Case::Upper), Just(Case::Title)]
}

fn enc_s() -> impl Strategy<Value = Enc> {
    prop_oneof![
        Just(Enc::Plain),
        Just(Enc::Percent),
        Just(Enc::PercentAll),
        Just(Enc::Plus),
        Just(Enc::Double),
        Just(Enc::Hyphen),
    ]
}

fn place_s() -> impl Strategy<Value = Place> {
    prop_oneof![
        Just(Place::ContentName),
        Just(Place::SearchString),
        Just(Place::ContentCategory),
        Just(Place::ContentsTitle),
        Just(Place::ContentsDescription),
        Just(Place::CustomNote),
        Just(Place::OrderId),
        Just(Place::ContentId),
        Just(Place::EventId),
        Just(Place::UrlPath),
        Just(Place::UrlQuery),
        Just(Place::UrlFragment),
        Just(Place::ReferrerQuery),
        Just(Place::ExternalId),
        Just(Place::ValueInUrl),
        Just(Place::EncodedUrlInValue),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn forwarded_events_never_carry_the_health_term(
        term in proptest::sample::select(TERMS.clone()),
        case in case_s(),
        enc in enc_s(),
        place in place_s(),
    ) {
        let ev = build(&term, case, enc, place);
        let needle = format!(" {term} ");
        for (name, p) in [("default", &*DEFAULT), ("permissive", &*PERMISSIVE)] {
            let d = p.evaluate_at("1234", &ev, None, NOW);
            if d.is_forward() {
                let out = readable(&d);
                prop_assert!(
                    !out.contains(&needle),
                    "{name}: {term:?} ({case:?}, {enc:?}, {place:?}) reached the wire: {}",
                    d.event
                );
            }
        }
    }
}

/// The generator itself: a clean event is forwarded by both policies, so
/// the property is not passing because everything is blocked.
#[test]
fn clean_events_are_forwarded() {
    let ev = event("sku-1", "thanks");
    assert!(DEFAULT.evaluate_at("1234", &ev, None, NOW).is_forward());
    let d = PERMISSIVE.evaluate_at("1234", &ev, None, NOW);
    assert!(d.is_forward());
    assert_eq!(d.event["custom_data"]["note"], "thanks");
    assert_eq!(
        d.event["event_source_url"],
        "https://shop.example/checkout/done"
    );
    assert!(TERMS.len() > 5_000, "{}", TERMS.len());
}

/// Most health events stay deliverable under the permissive policy: the
/// term is removed, not the event (blocks are only for names and config).
#[test]
fn health_in_a_field_is_redacted_not_blocked() {
    let ev = build(
        "levonorgestrel",
        Case::Title,
        Enc::Plain,
        Place::ContentName,
    );
    let d = PERMISSIVE.evaluate_at("1234", &ev, None, NOW);
    assert!(d.is_forward());
    assert!(d.event["custom_data"].get("content_name").is_none());
}
