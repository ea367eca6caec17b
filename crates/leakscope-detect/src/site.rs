//! Site context: who the site is. A crisis line's contact form, a rehab
//! centre's "Call now" button or a fertility clinic's newsletter sign-up
//! reveal health through the site alone, with no health word on the page
//! (Washington's My Health My Data Act: data that identifies a consumer
//! seeking health care services is consumer health data).
//!
//! A `SiteProfile` per site (registrable domain) gives a `SiteCategory`, a
//! confidence and the evidence, from:
//!
//! - Schema.org types in JSON-LD and microdata (`Hospital`, `MedicalClinic`,
//!   `Pharmacy`, `Physician`, `DiagnosticLab`, `MedicalOrganization`…);
//! - the `<title>`, meta description, `og:site_name`, `<h1>`/`<h2>` and the
//!   page titles trackers report, matched against curated category phrases
//!   ("crisis line", "988", "recovery center", "fertility clinic"…) and the
//!   health lexicon (at most one point per category: reading about a
//!   condition does not make a site a clinic);
//! - the organisation's name where the page states it (JSON-LD `name`,
//!   `og:site_name`, the brand part of a title);
//! - `data/sites/health-sites.tsv`: well-known health domains, with sources;
//! - overrides (`--site-category DOMAIN=CATEGORY`), which win.
//!
//! Pure: the HTML scan is a bounded byte scan (no DOM), and never panics on
//! hostile markup. `verdict::judge_site` turns a profile into findings.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::finding::HealthCategory;
use crate::health::HealthMatcher;
use crate::normalize::normalize;

/// What kind of organisation a site is. Serialised ids are output contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SiteCategory {
    CrisisMentalHealth,
    ReproductiveHealth,
    AddictionTreatment,
    HivSexualHealth,
    Fertility,
    Hospital,
    Clinic,
    Pharmacy,
    Telehealth,
    LabTesting,
    Insurer,
    DisabilityEldercare,
    NonHealth,
}

impl SiteCategory {
    /// Most special first: on a tie of evidence the more special wins.
    pub const ALL: [SiteCategory; 13] = [
        SiteCategory::CrisisMentalHealth,
        SiteCategory::ReproductiveHealth,
        SiteCategory::AddictionTreatment,
        SiteCategory::HivSexualHealth,
        SiteCategory::Fertility,
        SiteCategory::Hospital,
        SiteCategory::Clinic,
        SiteCategory::Pharmacy,
        SiteCategory::Telehealth,
        SiteCategory::LabTesting,
        SiteCategory::Insurer,
        SiteCategory::DisabilityEldercare,
        SiteCategory::NonHealth,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SiteCategory::CrisisMentalHealth => "crisis_mental_health",
            SiteCategory::ReproductiveHealth => "reproductive_health",
            SiteCategory::AddictionTreatment => "addiction_treatment",
            SiteCategory::HivSexualHealth => "hiv_sexual_health",
            SiteCategory::Fertility => "fertility",
            SiteCategory::Hospital => "hospital",
            SiteCategory::Clinic => "clinic",
            SiteCategory::Pharmacy => "pharmacy",
            SiteCategory::Telehealth => "telehealth",
            SiteCategory::LabTesting => "lab_testing",
            SiteCategory::Insurer => "insurer",
            SiteCategory::DisabilityEldercare => "disability_eldercare",
            SiteCategory::NonHealth => "non_health",
        }
    }

    /// A category name, or a common short name people put in site lists
    /// (`crisis_line`, `mental_health`, `hiv`, `lab`…).
    pub fn parse(s: &str) -> Option<SiteCategory> {
        let s = s.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        SiteCategory::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .or(match s.as_str() {
                "crisis_line" | "crisis" | "mental_health" | "behavioral_health" => {
                    Some(SiteCategory::CrisisMentalHealth)
                }
                "reproductive" | "family_planning" | "abortion" => {
                    Some(SiteCategory::ReproductiveHealth)
                }
                "addiction" | "substance_use" | "recovery" => {
                    Some(SiteCategory::AddictionTreatment)
                }
                "hiv" | "sexual_health" => Some(SiteCategory::HivSexualHealth),
                "health_system" => Some(SiteCategory::Hospital),
                "physician" | "doctor" => Some(SiteCategory::Clinic),
                "lab" | "laboratory" => Some(SiteCategory::LabTesting),
                "insurance" | "health_insurer" => Some(SiteCategory::Insurer),
                "disability" | "eldercare" => Some(SiteCategory::DisabilityEldercare),
                "none" | "not_health" | "other" => Some(SiteCategory::NonHealth),
                _ => None,
            })
    }

    /// Plain words: "a crisis line or mental health service".
    pub fn describe(self) -> &'static str {
        match self {
            SiteCategory::CrisisMentalHealth => "a crisis line or mental health service",
            SiteCategory::ReproductiveHealth => "a reproductive health provider",
            SiteCategory::AddictionTreatment => "an addiction treatment provider",
            SiteCategory::HivSexualHealth => "an HIV or sexual health service",
            SiteCategory::Fertility => "a fertility clinic or service",
            SiteCategory::Hospital => "a hospital or health system",
            SiteCategory::Clinic => "a clinic or physician practice",
            SiteCategory::Pharmacy => "a pharmacy",
            SiteCategory::Telehealth => "a telehealth provider",
            SiteCategory::LabTesting => "a medical test or lab service",
            SiteCategory::Insurer => "a health insurer",
            SiteCategory::DisabilityEldercare => "a disability or eldercare service",
            SiteCategory::NonHealth => "not a health site",
        }
    }

    /// Any health category: a care-seeking action there reveals health.
    pub fn is_sensitive(self) -> bool {
        self != SiteCategory::NonHealth
    }

    /// The special categories (health-and-law.md §3.1, S1): contacting
    /// them reveals the most (crisis, mental health, reproductive care,
    /// addiction, HIV, fertility).
    pub fn is_special(self) -> bool {
        matches!(
            self,
            SiteCategory::CrisisMentalHealth
                | SiteCategory::ReproductiveHealth
                | SiteCategory::AddictionTreatment
                | SiteCategory::HivSexualHealth
                | SiteCategory::Fertility
        )
    }
}

