//! The CAPI ingress parser and the policy behind it take client bytes: on any
//! input they answer (an error or events), never panic. The same body runs
//! under libFuzzer as `cargo +nightly fuzz run capi`.

use leakscope_gateway::ingress::{fuzz_request, parse_events_request};
use proptest::prelude::*;

/// Bodies near the valid shapes, so mutations reach deep paths.
fn near_valid() -> impl Strategy<Value = Vec<u8>> {
    let event = prop_oneof![
        Just(r#"{"event_name":"Purchase","event_time":1730000000,"action_source":"website","event_source_url":"https://x.example/pharmacy/plan-b?q=hiv","user_data":{"em":"a@b.c","client_user_agent":"UA"},"custom_data":{"value":1,"currency":"USD","content_name":"Plan B One-Step"},"leakscope_consent":"granted"}"#.to_owned()),
        Just(r#"{"event_name":"Lead","user_data":{"ph":"+1 555 010 0100"}}"#.to_owned()),
        "[ -~]{0,40}",
    ];
    (0u8..6, prop::collection::vec(event, 0..4), "[ -~]{0,12}", any::<bool>()).prop_map(
        |(pick, evs, junk, cut)| {
            let data = format!("[{}]", evs.join(","));
            let body = match pick {
                0 => format!(r#"{{"data":{data},"access_token":"k"}}"#),
                1 => format!(
                    "data={}&access_token=k",
                    url::form_urlencoded::byte_serialize(data.as_bytes()).collect::<String>()
                ),
                2 => format!(
                    "--X\r\nContent-Disposition: form-data; name=\"data\"\r\n\r\n{data}\r\n--X--\r\n"
                ),
                _ => format!("{data}{junk}"),
            };
            let mut out = vec![pick, 0];
            out.extend(body.into_bytes());
            if cut {
                let n = out.len() * 2 / 3;
                out.truncate(n.max(2));
            }
            out
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..600)) {
        fuzz_request(&data);
    }

    #[test]
    fn near_valid_bodies_never_panic(data in near_valid()) {
        fuzz_request(&data);
    }

    /// Whatever parses holds 1..=1000 event objects; whatever does not has a message.
    #[test]
    fn parse_is_total(ct in prop_oneof![Just("application/json"), Just("multipart/form-data; boundary=X"),
                                        Just("application/x-www-form-urlencoded")],
                      data in near_valid()) {
        match parse_events_request(Some(ct), None, &data[2..]) {
            Ok(r) => prop_assert!(!r.events.is_empty() && r.events.len() <= 1000
                                  && r.events.iter().all(|e| e.is_object())),
            Err(e) => prop_assert!(!e.message.is_empty()),
        }
    }
}
