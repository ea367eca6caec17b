//! The person's report for `leakscope offmeta`: what their Meta export
//! shows, what to do next (clearing the history in Meta's settings,
//! letters to each health business), and what it means, as risk, not
//! advice. HTML (self-contained, nothing loads) and plain text.

use leakscope_offmeta::{BusinessReport, Report};
use minijinja::{AutoEscape, Environment, Error};
use serde::Serialize;

const TEMPLATE: &str = include_str!("../templates/offmeta.html.j2");

/// Which law the letters invoke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Jurisdiction {
    /// California: CCPA as amended by the CPRA.
    California,
    /// Washington: My Health My Data Act.
    Washington,
    /// EU/UK: GDPR Articles 15 and 17.
    Gdpr,
}

impl Jurisdiction {
    pub fn parse(s: &str) -> Option<Jurisdiction> {
        match s.to_ascii_lowercase().as_str() {
            "ccpa" | "cpra" | "california" | "ca" => Some(Jurisdiction::California),
            "mhmda" | "washington" | "wa" => Some(Jurisdiction::Washington),
            "gdpr" | "eu" | "uk" => Some(Jurisdiction::Gdpr),
            _ => None,
        }
    }

    fn law(self) -> &'static str {
        match self {
            Jurisdiction::California => {
                "the California Consumer Privacy Act, as amended by the California Privacy Rights Act (Cal. Civ. Code § 1798.100 et seq.)"
            }
            Jurisdiction::Washington => "Washington's My Health My Data Act (RCW 19.373)",
            Jurisdiction::Gdpr => "the General Data Protection Regulation (GDPR)",
        }
    }

    fn access(self) -> &'static str {
        match self {
            Jurisdiction::California => {
                "my right to know (§ 1798.110): the categories and specific pieces of personal information you collected about me, including sensitive personal information such as health information, its sources, why you collected it, and the third parties, including Meta Platforms, to whom you disclosed, sold or shared it (§ 1798.115)"
            }
            Jurisdiction::Washington => {
                "my right to confirm whether you collect, share or sell my consumer health data, and to access it, with a list of all third parties and affiliates, including Meta Platforms, with whom you shared or to whom you sold it, and their contact details (RCW 19.373.040(1)(a))"
            }
            Jurisdiction::Gdpr => {
                "my right of access under Article 15 GDPR: confirmation that you process my personal data, a copy of it, the purposes, the recipients (including Meta Platforms), how long you keep it, and its source"
            }
        }
    }

    fn deletion(self) -> &'static str {
        match self {
            Jurisdiction::California => {
                "my right to delete (§ 1798.105): delete the personal information you collected about me, and notify the service providers, contractors and third parties to whom you disclosed, sold or shared it, including Meta Platforms, to delete it too. I also opt out of the sale and sharing of my personal information (§ 1798.120) and limit the use of my sensitive personal information (§ 1798.121)"
            }
            Jurisdiction::Washington => {
                "my right to have my consumer health data deleted (RCW 19.373.040(1)(c)), including from your archives and backups, and that you notify every processor and third party with whom you shared it, including Meta Platforms, of this request. I also withdraw any consent to the collection and sharing of my consumer health data (RCW 19.373.040(1)(b))"
            }
            Jurisdiction::Gdpr => {
                "my right to erasure under Article 17 GDPR, and that you inform the recipients of my data, including Meta Platforms, of the erasure (Article 19). I also object to the processing of my data for direct marketing (Article 21(2)); health data is special-category data under Article 9"
            }
        }
    }

    fn deadline(self) -> &'static str {
        match self {
            Jurisdiction::California => "45 days (§ 1798.130)",
            Jurisdiction::Washington => "45 days (RCW 19.373.040(1)(f))",
            Jurisdiction::Gdpr => "one month (Article 12(3))",
        }
    }
}