impl fmt::Display for SiteCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How sure the profile is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    Low,
    Medium,
    High,
}

impl Confidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }

    fn of_score(score: u32) -> Confidence {
        match score {
            0..=1 => Confidence::Low,
            2 => Confidence::Medium,
            _ => Confidence::High,
        }
    }
}

/// Where a piece of site evidence came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceSource {
    /// A Schema.org type in JSON-LD or microdata.
    SchemaOrg,
    /// A page `<title>` (or the title a tracker reported).
    Title,
    MetaDescription,
    /// An `<h1>` or `<h2>`.
    Heading,
    /// The organisation's own name: JSON-LD `name`, `og:site_name`, a title's brand part.
    OrgName,
    /// `data/sites/health-sites.tsv`.
    KnownDomain,
    /// `--site-category DOMAIN=CATEGORY`.
    Override,
}

impl EvidenceSource {
    pub fn as_str(self) -> &'static str {
        match self {
            EvidenceSource::SchemaOrg => "schema_org",
            EvidenceSource::Title => "title",
            EvidenceSource::MetaDescription => "meta_description",
            EvidenceSource::Heading => "heading",
            EvidenceSource::OrgName => "org_name",
            EvidenceSource::KnownDomain => "known_domain",
            EvidenceSource::Override => "override",
        }
    }

    /// Plain words for explanations.
    pub fn describe(self) -> &'static str {
        match self {
            EvidenceSource::SchemaOrg => "the page's Schema.org type",
            EvidenceSource::Title => "a page title",
            EvidenceSource::MetaDescription => "the page description",
            EvidenceSource::Heading => "a page heading",
            EvidenceSource::OrgName => "the organisation's name",
            EvidenceSource::KnownDomain => "leakscope's list of known health sites",
            EvidenceSource::Override => "the analyst's --site-category",
        }
    }
}

/// One reason for a site's category.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteEvidence {
    pub source: EvidenceSource,
    /// The text it was found in, clipped (a title, a heading, the domain).
    pub text: String,
    /// What matched: a category phrase, a lexicon term, a Schema.org type.
    pub matched: String,
    pub weight: u32,
}

/// Who a site is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteProfile {
    /// Registrable domain (`harborline-crisis.example`).
    pub site: String,
    pub category: SiteCategory,
    pub confidence: Confidence,
    /// The evidence for `category`, strongest first (at most `MAX_EVIDENCE`).
    #[serde(default)]
    pub evidence: Vec<SiteEvidence>,
}

impl SiteProfile {
    /// Sensitive enough to judge events by: a health category, at least
    /// medium confidence.
    pub fn is_sensitive(&self) -> bool {
        self.category.is_sensitive() && self.confidence >= Confidence::Medium
    }

    /// "harborline-crisis.example is a crisis line or mental health service
    /// (high confidence: the organisation's name "Harborline Crisis Line" …)".
    pub fn summary(&self) -> String {
        let mut s = format!(
            "{} is {} ({} confidence",
            self.site,
            self.category.describe(),
            self.confidence.as_str()
        );
        let parts: Vec<String> = self
            .evidence
            .iter()
            .take(3)
            .map(|e| match e.source {
                EvidenceSource::KnownDomain | EvidenceSource::Override => {
                    format!("{} ({})", e.source.describe(), e.text)
                }
                EvidenceSource::SchemaOrg => format!("{} {}", e.source.describe(), e.matched),
                _ => format!("\"{}\" in {}", e.matched, e.source.describe()),
            })
            .collect();
        if !parts.is_empty() {
            s.push_str(": ");
            s.push_str(&parts.join("; "));
        }
        s.push(')');
        s
    }
}

/// Most evidence items kept per profile.
pub const MAX_EVIDENCE: usize = 8;
/// Bytes of a document scanned: titles, metadata, JSON-LD and the first
/// headings sit at the top.
pub const MAX_HTML_BYTES: usize = 512 * 1024;
/// Documents read per site.
const MAX_DOCS_PER_SITE: usize = 64;
/// Texts (titles, headings…) kept per site.
const MAX_TEXTS_PER_SITE: usize = 256;
const MAX_TEXT_CHARS: usize = 200;
const MAX_HEADINGS: usize = 12;
const MAX_JSONLD_BYTES: usize = 256 * 1024;

