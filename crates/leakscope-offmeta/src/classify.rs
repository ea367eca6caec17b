//! Who a business in the export is: health (and which kind), sensitive in
//! another way (finance, dating, religion, children), or ordinary. From its
//! name: the curated lists in `data/offmeta/` (real brands and chains, each
//! with a source), then words that name a kind of care.

use std::collections::HashMap;

use serde::Serialize;

const HEALTH_TSV: &str = include_str!("../../../data/offmeta/health-brands.tsv");
const SENSITIVE_TSV: &str = include_str!("../../../data/offmeta/sensitive-brands.tsv");

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Class {
    Health,
    Sensitive,
    Ordinary,
}

impl Class {
    pub fn as_str(self) -> &'static str {
        match self {
            Class::Health => "health",
            Class::Sensitive => "sensitive",
            Class::Ordinary => "ordinary",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    High,
    Medium,
}

/// A business's class, with the reason in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Classified {
    pub class: Class,
    /// `pharmacy`, `telehealth`… for health; `finance`, `dating`,
    /// `religion`, `children` for sensitive.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confidence: Option<Confidence>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub why: String,
}

/// Words that name a kind of care, per category, whole words or phrases.
/// "health" alone is not one: Health-Ade, Men's Health.
const HEALTH_WORDS: &[(&str, &[&str])] = &[
    (
        "pharmacy",
        &[
            "pharmacy",
            "pharmacies",
            "drugstore",
            "drug store",
            "drugs",
            "drug mart",
            "apothecary",
            "chemist",
            "chemists",
            "rx",
            "medicine shoppe",
        ],
    ),
    (
        "hospital",
        &[
            "hospital",
            "hospitals",
            "medical center",
            "medical centre",
            "health system",
            "healthcare system",
            "health care system",
            "infirmary",
            "children's hospital",
        ],
    ),
    (
        "clinic",
        &[
            "clinic",
            "clinics",
            "urgent care",
            "medical group",
            "physicians",
            "dental",
            "dentistry",
            "dentist",
            "dentists",
            "orthodontics",
            "orthodontist",
            "dermatology",
            "orthopedic",
            "orthopedics",
            "orthopaedic",
            "orthopaedics",
            "rehabilitation",
            "pediatrics",
            "pediatric",
            "paediatric",
            "cardiology",
            "oncology",
            "cancer center",
            "cancer centre",
            "optometry",
            "ophthalmology",
            "chiropractic",
            "physical therapy",
            "physiotherapy",
            "podiatry",
            "surgery center",
            "surgical",
            "health center",
            "health centre",
            "medical",
            "healthcare",
            "health care",
            "primary care",
            "family medicine",
            "internal medicine",
            "gastroenterology",
            "urology",
            "neurology",
            "radiology",
            "imaging center",
            "audiology",
            "hearing aids",
        ],
    ),
    (
        "telehealth",
        &[
            "telehealth",
            "telemedicine",
            "virtual care",
            "online doctor",
        ],
    ),
    (
        "insurer",
        &[
            "health insurance",
            "health plan",
            "health plans",
            "blue cross",
            "blue shield",
            "medicare",
            "medicaid",
            "dental insurance",
        ],
    ),
    (
        "lab_testing",
        &[
            "diagnostics",
            "laboratory",
            "laboratories",
            "lab testing",
            "blood test",
            "blood tests",
            "dna test",
            "pathology",
        ],
    ),
    (
        "crisis_mental_health",
        &[
            "mental health",
            "behavioral health",
            "behavioural health",
            "psychiatry",
            "psychiatric",
            "psychiatrist",
            "counseling",
            "counselling",
            "psychotherapy",
            "psychologist",
            "psychology practice",
            "suicide",
            "crisis line",
            "crisis text",
            "lifeline",
            "eating disorder",
        ],
    ),
    (
        "reproductive_health",
        &[
            "planned parenthood",
            "abortion",
            "women's health",
            "womens health",
            "obgyn",
            "ob-gyn",
            "ob/gyn",
            "gynecology",
            "gynaecology",
            "birth control",
            "contraception",
            "midwife",
            "midwifery",
            "pregnancy center",
            "period tracker",
        ],
    ),
    (
        "addiction_treatment",
        &[
            "addiction",
            "rehab",
            "detox",
            "treatment centers",
            "recovery",
            "sober living",
            "substance abuse",
            "substance use",
            "recovery center",
            "recovery centers",
            "treatment center",
            "alcoholics anonymous",
        ],
    ),
    (
        "hiv_sexual_health",
        &[
            "hiv",
            "prep clinic",
            "sexual health",
            "std testing",
            "sti testing",
            "std test",
        ],
    ),
    (
        "fertility",
        &[
            "fertility",
            "ivf",
            "reproductive medicine",
            "egg freezing",
            "surrogacy",
        ],
    ),
    (
        "disability_eldercare",
        &[
            "home care",
            "home health",
            "senior care",
            "hospice",
            "nursing home",
            "assisted living",
            "memory care",
            "elder care",
            "eldercare",
            "senior living",
        ],
    ),
];

