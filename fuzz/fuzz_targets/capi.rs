//! The gateway's Conversions API ingress (JSON, urlencoded and multipart
//! bodies, query string) and the policy run on every event it yields.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| leakscope_gateway::ingress::fuzz_request(data));
