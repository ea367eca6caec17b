//! The verdict: severity rules of health-and-law.md §3.4, in one place a
//! reviewer can read top to bottom, and the plain-language explanation.
//!
//! Notation (as in §3.4): `H` strongest health tier among counted evidence,
//! `I` identity (strong: direct, hashed, platform or device ids; weak: IP and
//! user agent, which every browser request carries), `A` authenticated page,
//! `K` care action, `R` recipient is not the site, `N` consent declined or
//! GPC set.
//!
//! # How a finding's severity is reached
//!
//! 1. A **base rule** (`base_severity`) gives a severity from `H`, `I`, `A`,
//!    `K` and `N`. The finding's `rule` is that rule's name, which says what
//!    the rule is about (`health_with_identity`, `care_action_ip_only`) and
//!    never a severity; `base_severity` is the severity it gave.
//! 2. **Modifiers** then move it one level each, and are listed apart, each
//!    with its effect (`raised`, `lowered`, or `unchanged` at the top or
//!    bottom): `server_side` (sent server to server) raises,
//!    `after_refusal` (sent after the user refused consent or with GPC on)
//!    raises, `custom_configured` (the health detail is in a field the site
//!    set up) raises, `informational_page` (careers, news, directions, about)
//!    lowers. So a finding shown as critical may have the base rule
//!    `health_with_identity` (high) and the modifier `custom_configured`
//!    (raised).
//! 3. What ties the event to a person is always listed as identity evidence.
//!    When that is only the connection, the evidence says so: "the visitor's
//!    IP address, which every request carries".
//!
//! # Care actions (`K`)
//!
//! Reading about a condition is not seeking care. `K` holds only when the
//! event records the user doing something to get care:
//!
//! - booking, scheduling or requesting an appointment (`/appointments/book`,
//!   a "Book appointment" button, Meta's `Schedule` event), looking for a
//!   provider (`/find-a-doctor`) or starting a virtual visit (`/telehealth`);
//! - refilling, transferring or picking up a prescription (`/pharmacy/refill`,
//!   a "Request a refill" button);
//! - ordering a test or a health product (checkout, cart, `Purchase`,
//!   `AddToCart` with health content);
//! - intake: questionnaires, assessments, symptom checkers, registration and
//!   enrolment forms;
//! - contacting a provider: calling a clinic (a `tel:` link, "Call 988"),
//!   chatting with a counselor, `Contact`, `Lead` and form submissions with
//!   health content.
//!
//! A click is a care action only when what was clicked is one (its text or
//! where it leads): a click on "Book now" or on a link to
//! `/appointments/book` is; a click on a homepage link "About HIV" to
//! `/about-hiv` is not, and is judged like the view of `/about-hiv` itself
//! (health with identity, not care). Nor is `/about-hiv` an informational
//! page like `/about` or `/careers` (which lower severity): it is about a
//! condition. A search is not a care action either:
//! what was searched for is health evidence, and counts as such.

use std::fmt::Write as _;

use leakscope_core::{Event, Party};
use sha2::{Digest, Sha256};

use crate::finding::{
    Context, Effect, Finding, Framework, HealthCategory, HealthEvidence, IdClass, IdentityEvidence,
    Modifier, Occurrence, Severity, Strength, Tier,
};

/// Identity strength, `I` in §3.4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Identity {
    None,
    /// IP address and user agent only.
    Weak,
    Strong,
}

/// Path and query tokens of pages behind a login (§3.3).
const AUTH_TOKENS: &[&str] = &[
    "mychart",
    "portal",
    "patient-portal",
    "my-account",
    "myaccount",
    "account",
    "members",
    "member",
    "dashboard",
    "signed-in",
    "logged-in",
    "my-health",
    "myhealth",
];

/// Tokens of care pages (§3.3): being on one of these pages is taking part
/// in a care action (booking, refill, intake, checkout). Pages about a
/// condition, a drug or a search results page are not here.
const CARE_TOKENS: &[&str] = &[
    "schedule",
    "scheduling",
    "appointment",
    "appointments",
    "book",
    "booking",
    "find-a-doctor",
    "find-a-provider",
    "refill",
    "refills",
    "transfer",
    "prescription",
    "prescriptions",
    "rx",
    "intake",
    "assessment",
    "questionnaire",
    "symptom-checker",
    "telehealth",
    "virtual-visit",
    "checkout",
    "cart",
    "request-appointment",
    "consultation",
    "register",
    "enroll",
];

/// Events that are care actions when they carry health content: booking,
/// ordering, registering, contacting, submitting a form. Searches and
/// location look-ups are not; clicks are judged by what was clicked
/// (`CLICK_EVENTS`).
const CARE_EVENTS: &[&str] = &[
    "schedule",
    "lead",
    "submitapplication",
    "completeregistration",
    "purchase",
    "addtocart",
    "initiatecheckout",
    "contact",
    "form_submit",
    "add_to_cart",
    "begin_checkout",
    "generate_lead",
    "sign_up",
    "submitform",
    "placeanorder",
    "completepayment",
];

