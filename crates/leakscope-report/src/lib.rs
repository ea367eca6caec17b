//! leakscope-report (skeleton; see ARCHITECTURE.md).
