//! The policy engine (leakscope-policy), re-exported so the gateway's
//! modules and users name one path.

pub use leakscope_policy::*;