/// Click events: a care action only when the button or link clicked is one.
const CLICK_EVENTS: &[&str] = &["subscribedbuttonclick", "clickbutton", "click"];

/// Words of a clicked button's text that make the click a care action.
const CARE_CLICK_WORDS: &[&str] = &[
    "book",
    "booking",
    "schedule",
    "appointment",
    "appointments",
    "reserve",
    "refill",
    "refills",
    "renew",
    "transfer",
    "order",
    "checkout",
    "cart",
    "buy",
    "purchase",
    "intake",
    "consultation",
    "consult",
    "enroll",
    "request",
    "call",
    "chat",
    "talk",
    "message",
    "contact",
    "submit",
];

/// Pharmacy terms that are the user's own pharmacy business (refill,
/// transfer, pickup, renewal, a new prescription), as opposed to a
/// pharmacy's name, its hours or its services.
const PHARMACY_ACTION_WORDS: &[&str] = &[
    "refill",
    "refills",
    "autorefill",
    "transfer",
    "renew",
    "renewal",
    "fill",
    "pickup",
    "pick",
    "request",
    "delivery",
    "sync",
    "synchronization",
    "new",
    "escript",
    "eprescription",
    "prescribe",
];

/// Informational-only pages: downgrade (§3.3, OCR's own non-PHI examples).
/// Whole path segments only: `/about` and `/about-us` are about the
/// organisation, `/about-hiv` is about a condition.
const INFO_TOKENS: &[&str] = &[
    "careers",
    "career",
    "jobs",
    "job",
    "visiting-hours",
    "visitor",
    "visitors",
    "directions",
    "parking",
    "news",
    "press",
    "newsroom",
    "donate",
    "about",
    "about-us",
    "foundation",
];

/// Custom-data keys that trackers fill automatically (page metadata, the
/// clicked element): matches there are not deliberate configuration.
const AUTOMATIC_KEYS: &[&str] = &[
    "buttonFeatures",
    "buttonText",
    "formFeatures",
    "pageFeatures",
    "parameters",
    "Meta",
    "OpenGraph",
    "Schema.org",
    "JSON-LD",
    "DataLayer",
];

/// The base rules. Returns the severity before modifiers and the rule id,
/// which names what the rule is about, never a severity.
pub fn base_severity(
    h: Option<Tier>,
    i: Identity,
    a: bool,
    k: bool,
    n: bool,
) -> Option<(Severity, &'static str)> {
    use Identity::*;
    use Tier::*;
    let h = h?;
    let clinical = matches!(h, S1 | S2);
    // CRITICAL: likely unlawful disclosure of health data tied to a person.
    if h >= S3 && a && i >= Weak {
        return Some((Severity::Critical, "authenticated_page"));
    }
    if clinical && k && i == Strong {
        return Some((Severity::Critical, "care_action_with_identity"));
    }
    if h == S1 && i == Strong && n {
        return Some((Severity::Critical, "special_category_after_refusal"));
    }
    // HIGH
    if clinical && i == Strong {
        return Some((Severity::High, "health_with_identity"));
    }
    if clinical && k && i == Weak {
        return Some((Severity::High, "care_action_ip_only"));
    }
    if h == S3 && a {
        return Some((Severity::High, "care_relationship_authenticated"));
    }
    // MEDIUM
    if clinical && i == Weak {
        return Some((Severity::Medium, "health_page_ip_only"));
    }
    if h == S3 && i == Strong {
        return Some((Severity::Medium, "care_relationship_with_identity"));
    }
    // LOW
    if h == S4 || (h == S3 && i >= Weak) {
        return Some((Severity::Low, "weak_health_signal"));
    }
    Some((Severity::Info, "no_identity"))
}

/// What a rule decided about one event; `finding` adds the event's own
/// fields and its first occurrence.
struct Judged<'r> {
    id: String,
    severity: Severity,
    rule: &'r str,
    base: Severity,
    modifiers: Vec<Modifier>,
    health: Vec<HealthEvidence>,
    identifiers: Vec<IdentityEvidence>,
    context: Context,
    frameworks: Vec<Framework>,
    explanation: String,
}

impl Judged<'_> {
    fn finding(self, ev: &Event) -> Finding {
        Finding {
            id: self.id,
            severity: self.severity,
            rule: self.rule.to_owned(),
            base_severity: Some(self.base),
            modifiers: self.modifiers,
            vendor: ev.vendor,
            organisation: ev.organisation.clone(),
            account_id: ev.account_id.clone(),
            event: ev.event.clone(),
            page_url: ev.page_url.clone(),
            request_url: ev.request_url.clone(),
            method: ev.method.clone(),
            source: ev.source.clone(),
            step: ev.step.clone(),
            health: self.health,
            identifiers: self.identifiers,
            canaries: ev.canaries.clone(),
            context: self.context,
            frameworks: self.frameworks,
            explanation: self.explanation,
            consent_evidence: None,
            occurrences: vec![Occurrence {
                source: ev.source.clone(),
                step: ev.step.clone(),
                time: None,
                severity: self.severity,
            }],
            site: None,
        }
    }
}

