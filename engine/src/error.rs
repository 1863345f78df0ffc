//! Errors of the engine. Data errors (a bad payload, an expression failing on a row) are not
//! errors here: they are counted and reported beside the output. What is left is a bug, or
//! a checkpoint that cannot be restored.

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong running a plan: never the data's fault.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An operator failed in a way that is not the data's fault.
    #[error(transparent)]
    Kernel(#[from] veloflux_kernels::Error),
    /// A codec failed in a way that is not the payload's fault.
    #[error(transparent)]
    Codec(#[from] veloflux_connectors::Error),
    /// Saved state could not be written or read back: a damaged checkpoint, or one of
    /// another statement.
    #[error("{0}")]
    Checkpoint(String),
}