const SENSITIVE_WORDS: &[(&str, &[&str])] = &[
    (
        "finance",
        &[
            "payday",
            "cash advance",
            "title loan",
            "title loans",
            "debt relief",
            "credit repair",
            "bankruptcy",
            "pawn",
        ],
    ),
    ("dating", &["dating", "singles", "hookup", "matchmaking"]),
    (
        "religion",
        &[
            "church",
            "ministries",
            "ministry",
            "bible",
            "prayer",
            "mosque",
            "synagogue",
            "parish",
            "diocese",
            "catholic",
            "baptist",
            "evangelical",
            "quran",
            "islamic",
            "jewish",
            "gospel",
        ],
    ),
];

/// A class with its category, confidence and reason.
fn found(class: Class, category: &str, confidence: Confidence, why: String) -> Classified {
    Classified {
        class,
        category: Some(category.to_owned()),
        confidence: Some(confidence),
        why,
    }
}

/// Lower case, letters and digits, `&` as "and", one space between words;
/// accents kept (names are matched as written).
pub fn normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut space = true;
    for c in name.chars().flat_map(char::to_lowercase) {
        let c = match c {
            '&' => {
                if !space {
                    out.push(' ');
                }
                out.push_str("and ");
                space = true;
                continue;
            }
            '\'' | '’' | '®' | '™' | '.' => continue,
            c if c.is_alphanumeric() => c,
            _ => ' ',
        };
        if c == ' ' {
            if !space {
                out.push(' ');
                space = true;
            }
        } else {
            out.push(c);
            space = false;
        }
    }
    let t = out.trim_end().to_owned();
    // Company-form suffixes say nothing about who they are.
    for suffix in [
        " inc",
        " llc",
        " ltd",
        " co",
        " corp",
        " corporation",
        " plc",
        " gmbh",
    ] {
        if let Some(s) = t.strip_suffix(suffix) {
            return s.to_owned();
        }
    }
    t
}

/// Does `phrase` (normalized) occur in `name` (normalized) as whole words?
fn has_phrase(name: &str, phrase: &str) -> bool {
    let phrase = normalize(phrase);
    let padded = format!(" {name} ");
    padded.contains(&format!(" {phrase} "))
}

/// The curated lists and the word rules, compiled once.
#[derive(Debug, Clone)]
pub struct Classifier {
    /// normalized name → (class, category, display name)
    brands: HashMap<String, (Class, String, String)>,
    /// web domain (`cvs.com`) → the same: the export names some businesses
    /// by their site.
    domains: HashMap<String, (Class, String, String)>,
}

type Brands = HashMap<String, (Class, String, String)>;

fn load(tsv: &str, class: Class, names: &mut Brands, domains: &mut Brands) {
    for line in tsv.lines().skip(1) {
        let mut cols = line.split('\t');
        let (Some(name), Some(cat)) = (cols.next(), cols.next()) else {
            continue;
        };
        let v = (class, cat.trim().to_owned(), name.trim().to_owned());
        for d in cols.next().unwrap_or("").split(',') {
            let d = d.trim().to_ascii_lowercase();
            if !d.is_empty() {
                domains.entry(d).or_insert_with(|| v.clone());
            }
        }
        let n = normalize(name);
        if !n.is_empty() {
            names.entry(n).or_insert(v);
        }
    }
}

impl Default for Classifier {
    fn default() -> Self {
        Classifier::builtin()
    }
}

impl Classifier {
    pub fn builtin() -> Classifier {
        let (mut brands, mut domains) = (HashMap::new(), HashMap::new());
        load(HEALTH_TSV, Class::Health, &mut brands, &mut domains);
        load(SENSITIVE_TSV, Class::Sensitive, &mut brands, &mut domains);
        Classifier { brands, domains }
    }

    /// Curated brands known.
    pub fn brands(&self) -> usize {
        self.brands.len()
    }