/// Judges one event. `None` when nothing sensitive reaches another party.
pub fn judge(
    ev: &Event,
    health: Vec<HealthEvidence>,
    identifiers: Vec<IdentityEvidence>,
) -> Option<Finding> {
    // R: the site itself is not a recipient we report.
    if ev.party == Party::FirstParty {
        return None;
    }
    let counted: Vec<&HealthEvidence> = health
        .iter()
        .filter(|e| e.strength == Strength::Strong || !e.signals.is_empty())
        .collect();
    let h = counted.iter().map(|e| e.category.tier()).max();
    let identity_canaries = ev
        .canaries
        .iter()
        .any(|c| matches!(c.value_kind.as_str(), "email" | "phone" | "name"));
    let i = if identifiers.iter().any(IdentityEvidence::is_strong) || identity_canaries {
        Identity::Strong
    } else if identifiers.iter().any(|x| x.counts) || !ev.server_side {
        // Every browser request hands the recipient the user's IP address.
        Identity::Weak
    } else {
        Identity::None
    };
    let ctx = context(ev, &counted);
    let n = matches!(ctx.consent.as_deref(), Some("rejected" | "gpc"));

    let (mut severity, rule) = match base_severity(h, i, ctx.authenticated, ctx.care_action, n) {
        Some(x) => x,
        // No health signal: a planted identity value reaching a third party is
        // still proof of a personal-data leak worth reporting.
        None if identity_canaries => (Severity::Medium, "canary_identity_without_health"),
        None if !ev.canaries.is_empty() => (Severity::Low, "canary_without_health"),
        None => return None,
    };
    let base = severity;
    let mut modifiers = Vec::new();
    if severity > Severity::Info {
        let mut apply = |raise: bool, id: &str, why: &str| {
            let before = severity;
            severity = if raise {
                severity.raise()
            } else {
                severity.lower()
            };
            let effect = match (severity == before, raise) {
                (true, _) => Effect::Unchanged,
                (false, true) => Effect::Raised,
                (false, false) => Effect::Lowered,
            };
            modifiers.push(Modifier {
                id: id.into(),
                effect,
                why: why.into(),
            });
        };
        if ctx.server_side {
            apply(
                true,
                "server_side",
                "sent server to server, out of reach of browser settings and blockers",
            );
        }
        if n {
            apply(
                true,
                "after_refusal",
                "sent after the user refused consent or with Global Privacy Control on",
            );
        }
        if ctx.custom_configured && h.is_some() {
            apply(
                true,
                "custom_configured",
                "the health detail is in a field the site set up, not in automatic page metadata",
            );
        }
        if ctx.informational && !ctx.care_action && !ctx.authenticated {
            apply(
                false,
                "informational_page",
                "the page is informational (careers, news, directions, about)",
            );
        }
    }
    let frameworks = frameworks(&ctx, h, i, ev);
    let explanation = explain(ev, &counted, &identifiers, &ctx, severity, i);
    // The id comes before the IP line is added, so ids stay what they were.
    let id = stable_id(ev, &counted, &identifiers);
    let mut identifiers = identifiers;
    if i == Identity::Weak
        && !identifiers
            .iter()
            .any(|x| x.counts && x.kind == "ip_address")
    {
        identifiers.push(visitor_ip());
    }
    Some(
        Judged {
            id,
            severity,
            rule,
            base,
            modifiers,
            health,
            identifiers,
            context: ctx,
            frameworks,
            explanation,
        }
        .finding(ev),
    )
}

/// What the visitor's browser hands every recipient: its IP address. Listed
/// as identity evidence when it is all that ties an event to a person, so
/// every output says so plainly.
pub fn visitor_ip() -> IdentityEvidence {
    IdentityEvidence {
        kind: "ip_address".into(),
        class: IdClass::Network,
        field: "connection".into(),
        hashed: false,
        algorithm: None,
        counts: true,
        note: Some(VISITOR_IP.into()),
    }
}

/// The plain words for `visitor_ip`.
pub const VISITOR_IP: &str = "the visitor's IP address, which every request carries";

/// Splits a URL path and query into lower-case tokens (`/Book-Appointment?x` →
/// `book-appointment`, `book`, `appointment`).
fn url_tokens(url: &str) -> Vec<String> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let path_q = rest.find('/').map_or("", |i| &rest[i..]);
    let mut out = Vec::new();
    for seg in path_q.split(['/', '?', '&', '=', '#', '.']) {
        let seg = seg.to_ascii_lowercase();
        if seg.is_empty() {
            continue;
        }
        for part in seg.split(['-', '_', '+']) {
            if !part.is_empty() && part != seg {
                out.push(part.to_owned());
            }
        }
        out.push(seg);
    }
    out
}

/// Whole path segments of a URL, lower-case (`/About-HIV/` → `about-hiv`).
fn path_segments(url: &str) -> impl Iterator<Item = String> + '_ {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let rest = rest.split(['?', '#']).next().unwrap_or(rest);
    let path = rest.find('/').map_or("", |i| &rest[i..]);
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(str::to_ascii_lowercase)
}

