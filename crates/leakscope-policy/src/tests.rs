//! Rule-by-rule tests on made-up pharmacy events (Northwind Pharmacy, fake
//! people, canary values).

use serde_json::{Value, json};

use crate::*;

/// 2026-11-20T12:00:00Z: every fixture's clock.
const NOW: i64 = 1_795_176_000;

fn policy() -> Policy {
    Policy::compile(PolicyConfig::default()).expect("default policy compiles")
}

/// Plan B bought at the pharmacy, as a careless integration would send it.
fn plan_b_purchase() -> Value {
    json!({
        "event_name": "Purchase",
        "event_time": NOW - 60,
        "event_id": "order-77120",
        "action_source": "website",
        "event_source_url": "https://shop.northwind-pharmacy.example/pharmacy/emergency-contraception/plan-b-one-step?utm_source=mail",
        "leakscope_consent": "granted",
        "user_data": {
            "em": "  Jane.Canary@Example.COM ",
            "ph": "+1 (555) 010-0199",
            "fn": "Jane",
            "external_id": "cust-0042",
            "client_ip_address": "203.0.113.7",
            "client_user_agent": "Mozilla/5.0 (X11; Linux x86_64) Canary/1.0",
            "fbp": "fb.1.1700000000000.1234567890"
        },
        "custom_data": {
            "value": 49.99,
            "currency": "USD",
            "content_name": "Plan B One-Step emergency contraceptive",
            "content_category": "Family Planning",
            "content_ids": ["sku-1188"],
            "contents": [{"id": "sku-1188", "quantity": 1, "item_price": 49.99, "title": "Plan B One-Step 1.5 mg tablet"}],
            "num_items": 1
        }
    })
}

#[test]
fn default_policy_strips_plan_b_and_hashes_identifiers() {
    let d = policy().evaluate_at("1234567890", &plan_b_purchase(), None, NOW);
    assert!(d.is_forward(), "{:?}", d.verdict);
    let body = d.event.to_string().to_lowercase();
    assert!(
        !body.contains("plan b") && !body.contains("plan-b"),
        "{body}"
    );
    assert!(!body.contains("contracept"), "{body}");
    assert!(!body.contains("jane"), "{body}");
    assert!(!body.contains(CONSENT_FIELD));
    assert_eq!(
        d.event["event_source_url"],
        "https://shop.northwind-pharmacy.example/"
    );
    assert_eq!(d.event["user_data"]["client_ip_address"], "203.0.113.7");
    assert_eq!(
        d.event["user_data"]["em"],
        sha256_hex("jane.canary@example.com")
    );
}

#[test]
fn no_consent_blocks() {
    let mut ev = plan_b_purchase();
    ev.as_object_mut().unwrap().remove(CONSENT_FIELD);
    let d = policy().evaluate_at("1", &ev, None, NOW);
    assert_eq!(
        d.verdict,
        Verdict::Block {
            reason: BlockReason::NoConsent
        }
    );
    assert_eq!(d.event, json!({}));
}

/// A pharmacy that lets more through, to exercise the detector: free-text
/// fields allowed, URLs kept when clean.
const PERMISSIVE: &str = r#"
[default]
custom_data_allow = ["value", "currency", "content_name", "content_category", "contents",
                     "content_ids", "search_string", "order_id", "rx_note", "appointment"]
contents_allow = ["id", "quantity", "item_price", "title"]
url_mode = "keep-if-clean"

[[page_types]]
name = "pharmacy-page"
prefix = "/pharmacy"

[[page_types]]
name = "booking-page"
glob = "/clinic/*/book/**"
"#;

fn permissive() -> Policy {
    Policy::from_toml(PERMISSIVE).expect("permissive policy compiles")
}

