//! What the detectors report: health evidence, identity evidence, and the
//! finding they add up to. Plain data, serialised into every output.

use std::fmt;

use leakscope_core::{CanaryHit, HashAlgo, Source, Vendor};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A finding id: `LS-` and the first 8 bytes of a SHA-256, in hex.
pub(crate) fn id_of_digest(h: Sha256) -> String {
    let hex: String = h
        .finalize()
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("LS-{hex}")
}

/// A finding id over `parts`, each followed by a 0 byte (so `a`,`bc` and
/// `ab`,`c` differ).
pub(crate) fn id_of_parts<'a>(parts: impl IntoIterator<Item = &'a str>) -> String {
    let mut h = Sha256::new();
    for part in parts {
        h.update(part.as_bytes());
        h.update([0]);
    }
    id_of_digest(h)
}

/// Finding severity, most severe first. Ordering: `Critical > High > ... > Info`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
            Severity::Info => "info",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        Severity::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// One level up, saturating at critical.
    pub fn raise(self) -> Severity {
        match self {
            Severity::Info => Severity::Low,
            Severity::Low => Severity::Medium,
            Severity::Medium => Severity::High,
            Severity::High | Severity::Critical => Severity::Critical,
        }
    }

    /// One level down, saturating at info.
    pub fn lower(self) -> Severity {
        match self {
            Severity::Critical => Severity::High,
            Severity::High => Severity::Medium,
            Severity::Medium => Severity::Low,
            Severity::Low | Severity::Info => Severity::Info,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Sensitivity tier of a health category (health-and-law.md §3.1): S1 special
/// categories, S2 clinical, S3 care relationship, S4 general wellness.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Tier {
    S4,
    S3,
    S2,
    S1,
}

/// Health-content categories (health-and-law.md §3.1). Serialised names are
/// the taxonomy ids and are part of the output contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum HealthCategory {
    #[serde(rename = "repro.abortion")]
    ReproAbortion,
    #[serde(rename = "repro.contraception")]
    ReproContraception,
    #[serde(rename = "repro.pregnancy")]
    ReproPregnancy,
    #[serde(rename = "repro.fertility")]
    ReproFertility,
    #[serde(rename = "sexual.sti_hiv")]
    SexualStiHiv,
    #[serde(rename = "sexual.health")]
    SexualHealth,
    #[serde(rename = "lgbtq.identity")]
    LgbtqIdentity,
    #[serde(rename = "gender.affirming")]
    GenderAffirming,
    #[serde(rename = "mental.health")]
    MentalHealth,
    #[serde(rename = "substance.use")]
    SubstanceUse,
    #[serde(rename = "genetic")]
    Genetic,
    #[serde(rename = "condition.diagnosis")]
    ConditionDiagnosis,
    #[serde(rename = "medication.rx")]
    MedicationRx,
    #[serde(rename = "medication.otc_health")]
    MedicationOtcHealth,
    #[serde(rename = "procedure")]
    Procedure,
    #[serde(rename = "test.lab")]
    TestLab,
    #[serde(rename = "disability")]
    Disability,
    #[serde(rename = "vaccination")]
    Vaccination,
    #[serde(rename = "provider.specialty")]
    ProviderSpecialty,
    #[serde(rename = "care.appointment")]
    CareAppointment,
    #[serde(rename = "pharmacy.action")]
    PharmacyAction,
    #[serde(rename = "insurance.billing")]
    InsuranceBilling,
    #[serde(rename = "portal.session")]
    PortalSession,
    #[serde(rename = "wellness.general")]
    WellnessGeneral,
}

impl HealthCategory {
    pub const ALL: [HealthCategory; 24] = [
        HealthCategory::ReproAbortion,
        HealthCategory::ReproContraception,
        HealthCategory::ReproPregnancy,
        HealthCategory::ReproFertility,
        HealthCategory::SexualStiHiv,
        HealthCategory::SexualHealth,
        HealthCategory::LgbtqIdentity,
        HealthCategory::GenderAffirming,
        HealthCategory::MentalHealth,
        HealthCategory::SubstanceUse,
        HealthCategory::Genetic,
        HealthCategory::ConditionDiagnosis,
        HealthCategory::MedicationRx,
        HealthCategory::MedicationOtcHealth,
        HealthCategory::Procedure,
        HealthCategory::TestLab,
        HealthCategory::Disability,
        HealthCategory::Vaccination,
        HealthCategory::ProviderSpecialty,
        HealthCategory::CareAppointment,
        HealthCategory::PharmacyAction,
        HealthCategory::InsuranceBilling,
        HealthCategory::PortalSession,
        HealthCategory::WellnessGeneral,
    ];

