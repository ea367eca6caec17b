//! Errors of the pure core. Each names what was wrong and where.

use thiserror::Error;

use crate::model::{Source, Vendor};

#[derive(Debug, Error)]
pub enum VendorDbError {
    #[error("vendor database is not valid TOML: {0}")]
    Parse(String),
    #[error(
        "product `{product}` names organisation `{organisation}`, which [organisations] does not define"
    )]
    UnknownOrganisation {
        product: String,
        organisation: String,
    },
    #[error(
        "product `{product}` has host `{host}`: hosts are names like `example.com` or `google.*`, without paths"
    )]
    BadHost { product: String, host: String },
}

/// Why a vendor's event request gave no event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecodeErrorKind {
    /// The request carried nothing to read: no query and no body (a URL list
    /// that truncated it, or a capture that did not keep the body).
    Empty,
    /// The request carried data that is not what the vendor's protocol sends.
    Malformed,
}

/// A request that is a vendor's event endpoint but could not be read as one.
/// Decoding goes on: the error is reported as a warning with its source.
#[derive(Debug, Clone, Error, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[error("{at}: {vendor} request {}: {reason}", match .kind {
    DecodeErrorKind::Empty => "carries nothing to decode",
    DecodeErrorKind::Malformed => "could not be decoded",
})]
pub struct DecodeError {
    pub at: Source,
    pub vendor: Vendor,
    pub kind: DecodeErrorKind,
    pub reason: String,
}
