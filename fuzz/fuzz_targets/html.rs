//! DOM-snapshot redaction on arbitrary text: no panic, idempotent.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| leakscope_bench::fuzz::html(data));
