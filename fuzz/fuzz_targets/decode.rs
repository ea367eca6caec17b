//! Engine::decode on a fuzzed request to a vendor endpoint (every product in
//! the vendor database, plus first-party proxies): fuzzed method, query,
//! content type, encoding, cookies, page URL and body.
#![no_main]

use std::sync::LazyLock;

use leakscope_bench::fuzz::DecodeTarget;
use libfuzzer_sys::fuzz_target;

static TARGET: LazyLock<DecodeTarget> = LazyLock::new(DecodeTarget::default);

fuzz_target!(|data: &[u8]| TARGET.run(data));