/// A paid refill of an antidepressant.
fn refill() -> Value {
    json!({
        "event_name": "Purchase",
        "event_time": NOW - 3600,
        "event_id": "rx-refill-5521",
        "action_source": "website",
        "event_source_url": "https://shop.northwind-pharmacy.example/account/refills?rx=sertraline%2050mg&store=114",
        "leakscope_consent": {"ad_storage": "granted", "ad_user_data": "granted"},
        "user_data": {
            "em": ["b58996c504c5638798eb6b511e6f49af6ee5a6b6ad6a1e43b0d3ed54c0b2f9b4"],
            "external_id": "patient-88121",
            "client_user_agent": "Mozilla/5.0 Canary/1.0",
            "fbc": "fb.1.1700000000000.AbCdEfCanary"
        },
        "custom_data": {
            "currency": "USD",
            "value": "12.00",
            "content_name": "Sertraline 50 mg tablets (90)",
            "rx_note": "refill early - traveling",
            "store_id": "114"
        }
    })
}

/// An HIV-testing appointment booked at the clinic.
fn appointment() -> Value {
    json!({
        "event_name": "Schedule",
        "event_time": NOW - 120,
        "event_id": "appt-90017",
        "action_source": "website",
        "event_source_url": "https://northwind-pharmacy.example/clinic/downtown/book/hiv-testing?slot=2026-11-21T09%3A30",
        "referrer_url": "https://www.search.example/search?q=free+hiv+test+near+me",
        "leakscope_consent": "granted",
        "user_data": {
            "em": "sam.canary@example.org",
            "ph": "555 010 0142",
            "ge": "m",
            "db": "1988-04-02",
            "zp": "94025-1234",
            "st": "California",
            "ct": "Menlo Park",
            "country": "United States",
            "client_user_agent": "Mozilla/5.0 Canary/1.0",
            "client_ip_address": "2001:db8::7"
        },
        "custom_data": {
            "appointment": "HIV test, rapid",
            "content_category": "Sexual health services",
            "value": 0,
            "currency": "USD"
        }
    })
}

/// A newsletter sign-up on the pharmacy's site: nothing about health, every
/// identifier Meta takes.
fn newsletter() -> Value {
    json!({
        "event_name": "Lead",
        "event_time": NOW - 120,
        "event_id": "lead-31337",
        "action_source": "website",
        "event_source_url": "https://northwind-pharmacy.example/newsletter/thanks?src=footer",
        "referrer_url": "https://www.search.example/search?q=northwind+store+hours",
        "leakscope_consent": "granted",
        "user_data": {
            "em": "sam.canary@example.org",
            "ph": "1 555 010 0142",
            "ge": "m",
            "db": "1988-04-02",
            "zp": "94025-1234",
            "st": "California",
            "ct": "Menlo Park",
            "country": "United States",
            "client_user_agent": "Mozilla/5.0 Canary/1.0",
            "client_ip_address": "2001:db8::7"
        },
        "custom_data": {"value": 0, "currency": "USD"}
    })
}

fn redaction<'d>(d: &'d Decision, field: &str) -> Option<&'d Redaction> {
    d.redactions.iter().find(|r| r.field == field)
}

fn blocked(d: &Decision) -> &BlockReason {
    match &d.verdict {
        Verdict::Block { reason } => reason,
        Verdict::Forward => panic!("expected a block, got forward: {}", d.event),
    }
}

fn with(mut ev: Value, f: impl FnOnce(&mut serde_json::Map<String, Value>)) -> Value {
    f(ev.as_object_mut().expect("fixture is an object"));
    ev
}

// ---- consent -------------------------------------------------------------

#[test]
fn consent_object_needs_every_configured_signal() {
    let ev = with(newsletter(), |e| {
        e.insert(CONSENT_FIELD.into(), json!({"ad_storage": "granted"}));
    });
    let d = policy().evaluate_at("1", &ev, None, NOW);
    assert_eq!(*blocked(&d), BlockReason::NoConsent);
    assert!(
        d.notes.iter().any(|n| n.contains("ad_user_data missing")),
        "{:?}",
        d.notes
    );

    let ev = with(newsletter(), |e| {
        e.insert(
            CONSENT_FIELD.into(),
            json!({"ad_storage": "granted", "ad_user_data": "denied"}),
        );
    });
    assert_eq!(
        *blocked(&policy().evaluate_at("1", &ev, None, NOW)),
        BlockReason::NoConsent
    );
    assert!(policy().evaluate_at("1", &refill(), None, NOW).is_forward());
}

