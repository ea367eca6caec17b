//! A `scan --block` file (filter list, hosts lines or CSP): parsed or
//! refused naming the file, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| leakscope_bench::fuzz::block_list(data));
