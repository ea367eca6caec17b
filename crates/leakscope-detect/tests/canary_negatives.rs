//! What is not a canary: someone else's hash, a neighbouring phone number,
//! a number that merely contains the canary's digits, ordinary traffic.

use leakscope_core::{Exchange, Source};
use leakscope_detect::{Canary, CanaryMatcher};
use sha2::{Digest, Sha256};

fn get(url: &str) -> Exchange {
    Exchange::get(Source::new("test", 0), url)
}

fn matcher() -> CanaryMatcher {
    CanaryMatcher::new(&[
        Canary::new("jane.canary+rx7@example.com"),
        Canary::new("+1 (555) 010-0199"),
        Canary::new("Zephyrine Quillfeather"),
    ])
    .unwrap()
}

#[test]
fn someone_elses_hashed_email_is_not_the_canary() {
    let other = format!("{:x}", Sha256::digest(b"john.other@example.com"));
    let near = format!("{:x}", Sha256::digest(b"jane.canary+rx8@example.com"));
    let hits = matcher().scan(&get(&format!(
        "https://www.facebook.com/tr/?id=1&ev=Lead&ud[em]={other}&udff[em]={near}"
    )));
    assert!(hits.is_empty(), "{hits:#?}");
}

#[test]
fn a_canary_like_but_different_phone_is_not_the_canary() {
    let m = matcher();
    for p in [
        "15550100198",
        "%2B15550100198",
        format!("{:x}", Sha256::digest(b"15550100198")).as_str(),
        // The canary's digits inside longer numbers: ids, timestamps.
        "155501001990",
        "2155501001993",
        "ts=1715550100199",
    ] {
        let hits = m.scan(&get(&format!("https://collector.example/c?p={p}")));
        assert!(hits.is_empty(), "{p}: {hits:#?}");
    }
}

#[test]
fn a_longer_address_containing_the_canary_is_not_it() {
    let hits = matcher().scan(&get(
        "https://collector.example/c?e=xjane.canary%2Brx7%40example.com&f=jane.canary+rx7@example.company",
    ));
    assert!(hits.is_empty(), "{hits:#?}");
}

#[test]
fn ordinary_tracker_traffic_has_no_canary() {
    let m = matcher();
    for url in [
        "https://www.facebook.com/tr/?id=1234567890123456&ev=PageView&dl=https%3A%2F%2Fshop.example%2Frefill&rl=&if=false&ts=1715794001783&sw=1920&sh=1080&v=2.9.156&r=stable&ec=0&o=4126&fbp=fb.1.1715794001001.1234567890&cs_est=true&it=1715794000612&coo=false&rqm=GET",
        "https://region1.google-analytics.com/g/collect?v=2&tid=G-ABC123XYZ&gtm=45je45g0v9&_p=1715794001&cid=1234567890.1715794001&ul=en-us&sr=1920x1080&_s=1&sid=1715794001&sct=1&seg=0&dl=https%3A%2F%2Fshop.example%2F&dt=Shop&en=page_view&_ee=1&em=tv.1~em.McVUPBc00lxyBvX9WRUl0Clb7G_oT_gvlGo0_pcKHmY",
        "https://analytics.tiktok.com/api/v2/pixel?analytics_message=eyJldmVudCI6IlBhZ2V2aWV3IiwiY29udGV4dCI6eyJ1c2VyIjp7ImVtYWlsIjoiMzFjNTU0M2MxNzM0ZDI1YzcyMDZmNWZkNTkxNTI1ZDAyOTViZWM2ZmU4NGZmODJmOTQ2YTM0ZmU5NzBhMWU2NiJ9fX0",
    ] {
        let hits = m.scan(&get(url));
        assert!(hits.is_empty(), "{url}: {hits:#?}");
    }
}

#[test]
fn no_canaries_no_work() {
    let m = CanaryMatcher::new(&[]).unwrap();
    assert!(m.is_empty());
    assert!(
        m.scan(&get("https://c.example/?e=jane.canary%2Brx7%40example.com"))
            .is_empty()
    );
}
