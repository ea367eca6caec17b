//! Properties over generated traffic: decoding never panics, and ids come
//! out exactly as they went in, however long and whatever the transport.

use leakscope_core::{Engine, Exchange, RequestBody, Source, Vendor};
use proptest::prelude::*;

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn post(url: &str, ct: &str, body: Vec<u8>) -> Exchange {
    let mut ex = Exchange::get(Source::new("prop", 0), url);
    ex.method = "POST".into();
    ex.body = Some(RequestBody {
        bytes: body,
        content_type: Some(ct.into()),
        params: vec![],
    });
    ex
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// A pixel id of 15–19 digits survives GET, form POST and multipart.
    #[test]
    fn pixel_ids_stay_exact(id in "[1-9][0-9]{14,18}", ev in "[A-Za-z]{1,20}", path in "[a-z/]{0,30}") {
        let engine = Engine::new();
        let dl = format!("https://clinic.example/{path}");
        let q = format!("id={id}&ev={ev}&dl={}", enc(&dl));
        let get = Exchange::get(Source::new("prop", 0), format!("https://www.facebook.com/tr/?{q}"));
        let form = post("https://www.facebook.com/tr/", "application/x-www-form-urlencoded", q.clone().into_bytes());
        let b = "----B0undary";
        let mp: String = [("id", id.as_str()), ("ev", ev.as_str()), ("dl", dl.as_str())]
            .iter()
            .map(|(k, v)| format!("--{b}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"))
            .collect::<String>() + &format!("--{b}--\r\n");
        let multipart = post("https://www.facebook.com/tr/", &format!("multipart/form-data; boundary={b}"), mp.into_bytes());
        for ex in [get, form, multipart] {
            let events = engine.events(&ex).unwrap();
            prop_assert_eq!(events.len(), 1);
            prop_assert_eq!(events[0].vendor, Vendor::MetaPixel);
            prop_assert_eq!(events[0].account_id.as_deref(), Some(id.as_str()));
            prop_assert_eq!(&events[0].event, &ev);
            prop_assert_eq!(events[0].page_url.as_deref(), Some(dl.as_str()));
        }
    }

    /// Numbers in JSON bodies (order ids, values) keep every digit: no f64 rounding.
    #[test]
    fn json_numbers_stay_exact(order in "[1-9][0-9]{15,24}", value in "[1-9][0-9]{0,5}\\.[0-9]{1,4}") {
        let body = format!(r#"{{"data":[{{"event_name":"Purchase","event_time":1700000000,"action_source":"website","user_data":{{}},"custom_data":{{"order_id":{order},"value":{value}}}}}]}}"#);
        let ex = post("https://graph.facebook.com/v21.0/1234567890123456/events", "application/json", body.into_bytes());
        let events = Engine::new().events(&ex).unwrap();
        prop_assert_eq!(events[0].custom_data["order_id"].to_string(), order);
        prop_assert_eq!(events[0].custom_data["value"].to_string(), value);
    }

    /// Arbitrary bytes to every decoded endpoint: an event, a clean error, or nothing; never a panic.
    #[test]
    fn never_panics(idx in 0usize..12, q in "[ -~]{0,80}", body in proptest::collection::vec(any::<u8>(), 0..300), ct in prop_oneof![
        Just("application/json"), Just("text/plain"), Just("application/x-www-form-urlencoded"),
        Just("multipart/form-data; boundary=x"), Just(""),
    ]) {
        const URLS: [&str; 12] = [
            "https://www.facebook.com/tr/", "https://graph.facebook.com/v21.0/123456789/events",
            "https://region1.google-analytics.com/g/collect", "https://analytics.tiktok.com/api/v2/pixel",
            "https://business-api.tiktok.com/open_api/v1.3/event/track/", "https://px.ads.linkedin.com/wa/",
            "https://ct.pinterest.com/v3/", "https://tr.snapchat.com/p", "https://bat.bing.com/action/0",
            "https://analytics.twitter.com/i/adsct", "https://alb.reddit.com/rp.gif", "https://x.sc.omtrdc.net/b/ss/rsid/1/JS-2.22.0/s1",
        ];
        let url = format!("{}?{}", URLS[idx], q);
        let _ = Engine::new().events(&post(&url, ct, body));
    }
}