#[test]
fn consent_record_is_used_when_the_event_says_nothing() {
    let ev = with(newsletter(), |e| {
        e.remove(CONSENT_FIELD);
    });
    let yes = ConsentRecord {
        advertising: true,
        at: NOW - 86_400,
        source: "cmp".into(),
    };
    let no = ConsentRecord {
        advertising: false,
        ..yes.clone()
    };
    let p = policy();
    assert!(p.evaluate_at("1", &ev, Some(&yes), NOW).is_forward());
    assert_eq!(
        *blocked(&p.evaluate_at("1", &ev, Some(&no), NOW)),
        BlockReason::NoConsent
    );
    assert_eq!(
        *blocked(&p.evaluate_at("1", &ev, None, NOW)),
        BlockReason::NoConsent
    );

    // An explicit denial on the event beats a stored grant.
    let denied = with(newsletter(), |e| {
        e.insert(CONSENT_FIELD.into(), json!("denied"));
    });
    assert_eq!(
        *blocked(&p.evaluate_at("1", &denied, Some(&yes), NOW)),
        BlockReason::NoConsent
    );

    // A stale record does not count.
    let p = Policy::from_toml("[default.consent]\nrecord_max_age_days = 30\n").unwrap();
    let old = ConsentRecord {
        at: NOW - 31 * 86_400,
        ..yes
    };
    assert_eq!(
        *blocked(&p.evaluate_at("1", &ev, Some(&old), NOW)),
        BlockReason::NoConsent
    );
}

#[test]
fn opt_out_and_unknown_signals_block_and_not_required_forwards() {
    let ev = with(newsletter(), |e| {
        e.insert("opt_out".into(), json!(true));
    });
    assert_eq!(
        *blocked(&policy().evaluate_at("1", &ev, None, NOW)),
        BlockReason::NoConsent
    );
    let ev = with(newsletter(), |e| {
        e.insert(CONSENT_FIELD.into(), json!("maybe"));
    });
    assert_eq!(
        *blocked(&policy().evaluate_at("1", &ev, None, NOW)),
        BlockReason::NoConsent
    );

    let p = Policy::from_toml("[default.consent]\nrequired = false\n").unwrap();
    let silent = with(newsletter(), |e| {
        e.remove(CONSENT_FIELD);
    });
    let d = p.evaluate_at("1", &silent, None, NOW);
    assert!(d.is_forward());
    assert!(d.notes.iter().any(|n| n.contains("not required")));
    // ... but a denial still blocks.
    let denied = with(newsletter(), |e| {
        e.insert(CONSENT_FIELD.into(), json!(false));
    });
    assert!(!p.evaluate_at("1", &denied, None, NOW).is_forward());
}

// ---- allowlist -----------------------------------------------------------

#[test]
fn custom_data_allowlist_drops_everything_else() {
    let d = policy().evaluate_at("1", &plan_b_purchase(), None, NOW);
    let cd = d.event["custom_data"].as_object().unwrap();
    let keys: Vec<&str> = cd.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        ["value", "currency", "content_ids", "contents", "num_items"]
    );
    for f in [
        "custom_data.content_name",
        "custom_data.content_category",
        "custom_data.contents[0].title",
    ] {
        assert_eq!(
            redaction(&d, f).map(|r| r.action),
            Some(RedactionAction::Dropped),
            "{f}: {:?}",
            d.redactions
        );
    }
    assert_eq!(
        redaction(&d, CONSENT_FIELD).unwrap().action,
        RedactionAction::Dropped
    );
    // Dropped by rule, but the audit still learns what it was about.
    assert_eq!(
        redaction(&d, "custom_data.content_name").unwrap().category,
        Some(HealthCategory::ReproContraception)
    );
    // Unknown top-level fields, credentials included, never pass.
    let ev = with(plan_b_purchase(), |e| {
        e.insert("access_token".into(), json!("EAAB-canary-token"));
    });
    let d = policy().evaluate_at("1", &ev, None, NOW);
    assert!(!d.event.to_string().contains("EAAB"));
    assert!(!serde_json::to_string(&d).unwrap().contains("EAAB"));
}

