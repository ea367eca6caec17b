//! leakscope-scan (skeleton; see ARCHITECTURE.md).
