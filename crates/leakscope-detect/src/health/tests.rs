//! Positive and negative cases of health-and-law.md §2 and §4.4. Pages and
//! people are made up.

use leakscope_core::{Category, Event, FormField, Party, Source, Transport, Ui, Vendor};
use serde_json::json;

use super::*;

fn ev(vendor: Vendor, event: &str, page: &str) -> Event {
    Event {
        vendor,
        organisation: "Test".into(),
        product: "test".into(),
        category: Category::Advertising,
        party: Party::ThirdParty,
        account_id: Some("1234567890".into()),
        event: event.into(),
        page_url: Some(page.into()),
        referrer: None,
        page_title: None,
        request_url: "https://www.facebook.com/tr/?id=1234567890".into(),
        method: "GET".into(),
        server_side: false,
        custom_data: Default::default(),
        user_data: Vec::new(),
        ids: Vec::new(),
        ui: Ui::default(),
        transport: Transport::default(),
        source: Source::new("fixture", 0),
        twins: Vec::new(),
        canaries: Vec::new(),
        raw: Vec::new(),
        consent: None,
        step: None,
    }
}

fn cd(e: &mut Event, k: &str, v: serde_json::Value) {
    e.custom_data.insert(k.into(), v);
}

fn m() -> HealthMatcher {
    HealthMatcher::builtin()
}

/// What the verdict counts: strong evidence, or weak evidence with a signal.
fn counted(e: &Event) -> Vec<HealthEvidence> {
    m().match_event(e)
        .into_iter()
        .filter(|h| h.strength == Strength::Strong || !h.signals.is_empty())
        .collect()
}

fn has(hs: &[HealthEvidence], cat: HealthCategory, term: &str, field: &str) -> bool {
    hs.iter()
        .any(|h| h.category == cat && h.term == term && h.field == field)
}

#[test]
fn the_builtin_lexicon_compiles() {
    let m = m();
    assert!(m.len() > 50);
    assert!(m.memory_usage() > 0);
    assert!(BUILTIN.is_ok(), "{:?}", BUILTIN.as_ref().err());
}

// ---------- positives ----------

#[test]
fn plan_b_search() {
    let mut e = ev(
        Vendor::MetaPixel,
        "Search",
        "https://www.grocer.example/search?query=plan%20b&tab=products",
    );
    cd(&mut e, "search_string", json!("plan b"));
    let hs = counted(&e);
    assert!(
        has(
            &hs,
            HealthCategory::ReproContraception,
            "plan b",
            "page_url.query.query"
        ),
        "{hs:#?}"
    );
    assert!(has(
        &hs,
        HealthCategory::ReproContraception,
        "plan b",
        "custom_data.search_string"
    ));
    let h = hs
        .iter()
        .find(|h| h.field == "page_url.query.query")
        .map(|h| h.matched.as_str());
    assert_eq!(h, Some("plan b"));
}

#[test]
fn plan_b_one_step_is_one_longest_match() {
    let mut e = ev(
        Vendor::Ga4,
        "view_item",
        "https://www.grocer.example/p/plan-b-one-step-emergency-contraceptive",
    );
    e.page_title = Some("Plan B One-Step Emergency Contraceptive".into());
    let hs = m().match_event(&e);
    let title: Vec<&str> = hs
        .iter()
        .filter(|h| h.field == "page_title")
        .map(|h| h.term.as_str())
        .collect();
    // The longest term wins: "plan b one step", never "plan b" inside it.
    assert!(title.contains(&"plan b one step"), "{hs:#?}");
    assert!(!title.contains(&"plan b"), "{hs:#?}");
}

