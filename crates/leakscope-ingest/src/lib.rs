//! Ingest: placeholder