/// A ready-to-send letter.
#[derive(Debug, Clone, Serialize)]
pub struct Letter {
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// "12 event(s) between 2024-01-02 and 2024-05-01 (3 × PURCHASE, …)".
pub fn events_line(b: &BusinessReport) -> String {
    let kinds: Vec<String> = b
        .by_type
        .iter()
        .map(|(k, n)| format!("{n} × {k}"))
        .collect();
    let when = match (&b.first, &b.last) {
        (Some(f), Some(l)) if f != l => format!(" between {f} and {l}"),
        (Some(f), _) => format!(" on {f}"),
        _ => String::new(),
    };
    format!("{} event(s){when} ({})", b.events, kinds.join(", "))
}

/// The two letters (access, deletion) for one health business.
pub fn letters(b: &BusinessReport, j: Jurisdiction, person: &str) -> [Letter; 2] {
    let person = if person.trim().is_empty() {
        "[your full name]"
    } else {
        person.trim()
    };
    let facts = format!(
        "Meta's record of my \"activity off Meta technologies\" shows that {} sent Meta Platforms {} about me.",
        b.name,
        events_line(b)
    );
    let sign = format!(
        "I can confirm my identity in whatever reasonable way you require. Please answer within {}.\n\n{person}\n[your email address or postal address]",
        j.deadline()
    );
    [
        Letter {
            to: b.name.clone(),
            subject: format!("Request to access my personal data: {person}"),
            body: format!(
                "To {}, privacy team:\n\n{facts}\n\nUnder {}, I request {}.\n\n{sign}\n",
                b.name,
                j.law(),
                j.access()
            ),
        },
        Letter {
            to: b.name.clone(),
            subject: format!("Request to delete my personal data: {person}"),
            body: format!(
                "To {}, privacy team:\n\n{facts}\n\nUnder {}, I request {}.\n\n{sign}\n",
                b.name,
                j.law(),
                j.deletion()
            ),
        },
    ]
}

/// Clearing and stopping the history, in Meta's settings (as Meta's Help
/// Centre describes the Accounts Centre flow; wording may shift).
pub const META_STEPS: [&str; 6] = [
    "Open Facebook or Instagram and go to Settings, then Accounts Centre.",
    "Choose \"Your information and permissions\", then \"Your activity off Meta technologies\".",
    "Choose \"Recent activity\" to see the businesses; for each health business, open it and choose \"Disconnect specific activity\" to remove its past activity and stop future activity from it being linked to you.",
    "Choose \"Clear previous activity\" to disconnect everything received so far.",
    "Choose \"Manage future activity\", then \"Disconnect future activity\", so new activity from every business is no longer linked to your account.",
    "Disconnecting does not make the businesses stop sending: Meta still receives the events, without linking them to you. The letters below ask the businesses themselves.",
];

/// What a health business in this list means, as risk.
pub fn legal(j: Jurisdiction) -> Vec<&'static str> {
    let mut out = vec![
        "A health business that sent Meta events about you shared, at least, that you are its customer or patient, and what you did on its site or app (a purchase, a search, a booking). With your identity attached, that is health information about you.",
        "In the United States, the FTC has treated such sharing as an unfair practice and a breach under the Health Breach Notification Rule (GoodRx, BetterHelp, Premom, 2023); hospitals and pharmacies covered by HIPAA may not disclose protected health information to advertisers without authorisation (HHS guidance on online tracking); several such cases have been settled as class actions.",
    ];
    out.push(match j {
        Jurisdiction::California => "In California, health information is sensitive personal information (CCPA/CPRA); the California Confidentiality of Medical Information Act also limits disclosure by providers and pharmacies.",
        Jurisdiction::Washington => "In Washington, the My Health My Data Act requires consent before collecting or sharing consumer health data, including data that identifies a consumer seeking health care services, and gives a private right of action.",
        Jurisdiction::Gdpr => "In the EU and UK, health data is special-category data (GDPR Article 9): sharing it for advertising needs explicit consent.",
    });
    out.push("This is a description of risk, not legal advice. A lawyer or a consumer-protection body can say what applies to you.");
    out
}

#[derive(Serialize)]
struct View<'a> {
    csp: &'static str,
    report: &'a Report,
    steps: &'static [&'static str],
    legal: Vec<&'static str>,
    letters: Vec<Letter>,
    files: String,
}

/// The page's policy: nothing loads, no script.
pub const CSP: &str =
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'";

/// The self-contained HTML report.
pub fn html(r: &Report, j: Jurisdiction, person: &str) -> Result<String, Error> {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    env.add_template("offmeta.html", TEMPLATE)?;
    let letters = r
        .health
        .iter()
        .flat_map(|b| letters(b, j, person))
        .collect();
    let view = View {
        csp: CSP,
        report: r,
        steps: &META_STEPS,
        legal: legal(j),
        letters,
        files: r.files.join(", "),
    };
    env.get_template("offmeta.html")?.render(view)
}
