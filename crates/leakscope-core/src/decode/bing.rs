//! Microsoft Advertising UET (`bat.bing.com/action/0`, `/actionp/0`,
//! `commerce.bing.com/cst/0`): GET query (the `actionp` ping may carry a form
//! body). See wire-formats.md §9.

use super::{Request, id_value, user_datum};
use crate::model::Event;
use crate::params::{Params, json_or_string};

/// Fields with their own slot in the event, or that only describe the
/// browser/tag: everything else is custom data (`kw`, `ea`, `items`, `gv`...).
const NOT_CUSTOM: &[&str] = &[
    "ti",
    "Ver",
    "evt",
    "p",
    "r",
    "tl",
    "pid",
    "mid",
    "sid",
    "vid",
    "vids",
    "msclkid",
    "pi",
    "lg",
    "sw",
    "sh",
    "sc",
    "nwd",
    "lt",
    "rn",
    "tm",
    "bo",
    "sv",
    "cdb",
    "asc",
    "uach",
    "spa",
    "ifm",
    "gtm_tag_source",
    "tpp",
];

pub fn decode(req: &Request<'_>, out: &mut Vec<Event>) -> Result<(), String> {
    let p = req.all_params();
    if p.is_empty() {
        return Err("UET request has no parameters in its URL or body".into());
    }
    let format = req.params_format();
    let evt = p.get_nonempty("evt");
    let action = p.get_nonempty("ea");
    // A custom event is named by its action; `pageLoad` and friends by `evt`.
    let name = match (evt, action) {
        (Some("custom") | None, Some(ea)) => ea,
        (Some(e), _) => e,
        (None, None) => p
            .get_nonempty("ec")
            .or_else(|| p.get_nonempty("el"))
            .unwrap_or("(no evt)"),
    };
    let mut ev = req.event(name, format);
    ev.account_id = p.get_nonempty("ti").map(str::to_owned);
    ev.page_url = p.get_nonempty("p").map(str::to_owned);
    ev.referrer = p.get_nonempty("r").map(str::to_owned);
    ev.page_title = p.get_nonempty("tl").map(str::to_owned);
    if let Some(e) = evt
        && action.is_some()
    {
        ev.custom_data.insert("evt".into(), e.into());
    }
    for (k, v) in p.iter() {
        if !NOT_CUSTOM.contains(&k) && !v.is_empty() {
            ev.custom_data.insert(k.to_owned(), json_or_string(v));
        }
    }
    // Enhanced conversions: `pid` is a second, nested query string.
    if let Some(pid) = p.get_nonempty("pid") {
        let nested = Params::parse(pid);
        if nested.iter().all(|(k, _)| !k.is_empty()) && pid.contains('=') {
            for (k, v) in nested.iter() {
                if !v.is_empty() {
                    ev.user_data.push(user_datum(k, &format!("pid[{k}]"), v));
                }
            }
        } else {
            ev.custom_data.insert("pid".into(), pid.into());
        }
    }
    // `msclkid=N` means "no click id".
    if let Some(v) = p.get_nonempty("msclkid").filter(|v| *v != "N") {
        ev.ids.push(id_value("msclkid", "msclkid", v));
    }
    for (key, kind) in [("sid", "uet_sid"), ("vid", "uet_vid"), ("mid", "uet_mid")] {
        if let Some(v) = p.get_nonempty(key) {
            ev.ids.push(id_value(kind, key, v));
        }
    }
    ev.raw = p.into_pairs();
    out.push(ev);
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::Engine;
    use crate::model::{Exchange, HashAlgo, Source, Vendor};
    use proptest::prelude::*;

    fn one(url: &str) -> crate::model::Event {
        let mut ev = Engine::new()
            .events(&Exchange::get(Source::new("t", 0), url))
            .unwrap();
        assert_eq!(ev.len(), 1, "{url}");
        ev.remove(0)
    }

    fn id<'a>(e: &'a crate::model::Event, kind: &str) -> Option<&'a str> {
        e.ids
            .iter()
            .find(|i| i.kind == kind)
            .map(|i| i.value.as_str())
    }

    #[test]
    fn real_page_load_with_keywords() {
        // cityofhope.org capture (markup-nonprofit-privacy), shortened `kw`.
        let e = one(
            "https://bat.bing.com/action/0?ti=5063020&Ver=2&mid=2146f5d8-7759-4015-a8e6-2a7c5e594a9c&sid=934fdb7031b311ecbcec4993a3243d5b&vid=93565ea031b311ecb7a46b651149cbc6&vids=0&pi=0&lg=en-US&sw=375&sh=812&sc=24&tl=Patient%20Education%20%26%20Resources%20for%20Cancer%20Patients%20%7C%20City%20of%20Hope%20cancer%20center&kw=patient%20education,%20chemotherapy%20education,%20drain%20care&p=https%3A%2F%2Fwww.cityofhope.org%2Fpatients%2Fliving-with-cancer%2Fpatient-education&r=&lt=1261&evt=pageLoad&msclkid=N&sv=1&rn=974251",
        );
        assert_eq!(e.vendor, Vendor::Bing);
        assert_eq!(e.event, "pageLoad");
        assert_eq!(e.account_id.as_deref(), Some("5063020"));
        assert_eq!(
            e.page_url.as_deref(),
            Some("https://www.cityofhope.org/patients/living-with-cancer/patient-education")
        );
        assert_eq!(
            e.page_title.as_deref(),
            Some("Patient Education & Resources for Cancer Patients | City of Hope cancer center")
        );
        assert_eq!(
            e.custom_data["kw"],
            "patient education, chemotherapy education, drain care"
        );
        assert_eq!(id(&e, "uet_sid"), Some("934fdb7031b311ecbcec4993a3243d5b"));
        assert_eq!(id(&e, "uet_vid"), Some("93565ea031b311ecb7a46b651149cbc6"));
        assert_eq!(
            id(&e, "uet_mid"),
            Some("2146f5d8-7759-4015-a8e6-2a7c5e594a9c")
        );
        assert_eq!(id(&e, "msclkid"), None, "N is no click id");
        assert!(!e.custom_data.contains_key("sw"));
        assert!(e.raw.iter().any(|(k, v)| k == "sw" && v == "375"));
        assert_eq!(e.party, crate::Party::ThirdParty);
    }

    #[test]
    fn real_custom_event_named_by_action() {
        // mylabbox.com capture (fb-pixel-inspector): a GA4-mirrored ecommerce event.
        let e = one(
            "https://bat.bing.com/action/0?ti=17130725&tm=gtm002&Ver=2&mid=4281e166-c4f5-481a-a692-eeee14618c37&sid=2aa4eca0056a11ee956e99dc020c447c&vid=2aa51ea0056a11ee96a95750c53da99a&vids=0&msclkid=N&items=id%3DMLB_00FF%26price%3D149&gc=USD&gtm_tag_source=ga4&tpp=1&ea=view_item&ev=149&pagetype=product&ecomm_totalvalue=149&prodid=MLB_00FF&en=Y&p=https%3A%2F%2Fwww.mylabbox.com%2Fproduct%2Fat-home-female-fertility-test%2F&sw=1512&sh=982&sc=30&nwd=1&evt=custom&rn=35555",
        );
        assert_eq!(e.event, "view_item");
        assert_eq!(e.custom_data["prodid"], "MLB_00FF");
        assert_eq!(e.custom_data["ev"], "149");
        assert_eq!(e.custom_data["items"], "id=MLB_00FF&price=149");
        assert_eq!(e.custom_data["evt"], "custom");
    }

    #[test]
    fn custom_event_and_enhanced_conversions() {
        let em = "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f";
        let ph = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
        let e = one(&format!(
            "https://bat.bing.com/action/0?ti=187000123&Ver=2&mid=fd5b9ab1-d3b8-eb02-f4ce-de6b18ee358c&evt=custom&ec=booking&ea=book_appointment&el=Oncology%20consult&ev=1&p=https%3A%2F%2Fclinic.example%2Fbook%3Fmsclkid%3Dabc&pid=em%3D{em}%26ph%3D{ph}&msclkid=7c2f0e5b1a9d4c3e8f6a2b1c0d9e8f7a-1&sid=aaa&vid=bbb"
        ));
        assert_eq!(e.event, "book_appointment");
        assert_eq!(e.custom_data["el"], "Oncology consult");
        assert_eq!(e.custom_data["ec"], "booking");
        assert_eq!(e.user_data.len(), 2);
        assert_eq!(e.user_data[0].key, "em");
        assert_eq!(e.user_data[0].field, "pid[em]");
        assert_eq!(e.user_data[0].algorithm, Some(HashAlgo::Sha256));
        assert_eq!(e.user_data[1].key, "ph");
        assert_eq!(
            id(&e, "msclkid"),
            Some("7c2f0e5b1a9d4c3e8f6a2b1c0d9e8f7a-1")
        );
    }

    #[test]
    fn plaintext_in_the_hash_slot_is_not_hashed() {
        let e = one(
            "https://bat.bing.com/action/0?ti=1&evt=custom&ea=lead&pid=em%3Djane.doe.canary%40example.com",
        );
        assert_eq!(e.user_data[0].value, "jane.doe.canary@example.com");
        assert!(!e.user_data[0].hashed);
    }

    proptest! {
        #[test]
        fn never_panics(q in "[ -~]{0,200}", body in proptest::collection::vec(any::<u8>(), 0..200)) {
            let ex = Exchange::post(Source::new("p", 0), format!("https://bat.bing.com/action/0?{q}"), "", body);
            let _ = Engine::new().events(&ex);
        }
    }
}