    /// The taxonomy id, e.g. `repro.contraception`.
    pub fn as_str(self) -> &'static str {
        match self {
            HealthCategory::ReproAbortion => "repro.abortion",
            HealthCategory::ReproContraception => "repro.contraception",
            HealthCategory::ReproPregnancy => "repro.pregnancy",
            HealthCategory::ReproFertility => "repro.fertility",
            HealthCategory::SexualStiHiv => "sexual.sti_hiv",
            HealthCategory::SexualHealth => "sexual.health",
            HealthCategory::LgbtqIdentity => "lgbtq.identity",
            HealthCategory::GenderAffirming => "gender.affirming",
            HealthCategory::MentalHealth => "mental.health",
            HealthCategory::SubstanceUse => "substance.use",
            HealthCategory::Genetic => "genetic",
            HealthCategory::ConditionDiagnosis => "condition.diagnosis",
            HealthCategory::MedicationRx => "medication.rx",
            HealthCategory::MedicationOtcHealth => "medication.otc_health",
            HealthCategory::Procedure => "procedure",
            HealthCategory::TestLab => "test.lab",
            HealthCategory::Disability => "disability",
            HealthCategory::Vaccination => "vaccination",
            HealthCategory::ProviderSpecialty => "provider.specialty",
            HealthCategory::CareAppointment => "care.appointment",
            HealthCategory::PharmacyAction => "pharmacy.action",
            HealthCategory::InsuranceBilling => "insurance.billing",
            HealthCategory::PortalSession => "portal.session",
            HealthCategory::WellnessGeneral => "wellness.general",
        }
    }

    pub fn parse(s: &str) -> Option<HealthCategory> {
        HealthCategory::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// Base sensitivity (health-and-law.md §3.1).
    pub fn tier(self) -> Tier {
        use HealthCategory::*;
        match self {
            ReproAbortion | ReproContraception | ReproPregnancy | ReproFertility | SexualStiHiv
            | SexualHealth | LgbtqIdentity | GenderAffirming | MentalHealth | SubstanceUse
            | Genetic => Tier::S1,
            ConditionDiagnosis | MedicationRx | MedicationOtcHealth | Procedure | TestLab
            | Disability => Tier::S2,
            Vaccination | ProviderSpecialty | CareAppointment | PharmacyAction
            | InsuranceBilling | PortalSession => Tier::S3,
            WellnessGeneral => Tier::S4,
        }
    }

    /// Plain-language name for explanations.
    pub fn describe(self) -> &'static str {
        use HealthCategory::*;
        match self {
            ReproAbortion => "abortion care",
            ReproContraception => "contraception",
            ReproPregnancy => "pregnancy",
            ReproFertility => "fertility",
            SexualStiHiv => "HIV or a sexually transmitted infection",
            SexualHealth => "sexual health",
            LgbtqIdentity => "sexual orientation or gender identity",
            GenderAffirming => "gender-affirming care",
            MentalHealth => "mental health",
            SubstanceUse => "substance use treatment",
            Genetic => "genetic testing",
            ConditionDiagnosis => "a medical condition",
            MedicationRx => "a prescription medication",
            MedicationOtcHealth => "a health-revealing product",
            Procedure => "a medical procedure",
            TestLab => "a medical test",
            Disability => "a disability",
            Vaccination => "a vaccination",
            ProviderSpecialty => "a medical specialty or provider",
            CareAppointment => "booking medical care",
            PharmacyAction => "a pharmacy transaction",
            InsuranceBilling => "health insurance or billing",
            PortalSession => "a patient-portal session",
            WellnessGeneral => "general health and wellness",
        }
    }
}

/// How much a lexicon match counts on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strength {
    /// An ordinary word that is also a health term (coffee, cancer the star sign,
    /// depression the economic kind): counts only with a second signal.
    Weak,
    Strong,
}

/// One piece of health content found in an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthEvidence {
    pub category: HealthCategory,
    /// The lexicon term (normalised form).
    pub term: String,
    /// Where it was found: `page_url.path`, `page_url.query.q`, `page_title`,
    /// `ui.button_text`, `custom_data.search_string`, `event`...
    pub field: String,
    /// The text as found in that field (after URL-decoding), clipped.
    pub matched: String,
    pub strength: Strength,
    /// For weak terms and codes: the second signals that made them count.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub signals: Vec<String>,
}

/// Identifier classes (health-and-law.md §3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdClass {
    /// Email, phone, name, date of birth, address, external id: plain.
    Direct,
    /// A hash of a direct identifier (not anonymous: FTC).
    Hashed,
    /// A platform cookie or click id (`c_user`, `_fbp`, `_fbc`, `_ga`...).
    Platform,
    /// Mobile advertising or device id.
    Device,
    /// IP address or user agent (weak alone).
    Network,
}