#[test]
fn refill_button_with_prescription_number_field() {
    let mut e = ev(
        Vendor::MetaPixel,
        "SubscribedButtonClick",
        "https://www.grocer.example/pharmacy/refills",
    );
    e.ui.button_text = Some("Refill Prescription".into());
    e.ui.form_fields = vec![
        FormField {
            name: Some("prescription_number".into()),
            id: Some("rxNumber".into()),
            input_type: Some("text".into()),
            placeholder: None,
        },
        FormField {
            name: Some("store_zip".into()),
            ..Default::default()
        },
    ];
    let hs = counted(&e);
    assert!(
        has(
            &hs,
            HealthCategory::PharmacyAction,
            "refill prescription",
            "ui.button_text"
        ),
        "{hs:#?}"
    );
    assert!(has(
        &hs,
        HealthCategory::PharmacyAction,
        "prescription number",
        "ui.form_fields"
    ));
    // "refills" in the path is not the term "refill"; no stray weak evidence.
    assert!(
        !hs.iter()
            .any(|h| h.field == "ui.button_text" && h.term == "refill")
    );
}

#[test]
fn drug_title_with_dose() {
    let mut e = ev(
        Vendor::MetaPixel,
        "ViewContent",
        "https://www.grocer.example/p/levonorgestrel-1-5-mg-tablet/0001",
    );
    e.page_title = Some("Levonorgestrel 1.5 mg Tablet".into());
    let hs = counted(&e);
    let t = hs
        .iter()
        .find(|h| h.field == "page_title")
        .expect("title evidence");
    assert_eq!(
        (t.category, t.term.as_str(), t.strength),
        (
            HealthCategory::ReproContraception,
            "levonorgestrel",
            Strength::Strong
        )
    );
    assert_eq!(t.matched, "Levonorgestrel 1.5 mg Tablet");
    assert!(has(
        &hs,
        HealthCategory::ReproContraception,
        "levonorgestrel",
        "page_url.path"
    ));
}

#[test]
fn weak_drug_word_counts_next_to_a_dose() {
    let mut e = ev(Vendor::MetaPixel, "ViewContent", "https://shop.example/p/1");
    e.page_title = Some("Ella 30 mg tablet".into());
    let hs = m().match_event(&e);
    let ella = hs.iter().find(|h| h.term == "ella").expect("ella");
    assert_eq!(ella.strength, Strength::Weak);
    assert_eq!(ella.signals, ["dose:mg"]);
}

#[test]
fn appointment_reason_in_query() {
    let e = ev(
        Vendor::MetaPixel,
        "PageView",
        "https://clinic.example/appointments/book?reason=birth+control+consultation",
    );
    let hs = counted(&e);
    assert!(
        has(
            &hs,
            HealthCategory::ReproContraception,
            "birth control",
            "page_url.query.reason"
        ),
        "{hs:#?}"
    );
    let r = hs
        .iter()
        .find(|h| h.field == "page_url.query.reason")
        .map(|h| h.matched.as_str());
    assert_eq!(r, Some("birth control consultation"));
    // "appointments" is weak; the clinic host vouches for it.
    let a = m()
        .match_event(&e)
        .into_iter()
        .find(|h| h.term == "appointments")
        .expect("appointments");
    assert_eq!(a.field, "page_url.path");
    assert!(
        a.signals.iter().any(|s| s == "strong:birth control"),
        "{a:?}"
    );
}

#[test]
fn ga4_search_term() {
    let mut e = ev(
        Vendor::Ga4,
        "view_search_results",
        "https://www.pharmacy.example/search",
    );
    cd(&mut e, "search_term", json!("hiv test near me"));
    let hs = counted(&e);
    assert!(
        has(
            &hs,
            HealthCategory::SexualStiHiv,
            "hiv test",
            "custom_data.search_term"
        ),
        "{hs:#?}"
    );
    // One evidence per (category, term, field): the acronym inside the longer
    // term is not reported again.
    assert_eq!(
        hs.iter()
            .filter(|h| h.field == "custom_data.search_term")
            .count(),
        1
    );
}

