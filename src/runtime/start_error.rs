//! Why a pipeline could not start: a connector that cannot be built, or state that cannot be
//! resumed.

use crate::storage::StorageError;

/// Why [`super::Runtime::start`] failed.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A connector or codec cannot be built from the spec; the error says whose fault it is.
    #[error(transparent)]
    Connector(#[from] veloflux_connectors::Error),
    /// The pipeline's checkpoint cannot be restored; it does not start with empty state.
    #[error("{0}")]
    Checkpoint(String),
    /// The metadata file failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}