/// One identifier found in an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityEvidence {
    /// `email`, `phone`, `first_name`, `last_name`, `name`, `date_of_birth`,
    /// `city`, `state`, `zip`, `country`, `gender`, `external_id`, `c_user`,
    /// `fbp`, `fbc`, `fbclid`, `ga_client_id`, `ttp`, `li_fat_id`,
    /// `ip_address`, `user_agent`, `device_id`...
    pub kind: String,
    pub class: IdClass,
    pub field: String,
    pub hashed: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub algorithm: Option<HashAlgo>,
    /// False for values that identify no one: hashes of empty strings or
    /// placeholders. Such identifiers are listed, with a note, but not counted.
    pub counts: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl IdentityEvidence {
    /// The kind, marked when it was sent hashed: `email (hashed)`.
    pub fn label(&self) -> String {
        if self.hashed {
            format!("{} (hashed)", self.kind)
        } else {
            self.kind.clone()
        }
    }

    /// Strong identifiers tie an event to a person on their own.
    pub fn is_strong(&self) -> bool {
        self.counts && self.class != IdClass::Network
    }
}

/// A legal framework a finding touches (as risk, not legal advice).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Framework {
    /// `hipaa`, `ftc_hbnr`, `cipa_ecpa`, `wa_mhmda`, `gdpr_art9`.
    pub id: String,
    pub name: String,
    pub why: String,
}

/// What the context adds to a verdict.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Context {
    /// The page is behind a login (portal, account, logged-in pharmacy).
    pub authenticated: bool,
    /// The event is a care-seeking action (book, refill, intake, search, checkout of a health item).
    pub care_action: bool,
    /// The health signal sits in a custom event name or custom parameter (deliberate configuration).
    pub custom_configured: bool,
    /// The page is informational only (careers, parking, visiting hours, news).
    pub informational: bool,
    /// Consent state when known: `none`, `rejected`, `accepted`, `gpc`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consent: Option<String>,
    /// Sent server to server (CAPI, Events API): invisible to the user and to blockers.
    pub server_side: bool,
}

/// What a severity modifier did to the base rule's severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    Raised,
    Lowered,
    /// It applied, but the severity was already at the top (or bottom).
    Unchanged,
}

/// A severity modifier that applied to a finding (`verdict.rs`), kept apart
/// from the base rule so the rule id never names a severity the finding does
/// not have.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Modifier {
    /// `server_side`, `after_refusal`, `custom_configured`, `informational_page`.
    pub id: String,
    pub effect: Effect,
    /// Why it applied, in plain words.
    pub why: String,
}

/// One request that gave a finding. The same leak seen several times (two
/// views of a page, the same event in two runs) is one finding with several
/// occurrences, so counts, `diff` and baselines see it once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Occurrence {
    /// Capture file and entry of the request.
    pub source: Source,
    /// The scan step that caused the request, when it came from a scan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    /// When the request was captured, as the capture wrote it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    /// The severity this occurrence alone would have had.
    pub severity: Severity,
}

/// A finding: health information and a person's identity reaching a party
/// that is not the site.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable id: the same leak gets the same id across runs and machines.
    pub id: String,
    pub severity: Severity,
    /// The base rule that set the severity before modifiers, by what it is
    /// named for (`health_with_identity`, `consent.ignored`; see `verdict.rs`).
    /// It names no severity: `base_severity` and `modifiers` say how
    /// `severity` was reached. (Older results documents carried the whole
    /// chain here: `high.health_with_identity+custom_configured`.)
    pub rule: String,
    /// The severity the base rule gave, before modifiers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_severity: Option<Severity>,
    /// The modifiers that applied, in the order applied.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub modifiers: Vec<Modifier>,
    pub vendor: Vendor,
    pub organisation: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    pub event: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_url: Option<String>,
    pub request_url: String,
    pub method: String,
    pub source: Source,
    /// The scan step that caused the request, when it came from a scan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    pub health: Vec<HealthEvidence>,
    pub identifiers: Vec<IdentityEvidence>,
    #[serde(default)]
    pub canaries: Vec<CanaryHit>,
    pub context: Context,
    pub frameworks: Vec<Framework>,
    pub explanation: String,
    /// For `consent.ignored`: what the tracker received after the refusal
    /// and, when captured, with consent given (`consent.rs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consent_evidence: Option<crate::consent::ConsentEvidence>,
    /// Every request that gave this finding, the representative (`source`)
    /// first. `consent.ignored` findings list theirs in `consent_evidence`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub occurrences: Vec<Occurrence>,
    /// Who the site is, when it is a health site (`site.rs`): the reason for
    /// `sensitive_site_*` findings, extra evidence for the others.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<SiteContext>,
}

/// The site's profile as a finding cites it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteContext {
    /// Registrable domain.
    pub site: String,
    pub category: crate::site::SiteCategory,
    pub confidence: crate::site::Confidence,
    /// In plain words, with the strongest evidence.
    pub summary: String,
}

impl SiteContext {
    pub fn of(p: &crate::site::SiteProfile) -> SiteContext {
        SiteContext {
            site: p.site.clone(),
            category: p.category,
            confidence: p.confidence,
            summary: p.summary(),
        }
    }
}