fn context(ev: &Event, counted: &[&HealthEvidence]) -> Context {
    let tokens = ev.page_url.as_deref().map(url_tokens).unwrap_or_default();
    let has = |list: &[&str]| tokens.iter().any(|t| list.contains(&t.as_str()));
    let custom_configured = counted.iter().any(|e| {
        e.field == "event"
            || e.field.strip_prefix("custom_data.").is_some_and(|k| {
                // `JSON-LD[0].name` (Meta's Microdata sends an array) is as
                // automatic as `JSON-LD.name`.
                !AUTOMATIC_KEYS.iter().any(|a| {
                    k.strip_prefix(a)
                        .is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '[']))
                })
            })
    });
    Context {
        authenticated: has(AUTH_TOKENS),
        care_action: has(CARE_TOKENS) || care_action(ev, counted),
        custom_configured,
        informational: ev
            .page_url
            .as_deref()
            .is_some_and(|u| path_segments(u).any(|seg| INFO_TOKENS.contains(&seg.as_str()))),
        consent: ev.consent.clone(),
        server_side: ev.server_side,
    }
}

/// `K` beyond the page itself (see the module doc): a care event with health
/// content, a click on a care button or link, or booking and pharmacy words
/// where the user put them.
fn care_action(ev: &Event, counted: &[&HealthEvidence]) -> bool {
    if counted.is_empty() {
        return false;
    }
    let event_l = ev.event.to_ascii_lowercase();
    if CARE_EVENTS.contains(&event_l.as_str()) {
        return true;
    }
    if CLICK_EVENTS.contains(&event_l.as_str()) && care_click(ev) {
        return true;
    }
    // A booking or pharmacy-business word counts as the user's action where
    // the user put it (URL, button, form, custom data), not in a site's page
    // title or the previous page.
    counted.iter().any(|e| {
        !matches!(e.field.as_str(), "page_title" | "referrer.path")
            && match e.category {
                HealthCategory::CareAppointment => true,
                HealthCategory::PharmacyAction => e
                    .term
                    .split(' ')
                    .any(|t| PHARMACY_ACTION_WORDS.contains(&t)),
                _ => false,
            }
    })
}

/// Is the clicked element a care action: "Book now", "Request a refill",
/// "Call the clinic", a `tel:` link, a link to a booking or refill page?
fn care_click(ev: &Event) -> bool {
    let text = ev
        .ui
        .button_text
        .as_deref()
        .map(crate::normalize::normalize)
        .unwrap_or_default();
    if text.split(' ').any(|t| CARE_CLICK_WORDS.contains(&t)) {
        return true;
    }
    let Some(dest) = ev.ui.destination.as_deref() else {
        return false;
    };
    let dest = dest.trim();
    dest.get(..4)
        .is_some_and(|p| p.eq_ignore_ascii_case("tel:"))
        || url_tokens(dest)
            .iter()
            .any(|t| CARE_TOKENS.contains(&t.as_str()))
}

fn frameworks(ctx: &Context, h: Option<Tier>, i: Identity, ev: &Event) -> Vec<Framework> {
    let mut out = Vec::new();
    let f = |id: &str, name: &str, why: String| Framework {
        id: id.into(),
        name: name.into(),
        why,
    };
    if h.is_none() {
        return out;
    }
    let hipaa_why = if ctx.authenticated {
        "Data from an authenticated page of a HIPAA covered entity is PHI; OCR's tracking bulletin (2022, revised 2024) treats its disclosure to a tracking vendor without a business associate agreement as impermissible.".to_owned()
    } else if ctx.care_action {
        "For a HIPAA covered entity, identity together with the user's own care-seeking (booking, refill, intake) is PHI. AHA v. Becerra (N.D. Tex. 2024) vacated only the theory that an IP address plus a visit to a public page is PHI.".to_owned()
    } else {
        "After AHA v. Becerra (N.D. Tex. 2024), an IP address and a visit to a public page about a condition is not by itself PHI; it becomes PHI when it relates to the individual's own care with a covered entity.".to_owned()
    };
    out.push(f(
        "hipaa",
        "HIPAA and the HHS-OCR tracking bulletin (as narrowed by AHA v. Becerra)",
        hipaa_why,
    ));
    if i == Identity::Strong {
        out.push(f("ftc_hbnr", "FTC Act Section 5 and the Health Breach Notification Rule", "For a health site or app outside HIPAA, sharing identifiable health information with an ad platform without authorization is an unauthorized disclosure, a breach under the 2024 rule, and a deceptive or unfair practice.".into()));
    }
    if !ev.server_side {
        out.push(f("cipa_ecpa", "California Invasion of Privacy Act and the federal Wiretap Act (ECPA)", "A third party's code recorded the contents of the user's communication with the site as it happened; courts have let such pixel claims proceed.".into()));
    } else {
        out.push(f("cipa_ecpa", "California Invasion of Privacy Act and the federal Wiretap Act (ECPA)", "Sent server to server: no browser setting or blocker could stop it, and the user could not see it.".into()));
    }
    out.push(f(
        "wa_mhmda",
        "Washington My Health My Data Act (and similar state consumer-health laws)",
        "Consumer health data shared with a third party needs separate, specific consent.".into(),
    ));
    out.push(f("gdpr_art9", "GDPR Article 9", "Data concerning health is a special category: processing it for advertising needs explicit consent.".into()));
    out
}

