//! leakscope-policy (skeleton; see ARCHITECTURE.md).
