//! What a careful reader needs said once, not under every finding: the legal
//! frameworks (each stated once, referenced from findings), a glossary of the
//! jargon the report shows, and health evidence collapsed so one term found
//! in many fields is one line with a count. The table, Markdown and HTML
//! outputs all render from these, so they say the same thing.

use std::collections::BTreeSet;

use leakscope_detect::{
    Effect, Finding, HealthCategory, HealthEvidence, IdClass, IdentityEvidence,
};

use crate::Results;

/// Health evidence the verdict counted (strong, or weak with a second signal).
pub fn counts(h: &HealthEvidence) -> bool {
    h.strength == leakscope_detect::Strength::Strong || !h.signals.is_empty()
}

// ---------------------------------------------------------------- legal

/// One legal framework, stated once for the whole report.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LegalFramework {
    /// The detector's framework id (`hipaa`, `ftc_hbnr`…), kept to `[a-z0-9_]`
    /// so it can serve as an in-page anchor.
    pub id: String,
    /// Short name for references: `HIPAA`, `FTC HBNR`.
    pub short: String,
    /// Full name: "HIPAA and the HHS-OCR tracking bulletin (…)".
    pub name: String,
    /// What the section heads it with: the full name, led by the short name
    /// findings cite unless the full name already starts with it.
    pub heading: String,
    /// The distinct reasons the findings give under this framework. Most
    /// frameworks have one; HIPAA's depends on the page (login, care action,
    /// public page), so it may have up to three.
    pub paragraphs: Vec<LegalParagraph>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LegalParagraph {
    /// What findings cite: `HIPAA`, or `HIPAA (b)` when there are several.
    pub label: String,
    pub why: String,
    /// How many findings this paragraph applies to.
    pub findings: usize,
}

/// Short names of the frameworks the detector knows; unknown ids (a newer
/// detector) fall back to their full name.
fn short_name(id: &str) -> Option<&'static str> {
    Some(match id {
        "hipaa" => "HIPAA",
        "ftc_hbnr" => "FTC HBNR",
        "cipa_ecpa" => "CIPA/ECPA",
        "wa_mhmda" => "WA MHMDA",
        "gdpr_art9" => "GDPR Art. 9",
        "gdpr_eprivacy" => "GDPR/ePrivacy",
        "ccpa_cpra" => "CCPA/CPRA",
        "ftc_act" => "FTC Act §5",
        _ => return None,
    })
}

fn anchor_id(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .take(40)
        .collect()
}

/// Findings in the order reports list them: most severe first, then by id.
pub fn ordered(r: &Results) -> Vec<&Finding> {
    let mut v: Vec<&Finding> = r.findings.iter().collect();
    v.sort_by(|a, b| b.severity.cmp(&a.severity).then_with(|| a.id.cmp(&b.id)));
    v
}

/// Every framework the findings touch, once, in the order the most severe
/// findings name them.
pub fn legal(r: &Results) -> Vec<LegalFramework> {
    let mut out: Vec<LegalFramework> = Vec::new();
    for f in ordered(r) {
        for fw in &f.frameworks {
            let i = match out.iter().position(|x| x.id == anchor_id(&fw.id)) {
                Some(i) => i,
                None => {
                    let short = short_name(&fw.id)
                        .map(str::to_owned)
                        .unwrap_or_else(|| fw.name.clone());
                    let heading = if fw.name.starts_with(&short) {
                        fw.name.clone()
                    } else {
                        format!("{short}: {}", fw.name)
                    };
                    out.push(LegalFramework {
                        id: anchor_id(&fw.id),
                        short,
                        name: fw.name.clone(),
                        heading,
                        paragraphs: Vec::new(),
                    });
                    out.len() - 1
                }
            };
            let x = &mut out[i];
            match x.paragraphs.iter_mut().find(|p| p.why == fw.why) {
                Some(p) => p.findings += 1,
                None => x.paragraphs.push(LegalParagraph {
                    label: String::new(),
                    why: fw.why.clone(),
                    findings: 1,
                }),
            }
        }
    }
    for x in &mut out {
        let many = x.paragraphs.len() > 1;
        for (n, p) in x.paragraphs.iter_mut().enumerate() {
            p.label = if many {
                format!("{} ({})", x.short, letter(n))
            } else {
                x.short.clone()
            };
        }
    }
    out
}

