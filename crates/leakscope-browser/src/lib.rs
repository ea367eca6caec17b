//! leakscope-browser (skeleton; see ARCHITECTURE.md).