#[test]
fn acronyms_are_case_sensitive() {
    let mut e = ev(Vendor::Ga4, "page_view", "https://www.example.org/x");
    e.page_title = Some("Free HIV and STD testing | PrEP clinic".into());
    let hs = counted(&e);
    // "hiv" is also a plain lexicon term: the term wins over the acronym.
    // "STD testing" is a longer lexicon term, which wins over the acronym alone.
    for t in ["hiv", "std testing", "PrEP"] {
        assert!(
            has(&hs, HealthCategory::SexualStiHiv, t, "page_title"),
            "{t} {hs:#?}"
        );
    }
    assert!(hs.iter().all(|h| h.term != "prep"), "{hs:#?}");
    let mut e = ev(Vendor::Ga4, "page_view", "https://www.example.org/x");
    e.page_title = Some("Meal prep ideas | test PREP for the SAT | Prepare".into());
    assert!(m().match_event(&e).is_empty(), "{:#?}", m().match_event(&e));
    let mut e = ev(Vendor::Ga4, "page_view", "https://www.example.org/x");
    e.page_title = Some("OraQuick HIVTest".into());
    assert!(has(
        &counted(&e),
        HealthCategory::SexualStiHiv,
        "hiv test",
        "page_title"
    ));
    // An acronym alone (no lower-case twin in the lexicon), case-sensitive.
    let mut e = ev(Vendor::Ga4, "page_view", "https://www.example.org/x");
    e.page_title = Some("Adult ADHD: signs | adhd-friendly planners".into());
    // "Adult ADHD" is a lexicon term; the lower-case "adhd-friendly" is no acronym.
    let hs = counted(&e);
    assert!(hs.iter().any(|h| h.term == "adult adhd"), "{hs:#?}");
}

#[test]
fn microdata_json_ld_product_category() {
    let mut e = ev(Vendor::MetaPixel, "Microdata", "https://shop.example/p/123");
    cd(
        &mut e,
        "JSON-LD",
        json!([{"@context": "https://schema.org", "@type": "Product",
        "name": "Generic 28-day pack", "category": "Health > Family Planning > Birth Control",
        "image": "https://cdn.shop.example/i/abc.png", "sku": "0001"}]),
    );
    cd(
        &mut e,
        "Meta",
        json!({"title": "Norethindrone 0.35 mg | Shop"}),
    );
    let hs = counted(&e);
    assert!(
        has(
            &hs,
            HealthCategory::ReproContraception,
            "birth control",
            "custom_data.JSON-LD[0].category"
        ),
        "{hs:#?}"
    );
    assert!(has(
        &hs,
        HealthCategory::ReproContraception,
        "norethindrone",
        "custom_data.Meta.title"
    ));
}

#[test]
fn custom_event_name() {
    let e = ev(
        Vendor::MetaPixel,
        "R_SELECT_LAST_PERIOD_DATE",
        "https://app.example/",
    );
    let hs = counted(&e);
    assert!(
        has(&hs, HealthCategory::ReproFertility, "last period", "event"),
        "{hs:#?}"
    );
}

#[test]
fn capi_contents_title() {
    let mut e = ev(
        Vendor::MetaCapi,
        "Purchase",
        "https://www.grocer.example/checkout",
    );
    e.server_side = true;
    cd(
        &mut e,
        "contents",
        json!([{"id": "0001", "quantity": 1, "title": "Sertraline HCl 50 mg Tab"}]),
    );
    cd(&mut e, "content_ids", json!(["0001"]));
    let hs = counted(&e);
    assert!(
        has(
            &hs,
            HealthCategory::MentalHealth,
            "sertraline",
            "custom_data.contents[0].title"
        ),
        "{hs:#?}"
    );
    assert_eq!(hs.len(), 1);
}