/// Curated category phrases, normalised (`normalize`): whole-token matches.
const PHRASES: &[(SiteCategory, &[&str])] = &[
    (
        SiteCategory::CrisisMentalHealth,
        &[
            "crisis line",
            "crisis lifeline",
            "crisis center",
            "crisis centre",
            "crisis services",
            "crisis support",
            "crisis text line",
            "crisis hotline",
            "988",
            "suicide prevention",
            "suicide hotline",
            "helpline",
            "hotline",
            "behavioral health",
            "behavioural health",
            "mental health services",
            "mental health center",
            "mental health centre",
            "mental health clinic",
            "counseling center",
            "counselling centre",
            "psychiatric hospital",
            "psychiatry",
            "therapy online",
            "online therapy",
        ],
    ),
    (
        SiteCategory::ReproductiveHealth,
        &[
            "family planning",
            "abortion",
            "abortion clinic",
            "abortion care",
            "reproductive health",
            "women s health center",
            "womens health center",
            "pregnancy center",
            "pregnancy centre",
            "pregnancy resource center",
            "pregnancy care center",
            "birth control",
            "contraception",
            "ob gyn",
            "obgyn",
            "obstetrics",
            "gynecology",
        ],
    ),
    (
        SiteCategory::AddictionTreatment,
        &[
            "addiction treatment",
            "addiction recovery",
            "addiction center",
            "recovery center",
            "recovery centre",
            "rehab",
            "rehab center",
            "drug rehab",
            "alcohol rehab",
            "detox",
            "substance use",
            "substance abuse",
            "opioid treatment",
            "sober living",
            "medication assisted treatment",
        ],
    ),
    (
        SiteCategory::HivSexualHealth,
        &[
            "prep clinic",
            "hiv prep",
            "hiv",
            "hiv testing",
            "hiv care",
            "hiv clinic",
            "sexual health",
            "sexual health clinic",
            "std testing",
            "sti testing",
            "std clinic",
            "aids foundation",
        ],
    ),
    (
        SiteCategory::Fertility,
        &[
            "fertility",
            "fertility clinic",
            "fertility center",
            "fertility centre",
            "ivf",
            "in vitro fertilization",
            "egg freezing",
            "reproductive medicine",
            "reproductive endocrinology",
        ],
    ),
    (
        SiteCategory::Hospital,
        &[
            "hospital",
            "health system",
            "medical center",
            "medical centre",
            "children s hospital",
            "emergency room",
            "cancer center",
            "cancer centre",
        ],
    ),
    (
        SiteCategory::Clinic,
        &[
            "urgent care",
            "medical clinic",
            "health clinic",
            "community health center",
            "primary care",
            "family medicine",
            "physicians",
            "medical group",
            "dental clinic",
            "dentistry",
            "dermatology",
            "pediatrics",
        ],
    ),
    (
        SiteCategory::Pharmacy,
        &[
            "pharmacy",
            "pharmacies",
            "drugstore",
            "prescription refills",
            "rx refill",
        ],
    ),
    (
        SiteCategory::Telehealth,
        &[
            "telehealth",
            "telemedicine",
            "virtual care",
            "virtual visit",
            "online doctor",
            "see a doctor online",
        ],
    ),
    (
        SiteCategory::LabTesting,
        &[
            "lab testing",
            "lab tests",
            "at home test",
            "at home testing",
            "home test kit",
            "blood test",
            "diagnostic laboratory",
            "genetic testing",
        ],
    ),
    (
        SiteCategory::Insurer,
        &[
            "health insurance",
            "health plan",
            "health plans",
            "medicare advantage",
            "medicaid",
            "health insurance marketplace",
        ],
    ),
    (
        SiteCategory::DisabilityEldercare,
        &[
            "home care",
            "home health",
            "hospice",
            "assisted living",
            "nursing home",
            "memory care",
            "senior care",
            "disability services",
            "eldercare",
            "elder care",
        ],
    ),
];

/// Schema.org types: (type, category, weight). `None`: a health
/// organisation of no specific kind (counts toward confidence only).
const SCHEMA_TYPES: &[(&str, Option<SiteCategory>, u32)] = &[
    ("Hospital", Some(SiteCategory::Hospital), 3),
    ("MedicalClinic", Some(SiteCategory::Clinic), 3),
    ("Physician", Some(SiteCategory::Clinic), 3),
    ("Dentist", Some(SiteCategory::Clinic), 3),
    ("Optician", Some(SiteCategory::Clinic), 3),
    ("CommunityHealth", Some(SiteCategory::Clinic), 3),
    ("Pharmacy", Some(SiteCategory::Pharmacy), 3),
    ("DiagnosticLab", Some(SiteCategory::LabTesting), 3),
    ("HealthInsurancePlan", Some(SiteCategory::Insurer), 3),
    ("MedicalOrganization", None, 2),
    ("MedicalBusiness", None, 2),
];

/// Lexicon categories as site categories (`None`: health, of no one kind).
fn lexicon_site_category(c: HealthCategory) -> Option<SiteCategory> {
    use HealthCategory::*;
    Some(match c {
        MentalHealth => SiteCategory::CrisisMentalHealth,
        SubstanceUse => SiteCategory::AddictionTreatment,
        SexualStiHiv | SexualHealth => SiteCategory::HivSexualHealth,
        ReproAbortion | ReproContraception | ReproPregnancy => SiteCategory::ReproductiveHealth,
        ReproFertility => SiteCategory::Fertility,
        Disability => SiteCategory::DisabilityEldercare,
        TestLab | Genetic => SiteCategory::LabTesting,
        PharmacyAction | MedicationRx => SiteCategory::Pharmacy,
        InsuranceBilling => SiteCategory::Insurer,
        _ => return None,
    })
}

/// What a page says about who the site is, read out of its HTML.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageSignals {
    pub title: Option<String>,
    pub description: Option<String>,
    pub site_name: Option<String>,
    pub headings: Vec<String>,
    /// Schema.org types (`Hospital`), from JSON-LD `@type` and microdata `itemtype`.
    pub schema_types: Vec<String>,
    /// Names of organisations the JSON-LD describes.
    pub org_names: Vec<String>,
}