fn letter(n: usize) -> String {
    let c = (b'a' + (n % 26) as u8) as char;
    if n < 26 {
        c.to_string()
    } else {
        format!("{c}{}", n / 26)
    }
}

/// What a finding cites from the legal section: `(anchor, label)` per
/// framework, e.g. `("hipaa", "HIPAA (b)")`.
pub fn legal_refs(f: &Finding, legal: &[LegalFramework]) -> Vec<(String, String)> {
    f.frameworks
        .iter()
        .filter_map(|fw| {
            let x = legal.iter().find(|x| x.id == anchor_id(&fw.id))?;
            let p = x.paragraphs.iter().find(|p| p.why == fw.why)?;
            Some((x.id.clone(), p.label.clone()))
        })
        .collect()
}

// ---------------------------------------------------------------- rule

/// How the severity was reached, in one line: the base rule with the
/// severity it gave, then each modifier and what it did:
/// `health_with_identity (high); custom_configured raised it`.
/// Older documents, whose `rule` holds the whole chain, show it as written.
pub fn rule_text(f: &Finding) -> String {
    let mut s = f.rule.clone();
    if let Some(b) = f.base_severity {
        s.push_str(&format!(" ({b})"));
    }
    for m in &f.modifiers {
        let what = match m.effect {
            Effect::Raised => "raised it".to_owned(),
            Effect::Lowered => "lowered it".to_owned(),
            Effect::Unchanged => format!("applies, no change (already {})", f.severity),
        };
        s.push_str(&format!("; {} {what}", m.id));
    }
    s
}

/// When the same leak was seen more than once (two views of a page, the same
/// event in two runs): "seen 3 times: a.har#4, a.har#9, b.har#2". `None`
/// for a single request.
pub fn occurrences_text(f: &Finding) -> Option<String> {
    const SHOWN: usize = 5;
    if f.occurrences.len() < 2 {
        return None;
    }
    let mut list: Vec<String> = f
        .occurrences
        .iter()
        .take(SHOWN)
        .map(|o| {
            let mut s = o.source.to_string();
            if let Some(t) = &o.time {
                s.push_str(&format!(" at {t}"));
            }
            // A repeat that alone would rank differently (a view before and
            // after a refusal) says so.
            if o.severity != f.severity {
                s.push_str(&format!(" ({} on its own)", o.severity));
            }
            s
        })
        .collect();
    if f.occurrences.len() > SHOWN {
        list.push(format!("and {} more", f.occurrences.len() - SHOWN));
    }
    Some(format!(
        "seen {} times: {}",
        f.occurrences.len(),
        list.join(", ")
    ))
}

// ---------------------------------------------------------------- glossary