#[test]
fn icd_code_counts_only_in_a_health_context() {
    // A visit summary on a health system's site.
    let mut e = ev(
        Vendor::Ga4,
        "visit_summary",
        "https://www.healthsystem.example/patient/visits",
    );
    cd(&mut e, "diagnosis_code", json!("F32.9"));
    cd(&mut e, "sku", json!("Z30.011"));
    let hs = m().match_event(&e);
    let f = hs.iter().find(|h| h.term == "F32.9").expect("F32.9");
    assert_eq!(f.category, HealthCategory::MentalHealth);
    assert!(
        f.signals.contains(&"field:diagnosis_code".to_owned()),
        "{f:?}"
    );
    let z = hs.iter().find(|h| h.term == "Z30.011").expect("Z30.011");
    assert_eq!(z.category, HealthCategory::ReproContraception);
    assert!(z.signals.contains(&"path:patient".to_owned()), "{z:?}");

    // The same shape as a part number on a hardware shop: listed, not counted.
    let mut e = ev(
        Vendor::Ga4,
        "view_item",
        "https://www.hardware.example/p/widget",
    );
    cd(&mut e, "item_variant", json!("F32.9"));
    let hs = m().match_event(&e);
    assert!(hs.iter().all(|h| h.signals.is_empty()), "{hs:#?}");
    assert!(counted(&e).is_empty());
    // Vitamin B12 is not a code, and dotless shapes need a code field.
    let mut e = ev(
        Vendor::Ga4,
        "view_item",
        "https://www.pharmacy.example/p/b12",
    );
    e.page_title = Some("Vitamin B12 1000 mcg".into());
    let hs = m().match_event(&e);
    assert!(
        hs.iter()
            .all(|h| h.term != "B12" && h.category != HealthCategory::ConditionDiagnosis),
        "{hs:#?}"
    );
}

#[test]
fn ndc_codes() {
    let mut e = ev(
        Vendor::MetaCapi,
        "Purchase",
        "https://www.pharmacy.example/rx/checkout",
    );
    cd(&mut e, "ndc", json!("00378395077"));
    cd(&mut e, "content_name", json!("NDC 0093-7180-56"));
    let hs = m().match_event(&e);
    let a = hs
        .iter()
        .find(|h| h.term == "00378395077")
        .expect("bare ndc");
    assert_eq!(a.category, HealthCategory::MedicationRx);
    assert!(a.signals.contains(&"field:ndc".to_owned()));
    let b = hs
        .iter()
        .find(|h| h.term == "0093-7180-56")
        .expect("dashed ndc");
    assert!(!b.signals.is_empty());
    // 11 digits elsewhere are just a number.
    let mut e = ev(
        Vendor::MetaCapi,
        "Purchase",
        "https://www.shop.example/checkout",
    );
    cd(&mut e, "order_number", json!("00378395077"));
    assert!(m().match_event(&e).is_empty());
}

// ---------- negatives (§4.4): nothing counted ----------

fn assert_nothing_counted(e: &Event) {
    let c = counted(e);
    assert!(
        c.is_empty(),
        "counted evidence on a non-health event: {c:#?}"
    );
}

#[test]
fn grocery_cart() {
    let mut e = ev(
        Vendor::MetaPixel,
        "AddToCart",
        "https://www.grocer.example/cart",
    );
    e.ui.button_text = Some("Add to Cart".into());
    cd(&mut e, "content_name", json!("Dark Roast Coffee 12 oz"));
    cd(
        &mut e,
        "contents",
        json!([{"id": "77", "title": "Bananas, 1 lb"}, {"id": "78", "title": "Cold Brew Coffee Concentrate"}]),
    );
    e.page_title = Some("Your Cart | Grocer".into());
    assert_nothing_counted(&e);
}

#[test]
fn cosmetics_cart() {
    let mut e = ev(
        Vendor::Tiktok,
        "AddToCart",
        "https://www.beautyshop.example/products/hydrating-face-serum",
    );
    e.page_title = Some("Hydrating Face Serum with Hyaluronic Acid | Beauty Shop".into());
    cd(&mut e, "content_name", json!("Matte Lipstick - Focus Red"));
    cd(&mut e, "content_category", json!("Makeup > Lips"));
    assert_nothing_counted(&e);
}

#[test]
fn hospital_careers_and_parking() {
    let mut e = ev(
        Vendor::MetaPixel,
        "PageView",
        "https://www.stmarys-hospital.example/careers/nursing-jobs",
    );
    e.page_title = Some("Careers at St. Mary's Hospital: Nursing Jobs".into());
    e.ui.button_text = Some("Apply now".into());
    assert_nothing_counted(&e);
    let mut e = ev(
        Vendor::MetaPixel,
        "PageView",
        "https://www.stmarys-hospital.example/patients-visitors/parking",
    );
    e.page_title = Some("Parking and Directions | St. Mary's Hospital".into());
    e.ui.button_text = Some("Get directions".into());
    assert_nothing_counted(&e);
}