// ---- health detection ----------------------------------------------------

#[test]
fn health_values_are_redacted_with_their_category() {
    let d = permissive().evaluate_at("1", &plan_b_purchase(), None, NOW);
    assert!(d.is_forward());
    let name = redaction(&d, "custom_data.content_name").expect("content_name redacted");
    assert_eq!(name.action, RedactionAction::Redacted);
    assert_eq!(name.category, Some(HealthCategory::ReproContraception));
    let title = redaction(&d, "custom_data.contents[0].title").expect("title redacted");
    assert_eq!(title.action, RedactionAction::Redacted);
    assert!(d.event["custom_data"]["contents"][0].get("title").is_none());
    assert_eq!(d.event["custom_data"]["contents"][0]["id"], "sku-1188");
    // The URL path names the product: generalised to the page type.
    assert_eq!(
        d.event["event_source_url"],
        "https://shop.northwind-pharmacy.example/[pharmacy-page]"
    );
    let url = redaction(&d, "event_source_url").unwrap();
    assert_eq!(url.action, RedactionAction::Generalized);
    assert!(url.category.is_some());
}

#[test]
fn refill_drug_in_query_and_free_text_is_caught() {
    let d = permissive().evaluate_at("1", &refill(), None, NOW);
    assert!(d.is_forward(), "{:?}", d.verdict);
    // `?rx=sertraline%2050mg`: URL-encoded, in the query.
    assert_eq!(
        d.event["event_source_url"],
        "https://shop.northwind-pharmacy.example/"
    );
    assert_eq!(
        redaction(&d, "custom_data.content_name").map(|r| r.category),
        Some(Some(HealthCategory::MentalHealth))
    );
    let body = d.event.to_string().to_lowercase();
    assert!(!body.contains("sertraline"), "{body}");
    // Not allowlisted: dropped by rule even though it is harmless.
    assert_eq!(
        redaction(&d, "custom_data.store_id").map(|r| r.action),
        Some(RedactionAction::Dropped)
    );
}

