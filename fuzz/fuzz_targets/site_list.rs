//! Survey site lists (text or CSV) from arbitrary bytes: a list or an
//! error naming the line, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(list) = leakscope_survey::list::parse("fuzz.csv", &text) {
        assert!(!list.sites.is_empty());
        for s in &list.sites {
            assert!(s.url.starts_with("http://") || s.url.starts_with("https://"));
        }
    }
});
