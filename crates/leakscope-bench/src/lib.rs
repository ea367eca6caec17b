//! leakscope benchmarks: a benchmark-only corpus loader, the side-by-side
//! comparison with Brave's `adblock` crate (binary `side-by-side`), and the
//! bodies of the fuzz targets in `fuzz/` so stable `cargo test` runs them too.

pub mod corpus;
pub mod fuzz;
