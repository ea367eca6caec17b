//! Who a site is, from arbitrary page HTML: no panic, bounded evidence.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| leakscope_bench::fuzz::site_html(data));