/// Jargon a report may show, explained once. The first string is the term
/// as the report prints it; an entry is shown when any of its keys appears
/// among the identifiers (kind or field), event names or ids of the results.
const GLOSSARY: &[(&str, &[&str], &str)] = &[
    (
        "hashed",
        &[],
        "A hashed identifier (for example the SHA-256 of an email address) is the same for everyone who hashes the same address, so the recipient matches it to the accounts it already holds; ad platforms ask for hashed emails for exactly that. Hashing hides the address from someone reading the request. It is not anonymisation: the person can still be identified.",
    ),
    (
        "c_user",
        &["c_user"],
        "Facebook's login cookie. Its value is the Facebook account id of whoever is logged in to Facebook in that browser: it names the account.",
    ),
    (
        "fbp (_fbp)",
        &["fbp", "_fbp"],
        "Meta Pixel's browser id, a cookie the pixel sets on the site. It stays the same across visits, so Meta can link them and tie them to an account.",
    ),
    (
        "fbc (_fbc, fbclid)",
        &["fbc", "_fbc", "fbclid"],
        "Meta's click id: records that the visitor arrived by clicking a link or ad on Facebook or Instagram, which ties the visit to that click.",
    ),
    (
        "fr, datr",
        &["fr", "datr"],
        "Facebook's own browser cookies, sent with the pixel's requests to facebook.com; Meta links them to the account when the visitor is logged in.",
    ),
    (
        "ga_client_id (cid, _ga)",
        &["ga_client_id", "cid", "_ga"],
        "Google Analytics' browser id (the _ga cookie, sent as cid): the same value on every visit from that browser.",
    ),
    (
        "ga_session (sid)",
        &["ga_session", "sid"],
        "Google Analytics' session id and count (the _ga_<id> cookie, sent as sid): ties the events of one visit together.",
    ),
    (
        "ttp (_ttp)",
        &["ttp", "_ttp"],
        "TikTok Pixel's browser id, a cookie the pixel sets on the site; it stays the same across visits.",
    ),
    (
        "ttclid",
        &["ttclid"],
        "TikTok's click id: records that the visitor arrived from a TikTok ad.",
    ),
    (
        "li_bcookie, li_sugr, li_fat_id",
        &["li_bcookie", "li_sugr", "li_fat_id"],
        "LinkedIn's browser and ad-click ids, which LinkedIn links to its members.",
    ),
    (
        "gclid, gcl_au",
        &["gclid", "gcl_au"],
        "Google Ads' click id and conversion cookie: tie the visit to a Google ad click.",
    ),
    (
        "ip_address",
        &["ip_address"],
        "The visitor's IP address, which every request from a browser carries: the recipient always gets it, and it can point to a household.",
    ),
    (
        "(no en)",
        &["(no en)"],
        "A Google Analytics request that named no event (its en parameter was missing or empty); leakscope shows it as (no en). It still carried the page and the ids.",
    ),
    (
        "first-party proxy",
        &["first_party_proxy"],
        "A tracker's protocol sent to the site's own domain, which forwards it to the vendor: it looks first-party to the browser and to blockers.",
    ),
];

/// The glossary entries whose terms appear in these results, in a fixed order.
pub fn glossary(r: &Results) -> Vec<(&'static str, &'static str)> {
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    let mut hashed = false;
    for f in &r.findings {
        seen.insert(f.event.as_str());
        for i in &f.identifiers {
            seen.insert(i.kind.as_str());
            seen.insert(i.field.as_str());
            hashed |= i.hashed;
        }
    }
    for e in &r.events {
        seen.insert(e.event.as_str());
        hashed |= e.user_data.iter().any(|u| u.hashed);
        for i in &e.ids {
            seen.insert(i.kind.as_str());
        }
        if e.party == leakscope_core::Party::FirstPartyProxy {
            seen.insert("first_party_proxy");
        }
    }
    GLOSSARY
        .iter()
        .filter(|(term, keys, _)| {
            if *term == "hashed" {
                hashed
            } else {
                keys.iter().any(|k| seen.contains(k))
            }
        })
        .map(|(term, _, text)| (*term, *text))
        .collect()
}

// ---------------------------------------------------------------- health

/// One health term of a finding, however many fields it was found in.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct HealthLine {
    pub category: HealthCategory,
    pub term: String,
    /// How many places it was found in.
    pub count: usize,
    /// The fields, list indexes generalised (`offers[i].url`), each with how
    /// many times it held the term, in order of first appearance.
    pub fields: Vec<(String, usize)>,
    /// The text as found in the first place, clipped by the detector.
    pub example: String,
    /// Every place with its text, for readers who want them all.
    pub all: Vec<(String, String)>,
}

impl HealthLine {
    /// `page_url.path, page_title, custom_data.offers[i].url ×3`, at most
    /// `max` fields, then how many more.
    pub fn fields_text(&self, max: usize) -> String {
        let mut parts: Vec<String> = self
            .fields
            .iter()
            .take(max)
            .map(|(f, n)| {
                if *n > 1 {
                    format!("{f} ×{n}")
                } else {
                    f.clone()
                }
            })
            .collect();
        if self.fields.len() > max {
            parts.push(format!("and {} more", self.fields.len() - max));
        }
        parts.join(", ")
    }
}

/// `offers[12].url` → `offers[i].url`: the same field of every list item.
pub fn field_pattern(field: &str) -> String {
    let mut out = String::with_capacity(field.len());
    let mut rest = field;
    while let Some(open) = rest.find('[') {
        out.push_str(&rest[..=open]);
        rest = &rest[open + 1..];
        match rest.find(']') {
            Some(close) if close > 0 && rest[..close].bytes().all(|b| b.is_ascii_digit()) => {
                out.push('i');
                rest = &rest[close..];
            }
            _ => {}
        }
    }
    out.push_str(rest);
    out
}