#[test]
fn block_action_blocks_the_whole_event() {
    let p = Policy::from_toml(&format!(
        "{}\n",
        PERMISSIVE.replace(
            "url_mode = \"keep-if-clean\"",
            "url_mode = \"keep-if-clean\"\nhealth_action = \"block\""
        )
    ))
    .unwrap();
    let d = p.evaluate_at("1", &plan_b_purchase(), None, NOW);
    match blocked(&d) {
        BlockReason::Health { category, field } => {
            assert_eq!(*category, HealthCategory::ReproContraception);
            assert_eq!(field, "custom_data.content_name");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(d.event, json!({}));
}

#[test]
fn health_in_the_event_name_blocks_it_cannot_be_redacted() {
    let ev = with(refill(), |e| {
        e.insert("event_name".into(), json!("Sertraline Refill"));
    });
    match blocked(&policy().evaluate_at("1", &ev, None, NOW)) {
        BlockReason::Health { field, .. } => assert_eq!(field, "event_name"),
        other => panic!("{other:?}"),
    }
    // A weak word in a custom event name counts with the drug beside it
    // (judged on the event as received, before anything is removed).
    let ev = with(refill(), |e| {
        e.insert("event_name".into(), json!("RefillRequested"));
    });
    assert_eq!(
        *blocked(&permissive().evaluate_at("1", &ev, None, NOW)),
        BlockReason::Health {
            category: HealthCategory::PharmacyAction,
            field: "event_name".into()
        }
    );
    // Booking an HIV test at the clinic: `Schedule` is a care appointment
    // there, under any policy.
    for p in [policy(), permissive()] {
        match blocked(&p.evaluate_at("1", &appointment(), None, NOW)) {
            BlockReason::Health { category, field } => {
                assert_eq!(field, "event_name");
                assert_eq!(*category, HealthCategory::CareAppointment);
            }
            other => panic!("{other:?}"),
        }
    }
    // A standard event name that is also a weak health word does not block
    // by itself.
    let ev = with(appointment(), |e| {
        e.insert(
            "event_source_url".into(),
            json!("https://salon.example/book"),
        );
        e.insert("referrer_url".into(), json!("https://salon.example/"));
        e.insert("custom_data".into(), json!({"value": 0, "currency": "USD"}));
    });
    let d = policy().evaluate_at("1", &ev, None, NOW);
    assert!(d.is_forward(), "{:?}", d.verdict);
}

#[test]
fn ids_and_array_elements_are_scanned_too() {
    let ev = with(plan_b_purchase(), |e| {
        e.insert(
            "custom_data".into(),
            json!({
                "value": 49.99, "currency": "USD",
                "order_id": "PLAN-B-ONE-STEP-7712",
                "content_ids": ["sku-1", "levonorgestrel-1.5mg", "sku-3"]
            }),
        );
    });
    let d = policy().evaluate_at("1", &ev, None, NOW);
    assert!(d.is_forward());
    assert!(d.event["custom_data"].get("order_id").is_none());
    assert_eq!(
        d.event["custom_data"]["content_ids"],
        json!(["sku-1", "sku-3"])
    );
    assert_eq!(
        redaction(&d, "custom_data.content_ids[1]").map(|r| r.action),
        Some(RedactionAction::Redacted)
    );
}

#[test]
fn encodings_and_case_do_not_hide_health_terms() {
    for text in [
        "PLAN B ONE-STEP",
        "plan%20b%20one-step",
        "plan+b+one+step",
        "Plan%2520B", // double-encoded
        "https://shop.example/p?item=plan-b",
        "PlanBOneStep",
    ] {
        let ev = with(plan_b_purchase(), |e| {
            e.insert(
                "custom_data".into(),
                json!({"value": 1, "currency": "USD", "search_string": text}),
            );
        });
        let d = permissive().evaluate_at("1", &ev, None, NOW);
        assert!(d.is_forward());
        assert!(
            d.event["custom_data"].get("search_string").is_none(),
            "{text:?} passed: {}",
            d.event
        );
    }
}

// ---- URLs ----------------------------------------------------------------

#[test]
fn url_modes() {
    let p = Policy::from_toml("[default]\nurl_mode = \"origin\"\n").unwrap();
    let d = p.evaluate_at("1", &newsletter(), None, NOW);
    assert_eq!(
        d.event["event_source_url"],
        "https://northwind-pharmacy.example/"
    );
    assert_eq!(d.event["referrer_url"], "https://www.search.example/");

    // page-type: glob with `*` and `**`; the default mode generalises even
    // a clean URL.
    let booking = with(newsletter(), |e| {
        e.insert(
            "event_source_url".into(),
            json!("https://northwind-pharmacy.example/clinic/downtown/book/flu-shot/confirm"),
        );
    });
    let p = Policy::from_toml(&PERMISSIVE.replace("url_mode = \"keep-if-clean\"", "")).unwrap();
    let d = p.evaluate_at("1", &booking, None, NOW);
    assert_eq!(
        d.event["event_source_url"],
        "https://northwind-pharmacy.example/[booking-page]"
    );
    assert_eq!(d.event["referrer_url"], "https://www.search.example/");
    // keep-if-clean keeps a clean URL untouched, query and all.
    let clean = with(newsletter(), |e| {
        e.insert(
            "event_source_url".into(),
            json!("https://northwind-pharmacy.example/store-hours?city=menlo"),
        );
        e.remove("referrer_url");
    });
    let d = permissive().evaluate_at("1", &clean, None, NOW);
    assert_eq!(
        d.event["event_source_url"],
        "https://northwind-pharmacy.example/store-hours?city=menlo"
    );
    assert!(redaction(&d, "event_source_url").is_none());
}

// ---- identifiers ---------------------------------------------------------

#[test]
fn identifiers_are_normalised_hashed_never_twice() {
    let d = policy().evaluate_at("1", &newsletter(), None, NOW);
    let ud = &d.event["user_data"];
    assert_eq!(ud["em"], sha256_hex("sam.canary@example.org"));
    assert_eq!(ud["ph"], sha256_hex("15550100142"));
    assert_eq!(ud["ge"], sha256_hex("m"));
    assert_eq!(ud["db"], sha256_hex("19880402"));
    assert_eq!(ud["zp"], sha256_hex("94025"));
    assert_eq!(ud["st"], sha256_hex("ca"));
    assert_eq!(ud["ct"], sha256_hex("menlopark"));
    assert_eq!(ud["country"], sha256_hex("us"));
    assert_eq!(ud["client_ip_address"], "2001:db8::7");
    assert_eq!(ud["client_user_agent"], "Mozilla/5.0 Canary/1.0");
    assert_eq!(
        redaction(&d, "user_data.em").unwrap().action,
        RedactionAction::Hashed
    );

    // Already hashed (array, upper case, appendix): left as hashes.
    let h = sha256_hex("jane.canary@example.com");
    let ev = with(refill(), |e| {
        e["user_data"]["em"] = json!([h.to_uppercase(), format!("{h}.AQYCAQMA")]);
    });
    let d = policy().evaluate_at("1", &ev, None, NOW);
    assert_eq!(
        d.event["user_data"]["em"],
        json!([h.clone(), format!("{h}.AQYCAQMA")])
    );
    assert!(redaction(&d, "user_data.em").is_none());
    assert_eq!(
        d.event["user_data"]["fbc"],
        "fb.1.1700000000000.AbCdEfCanary"
    );
    assert_eq!(
        d.event["user_data"]["external_id"],
        sha256_hex("patient-88121")
    );
}

#[test]
fn forbidden_and_dropped_identifiers() {
    let p = Policy::from_toml(
        "[default]\nreject_plaintext = [\"external_id:*patient*\"]\ndrop_identifiers = [\"ge\", \"db\"]\n",
    )
    .unwrap();
    let d = p.evaluate_at("1", &refill(), None, NOW);
    assert_eq!(
        *blocked(&d),
        BlockReason::Forbidden {
            field: "user_data.external_id".into()
        }
    );
    let d = p.evaluate_at("1", &newsletter(), None, NOW);
    assert!(d.is_forward());
    assert!(d.event["user_data"].get("ge").is_none());
    assert!(d.event["user_data"].get("db").is_none());

    // Unknown keys and unusable values are dropped, not forwarded raw.
    let ev = with(newsletter(), |e| {
        e["user_data"]["em"] = json!("not an email");
        e["user_data"]["ssn"] = json!("078-05-1120");
    });
    let d = policy().evaluate_at("1", &ev, None, NOW);
    assert!(d.event["user_data"].get("em").is_none());
    assert!(d.event["user_data"].get("ssn").is_none());
    assert!(!d.event.to_string().contains("078-05"));
}

#[test]
fn health_revealing_external_id_is_redacted_before_hashing() {
    let ev = with(refill(), |e| {
        e["user_data"]["external_id"] = json!("hiv-clinic-patient-42");
    });
    let d = policy().evaluate_at("1", &ev, None, NOW);
    assert!(d.is_forward());
    assert!(d.event["user_data"].get("external_id").is_none());
    assert_eq!(
        redaction(&d, "user_data.external_id").map(|r| r.category),
        Some(Some(HealthCategory::SexualStiHiv))
    );
}

#[test]
fn limited_data_use_is_injected() {
    let p = Policy::from_toml("[default.limited_data_use]\ncountry = 1\nstate = 1000\n").unwrap();
    let d = p.evaluate_at("1", &newsletter(), None, NOW);
    assert_eq!(d.event["data_processing_options"], json!(["LDU"]));
    assert_eq!(d.event["data_processing_options_country"], 1);
    assert_eq!(d.event["data_processing_options_state"], 1000);
}

#[test]
fn block_events_by_name() {
    let p =
        Policy::from_toml("[default]\nblock_events = [\"*refill*\", \"BookHIVTest\"]\n").unwrap();
    for name in ["RefillRequested", "rx_refill", "bookhivtest"] {
        let ev = with(newsletter(), |e| {
            e.insert("event_name".into(), json!(name));
        });
        assert_eq!(
            *blocked(&p.evaluate_at("1", &ev, None, NOW)),
            BlockReason::Forbidden {
                field: "event_name".into()
            },
            "{name}"
        );
    }
    assert!(p.evaluate_at("1", &newsletter(), None, NOW).is_forward());
}

#[test]
fn per_pixel_policy_applies_to_its_pixel_only() {
    let p = Policy::from_toml(
        "[pixels.\"555\"]\nhealth_action = \"block\"\ncustom_data_allow = [\"content_name\"]\n",
    )
    .unwrap();
    assert!(
        !p.evaluate_at("555", &plan_b_purchase(), None, NOW)
            .is_forward()
    );
    assert!(
        p.evaluate_at("556", &plan_b_purchase(), None, NOW)
            .is_forward()
    );
}

// ---- validation ----------------------------------------------------------

#[test]
fn validation_names_the_field() {
    let cases: Vec<(Value, &str)> = vec![
        (
            with(refill(), |e| {
                e.remove("event_name");
            }),
            "event_name",
        ),
        (
            with(refill(), |e| {
                e.insert("event_time".into(), json!(NOW - 8 * 86_400));
            }),
            "event_time",
        ),
        (
            with(refill(), |e| {
                e.insert("event_time".into(), json!(NOW * 1000));
            }),
            "event_time",
        ),
        (
            with(refill(), |e| {
                e.insert("event_time".into(), json!("yesterday"));
            }),
            "event_time",
        ),
        (
            with(refill(), |e| {
                e.insert("action_source".into(), json!("web"));
            }),
            "action_source",
        ),
        (
            with(refill(), |e| {
                e["user_data"]
                    .as_object_mut()
                    .unwrap()
                    .remove("client_user_agent");
            }),
            "user_data.client_user_agent",
        ),
        (
            with(refill(), |e| {
                e.insert("user_data".into(), json!({}));
            }),
            "user_data",
        ),
        (
            with(plan_b_purchase(), |e| {
                e["custom_data"].as_object_mut().unwrap().remove("currency");
            }),
            "custom_data.currency",
        ),
        (
            with(refill(), |e| {
                e.insert("custom_data".into(), json!([1]));
            }),
            "custom_data",
        ),
        (json!("not an object"), "event"),
    ];
    for (ev, field) in cases {
        let err = validate_event_at(&ev, NOW).expect_err(field);
        assert_eq!(err.field, field, "{err}");
        let d = policy().evaluate_at("1", &ev, None, NOW);
        assert!(!d.is_forward());
    }
    // 62 days for physical stores.
    let store = with(refill(), |e| {
        e.insert("action_source".into(), json!("physical_store"));
        e.insert("event_time".into(), json!(NOW - 30 * 86_400));
    });
    assert!(validate_event_at(&store, NOW).is_ok());
    assert!(validate_event_at(&refill(), NOW).is_ok());
}

#[test]
fn dedup_key_is_event_id_and_name() {
    assert_eq!(
        dedup_key(&refill()),
        Some(("rx-refill-5521".into(), "Purchase".into()))
    );
    assert_eq!(
        dedup_key(&json!({"event_name": "Lead", "event_id": 42})),
        Some(("42".into(), "Lead".into()))
    );
    assert_eq!(dedup_key(&json!({"event_name": "Lead"})), None);
    assert_eq!(dedup_key(&json!({"event_id": ""})), None);
}

// ---- configuration -------------------------------------------------------

#[test]
fn config_errors_say_where() {
    let err = |t: &str| Policy::from_toml(t).err().expect(t).to_string();
    assert_eq!(
        err("[default]\ncustom_data_allow = [\"value\"]\nurl_mod = \"origin\"\n")[..4].to_string(),
        "3:1:"
    );
    assert!(
        err("[default]\nurl_mode = \"path\"\n").starts_with("2:12:"),
        "{}",
        err("[default]\nurl_mode = \"path\"\n")
    );
    assert!(
        err("[default]\nhealth_action = { fields = \"generalize\" }\n")
            .starts_with("default.health_action.fields:")
    );
    assert!(
        err("[default.health_action]\nurls = \"redact\"\n")
            .starts_with("default.health_action.urls:")
    );
    assert!(
        err("[default.limited_data_use]\ncountry = 0\nstate = 1000\n")
            .starts_with("default.limited_data_use.state:")
    );
    assert!(err("[pixels.abc]\n").starts_with("pixels.abc:"));
    assert!(
        err("[pixels.\"12\"]\ncustom_data_allow = [\"access_token\"]\n")
            .starts_with("pixels.\"12\".custom_data_allow:")
    );
    assert!(
        err("[[page_types]]\nname = \"pharmacy-page\"\nglob = \"/rx/***\"\n")
            .starts_with("page_types[0].glob:")
    );
    assert!(
        err("[[page_types]]\nname = \"hiv-testing\"\nprefix = \"/t\"\n").contains("reveals health")
    );
    assert!(err("[[page_types]]\nname = \"x\"\n").starts_with("page_types[0]:"));
    assert!(
        err("[default]\nreject_plaintext = [\"client_ip_address\"]\n")
            .starts_with("default.reject_plaintext[0]:")
    );
    let e = Policy::from_toml("[pixels.x]\n")
        .err()
        .unwrap()
        .in_section("policy");
    assert!(e.to_string().starts_with("policy.pixels.x:"), "{e}");
}

#[test]
fn empty_config_is_the_safe_default() {
    let p = Policy::from_toml("").unwrap();
    assert_eq!(*p.config(), PolicyConfig::default());
    let d = p.destination("1");
    assert!(d.consent.required);
    assert!(
        !d.custom_data_allow
            .iter()
            .any(|k| k == "content_name" || k == "search_string")
    );
    assert_eq!(d.url_mode, UrlMode::PageType);
    assert_eq!(d.health_action, HealthActions::default());
}

// ---- wire bodies ---------------------------------------------------------

#[test]
fn snapshots_of_rewritten_events() {
    // Through serde_json so numbers print as on the wire.
    let wire = |d: Decision| serde_json::to_string_pretty(&d).expect("decision serialises");
    insta::assert_snapshot!(
        "plan_b_default",
        wire(policy().evaluate_at("1", &plan_b_purchase(), None, NOW))
    );
    insta::assert_snapshot!(
        "refill_permissive",
        wire(permissive().evaluate_at("1", &refill(), None, NOW))
    );
    insta::assert_snapshot!(
        "appointment_default",
        wire(policy().evaluate_at("1", &appointment(), None, NOW))
    );
    insta::assert_snapshot!(
        "newsletter_default",
        wire(policy().evaluate_at("1", &newsletter(), None, NOW))
    );
}

#[test]
fn policy_is_shareable_across_threads() {
    fn send_sync<T: Send + Sync + 'static>() {}
    send_sync::<Policy>();
    send_sync::<Decision>();
    let p = std::sync::Arc::new(policy());
    let h = std::thread::spawn({
        let p = p.clone();
        move || p.evaluate_at("1", &newsletter(), None, NOW).is_forward()
    });
    assert!(h.join().expect("thread ran"));
}