    pub fn classify(&self, name: &str) -> Classified {
        let t = name.trim().to_ascii_lowercase();
        if !t.contains(' ') && t.contains('.') {
            let host = t
                .trim_start_matches("https://")
                .trim_start_matches("http://")
                .split('/')
                .next()
                .unwrap_or("");
            let host = host.strip_prefix("www.").unwrap_or(host);
            let site = leakscope_core::party::site_of(host);
            if let Some((class, cat, shown)) =
                self.domains.get(host).or_else(|| self.domains.get(&site))
            {
                return found(
                    *class,
                    cat,
                    Confidence::High,
                    format!(
                        "{host} is the site of {shown:?}, in leakscope's list of {} businesses",
                        cat.replace('_', " ")
                    ),
                );
            }
        }
        let n = normalize(name);
        if let Some((class, cat, shown)) = self.brands.get(&n) {
            return found(
                *class,
                cat,
                Confidence::High,
                format!(
                    "{shown:?} is in leakscope's list of {} businesses",
                    cat.replace('_', " ")
                ),
            );
        }
        for (cat, phrases) in HEALTH_WORDS {
            if let Some(p) = phrases.iter().find(|p| has_phrase(&n, p)) {
                return found(
                    Class::Health,
                    cat,
                    Confidence::Medium,
                    format!("the name contains {p:?}"),
                );
            }
        }
        // "X Health", "X Health System", "X Children's Health": a care
        // provider's name. "Health" first or alone is not (Health-Ade, a
        // magazine's "Men's Health").
        let toks: Vec<&str> = n.split(' ').collect();
        if toks.len() >= 2
            && toks[1..].contains(&"health")
            && ![
                "men s", "mens", "women s", "womens", "fitness", "pet", "pets", "animal",
            ]
            .iter()
            .any(|w| n.starts_with(w))
        {
            return found(
                Class::Health,
                if n.contains("therapy") || n.contains("mind") {
                    "crisis_mental_health"
                } else {
                    "clinic"
                },
                Confidence::Medium,
                "a provider's name: \"Health\" after the name".into(),
            );
        }
        if toks.len() >= 2 && toks.last() == Some(&"therapy") {
            return found(
                Class::Health,
                "crisis_mental_health",
                Confidence::Medium,
                "the name ends in \"Therapy\"".into(),
            );
        }
        // "Walgreens - Find a Store": a listed brand followed by more words
        // (after the care words, so "Hinge Health" is not the dating app).
        // Short brands ("Ro", "Done") only exactly.
        for k in (1..toks.len()).rev() {
            let head = toks[..k].join(" ");
            if head.len() < 5 {
                break;
            }
            if let Some((class, cat, shown)) = self.brands.get(&head) {
                return found(
                    *class,
                    cat,
                    Confidence::Medium,
                    format!(
                        "the name begins with {shown:?}, in leakscope's list of {} businesses",
                        cat.replace('_', " ")
                    ),
                );
            }
        }
        for (cat, phrases) in SENSITIVE_WORDS {
            if let Some(p) = phrases.iter().find(|p| has_phrase(&n, p)) {
                return found(
                    Class::Sensitive,
                    cat,
                    Confidence::Medium,
                    format!("the name contains {p:?}"),
                );
            }
        }
        Classified {
            class: Class::Ordinary,
            category: None,
            confidence: None,
            why: String::new(),
        }
    }
}

/// What an event type tells about the person, in words.
pub fn reveals(event: &str) -> &'static str {
    match event.to_ascii_uppercase().as_str() {
        "PURCHASE" => "a purchase",
        "ADD_TO_CART" => "something added to a cart",
        "INITIATE_CHECKOUT" => "a checkout started",
        "ADD_PAYMENT_INFO" => "payment details entered",
        "SEARCH" => "a search",
        "LEAD" => "a form sent (contact, enquiry, sign-up)",
        "SCHEDULE" => "an appointment booked",
        "CONTACT" => "a contact (call, message, chat)",
        "COMPLETE_REGISTRATION" => "an account or registration",
        "SUBMIT_APPLICATION" => "an application submitted",
        "START_TRIAL" | "SUBSCRIBE" => "a subscription or trial",
        "VIEW_CONTENT" => "a product or page looked at",
        "PAGE_VIEW" | "PAGEVIEW" => "a page visited",
        "ACTIVATE_APP" | "APP_OPEN" => "the app opened",
        "ADD_TO_WISHLIST" => "something saved for later",
        "FIND_LOCATION" => "a location looked up",
        "CUSTOMIZE_PRODUCT" => "a product customised",
        "CUSTOM" => "an event of the business's own naming",
        _ => "an event",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_and_words() {
        let c = Classifier::builtin();
        assert!(c.brands() > 400);
        let got = c.classify("CVS Pharmacy");
        assert_eq!(
            (got.class, got.category.as_deref()),
            (Class::Health, Some("pharmacy"))
        );
        assert_eq!(got.confidence, Some(Confidence::High));
        assert_eq!(
            c.classify("Contoso Clinic").category.as_deref(),
            Some("clinic")
        );
        assert_eq!(c.classify("Tinder").class, Class::Sensitive);
        assert_eq!(c.classify("Bath & Body Works").class, Class::Ordinary);
        assert_eq!(c.classify("Retail Therapy Outlet").class, Class::Ordinary);
        assert_eq!(c.classify("Health-Ade Kombucha").class, Class::Ordinary);
        assert_eq!(normalize("Walgreens, Inc."), "walgreens");
    }
}