/// "On PAGE, the browser sent RECIPIENT the "EVENT" event": how every
/// explanation starts.
fn opening(ev: &Event) -> String {
    let page = ev.page_url.as_deref().unwrap_or("an unknown page");
    let recipient = match &ev.account_id {
        Some(id) => format!("{} ({}, account {id})", ev.organisation, ev.product),
        None => format!("{} ({})", ev.organisation, ev.product),
    };
    let how = if ev.server_side {
        "the site's server sent"
    } else {
        "the browser sent"
    };
    format!("On {page}, {how} {recipient} the \"{}\" event", ev.event)
}

fn explain(
    ev: &Event,
    counted: &[&HealthEvidence],
    identifiers: &[IdentityEvidence],
    ctx: &Context,
    severity: Severity,
    i: Identity,
) -> String {
    let mut s = opening(ev);
    if let Some(e) = counted.first() {
        let _ = write!(
            s,
            ", revealing {} (\"{}\" in {})",
            e.category.describe(),
            clip(&e.matched, 60),
            e.field
        );
        let others: Vec<String> = counted
            .iter()
            .skip(1)
            .filter(|x| x.category != e.category)
            .map(|x| x.category.describe().to_owned())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        if !others.is_empty() {
            let _ = write!(s, " and {}", others.join(", "));
        }
    }
    let strong: Vec<String> = identifiers
        .iter()
        .filter(|x| x.is_strong())
        .map(|x| {
            if x.hashed {
                format!("{} (hashed, which the recipient can match)", x.kind)
            } else {
                x.kind.clone()
            }
        })
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    match i {
        Identity::Strong if !strong.is_empty() => {
            let _ = write!(s, ", together with {}", strong.join(", "));
        }
        Identity::Strong => {
            let _ = write!(s, ", together with a planted identity value");
        }
        Identity::Weak if ev.server_side => {
            let _ = write!(
                s,
                ", together with network details only (the user's IP address or user agent)"
            );
        }
        Identity::Weak => {
            let _ = write!(s, ", together with {VISITOR_IP}");
        }
        Identity::None => {}
    }
    s.push('.');
    if !ev.canaries.is_empty() {
        let kinds: Vec<String> = ev
            .canaries
            .iter()
            .map(|c| format!("{} via {}", c.value_kind, c.chain))
            .collect();
        let _ = write!(
            s,
            " Planted test values reached the recipient: {}.",
            kinds.join("; ")
        );
    }
    if ctx.authenticated {
        s.push_str(" The page is behind a login.");
    }
    if ctx.care_action {
        s.push_str(
            " The event records a care action: booking, a refill, an order, intake or contacting a provider.",
        );
    }
    if ctx.server_side {
        s.push_str(" It was sent server to server, out of reach of browser settings and blockers.");
    }
    if ctx.custom_configured {
        s.push_str(" The health detail sits in a field the site configured, not in automatic page metadata.");
    }
    if ctx.informational {
        s.push_str(
            " The page is informational (careers, news, directions), which lowers the risk.",
        );
    }
    let _ = write!(s, " Severity {severity}: legal risk, not legal advice.");
    s
}

fn clip(s: &str, n: usize) -> String {
    let mut out: String = s.chars().take(n).collect();
    if s.chars().count() > n {
        out.push('…');
    }
    out
}

/// Same leak, same id: vendor, account, event, page (origin and path, no
/// query values, which carry per-run canaries and session ids), the health
/// terms and the identifier kinds.
pub fn stable_id(
    ev: &Event,
    counted: &[&HealthEvidence],
    identifiers: &[IdentityEvidence],
) -> String {
    let mut h = Sha256::new();
    let page = ev
        .page_url
        .as_deref()
        .map(|u| u.split(['?', '#']).next().unwrap_or(u))
        .unwrap_or("");
    for part in [
        ev.vendor.as_str(),
        ev.account_id.as_deref().unwrap_or(""),
        &ev.event,
        page,
    ] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    let mut terms: Vec<String> = counted
        .iter()
        .map(|e| format!("{}:{}", e.category.as_str(), e.term))
        .collect();
    terms.sort();
    terms.dedup();
    let mut kinds: Vec<&str> = identifiers
        .iter()
        .filter(|x| x.counts)
        .map(|x| x.kind.as_str())
        .collect();
    kinds.sort();
    kinds.dedup();
    h.update(terms.join(",").as_bytes());
    h.update([0]);
    h.update(kinds.join(",").as_bytes());
    crate::finding::id_of_digest(h)
}

