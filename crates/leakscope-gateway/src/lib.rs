//! leakscope-gateway (skeleton; see ARCHITECTURE.md).
