//! Errors of the kernels: evaluating an expression failed on the data of a batch, or saved
//! state could not be restored.

use datafusion_common::DataFusionError;

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why an operator could not process a batch.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An expression failed on some value of the batch (a failed cast, a division by zero):
    /// a data error.
    #[error("evaluation failed: {0}")]
    Evaluation(String),
    /// An expression returned something its operator cannot use: a bug in planning.
    #[error("internal error: {0}")]
    Internal(String),
    /// Saved state does not fit the statement restoring it: the checkpoint is damaged or was
    /// written by another statement.
    #[error("the checkpoint cannot be restored: {0}")]
    Checkpoint(String),
}

impl From<DataFusionError> for Error {
    fn from(error: DataFusionError) -> Self {
        match error.find_root() {
            DataFusionError::Internal(message) => Self::Internal(message.clone()),
            other => Self::Evaluation(other.message().into_owned()),
        }
    }
}

impl From<arrow::error::ArrowError> for Error {
    fn from(error: arrow::error::ArrowError) -> Self {
        Self::Evaluation(error.to_string())
    }
}
