//! Which pages to visit next: same-site links, health-relevant first.
//!
//! Relevance comes from the detector's own health lexicon (no second word
//! list): the link is dressed as an event whose page URL is the link target
//! and whose button text is the link text, and the evidence the matcher
//! finds is scored by sensitivity tier.

use leakscope_core::{Event, Party, Source, Ui, Vendor, engine::split_url, party};
use leakscope_detect::{HealthMatcher, Strength, Tier};

/// A link as the page script reports it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct Link {
    pub href: String,
    #[serde(default)]
    pub text: String,
}

/// Health relevance of a link: 0 for none, higher for more sensitive.
pub fn score(m: &HealthMatcher, link: &Link) -> u32 {
    let ev = Event {
        party: Party::ThirdParty,
        page_url: Some(link.href.clone()),
        request_url: link.href.clone(),
        ui: Ui {
            button_text: (!link.text.is_empty()).then(|| link.text.clone()),
            ..Ui::default()
        },
        ..Event::empty(Vendor::Other, Source::new("link", 0))
    };
    m.match_event(&ev)
        .iter()
        .filter(|e| e.strength == Strength::Strong || !e.signals.is_empty())
        .map(|e| match e.category.tier() {
            Tier::S1 => 8,
            Tier::S2 => 6,
            Tier::S3 => 4,
            Tier::S4 => 1,
        })
        .sum()
}

/// The URL without its fragment, for de-duplication.
pub fn canonical(url: &str) -> &str {
    url.split('#').next().unwrap_or(url)
}

/// Registrable domain of a URL's host.
pub fn site(url: &str) -> Option<String> {
    let h = split_url(url)?.host;
    (!h.is_empty()).then(|| party::site_of(h))
}

/// Same-site links not yet seen, best first (stable among equals: page order).
/// Downloads and logout links are skipped: they end journeys or leave the page.
pub fn rank(m: &HealthMatcher, start: &str, links: Vec<Link>, seen: &[String]) -> Vec<Link> {
    let Some(home) = site(start) else {
        return Vec::new();
    };
    let mut out: Vec<(u32, Link)> = Vec::new();
    for l in links {
        let url = canonical(&l.href);
        let lower = url.to_ascii_lowercase();
        if !(lower.starts_with("http://") || lower.starts_with("https://"))
            || site(url).as_deref() != Some(home.as_str())
            || seen.iter().any(|s| s == url)
            || out.iter().any(|(_, o)| canonical(&o.href) == url)
            || [".pdf", ".zip", ".dmg", ".exe", ".doc", ".docx"]
                .iter()
                .any(|x| lower.ends_with(x))
            || ["logout", "log-out", "signout", "sign-out"]
                .iter()
                .any(|x| lower.contains(x))
        {
            continue;
        }
        out.push((score(m, &l), l));
    }
    out.sort_by_key(|a| std::cmp::Reverse(a.0));
    out.into_iter().map(|(_, l)| l).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(h: &str, t: &str) -> Link {
        Link {
            href: h.into(),
            text: t.into(),
        }
    }

    #[test]
    fn health_links_come_first_and_other_sites_are_dropped() {
        let m = HealthMatcher::builtin();
        let r = rank(
            &m,
            "https://www.pharmacy.test/",
            vec![
                l("https://www.pharmacy.test/about", "About us"),
                l("https://www.pharmacy.test/careers", "Careers"),
                l("https://shop.pharmacy.test/hiv-prep", "HIV PrEP refills"),
                l("https://elsewhere.test/insulin", "Insulin"),
                l("https://www.pharmacy.test/about#team", "Team"),
                l("https://www.pharmacy.test/files/leaflet.pdf", "Leaflet"),
                l("mailto:x@pharmacy.test", "Mail"),
            ],
            &["https://www.pharmacy.test/".to_owned()],
        );
        let hrefs: Vec<&str> = r.iter().map(|l| l.href.as_str()).collect();
        assert_eq!(
            hrefs,
            [
                "https://shop.pharmacy.test/hiv-prep",
                "https://www.pharmacy.test/about",
                "https://www.pharmacy.test/careers"
            ]
        );
        assert!(score(&m, &l("https://x.test/birth-control", "Birth control")) > 0);
        assert_eq!(
            score(&m, &l("https://x.test/store-hours", "Store hours")),
            0
        );
    }
}
