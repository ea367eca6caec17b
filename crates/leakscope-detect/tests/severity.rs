//! How findings are judged, through the whole pipeline on real Meta Pixel
//! request shapes (issue 12 items 3, 5, 14): rule ids name no severity and
//! modifiers are listed apart; an IP-only finding says the IP ties it to a
//! person; a repeated request is one finding with several occurrences; only
//! care actions count as care actions. Sites and people are made up.

use leakscope_core::{Engine, Exchange, Source};
use leakscope_detect::{
    Detector, Effect, Finding, Pipeline, Severity,
    verdict::{VISITOR_IP, base_severity},
};

const SITE: &str = "https%3A%2F%2Fbrightpath-clinic.example";
/// `_fbp` cookie value: a platform id, strong identity.
const FBP: &str = "&fbp=fb.1.1707905062143.381974684";

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A Meta Pixel hit for `ev` on the clinic's `path`, with extra parameters.
fn meta(ev: &str, path: &str, extra: &str) -> String {
    format!(
        "https://www.facebook.com/tr/?id=111222333&ev={ev}&dl={SITE}{}{extra}",
        enc(path)
    )
}

/// A click on a button or link with `text` that leads to `dest`, on `path`.
fn click(path: &str, text: &str, dest: &str, extra: &str) -> String {
    let features = format!(
        r#"{{"classList":"nav-link","destination":"{dest}","innerText":"{text}","tag":"a"}}"#
    );
    meta(
        "SubscribedButtonClick",
        path,
        &format!(
            "&cd[buttonFeatures]={}&cd[buttonText]={}{extra}",
            enc(&features),
            enc(text)
        ),
    )
}

fn exchange(n: u64, url: &str, time: &str) -> Exchange {
    let mut e = Exchange::get(Source::new("visit.har", n), url);
    e.timestamp = Some(time.into());
    e
}

fn run(urls: &[String]) -> Vec<Finding> {
    let engine = Engine::new();
    let detector = Detector::new(&[]).expect("built-in detector");
    let mut p = Pipeline::new(&engine, &detector);
    for (n, u) in urls.iter().enumerate() {
        p.feed(&exchange(
            n as u64,
            u,
            &format!("2026-03-01T10:00:0{n}.000Z"),
        ));
    }
    p.finish().findings
}

fn only(urls: &[String]) -> Finding {
    let mut f = run(urls);
    assert_eq!(f.len(), 1, "{f:#?}");
    f.remove(0)
}

// ---------- item 3: rule and severity agree ----------

#[test]
fn no_base_rule_names_a_severity() {
    use leakscope_detect::Tier::*;
    use leakscope_detect::verdict::Identity::*;
    for h in [S1, S2, S3, S4] {
        for i in [None, Weak, Strong] {
            for bits in 0..8u8 {
                let (a, k, n) = (bits & 1 != 0, bits & 2 != 0, bits & 4 != 0);
                let (_, rule) = base_severity(Some(h), i, a, k, n).expect("a rule");
                for s in Severity::ALL {
                    assert!(
                        !rule.starts_with(s.as_str()) && !rule.contains('+'),
                        "{rule} names a severity or a modifier"
                    );
                }
            }
        }
    }
}

#[test]
fn a_raised_finding_keeps_its_base_rule_and_lists_the_modifier() {
    // A custom event parameter the site configured carries the condition,
    // with the `_fbp` cookie: high by the base rule, raised to critical.
    let f = only(&[meta(
        "ViewContent",
        "/conditions/hiv",
        &format!("&cd[condition]=HIV{FBP}"),
    )]);
    assert_eq!(f.severity, Severity::Critical, "{f:#?}");
    assert_eq!(f.rule, "health_with_identity");
    assert_eq!(f.base_severity, Some(Severity::High));
    assert_eq!(f.modifiers.len(), 1, "{:?}", f.modifiers);
    assert_eq!(f.modifiers[0].id, "custom_configured");
    assert_eq!(f.modifiers[0].effect, Effect::Raised);
    // The JSON a reader sees: the rule names no severity, the modifier its effect.
    let v = serde_json::to_value(&f).unwrap();
    assert_eq!(v["rule"], "health_with_identity");
    assert_eq!(v["base_severity"], "high");
    assert_eq!(v["modifiers"][0]["id"], "custom_configured");
    assert_eq!(v["modifiers"][0]["effect"], "raised");
}