/// The counted health evidence of a finding, one line per (category, term).
pub fn health_lines(f: &Finding) -> Vec<HealthLine> {
    let mut out: Vec<HealthLine> = Vec::new();
    for h in f.health.iter().filter(|h| counts(h)) {
        let field = field_pattern(&h.field);
        let line = match out
            .iter_mut()
            .find(|l| l.category == h.category && l.term == h.term)
        {
            Some(l) => l,
            None => {
                out.push(HealthLine {
                    category: h.category,
                    term: h.term.clone(),
                    count: 0,
                    fields: Vec::new(),
                    example: h.matched.clone(),
                    all: Vec::new(),
                });
                let n = out.len() - 1;
                &mut out[n]
            }
        };
        line.count += 1;
        match line.fields.iter_mut().find(|(x, _)| *x == field) {
            Some((_, n)) => *n += 1,
            None => line.fields.push((field, 1)),
        }
        line.all.push((h.field.clone(), h.matched.clone()));
    }
    out
}

// ---------------------------------------------------------------- identity

/// How strongly an identifier points at a person, for choosing the one to
/// name in a headline: a plain email beats its hash, a hash beats a login
/// cookie, which beats a browser cookie, which beats the IP address.
pub fn identity_rank(i: &IdentityEvidence) -> u8 {
    if !i.counts {
        return 0;
    }
    match i.class {
        IdClass::Direct => 6,
        IdClass::Hashed => 5,
        IdClass::Platform if matches!(i.kind.as_str(), "c_user" | "fb_login_id") => 4,
        IdClass::Device => 3,
        IdClass::Platform => 2,
        IdClass::Network => 1,
    }
}

fn kind_words(kind: &str) -> String {
    match kind {
        "email" => "email address".into(),
        "phone" => "phone number".into(),
        "zip" => "ZIP code".into(),
        "street" => "street address".into(),
        "external_id" => "customer id".into(),
        other => other.replace('_', " "),
    }
}

/// An identifier in words: "a hashed email address", "the visitor's
/// Facebook account id (c_user)", "the visitor's IP address".
pub fn identity_words(i: &IdentityEvidence) -> String {
    match i.class {
        IdClass::Direct if i.hashed => format!("a hashed {}", kind_words(&i.kind)),
        IdClass::Direct => format!("the visitor's {}", kind_words(&i.kind)),
        IdClass::Hashed => format!("a hashed {}", kind_words(&i.kind)),
        IdClass::Platform if matches!(i.kind.as_str(), "c_user" | "fb_login_id") => {
            format!("the visitor's Facebook account id ({})", i.kind)
        }
        IdClass::Platform => format!("a browser id ({})", i.kind),
        IdClass::Device => format!("a device advertising id ({})", i.kind),
        IdClass::Network if i.kind == "ip_address" => "the visitor's IP address".into(),
        IdClass::Network => kind_words(&i.kind),
    }
}

/// One identity line per counted identifier kind, with how it was sent:
/// `email (hashed)`, `c_user`, and for the IP address the words that say
/// why it is there.
pub fn identity_labels(f: &Finding) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for i in f.identifiers.iter().filter(|i| i.counts) {
        let label = if i.kind == "ip_address" && i.field == "connection" {
            i.note
                .clone()
                .unwrap_or_else(|| "the visitor's IP address".to_owned())
        } else {
            i.label()
        };
        if !out.contains(&label) {
            out.push(label);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_indexes_generalise() {
        assert_eq!(
            field_pattern("custom_data.JSON-LD[0].offers[12].url"),
            "custom_data.JSON-LD[i].offers[i].url"
        );
        assert_eq!(field_pattern("a[x].b[]"), "a[x].b[]");
        assert_eq!(field_pattern("page_title"), "page_title");
        assert_eq!(field_pattern("odd[3"), "odd[3");
    }

    #[test]
    fn letters_label_variants() {
        assert_eq!(letter(0), "a");
        assert_eq!(letter(2), "c");
        assert_eq!(anchor_id("Weird id\"<x>"), "weird_id__x_");
    }
}