#[test]
fn horoscope() {
    let mut e = ev(
        Vendor::Ga4,
        "page_view",
        "https://www.stars.example/horoscopes/cancer/daily",
    );
    e.page_title = Some("Cancer daily horoscope".into());
    let hs = m().match_event(&e);
    assert!(!hs.iter().any(|h| h.field == "page_title"), "{hs:#?}");
    assert_nothing_counted(&e);
}

#[test]
fn great_depression() {
    let mut e = ev(
        Vendor::Ga4,
        "page_view",
        "https://www.econ-history.example/articles/the-great-depression",
    );
    e.page_title = Some("The Great Depression: causes and consequences".into());
    assert!(m().match_event(&e).is_empty(), "{:#?}", m().match_event(&e));
}

#[test]
fn recipe_page() {
    let mut e = ev(
        Vendor::Pinterest,
        "pagevisit",
        "https://www.recipes.example/recipes/chicken-soup-for-a-cold-day",
    );
    e.page_title = Some("Chicken Soup for a Cold Day - Easy Meal Prep Recipe".into());
    cd(
        &mut e,
        "line_items",
        json!([{"product_name": "Honey Ginger Tea", "product_category": "Sleep & Relax Tea"}]),
    );
    assert_nothing_counted(&e);
}

#[test]
fn news_page() {
    let mut e = ev(
        Vendor::Ga4,
        "page_view",
        "https://www.news.example/2024/05/city-council-votes-on-budget",
    );
    e.page_title = Some("City council votes on budget; mayor to focus on roads".into());
    cd(&mut e, "section", json!("Local News"));
    assert_nothing_counted(&e);
}

#[test]
fn ids_scripts_and_identity_are_not_read() {
    let mut e = ev(Vendor::Hotjar, "pageview", "https://www.shop.example/");
    e.raw = vec![
        ("sessionId".into(), "hivtest1234567890abcdef1234".into()),
        ("script".into(), "https://cdn.example/js/plan-b.js".into()),
        (
            "text".into(),
            "Search results for morning after pill".into(),
        ),
    ];
    e.user_data.push(leakscope_core::UserDatum {
        key: "em".into(),
        field: "ud[em]".into(),
        value: "plan.b.canary@example.com".into(),
        hashed: false,
        algorithm: None,
        encoding: None,
    });
    cd(&mut e, "content_ids", json!(["abortion-pill-123"]));
    let hs = m().match_event(&e);
    assert_eq!(hs.len(), 1, "{hs:#?}");
    assert_eq!(
        (hs[0].term.as_str(), hs[0].field.as_str()),
        ("morning after pill", "raw.text")
    );
}

#[test]
fn from_tsv_names_the_bad_line() {
    let bad = "term\tcategory\tstrength\tsource\nplan b\trepro.contraception\tstrong\tcore\nfoo\tnot.a.category\tstrong\tcore\n";
    match HealthMatcher::from_tsv(&[bad]) {
        Err(DetectError::Lexicon { line, reason }) => {
            assert_eq!(line, 3);
            assert!(reason.contains("not.a.category"), "{reason}");
        }
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("accepted a bad category"),
    }
    let unnormalised =
        "term\tcategory\tstrength\tsource\nplan-b\trepro.contraception\tstrong\tcore\n";
    assert!(matches!(
        HealthMatcher::from_tsv(&[unnormalised]),
        Err(DetectError::Lexicon { line: 2, .. })
    ));
    assert!(matches!(
        HealthMatcher::from_tsv(&["nope\n"]),
        Err(DetectError::Lexicon { line: 1, .. })
    ));
    let ok = "term\tcategory\tstrength\tsource\nwidgetitis\tcondition.diagnosis\tstrong\tcore\n";
    let m = HealthMatcher::from_tsv(&[ok]).expect("valid lexicon");
    let mut e = ev(Vendor::Ga4, "page_view", "https://x.example/widgetitis");
    e.page_title = Some("Living with Widgetitis".into());
    assert_eq!(m.match_event(&e).len(), 2);
}