#[test]
fn a_modifier_at_the_top_says_it_changed_nothing() {
    // Care action with identity is critical already; the custom parameter
    // applies but cannot raise it further.
    let f = only(&[meta(
        "Schedule",
        "/appointments/book",
        &format!("&cd[reason]=HIV%20test{FBP}"),
    )]);
    assert_eq!(f.severity, Severity::Critical);
    assert_eq!(f.rule, "care_action_with_identity");
    assert_eq!(f.base_severity, Some(Severity::Critical));
    assert!(
        f.modifiers
            .iter()
            .any(|m| m.id == "custom_configured" && m.effect == Effect::Unchanged),
        "{:?}",
        f.modifiers
    );
}

#[test]
fn an_ip_only_finding_says_what_ties_it_to_a_person() {
    // No cookie, no user data: only the connection identifies the visitor.
    let f = only(&[meta("PageView", "/appointments/book-hiv-test", "")]);
    assert_eq!(f.rule, "care_action_ip_only");
    assert_eq!(f.severity, Severity::High);
    let ip: Vec<_> = f
        .identifiers
        .iter()
        .filter(|x| x.kind == "ip_address")
        .collect();
    assert_eq!(ip.len(), 1, "{:#?}", f.identifiers);
    assert!(ip[0].counts);
    assert_eq!(ip[0].note.as_deref(), Some(VISITOR_IP));
    assert!(f.explanation.contains(VISITOR_IP), "{}", f.explanation);
}

#[test]
fn the_ip_line_does_not_change_the_finding_id() {
    // Ids of earlier results stay valid: the IP line is added after the id.
    let f = only(&[meta("PageView", "/appointments/book-hiv-test", "")]);
    let engine = Engine::new();
    let mut events = Vec::new();
    engine
        .decode(
            &exchange(0, &meta("PageView", "/appointments/book-hiv-test", ""), "t"),
            &mut events,
        )
        .unwrap();
    let detector = Detector::new(&[]).unwrap();
    let health = detector.health.match_event(&events[0]);
    let counted: Vec<_> = health
        .iter()
        .filter(|h| h.strength == leakscope_detect::Strength::Strong || !h.signals.is_empty())
        .collect();
    let ids = leakscope_detect::identity::identify(&events[0]);
    assert_eq!(
        f.id,
        leakscope_detect::verdict::stable_id(&events[0], &counted, &ids)
    );
}

// ---------- item 5: one finding per id ----------

#[test]
fn two_identical_page_views_are_one_finding_with_two_occurrences() {
    let view = meta("PageView", "/about-hiv", FBP);
    let f = run(&[view.clone(), view]);
    assert_eq!(f.len(), 1, "{f:#?}");
    let f = &f[0];
    assert_eq!(f.source.entry, 0);
    let occ: Vec<(u64, Option<&str>)> = f
        .occurrences
        .iter()
        .map(|o| (o.source.entry, o.time.as_deref()))
        .collect();
    assert_eq!(
        occ,
        [
            (0, Some("2026-03-01T10:00:00.000Z")),
            (1, Some("2026-03-01T10:00:01.000Z"))
        ]
    );
    assert!(f.occurrences.iter().all(|o| &*o.source.file == "visit.har"));
}

#[test]
fn the_most_severe_occurrence_represents_the_finding() {
    // The same event and page, once before and once after a refusal: one
    // finding, represented by the more severe (after refusal), both listed.
    let url = meta("PageView", "/about-hiv", FBP);
    let engine = Engine::new();
    let detector = Detector::new(&[]).unwrap();
    let mut p = Pipeline::new(&engine, &detector);
    let mut a = exchange(0, &url, "2026-03-01T10:00:00.000Z");
    a.consent = Some("none".into());
    let mut b = exchange(1, &url, "2026-03-01T10:00:05.000Z");
    b.consent = Some("rejected".into());
    p.feed(&a);
    p.feed(&b);
    let findings: Vec<Finding> = p
        .finish()
        .findings
        .into_iter()
        .filter(|f| f.rule != leakscope_detect::consent::RULE)
        .collect();
    assert_eq!(findings.len(), 1, "{findings:#?}");
    let f = &findings[0];
    assert_eq!(f.source.entry, 1);
    assert_eq!(f.severity, Severity::Critical);
    let occ: Vec<(u64, Severity)> = f
        .occurrences
        .iter()
        .map(|o| (o.source.entry, o.severity))
        .collect();
    assert_eq!(occ, [(1, Severity::Critical), (0, Severity::High)]);
}

