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

/// A request that is a vendor's event endpoint but could not be read as one.
/// Decoding goes on: the error is reported as a warning with its source.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[error("{at}: {vendor} request could not be decoded: {reason}")]
pub struct DecodeError {
    pub at: Source,
    pub vendor: Vendor,
    pub reason: String,
}
