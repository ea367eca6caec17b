//! The published list: the event endpoints of the vendor database (the
//! requests that carry what a page tells a tracker), not whole hosts, so
//! the tags' scripts and the vendors' own sites keep working.

use leakscope_core::model::EndpointKind;
use leakscope_core::vendors::{BUILTIN_VENDORS_TOML, VendorDbFile};

use crate::filters::parse_network;

/// Products that browsers never call: server-to-server APIs.
fn server_only(id: &str) -> bool {
    id.ends_with("_capi") || id.ends_with("_events_api")
}

/// `google.*` in the database is google under any public suffix; the
/// engine reads `google.*` hosts only in `$domain`, so name the suffixes.
const WILDCARD_SUFFIXES: [&str; 6] = ["com", "co.uk", "ca", "com.au", "de", "fr"];

/// The list text, in uBlock Origin / Adblock Plus syntax, with `version`
/// (leakscope's) in its header. Every rule is checked with the engine.
pub fn health_trackers_list(version: &str) -> String {
    let db: VendorDbFile =
        toml::from_str(BUILTIN_VENDORS_TOML).expect("data/vendors.toml is valid (tested)");
    let mut out = format!(
        "[Adblock Plus 2.0]\n\
         ! Title: leakscope health trackers\n\
         ! Description: the endpoints through which ad and analytics tags send what a page tells them (page addresses, button text, form fields, search terms, hashed emails): the channels health sites leak through. Scripts and the vendors' own sites are left alone.\n\
         ! Version: {version}\n\
         ! Expires: 7 days\n\
         ! Homepage: https://github.com/leakscope/leakscope\n\
         ! License: CC0-1.0 (from leakscope's data/vendors.toml)\n"
    );
    for p in &db.products {
        if server_only(&p.id) {
            continue;
        }
        let mut rules: Vec<String> = Vec::new();
        for host in &p.hosts {
            let hosts: Vec<String> = match host.strip_suffix(".*") {
                Some(label) => WILDCARD_SUFFIXES
                    .iter()
                    .map(|s| format!("{label}.{s}"))
                    .collect(),
                None => vec![host.clone()],
            };
            for h in hosts {
                let mut any = false;
                for e in p.endpoints.iter().filter(|e| e.kind == EndpointKind::Event) {
                    any = true;
                    let r = if let Some(pre) = &e.path_prefix {
                        format!("||{h}{pre}{}$third-party", crate::plan::sep_after(pre))
                    } else if let Some(c) = &e.path_contains {
                        format!("||{h}*{c}$third-party")
                    } else if let Some(s) = &e.path_suffix {
                        format!("||{h}*{s}{}$third-party", crate::plan::sep_after(s))
                    } else {
                        format!("||{h}^$third-party")
                    };
                    rules.push(r);
                }
                if !any && p.default_kind == EndpointKind::Event {
                    rules.push(format!("||{h}^$third-party"));
                }
            }
        }
        rules.retain(|r| parse_network(r).is_ok());
        rules.dedup();
        if rules.is_empty() {
            continue;
        }
        out.push_str(&format!("!\n! {} ({})\n", p.name, p.id));
        for r in rules {
            out.push_str(&r);
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filters::{Blocker, Query, Verdict};

    fn check(b: &Blocker, url: &str, t: &str) -> bool {
        matches!(
            b.check(&Query {
                url,
                source_url: "https://clinic.example/book",
                resource_type: t,
                method: "GET"
            }),
            Verdict::Block { .. }
        )
    }

    #[test]
    fn event_endpoints_blocked_scripts_and_sites_not() {
        let text = health_trackers_list("test");
        let b = Blocker::parse("health-trackers.txt", &text).unwrap();
        assert!(b.rules() > 40, "{}", b.rules());
        for u in [
            "https://www.facebook.com/tr/?id=1&ev=PageView",
            "https://region1.google-analytics.com/g/collect?v=2&tid=G-1",
            "https://analytics.tiktok.com/api/v2/pixel",
            "https://px.ads.linkedin.com/collect/?pid=1",
            "https://www.google.com/pagead/1p-conversion/123/?x=1",
            "https://ct.pinterest.com/v3/?tid=1",
            "https://bat.bing.com/action/0?ti=1",
        ] {
            assert!(check(&b, u, "image"), "not blocked: {u}");
        }
        for u in [
            "https://connect.facebook.net/en_US/fbevents.js",
            "https://www.googletagmanager.com/gtag/js?id=G-1",
            "https://analytics.tiktok.com/i18n/pixel/events.js",
            "https://www.facebook.com/plugins/like.php",
        ] {
            assert!(!check(&b, u, "script"), "blocked: {u}");
        }
    }
}