// ---------------------------------------------------------------------------
// Site context (`site.rs`): who the site is can reveal health on its own.
//
// On a site whose profile is a health category with at least medium
// confidence, an event to another party that carries a strong identifier
// (not only the IP address) is judged by what it records:
//
// - `sensitive_site_care_action`: a care-seeking action: a `Lead`,
//   `Contact`, `Schedule`, `SubmitApplication`, `CompleteRegistration`,
//   sign-up or form-submit event (vendor equivalents too), or a click on a
//   "Submit", "Call", "Chat", "Text", "Book", "Subscribe"… button or a
//   `tel:`/`sms:` link. Critical on a special-category site (crisis line or
//   mental health, reproductive health, addiction treatment, HIV or sexual
//   health, fertility) when the event carries the person's own contact
//   data (plain or hashed: name, email, phone…); high otherwise.
// - `sensitive_site_page_view`: any other event (a page view): medium on a
//   special-category site, low on other health sites.
//
// Pages that are not about care stay out, whatever the site: careers and
// jobs, parking and directions, visiting hours, donations, gift shops,
// volunteering, news. So do clicks on "Donate", "Apply", "Shop"…
// Events that already gave a finding by the rules above keep that finding,
// which names the site context as extra evidence.

/// Events that record a care-seeking action on a health site by their name.
const SITE_CARE_EVENTS: &[&str] = &[
    "lead",
    "contact",
    "schedule",
    "submitapplication",
    "completeregistration",
    "generatelead",
    "signup",
    "subscribe",
    "formsubmit",
    "submitform",
    "contactus",
    "requestappointment",
    "bookappointment",
];

/// Words of a clicked element's text that make the click a care-seeking
/// action on a health site.
const SITE_CARE_WORDS: &[&str] = &[
    "submit",
    "send",
    "call",
    "chat",
    "text",
    "contact",
    "message",
    "talk",
    "book",
    "schedule",
    "appointment",
    "appointments",
    "request",
    "consult",
    "consultation",
    "intake",
    "enroll",
    "register",
    "subscribe",
    "signup",
];

/// Pages and clicks that are not about care (OCR's own non-PHI examples and
/// their kin): whole path segments, or parts of them split at `-`.
const NOT_CARE: &[&str] = &[
    "careers",
    "career",
    "jobs",
    "job",
    "apply",
    "parking",
    "directions",
    "visiting",
    "visitor",
    "visitors",
    "donate",
    "donation",
    "donations",
    "give",
    "giving",
    "gift",
    "gifts",
    "giftshop",
    "shop",
    "store",
    "volunteer",
    "volunteers",
    "foundation",
    "news",
    "newsroom",
    "press",
    "login",
];

/// Events that are page views (and page metadata sent with them).
const PAGE_VIEW_EVENTS: &[&str] = &["pageview", "pageload", "viewcontent", "microdata"];

