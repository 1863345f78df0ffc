//! Errors of the connectors crate, each variant naming whose fault it is.

use arrow::error::ArrowError;

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong in a connector or codec.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The user's configuration is invalid (a bad schema, an unknown option).
    #[error("invalid configuration: {0}")]
    Config(String),
    /// A broker or another service outside the process failed; retrying may help.
    #[error("{0}")]
    External(String),
    /// An Arrow operation failed on data that passed validation: a bug.
    #[error("internal error: {0}")]
    Internal(#[from] ArrowError),
}
