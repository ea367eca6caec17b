//! The verdict: severity rules of health-and-law.md §3.4, in one place a
//! reviewer can read top to bottom, and the plain-language explanation.
//!
//! Notation (as in §3.4): `H` strongest health tier among counted evidence,
//! `I` identity (strong: direct, hashed, platform or device ids; weak: IP and
//! user agent, which every browser request carries), `A` authenticated page,
//! `K` care-seeking action, `R` recipient is not the site, `N` consent
//! declined or GPC set.

use std::fmt::Write as _;

use leakscope_core::{Event, Party};
use sha2::{Digest, Sha256};

use crate::finding::{
    Context, Finding, Framework, HealthCategory, HealthEvidence, IdentityEvidence, Severity,
    Strength, Tier,
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

/// Tokens of care-seeking pages and actions (§3.3).
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
    "search",
    "request-appointment",
    "consultation",
    "register",
    "enroll",
];

/// Events that are care-seeking actions when they carry health content.
const CARE_EVENTS: &[&str] = &[
    "schedule",
    "lead",
    "submitapplication",
    "completeregistration",
    "purchase",
    "addtocart",
    "initiatecheckout",
    "search",
    "contact",
    "findlocation",
    "form_submit",
    "form_start",
    "view_search_results",
    "add_to_cart",
    "begin_checkout",
    "generate_lead",
    "sign_up",
    "submitform",
    "clickbutton",
    "placeanorder",
    "completepayment",
    "subscribedbuttonclick",
];

/// Informational-only pages: downgrade (§3.3, OCR's own non-PHI examples).
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

/// The severity rules. Returns the severity before modifiers and the rule id.
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
        return Some((Severity::Critical, "critical.authenticated_page"));
    }
    if clinical && k && i == Strong {
        return Some((Severity::Critical, "critical.care_action_with_identity"));
    }
    if h == S1 && i == Strong && n {
        return Some((
            Severity::Critical,
            "critical.special_category_after_refusal",
        ));
    }
    // HIGH
    if clinical && i == Strong {
        return Some((Severity::High, "high.health_with_identity"));
    }
    if clinical && k && i == Weak {
        return Some((Severity::High, "high.care_action_ip_only"));
    }
    if h == S3 && a {
        return Some((Severity::High, "high.care_relationship_authenticated"));
    }
    // MEDIUM
    if clinical && i == Weak {
        return Some((Severity::Medium, "medium.health_page_ip_only"));
    }
    if h == S3 && i == Strong {
        return Some((Severity::Medium, "medium.care_relationship_with_identity"));
    }
    // LOW
    if h == S4 || (h == S3 && i >= Weak) {
        return Some((Severity::Low, "low.weak_health_signal"));
    }
    Some((Severity::Info, "info.no_identity"))
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
        None if identity_canaries => (Severity::Medium, "medium.canary_identity_without_health"),
        None if !ev.canaries.is_empty() => (Severity::Low, "low.canary_without_health"),
        None => return None,
    };
    let mut modifiers = Vec::new();
    if severity > Severity::Info {
        if ctx.server_side {
            severity = severity.raise();
            modifiers.push("+server_side");
        }
        if n {
            severity = severity.raise();
            modifiers.push("+after_refusal");
        }
        if ctx.custom_configured && h.is_some() {
            severity = severity.raise();
            modifiers.push("+custom_configured");
        }
        if ctx.informational && !ctx.care_action && !ctx.authenticated {
            severity = severity.lower();
            modifiers.push("-informational_page");
        }
    }
    let rule_text = if modifiers.is_empty() {
        rule.to_owned()
    } else {
        format!("{rule}{}", modifiers.join(""))
    };
    let frameworks = frameworks(&ctx, h, i, ev);
    let explanation = explain(ev, &counted, &identifiers, &ctx, severity, i);
    let id = stable_id(ev, &counted, &identifiers);
    Some(Finding {
        id,
        severity,
        rule: rule_text,
        vendor: ev.vendor,
        organisation: ev.organisation.clone(),
        account_id: ev.account_id.clone(),
        event: ev.event.clone(),
        page_url: ev.page_url.clone(),
        request_url: ev.request_url.clone(),
        method: ev.method.clone(),
        source: ev.source.clone(),
        step: ev.step.clone(),
        health,
        identifiers,
        canaries: ev.canaries.clone(),
        context: ctx,
        frameworks,
        explanation,
        consent_evidence: None,
    })
}

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

fn context(ev: &Event, counted: &[&HealthEvidence]) -> Context {
    let tokens = ev.page_url.as_deref().map(url_tokens).unwrap_or_default();
    let has = |list: &[&str]| tokens.iter().any(|t| list.contains(&t.as_str()));
    let event_l = ev.event.to_ascii_lowercase();
    let care_event = CARE_EVENTS.contains(&event_l.as_str());
    // A booking or pharmacy word counts as the user's action where the user
    // put it (URL, search, button, custom data), not in a site's page title.
    let care_categories = counted.iter().any(|e| {
        (matches!(
            e.category,
            HealthCategory::CareAppointment | HealthCategory::PharmacyAction
        ) && !matches!(e.field.as_str(), "page_title" | "referrer.path"))
            || e.field.contains("search")
    });
    let custom_configured = counted.iter().any(|e| {
        e.field == "event"
            || e.field.strip_prefix("custom_data.").is_some_and(|k| {
                !AUTOMATIC_KEYS
                    .iter()
                    .any(|a| k == *a || k.starts_with(&format!("{a}.")))
            })
    });
    Context {
        authenticated: has(AUTH_TOKENS),
        care_action: has(CARE_TOKENS) || (care_event && !counted.is_empty()) || care_categories,
        custom_configured,
        informational: has(INFO_TOKENS),
        consent: ev.consent.clone(),
        server_side: ev.server_side,
    }
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

fn explain(
    ev: &Event,
    counted: &[&HealthEvidence],
    identifiers: &[IdentityEvidence],
    ctx: &Context,
    severity: Severity,
    i: Identity,
) -> String {
    let mut s = String::new();
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
    let _ = write!(s, "On {page}, {how} {recipient} the \"{}\" event", ev.event);
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
        Identity::Weak => {
            let _ = write!(s, ", together with the user's IP address");
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
            " The event records the user seeking care (a search, booking, refill or checkout).",
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
    let digest = h.finalize();
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("LS-{hex}")
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

    #[test]
    fn tokens() {
        let t = url_tokens("https://x.example/pharmacy/Refill-Prescription?store=1");
        assert!(t.contains(&"refill".to_owned()));
        assert!(t.contains(&"refill-prescription".to_owned()));
        assert!(!url_tokens("https://careers.example.com/").contains(&"careers".to_owned()));
    }
}