/// The known domains and the overrides: compiled once, shared by runs.
#[derive(Debug, Clone, Default)]
pub struct SiteKnowledge {
    known: HashMap<String, (SiteCategory, String)>,
    overrides: HashMap<String, SiteCategory>,
}

impl SiteKnowledge {
    /// `data/sites/health-sites.tsv`, built in.
    pub fn builtin() -> SiteKnowledge {
        let mut k = SiteKnowledge::default();
        for line in include_str!("../../../data/sites/health-sites.tsv").lines() {
            let cols: Vec<&str> = line.split('\t').collect();
            if line.starts_with('#') || cols.len() < 3 || cols[0] == "domain" {
                continue;
            }
            if let Some(c) = SiteCategory::parse(cols[1]) {
                k.known
                    .insert(cols[0].trim().to_ascii_lowercase(), (c, cols[2].to_owned()));
            }
        }
        k
    }

    /// Known domains listed.
    pub fn len(&self) -> usize {
        self.known.len()
    }

    pub fn is_empty(&self) -> bool {
        self.known.is_empty()
    }

    /// `DOMAIN=CATEGORY` (`--site-category`): the domain's registrable
    /// domain and the category, or what is wrong with it.
    pub fn parse_override(spec: &str) -> Result<(String, SiteCategory), String> {
        let (d, c) = spec
            .split_once('=')
            .ok_or_else(|| format!("{spec:?}: expected DOMAIN=CATEGORY"))?;
        let d = d.trim();
        let host = d
            .split_once("://")
            .map_or(d, |(_, r)| r)
            .split(['/', ':', '?', '#'])
            .next()
            .unwrap_or("");
        if host.is_empty() {
            return Err(format!("{spec:?}: no domain before '='"));
        }
        let cat = SiteCategory::parse(c).ok_or_else(|| {
            let all: Vec<&str> = SiteCategory::ALL.iter().map(|c| c.as_str()).collect();
            format!(
                "{spec:?}: unknown category {c:?}; one of: {}",
                all.join(", ")
            )
        })?;
        Ok((leakscope_core::party::site_of(host), cat))
    }

    /// Sets a site's category outright.
    pub fn set_override(&mut self, site: &str, category: SiteCategory) {
        self.overrides
            .insert(leakscope_core::party::site_of(site), category);
    }
}

/// Collects evidence per site over a run: documents as they are fed, page
/// titles at the end. Bounded per site.
#[derive(Debug, Default)]
pub struct SiteCollector {
    sites: BTreeMap<String, Collected>,
}

#[derive(Debug, Default)]
struct Collected {
    docs: usize,
    /// (source, text), deduplicated.
    texts: Vec<(EvidenceSource, String)>,
    seen: HashSet<(EvidenceSource, String)>,
    schema: Vec<String>,
}

impl Collected {
    fn text(&mut self, source: EvidenceSource, text: &str) {
        let t = clip(&collapse(text), MAX_TEXT_CHARS);
        if t.is_empty() || self.texts.len() >= MAX_TEXTS_PER_SITE {
            return;
        }
        if self.seen.insert((source, t.clone())) {
            self.texts.push((source, t));
        }
    }
}

impl SiteCollector {
    pub fn new() -> SiteCollector {
        SiteCollector::default()
    }

    /// A document (page HTML) served at `url`.
    pub fn document(&mut self, url: &str, html: &str) {
        let Some(site) = site_of_url(url) else {
            return;
        };
        let c = self.sites.entry(site).or_default();
        if c.docs >= MAX_DOCS_PER_SITE {
            return;
        }
        c.docs += 1;
        let p = scan_html(html);
        if let Some(t) = &p.title {
            c.text(EvidenceSource::Title, t);
            if let Some(brand) = title_brand(t) {
                c.text(EvidenceSource::OrgName, brand);
            }
        }
        if let Some(d) = &p.description {
            c.text(EvidenceSource::MetaDescription, d);
        }
        if let Some(n) = &p.site_name {
            c.text(EvidenceSource::OrgName, n);
        }
        for n in &p.org_names {
            c.text(EvidenceSource::OrgName, n);
        }
        for h in &p.headings {
            c.text(EvidenceSource::Heading, h);
        }
        for t in p.schema_types {
            if !c.schema.contains(&t) && c.schema.len() < 16 {
                c.schema.push(t);
            }
        }
    }

    /// A page title a tracker reported for a page of `page_url`.
    pub fn page_title(&mut self, page_url: &str, title: &str) {
        let Some(site) = site_of_url(page_url) else {
            return;
        };
        let c = self.sites.entry(site).or_default();
        c.text(EvidenceSource::Title, title);
        if let Some(brand) = title_brand(title) {
            c.text(EvidenceSource::OrgName, brand);
        }
    }

    /// Makes sure `site` gets a profile even with no evidence.
    pub fn site(&mut self, page_url: &str) {
        if let Some(site) = site_of_url(page_url) {
            self.sites.entry(site).or_default();
        }
    }

    /// One profile per site, in site order.
    pub fn profiles(&self, knowledge: &SiteKnowledge, health: &HealthMatcher) -> Vec<SiteProfile> {
        self.sites
            .iter()
            .map(|(site, c)| profile(site, c, knowledge, health))
            .collect()
    }
}