#[test]
fn long_fields_are_clipped_around_the_match() {
    let mut e = ev(Vendor::Ga4, "page_view", "https://x.example/");
    let text = format!(
        "{} levonorgestrel {}",
        "lorem ipsum ".repeat(30),
        "dolor sit ".repeat(30)
    );
    e.page_title = Some(text);
    let hs = m().match_event(&e);
    let t = &hs[0].matched;
    assert!(
        t.contains("levonorgestrel") && t.chars().count() <= 124,
        "{t}"
    );
}

// ---------- everyday words that are also brand names (issue 12, item 4) ----------

/// A pharmacy page that gives weak words every second signal there is: a
/// health path, a strong term elsewhere in the event (Plan B), a dose word.
fn pharmacy_page(text: &str) -> Event {
    let mut e = ev(
        Vendor::MetaPixel,
        "SubscribedButtonClick",
        "https://www.northwind-pharmacy.example/pharmacy/drugs/levonorgestrel-1-5mg",
    );
    e.page_title = Some("Plan B One-Step 1.5 mg tablet".into());
    e.ui.button_text = Some(text.into());
    cd(&mut e, "content_name", json!(text));
    e
}

/// Evidence of any strength (counted or not) found in the fields holding `text`.
fn evidence_in_text(text: &str) -> Vec<HealthEvidence> {
    m().match_event(&pharmacy_page(text))
        .into_iter()
        .filter(|h| h.field == "ui.button_text" || h.field == "custom_data.content_name")
        .collect()
}

#[test]
fn shop_and_store_text_is_no_health_evidence() {
    for text in [
        "Pick up in store today",
        "Order today, ships tomorrow",
        "Next step",
        "My way home",
        "Take action",
        "One step at a time",
        "Option 2",
        "Check your gift card balance",
        "Focus on what matters",
        "New flavors coming out this fall",
        "Visual aids and study aids",
        "Hi Ella, your order is ready",
        "Camila's picks",
        "Zoom in",
        "Lithium batteries, 2 pack",
        "Rubbing alcohol 70%, 16 fl oz",
        "Lip therapy balm",
        "Lubricant eye drops",
        "Retail therapy sale",
    ] {
        let hs = evidence_in_text(text);
        assert!(hs.is_empty(), "{text:?} gave health evidence: {hs:#?}");
    }
}

#[test]
fn the_brand_phrase_still_matches() {
    for (text, term, cat) in [
        (
            "Today Sponge, 3 count",
            "today sponge",
            HealthCategory::ReproContraception,
        ),
        (
            "Today contraceptive sponge",
            "today contraceptive sponge",
            HealthCategory::ReproContraception,
        ),
        (
            "ella emergency contraceptive",
            "ella emergency contraceptive",
            HealthCategory::ReproContraception,
        ),
        (
            "Yaz birth control",
            "yaz birth control",
            HealthCategory::ReproContraception,
        ),
        (
            "Coming out as gay to your family",
            "coming out as gay",
            HealthCategory::LgbtqIdentity,
        ),
    ] {
        let hs = evidence_in_text(text);
        let h = hs
            .iter()
            .find(|h| h.term == term)
            .unwrap_or_else(|| panic!("{text:?}: no {term:?} in {hs:#?}"));
        assert_eq!((h.category, h.strength), (cat, Strength::Strong), "{text}");
    }
}

#[test]
fn a_brand_word_counts_only_as_the_product() {
    // Written as the product, next to a dose: counts, and says why.
    let hs = evidence_in_text("Lithium carbonate 300 mg capsules");
    assert!(hs.iter().any(|h| h.term == "lithium carbonate"), "{hs:#?}");
    let hs = evidence_in_text("Camila 0.35 mg tablets");
    let c = hs.iter().find(|h| h.term == "camila").expect("camila");
    assert_eq!(c.strength, Strength::Weak);
    assert_eq!(c.signals, ["dose:mg"]);
    // A first name on a pharmacy page with Plan B elsewhere: no evidence at all.
    let hs = m().match_event(&pharmacy_page("Thanks, Camila"));
    assert!(!hs.iter().any(|h| h.term == "camila"), "{hs:#?}");
}