// ---------- item 14: only care actions are care actions ----------

#[test]
fn clicking_an_informational_link_is_judged_like_reading_the_page() {
    // The homepage link "About HIV" to /about-hiv, and the page it opens.
    let clicked = only(&[click(
        "/",
        "About HIV",
        "https://brightpath-clinic.example/about-hiv",
        FBP,
    )]);
    let viewed = only(&[meta("PageView", "/about-hiv", FBP)]);
    assert!(!clicked.context.care_action, "{clicked:#?}");
    assert!(!viewed.context.care_action);
    // `/about-hiv` is about a condition, not an informational `/about` page.
    assert!(!viewed.context.informational);
    assert_eq!(clicked.rule, "health_with_identity");
    assert_eq!(viewed.rule, "health_with_identity");
    assert_eq!(clicked.severity, Severity::High);
    assert_eq!(viewed.severity, Severity::High);
    assert!(!clicked.explanation.contains("care action"));
}

#[test]
fn clicking_a_care_action_is_a_care_action() {
    for (text, dest) in [
        (
            "Book an HIV test",
            "https://brightpath-clinic.example/appointments/new",
        ),
        (
            "Request a refill",
            "https://brightpath-clinic.example/pharmacy",
        ),
        ("Call the HIV clinic", "tel:+15555550100"),
        (
            "HIV testing",
            "https://brightpath-clinic.example/appointments/book?service=hiv-test",
        ),
    ] {
        let f = only(&[click("/hiv-care", text, dest, FBP)]);
        assert!(f.context.care_action, "{text} → {dest}: {f:#?}");
        assert_eq!(f.rule, "care_action_with_identity", "{text}");
        assert_eq!(f.severity, Severity::Critical, "{text}");
        assert!(f.explanation.contains("care action"), "{}", f.explanation);
    }
}

#[test]
fn a_search_is_health_evidence_not_a_care_action() {
    let f = only(&[meta(
        "Search",
        "/search?q=hiv%20symptoms",
        &format!("&cd[search_string]=hiv%20symptoms{FBP}"),
    )]);
    assert!(!f.context.care_action, "{f:#?}");
    assert_eq!(f.rule, "health_with_identity");
    // The search term is in a configured parameter: raised, and listed as such.
    assert_eq!(f.base_severity, Some(Severity::High));
    assert_eq!(f.severity, Severity::Critical);
}

#[test]
fn booking_and_refill_pages_are_care_actions() {
    for path in [
        "/appointments/book?reason=hiv",
        "/pharmacy/refill?drug=truvada",
    ] {
        let f = only(&[meta("PageView", path, FBP)]);
        assert!(f.context.care_action, "{path}");
        assert_eq!(f.severity, Severity::Critical, "{path}");
    }
}

// ---------- Meta's automatic Microdata is not site configuration ----------

#[test]
fn microdata_json_ld_array_is_automatic_not_configured() {
    let json_ld = r#"[{"@context":"https://schema.org","@type":"MedicalWebPage","name":"HIV PrEP: what to expect"}]"#;
    let f = only(&[meta(
        "Microdata",
        "/hiv-prep",
        &format!("&cd[JSON-LD]={}{FBP}", enc(json_ld)),
    )]);
    assert!(
        f.health
            .iter()
            .any(|h| h.field.starts_with("custom_data.JSON-LD[")),
        "{f:#?}"
    );
    assert!(
        !f.modifiers.iter().any(|m| m.id == "custom_configured"),
        "JSON-LD[0].name is filled by the pixel itself: {f:#?}"
    );
}