fn squash(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Is the page, or the clicked element, outside care (careers, donations…)?
fn not_care(ev: &Event) -> bool {
    let page_out = ev.page_url.as_deref().is_some_and(|u| {
        path_segments(u).any(|seg| {
            NOT_CARE.contains(&seg.as_str()) || seg.split(['-', '_']).any(|p| NOT_CARE.contains(&p))
        })
    });
    let text = ev
        .ui
        .button_text
        .as_deref()
        .map(crate::normalize::normalize)
        .unwrap_or_default();
    let click_out = text.split(' ').any(|t| NOT_CARE.contains(&t))
        || ev.ui.destination.as_deref().is_some_and(|d| {
            path_segments(d).any(|seg| seg.split(['-', '_']).any(|p| NOT_CARE.contains(&p)))
        });
    page_out || click_out
}

/// Does the event record a care-seeking action, judged without health words?
fn site_care_action(ev: &Event) -> bool {
    let name = squash(&ev.event);
    if SITE_CARE_EVENTS.contains(&name.as_str()) {
        return true;
    }
    if !CLICK_EVENTS.contains(&name.as_str()) {
        return false;
    }
    let text = ev
        .ui
        .button_text
        .as_deref()
        .map(crate::normalize::normalize)
        .unwrap_or_default();
    let words: Vec<&str> = text.split(' ').collect();
    if words.iter().any(|t| SITE_CARE_WORDS.contains(t))
        // Two-word actions: "Sign up", "Get help" (alone, "help" is a help
        // centre and "join" a job ad).
        || words
            .windows(2)
            .any(|w| w == ["sign", "up"] || w == ["get", "help"])
    {
        return true;
    }
    let Some(dest) = ev.ui.destination.as_deref() else {
        return false;
    };
    let dest = dest.trim();
    let scheme = dest.get(..4).map(str::to_ascii_lowercase);
    matches!(scheme.as_deref(), Some("tel:" | "sms:"))
        || url_tokens(dest).iter().any(|t| {
            matches!(
                t.as_str(),
                "contact"
                    | "contact-us"
                    | "appointment"
                    | "appointments"
                    | "schedule"
                    | "book"
                    | "intake"
            )
        })
}

/// The site-context verdict on an event that gave no finding by the health
/// rules (see above). `None` when the site is not a health site, the event
/// carries no strong identifier, or it records nothing about care.
pub fn judge_site(
    ev: &Event,
    profile: &crate::site::SiteProfile,
    identifiers: Vec<IdentityEvidence>,
) -> Option<Finding> {
    if ev.party == Party::FirstParty || !profile.is_sensitive() || not_care(ev) {
        return None;
    }
    let identity_canaries = ev
        .canaries
        .iter()
        .any(|c| matches!(c.value_kind.as_str(), "email" | "phone" | "name"));
    let personal = identity_canaries
        || identifiers
            .iter()
            .any(|x| x.counts && matches!(x.class, IdClass::Direct | IdClass::Hashed));
    if !personal && !identifiers.iter().any(IdentityEvidence::is_strong) {
        return None;
    }
    let care = site_care_action(ev);
    let special = profile.category.is_special();
    let (base, rule) = if care {
        let s = if special && personal {
            Severity::Critical
        } else {
            Severity::High
        };
        (s, "sensitive_site_care_action")
    } else if PAGE_VIEW_EVENTS.contains(&squash(&ev.event).as_str()) {
        let s = if special {
            Severity::Medium
        } else {
            Severity::Low
        };
        (s, "sensitive_site_page_view")
    } else {
        return None;
    };
    let mut severity = base;
    let mut modifiers = Vec::new();
    let n = matches!(ev.consent.as_deref(), Some("rejected" | "gpc"));
    for (on, id, why) in [
        (
            ev.server_side,
            "server_side",
            "sent server to server, out of reach of browser settings and blockers",
        ),
        (
            n,
            "after_refusal",
            "sent after the user refused consent or with Global Privacy Control on",
        ),
    ] {
        if on {
            let before = severity;
            severity = severity.raise();
            modifiers.push(Modifier {
                id: id.into(),
                effect: if severity == before {
                    Effect::Unchanged
                } else {
                    Effect::Raised
                },
                why: why.into(),
            });
        }
    }
    let ctx = Context {
        care_action: care,
        consent: ev.consent.clone(),
        server_side: ev.server_side,
        ..Context::default()
    };
    let explanation = explain_site(ev, profile, &identifiers, care, severity);
    let frameworks = site_frameworks(profile, personal, ev);
    let id = site_id(rule, profile, ev, care);
    let mut f = Judged {
        id,
        severity,
        rule,
        base,
        modifiers,
        health: Vec::new(),
        identifiers,
        context: ctx,
        frameworks,
        explanation,
    }
    .finding(ev);
    f.site = Some(crate::finding::SiteContext::of(profile));
    Some(f)
}

fn explain_site(
    ev: &Event,
    profile: &crate::site::SiteProfile,
    identifiers: &[IdentityEvidence],
    care: bool,
    severity: Severity,
) -> String {
    let mut s = opening(ev);
    if let Some(t) = ev
        .ui
        .button_text
        .as_deref()
        .filter(|t| !t.trim().is_empty())
    {
        let _ = write!(s, " for a click on \"{}\"", clip(t.trim(), 60));
    } else if let Some(d) = ev
        .ui
        .destination
        .as_deref()
        .filter(|d| !d.trim().is_empty())
    {
        let _ = write!(s, " for a click on a link to {}", clip(d.trim(), 60));
    }
    let ids: Vec<String> = identifiers
        .iter()
        .filter(|x| x.is_strong())
        .map(IdentityEvidence::label)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    if !ids.is_empty() {
        let _ = write!(s, ", together with {}", ids.join(", "));
    }
    let _ = write!(s, ". Who the site is: {}.", profile.summary());
    if care {
        s.push_str(
            " No health word is needed: the event records this person contacting, calling, writing to or signing up with such a site, which reveals that they are seeking its care. Washington's My Health My Data Act counts data that identifies a consumer seeking health care services as consumer health data.",
        );
    } else {
        s.push_str(
            " The event ties this person to a visit of such a site; a visit is weaker evidence of seeking care than an action.",
        );
    }
    let _ = write!(s, " Severity {severity}: legal risk, not legal advice.");
    s
}

fn site_frameworks(
    profile: &crate::site::SiteProfile,
    personal: bool,
    ev: &Event,
) -> Vec<Framework> {
    use crate::site::SiteCategory::*;
    let f = |id: &str, name: &str, why: &str| Framework {
        id: id.into(),
        name: name.into(),
        why: why.into(),
    };
    let mut out = vec![f(
        "wa_mhmda",
        "Washington My Health My Data Act (and similar state consumer-health laws)",
        "Data that identifies a consumer seeking health care services is consumer health data; sharing it with a third party needs separate, specific consent.",
    )];
    if matches!(
        profile.category,
        Hospital | Clinic | Pharmacy | Telehealth | LabTesting | Insurer
    ) {
        out.push(f(
            "hipaa",
            "HIPAA and the HHS-OCR tracking bulletin (as narrowed by AHA v. Becerra)",
            "For a HIPAA covered entity, identity together with the person's own care-seeking (contacting, booking, intake) is PHI; AHA v. Becerra vacated only the theory that an IP address plus a visit to a public page is PHI.",
        ));
    }
    if personal {
        out.push(f("ftc_hbnr", "FTC Act Section 5 and the Health Breach Notification Rule", "For a health site outside HIPAA, sharing identifiable health information with an ad platform without authorization is an unauthorized disclosure and a deceptive or unfair practice."));
    }
    if !ev.server_side {
        out.push(f("cipa_ecpa", "California Invasion of Privacy Act and the federal Wiretap Act (ECPA)", "A third party's code recorded the contents of the user's communication with the site as it happened; courts have let such pixel claims proceed."));
    }
    out.push(f("gdpr_art9", "GDPR Article 9", "Data that indirectly reveals health (CJEU C-184/20) is a special category: processing it for advertising needs explicit consent."));
    out
}

/// Same rule, site, recipient, event and page (origin and path), same id.
/// A care action adds what was clicked; a page view names no event, so a
/// page's `PageView` and `Microdata` are one finding with two occurrences.
fn site_id(rule: &str, profile: &crate::site::SiteProfile, ev: &Event, care: bool) -> String {
    let page = ev
        .page_url
        .as_deref()
        .map(|u| u.split(['?', '#']).next().unwrap_or(u))
        .unwrap_or("");
    let (event, click) = if care {
        (
            ev.event.as_str(),
            ev.ui.button_text.as_deref().unwrap_or("").trim(),
        )
    } else {
        ("", "")
    };
    crate::finding::id_of_parts([
        rule,
        profile.site.as_str(),
        ev.vendor.as_str(),
        ev.account_id.as_deref().unwrap_or(""),
        event,
        click,
        page,
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_table() {
        use Identity::*;
        use Tier::*;
        let s = |h, i, a, k, n| base_severity(Some(h), i, a, k, n).map(|x| x.0);
        assert_eq!(s(S3, Weak, true, false, false), Some(Severity::Critical));
        assert_eq!(s(S1, Strong, false, true, false), Some(Severity::Critical));
        assert_eq!(s(S1, Strong, false, false, true), Some(Severity::Critical));
        assert_eq!(s(S2, Strong, false, false, false), Some(Severity::High));
        assert_eq!(s(S2, Weak, false, true, false), Some(Severity::High));
        assert_eq!(s(S1, Weak, false, false, false), Some(Severity::Medium));
        assert_eq!(s(S3, Strong, false, false, false), Some(Severity::Medium));
        assert_eq!(s(S4, Strong, false, false, false), Some(Severity::Low));
        assert_eq!(s(S3, Weak, false, false, false), Some(Severity::Low));
        assert_eq!(
            base_severity(Option::None, Strong, true, true, true),
            Option::None
        );
    }

    fn click(page: &str, text: &str, dest: Option<&str>) -> Event {
        let mut ev: Event = serde_json::from_value(serde_json::json!({
            "vendor": "meta_pixel", "organisation": "Meta Platforms", "product": "Meta Pixel",
            "category": "advertising", "party": "third_party", "event": "SubscribedButtonClick",
            "page_url": page, "request_url": "https://www.facebook.com/tr/", "method": "POST",
            "server_side": false, "transport": {"method": "POST", "format": "form", "encodings": []},
            "source": {"file": "t.har", "entry": 0}
        }))
        .expect("event");
        ev.ui.button_text = Some(text.to_owned());
        ev.ui.destination = dest.map(str::to_owned);
        ev
    }

    #[test]
    fn what_counts_as_care_seeking_on_a_health_site() {
        let page = "https://clinic.example/contact";
        for (text, dest, care) in [
            ("Submit", None, true),
            ("Call now", Some("tel:+15555550100"), true),
            ("", Some("sms:988"), true),
            ("Chat with us", None, true),
            ("Get help now", None, true),
            ("Sign up", None, true),
            ("Help", None, false),
            ("Join our team", None, false),
            ("Read more", Some("https://clinic.example/blog/post"), false),
            (
                "Read more",
                Some("https://clinic.example/appointments/new"),
                true,
            ),
        ] {
            assert_eq!(
                site_care_action(&click(page, text, dest)),
                care,
                "{text:?} {dest:?}"
            );
        }
        let mut lead = click(page, "", None);
        lead.event = "Lead".into();
        assert!(site_care_action(&lead));
        lead.event = "sign_up".into();
        assert!(site_care_action(&lead));
        lead.event = "PageView".into();
        assert!(!site_care_action(&lead));
    }

    #[test]
    fn pages_and_clicks_outside_care_stay_out() {
        for (page, text, out) in [
            ("https://h.example/careers/nurse", "Submit", true),
            ("https://h.example/gift-shop/flowers", "Submit", true),
            ("https://h.example/patients-visitors/parking", "Call", true),
            ("https://h.example/foundation/give-today", "Submit", true),
            ("https://h.example/contact", "Donate now", true),
            ("https://h.example/contact", "Apply", true),
            ("https://h.example/contact", "Submit", false),
            ("https://h.example/get-help", "Call 988", false),
        ] {
            assert_eq!(not_care(&click(page, text, None)), out, "{page} {text}");
        }
    }

    #[test]
    fn tokens() {
        let t = url_tokens("https://x.example/pharmacy/Refill-Prescription?store=1");
        assert!(t.contains(&"refill".to_owned()));
        assert!(t.contains(&"refill-prescription".to_owned()));
        assert!(!url_tokens("https://careers.example.com/").contains(&"careers".to_owned()));
    }
}
