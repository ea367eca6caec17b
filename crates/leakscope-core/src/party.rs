//! First or third party, by registrable domain (public suffix list).

use crate::engine::split_url;
use crate::model::Party;

/// The registrable domain of a host (`www.nhs.uk` → `nhs.uk`), or the host
/// itself when it has none (IP addresses, `localhost`).
pub fn site_of(host: &str) -> String {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    match psl::domain_str(&host) {
        Some(d) => d.to_owned(),
        None => host,
    }
}

/// Party of a request to `request_host` made from `page_url`.
pub fn party_of(request_host: &str, page_url: Option<&str>) -> Party {
    let Some(page_host) = page_url.and_then(split_url).map(|p| p.host) else {
        return Party::Unknown;
    };
    if page_host.is_empty() || request_host.is_empty() {
        return Party::Unknown;
    }
    if site_of(page_host) == site_of(request_host) {
        Party::FirstParty
    } else {
        Party::ThirdParty
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parties() {
        assert_eq!(site_of("www.bbc.co.uk"), "bbc.co.uk");
        assert_eq!(site_of("a.b.example.co.uk"), "example.co.uk");
        assert_eq!(
            party_of(
                "www.facebook.com",
                Some("https://pharmacy.example.com/refill")
            ),
            Party::ThirdParty
        );
        assert_eq!(
            party_of("metrics.example.com", Some("https://www.example.com/")),
            Party::FirstParty
        );
        assert_eq!(party_of("x.com", None), Party::Unknown);
    }
}