fn profile(
    site: &str,
    c: &Collected,
    knowledge: &SiteKnowledge,
    health: &HealthMatcher,
) -> SiteProfile {
    if let Some(&cat) = knowledge.overrides.get(site) {
        return SiteProfile {
            site: site.to_owned(),
            category: cat,
            confidence: Confidence::High,
            evidence: vec![SiteEvidence {
                source: EvidenceSource::Override,
                text: format!("{site}={cat}"),
                matched: cat.as_str().to_owned(),
                weight: 10,
            }],
        };
    }
    // (category or None for generic health, evidence)
    let mut found: Vec<(Option<SiteCategory>, SiteEvidence)> = Vec::new();
    if let Some((cat, name)) = lookup_known(site, knowledge) {
        found.push((
            Some(cat),
            SiteEvidence {
                source: EvidenceSource::KnownDomain,
                text: format!("{site}: {name}"),
                matched: site.to_owned(),
                weight: 3,
            },
        ));
    }
    for t in &c.schema {
        if let Some((ty, cat, w)) = SCHEMA_TYPES.iter().find(|(ty, _, _)| ty == t) {
            found.push((
                *cat,
                SiteEvidence {
                    source: EvidenceSource::SchemaOrg,
                    text: format!("schema.org/{ty}"),
                    matched: (*ty).to_owned(),
                    weight: *w,
                },
            ));
        }
    }
    let mut lexicon_done: HashSet<SiteCategory> = HashSet::new();
    for (source, text) in &c.texts {
        let norm = format!(" {} ", normalize(text));
        // The organisation's own name ("Night Harbor Crisis Line") says
        // who it is as surely as a Schema.org type; a title, heading or
        // description only says what one page is about.
        let weight = match source {
            EvidenceSource::OrgName => 3,
            _ => 1,
        };
        let mut phrase_cats = HashSet::new();
        for (cat, phrases) in PHRASES {
            // Longest phrase of the category that matches, once per text.
            // A lone word ("hospital", "988", "rehab") names the
            // organisation only where the organisation describes itself:
            // a news title may say "hospital" too.
            let own_words = matches!(
                source,
                EvidenceSource::OrgName | EvidenceSource::MetaDescription
            );
            if let Some(p) = phrases
                .iter()
                .filter(|p| own_words || p.contains(' '))
                .filter(|p| norm.contains(&format!(" {p} ")))
                .max_by_key(|p| p.len())
            {
                phrase_cats.insert(*cat);
                found.push((
                    Some(*cat),
                    SiteEvidence {
                        source: *source,
                        text: text.clone(),
                        matched: (*p).to_owned(),
                        weight,
                    },
                ));
            }
        }
        if *source == EvidenceSource::OrgName {
            continue;
        }
        for e in lexicon_hits(health, text) {
            let Some(cat) = lexicon_site_category(e.category) else {
                continue;
            };
            if phrase_cats.contains(&cat) || !lexicon_done.insert(cat) {
                continue;
            }
            found.push((
                Some(cat),
                SiteEvidence {
                    source: *source,
                    text: text.clone(),
                    matched: e.term.clone(),
                    weight: 1,
                },
            ));
        }
    }
    // Score: per category, the strongest item of each source counts once.
    let mut best: Option<(SiteCategory, u32)> = None;
    for cat in SiteCategory::ALL {
        let s = score(found.iter().filter(|(c, _)| *c == Some(cat)).map(|x| &x.1));
        if s > 0 && best.is_none_or(|(_, b)| s > b) {
            best = Some((cat, s));
        }
    }
    let generic = score(found.iter().filter(|(c, _)| c.is_none()).map(|x| &x.1));
    // A special category that ties with a kind of provider wins (an HIV
    // clinic is a clinic too), and the provider evidence supports it.
    let provider = SiteCategory::ALL
        .into_iter()
        .filter(|c| !c.is_special())
        .map(|cat| score(found.iter().filter(|(c, _)| *c == Some(cat)).map(|x| &x.1)))
        .max()
        .unwrap_or(0);
    let (category, total) = match best {
        Some((cat, s)) if cat.is_special() => (cat, s + generic.max(provider)),
        Some((cat, s)) => (cat, s + generic),
        None if generic > 0 => (SiteCategory::Clinic, generic),
        None => {
            return SiteProfile {
                site: site.to_owned(),
                category: SiteCategory::NonHealth,
                confidence: Confidence::Low,
                evidence: Vec::new(),
            };
        }
    };
    let mut evidence: Vec<SiteEvidence> = found
        .into_iter()
        .filter(|(c, _)| {
            c.is_none()
                || *c == Some(category)
                || (category.is_special() && c.is_some_and(|c| !c.is_special()))
        })
        .map(|(_, e)| e)
        .collect();
    evidence.sort_by(|a, b| b.weight.cmp(&a.weight).then(a.source.cmp(&b.source)));
    evidence.truncate(MAX_EVIDENCE);
    SiteProfile {
        site: site.to_owned(),
        category,
        confidence: Confidence::of_score(total),
        evidence,
    }
}

/// The known domain or its nearest listed parent (`pharmacy.cvs.com` → `cvs.com`).
fn lookup_known(site: &str, k: &SiteKnowledge) -> Option<(SiteCategory, String)> {
    let mut d = site;
    loop {
        if let Some(x) = k.known.get(d) {
            return Some(x.clone());
        }
        d = d.split_once('.')?.1;
    }
}

/// Sum over sources of the strongest weight each source gave.
fn score<'a>(items: impl Iterator<Item = &'a SiteEvidence>) -> u32 {
    let mut by_source: HashMap<EvidenceSource, u32> = HashMap::new();
    for e in items {
        let w = by_source.entry(e.source).or_default();
        *w = (*w).max(e.weight);
    }
    by_source.values().sum()
}

