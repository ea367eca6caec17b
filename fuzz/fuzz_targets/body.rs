//! Body::new + params + json on arbitrary bytes, content types and encodings.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| leakscope_bench::fuzz::body(data));
