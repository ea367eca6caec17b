//! Params::parse / parse_bytes and every accessor on arbitrary bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| leakscope_bench::fuzz::params(data));