/// Strong lexicon matches in a text (as a page title).
fn lexicon_hits(health: &HealthMatcher, text: &str) -> Vec<crate::finding::HealthEvidence> {
    use leakscope_core::{Event, Source, Vendor};
    let ev = Event {
        page_title: Some(text.to_owned()),
        ..Event::empty(Vendor::Other, Source::new("site", 0))
    };
    health
        .match_event(&ev)
        .into_iter()
        .filter(|e| e.strength == crate::finding::Strength::Strong)
        .collect()
}

/// Registrable domain of a URL's host.
pub fn site_of_url(url: &str) -> Option<String> {
    let host = leakscope_core::engine::split_url(url)?.host;
    (!host.is_empty()).then(|| leakscope_core::party::site_of(host))
}

/// The brand part of a title: "Contact us | Harborline Crisis Line" →
/// "Harborline Crisis Line" (the last part after `|`, `–`, `—` or ` - `).
fn title_brand(title: &str) -> Option<&str> {
    let i = ["|", " – ", " — ", " - "]
        .iter()
        .filter_map(|sep| title.rfind(sep).map(|i| i + sep.len()))
        .max()?;
    let b = title.get(i..)?.trim();
    (!b.is_empty() && b.len() < title.trim().len()).then_some(b)
}

// ---------------------------------------------------------------------------
// A light HTML scan: byte search over an ASCII-lower-cased copy of a bounded
// prefix (same offsets as the original), no DOM.

/// Titles, metadata, headings and Schema.org types of a document.
pub fn scan_html(html: &str) -> PageSignals {
    let html = clip_bytes(html, MAX_HTML_BYTES);
    let lower = html.to_ascii_lowercase();
    let mut p = PageSignals::default();
    if let Some(t) = element_text(html, &lower, "title", 0) {
        p.title = Some(t.1);
    }
    // <meta …>
    let mut at = 0;
    while let Some(i) = find_from(&lower, "<meta", at) {
        let end = tag_end(&lower, i);
        let attrs = attributes(&html[i + 5..end]);
        let key = attr(&attrs, "name")
            .or_else(|| attr(&attrs, "property"))
            .map(str::to_ascii_lowercase);
        if let (Some(key), Some(content)) = (key, attr(&attrs, "content")) {
            let content = decode_entities(content);
            match key.as_str() {
                "description" | "og:description" if p.description.is_none() => {
                    p.description = Some(clip(&collapse(&content), MAX_TEXT_CHARS));
                }
                "og:site_name" | "application-name" if p.site_name.is_none() => {
                    p.site_name = Some(clip(&collapse(&content), MAX_TEXT_CHARS));
                }
                _ => {}
            }
        }
        at = end.max(i + 5);
    }
    // <h1>, <h2>
    for tag in ["h1", "h2"] {
        let mut at = 0;
        while p.headings.len() < MAX_HEADINGS {
            let Some((next, text)) = element_text(html, &lower, tag, at) else {
                break;
            };
            if !text.is_empty() {
                p.headings.push(text);
            }
            at = next;
        }
    }
    // JSON-LD
    let mut at = 0;
    while let Some(i) = find_from(&lower, "<script", at) {
        let end = tag_end(&lower, i);
        let open = &lower[i..end];
        let close = find_from(&lower, "</script", end).unwrap_or(lower.len());
        if open.contains("ld+json") {
            let body = &html[(end + 1).min(close)..close];
            if body.len() <= MAX_JSONLD_BYTES
                && let Ok(v) = serde_json::from_str::<serde_json::Value>(body.trim())
            {
                walk_jsonld(&v, 0, &mut p);
            }
        }
        at = close.max(i + 7);
    }
    // microdata: itemtype="https://schema.org/Hospital"
    let mut at = 0;
    while let Some(i) = find_from(&lower, "itemtype", at) {
        let rest = &html[i + 8..];
        let v = rest
            .trim_start()
            .strip_prefix('=')
            .map(|r| r.trim_start())
            .and_then(|r| {
                let q = r.chars().next()?;
                if q == '"' || q == '\'' {
                    r[1..].split(q).next()
                } else {
                    r.split([' ', '>']).next()
                }
            });
        if let Some(v) = v {
            for url in v.split_whitespace() {
                if let Some(t) = schema_type_of(url) {
                    push_type(&mut p, t);
                }
            }
        }
        at = i + 8;
    }
    p
}

/// `https://schema.org/Hospital` or `Hospital` → `Hospital`.
fn schema_type_of(s: &str) -> Option<&str> {
    let s = s.trim().trim_end_matches('/');
    let t = s.rsplit(['/', ':']).next().unwrap_or(s);
    (!t.is_empty() && t.len() <= 64 && t.bytes().all(|b| b.is_ascii_alphanumeric())).then_some(t)
}

fn push_type(p: &mut PageSignals, t: &str) {
    if p.schema_types.len() < 32 && !p.schema_types.iter().any(|x| x == t) {
        p.schema_types.push(t.to_owned());
    }
}

