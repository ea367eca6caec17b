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