fn walk_jsonld(v: &serde_json::Value, depth: usize, p: &mut PageSignals) {
    use serde_json::Value;
    if depth > 8 {
        return;
    }
    match v {
        Value::Array(a) => {
            for x in a.iter().take(64) {
                walk_jsonld(x, depth + 1, p);
            }
        }
        Value::Object(o) => {
            let mut types = Vec::new();
            match o.get("@type") {
                Some(Value::String(s)) => types.push(s.as_str()),
                Some(Value::Array(a)) => types.extend(a.iter().filter_map(Value::as_str)),
                _ => {}
            }
            let mut health_org = false;
            for t in types {
                if let Some(t) = schema_type_of(t) {
                    health_org |= SCHEMA_TYPES.iter().any(|(ty, _, _)| *ty == t);
                    health_org |= matches!(t, "Organization" | "NGO" | "LocalBusiness");
                    push_type(p, t);
                }
            }
            if health_org
                && depth <= 2
                && let Some(Value::String(n)) = o.get("name")
                && p.org_names.len() < 8
            {
                p.org_names.push(clip(&collapse(n), MAX_TEXT_CHARS));
            }
            for (k, x) in o.iter().take(128) {
                if matches!(x, Value::Array(_) | Value::Object(_)) && k != "@context" {
                    walk_jsonld(x, depth + 1, p);
                }
            }
        }
        _ => {}
    }
}

/// The text of the next `<tag …>…</tag>` from `at`: (offset after it, text
/// without inner tags, entities decoded, whitespace collapsed).
fn element_text(html: &str, lower: &str, tag: &str, at: usize) -> Option<(usize, String)> {
    let open = format!("<{tag}");
    let close = format!("</{tag}");
    let mut from = at;
    loop {
        let i = find_from(lower, &open, from)?;
        // `<h1>` or `<h1 class…>`, not `<h10>` or `<header>`.
        let after = lower.as_bytes().get(i + open.len()).copied();
        if !matches!(after, Some(b'>' | b' ' | b'\t' | b'\n' | b'\r' | b'/')) {
            from = i + open.len();
            continue;
        }
        let start = tag_end(lower, i) + 1;
        let end = find_from(lower, &close, start.min(lower.len())).unwrap_or(lower.len());
        let inner = html.get(start.min(end)..end).unwrap_or("");
        let inner = clip_bytes(inner, 8 * 1024);
        let text = clip(
            &collapse(&decode_entities(&strip_tags(inner))),
            MAX_TEXT_CHARS,
        );
        return Some((end.max(i + 1), text));
    }
}

/// Index of the `>` closing the tag opened at `i` (or the end).
fn tag_end(lower: &str, i: usize) -> usize {
    let b = lower.as_bytes();
    let mut q: Option<u8> = None;
    let mut j = i;
    while j < b.len() {
        match (q, b[j]) {
            (None, b'"' | b'\'') => q = Some(b[j]),
            (Some(c), x) if x == c => q = None,
            (None, b'>') => return j,
            _ => {}
        }
        j += 1;
        if j - i > 16 * 1024 {
            break;
        }
    }
    // Unclosed or absurdly long: end at the next '>' if any.
    lower[i..]
        .find('>')
        .map_or(lower.len().saturating_sub(1), |k| i + k)
}

fn find_from(hay: &str, needle: &str, from: usize) -> Option<usize> {
    hay.get(from..)?.find(needle).map(|i| i + from)
}

/// `name="value"` pairs of a tag's attribute text, names lower-cased.
fn attributes(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() && out.len() < 32 {
        while i < b.len() && !b[i].is_ascii_alphabetic() {
            if b[i] == b'>' {
                return out;
            }
            i += 1;
        }
        let ns = i;
        while i < b.len() && (b[i].is_ascii_alphanumeric() || matches!(b[i], b'-' | b':' | b'_')) {
            i += 1;
        }
        let name = s[ns..i].to_ascii_lowercase();
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i < b.len() && b[i] == b'=' {
            i += 1;
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
            if i < b.len() && (b[i] == b'"' || b[i] == b'\'') {
                let q = b[i];
                let vs = i + 1;
                let ve = s[vs..]
                    .bytes()
                    .position(|x| x == q)
                    .map_or(s.len(), |k| vs + k);
                out.push((name, s[vs..ve].to_owned()));
                i = (ve + 1).min(b.len());
            } else {
                let vs = i;
                while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'>' {
                    i += 1;
                }
                out.push((name, s[vs..i].to_owned()));
            }
        } else if !name.is_empty() {
            out.push((name, String::new()));
        } else {
            i += 1;
        }
    }
    out
}

fn attr<'a>(attrs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    attrs
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

fn strip_tags(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_tag = false;
    for ch in s.chars() {
        match ch {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(ch),
            _ => {}
        }
    }
    out
}

fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let semi = rest.get(1..12).and_then(|r| r.find(';')).map(|k| k + 1);
        let decoded = semi.and_then(|k| {
            let name = &rest[1..k];
            let ch = match name {
                "amp" => '&',
                "lt" => '<',
                "gt" => '>',
                "quot" => '"',
                "apos" => '\'',
                "nbsp" => ' ',
                "ndash" => '–',
                "mdash" => '—',
                _ => {
                    let n = name.strip_prefix('#')?;
                    let code = match n.strip_prefix(['x', 'X']) {
                        Some(h) => u32::from_str_radix(h, 16).ok()?,
                        None => n.parse().ok()?,
                    };
                    char::from_u32(code)?
                }
            };
            Some((ch, k + 1))
        });
        match decoded {
            Some((ch, len)) => {
                out.push(ch);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn clip(s: &str, n: usize) -> String {
    let mut out: String = s.chars().take(n).collect();
    if s.chars().count() > n {
        out.push('…');
    }
    out
}

fn clip_bytes(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut i = max;
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    &s[..i]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile_of(docs: &[(&str, &str)], titles: &[(&str, &str)]) -> Vec<SiteProfile> {
        let mut c = SiteCollector::new();
        for (u, h) in docs {
            c.document(u, h);
        }
        for (u, t) in titles {
            c.page_title(u, t);
        }
        c.profiles(&SiteKnowledge::builtin(), &HealthMatcher::builtin())
    }

    #[test]
    fn html_scan_reads_title_meta_headings_and_schema() {
        let html = r#"<!doctype html><html><head>
            <TITLE>Contact us | Harborline Crisis Line</TITLE>
            <meta name="description" content="Call, text or chat 988 &amp; talk to a counselor">
            <meta property='og:site_name' content='Harborline Crisis Line'>
            <script type="application/ld+json">{"@context":"https://schema.org","@graph":[
              {"@type":["MedicalOrganization","NGO"],"name":"Harborline Crisis Line"}]}</script>
            </head><body><header>x</header><h1 class="t">Contact <b>us</b></h1>
            <div itemscope itemtype="https://schema.org/MedicalClinic">…</div><h2>Get help now</h2></body></html>"#;
        let p = scan_html(html);
        assert_eq!(
            p.title.as_deref(),
            Some("Contact us | Harborline Crisis Line")
        );
        assert_eq!(
            p.description.as_deref(),
            Some("Call, text or chat 988 & talk to a counselor")
        );
        assert_eq!(p.site_name.as_deref(), Some("Harborline Crisis Line"));
        assert_eq!(p.headings, ["Contact us", "Get help now"]);
        assert!(p.schema_types.contains(&"MedicalOrganization".to_owned()));
        assert!(p.schema_types.contains(&"MedicalClinic".to_owned()));
        assert_eq!(p.org_names, ["Harborline Crisis Line"]);
    }

    #[test]
    fn crisis_line_from_its_own_pages() {
        let html = r#"<title>Contact us | Harborline Crisis Line</title>
            <meta name="description" content="24/7 suicide prevention and crisis line: call or text 988.">"#;
        let p = profile_of(&[("https://www.harborline.example/contact", html)], &[]);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].site, "harborline.example");
        assert_eq!(p[0].category, SiteCategory::CrisisMentalHealth);
        assert_eq!(p[0].confidence, Confidence::High);
        assert!(p[0].summary().contains("crisis line"), "{}", p[0].summary());
    }

    #[test]
    fn hospital_from_schema_org() {
        let html = r#"<script type="application/ld+json">{"@type":"Hospital","name":"Lakeshore Health"}</script>"#;
        let p = profile_of(&[("https://lakeshore.example/", html)], &[]);
        assert_eq!(p[0].category, SiteCategory::Hospital);
        assert_eq!(p[0].confidence, Confidence::High);
        assert_eq!(p[0].evidence[0].source, EvidenceSource::SchemaOrg);
    }

    #[test]
    fn known_domain_and_override() {
        let p = profile_of(&[], &[("https://www.gatewayrehab.org/", "Home")]);
        assert_eq!(p[0].category, SiteCategory::AddictionTreatment);
        assert_eq!(p[0].confidence, Confidence::High);
        let mut k = SiteKnowledge::builtin();
        assert!(k.len() > 20);
        let (d, c) = SiteKnowledge::parse_override("https://www.shop.example/x=fertility").unwrap();
        assert_eq!((d.as_str(), c), ("shop.example", SiteCategory::Fertility));
        k.set_override(&d, c);
        let mut col = SiteCollector::new();
        col.site("https://shop.example/");
        let p = col.profiles(&k, &HealthMatcher::builtin());
        assert_eq!(p[0].category, SiteCategory::Fertility);
        assert_eq!(p[0].evidence[0].source, EvidenceSource::Override);
        assert!(SiteKnowledge::parse_override("x.example=spa").is_err());
        assert!(SiteKnowledge::parse_override("hospital").is_err());
    }

    #[test]
    fn reading_about_health_is_not_being_a_clinic() {
        // A news site with two articles on depression: lexicon only, low.
        let p = profile_of(
            &[],
            &[
                (
                    "https://news.example/a",
                    "Living with depression | Daily News",
                ),
                (
                    "https://news.example/b",
                    "Anxiety and depression rise | Daily News",
                ),
            ],
        );
        assert!(!p[0].is_sensitive(), "{:?}", p[0]);
        let p = profile_of(
            &[],
            &[("https://shop.example/", "Cold brew coffee | Kestrel")],
        );
        assert_eq!(p[0].category, SiteCategory::NonHealth);
    }

    #[test]
    fn title_brand_is_the_last_part() {
        assert_eq!(title_brand("Contact | A | B Clinic"), Some("B Clinic"));
        assert_eq!(title_brand("Home – Ivy Fertility"), Some("Ivy Fertility"));
        assert_eq!(title_brand("No brand"), None);
    }

    #[test]
    fn hostile_html_is_fine() {
        for h in [
            "<title>",
            "<title>x",
            "<meta name=\"description\" content=\"unterminated",
            "<h1",
            "<script type=application/ld+json>{\"@type\":",
            "itemtype=",
            "itemtype=\"",
            "&#xFFFFFFFF; &#99999999999; &",
            "<h1>é&amp</h1><h2>\u{0}</h2>",
        ] {
            let _ = scan_html(h);
        }
    }

    proptest::proptest! {
        #[test]
        fn scan_never_panics(s in "(<[a-zA-Z0-9 =\"'/:.&;#>-]{0,40}|[^<]{0,20}){0,30}") {
            let _ = scan_html(&s);
            let mut c = SiteCollector::new();
            c.document("https://x.example/", &s);
            c.page_title("https://x.example/", &s);
        }

        #[test]
        fn scan_never_panics_on_bytes(b in proptest::collection::vec(proptest::num::u8::ANY, 0..400)) {
            let s = String::from_utf8_lossy(&b);
            let _ = scan_html(&s);
        }
    }
}
