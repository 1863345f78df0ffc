//! Planning errors. All but `Internal` are the user's: the statement must change.

use datafusion_common::{DataFusionError, SchemaError};

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a statement could not be planned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The text is not valid SQL.
    #[error("SQL syntax error: {0}")]
    Syntax(String),
    /// `FROM` names a stream the catalog does not hold.
    #[error("unknown stream '{name}'; known streams: {known}")]
    UnknownStream {
        /// The name in the statement.
        name: String,
        /// The streams that exist, comma separated.
        known: String,
    },
    /// A column the stream does not have.
    #[error("unknown column '{column}' in stream '{stream}'; its columns are: {columns}")]
    UnknownColumn {
        /// The name in the statement.
        column: String,
        /// The stream read.
        stream: String,
        /// The stream's columns, comma separated.
        columns: String,
    },
    /// An operator or function got an operand of the wrong type.
    #[error("type mismatch: {0}")]
    TypeMismatch(String),
    /// A valid statement using a clause or construct veloFlux does not run.
    #[error("{0} is not supported")]
    Unsupported(String),
    /// Any other problem with the statement, as DataFusion's planner words it.
    #[error("invalid query: {0}")]
    Invalid(String),
    /// A bug.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// Translates a DataFusion error met while planning `stream`.
    pub(crate) fn from_datafusion(error: DataFusionError, stream: &str, columns: &str) -> Self {
        match error.find_root() {
            DataFusionError::SchemaError(schema_error, _) => match schema_error.as_ref() {
                SchemaError::FieldNotFound { field, .. } => Self::UnknownColumn {
                    column: field.flat_name(),
                    stream: stream.to_owned(),
                    columns: columns.to_owned(),
                },
                other => Self::Invalid(other.to_string()),
            },
            DataFusionError::SQL(error, _) => Self::Syntax(error.to_string()),
            DataFusionError::NotImplemented(message) => Self::Unsupported(message.clone()),
            DataFusionError::Internal(message) => Self::Internal(message.clone()),
            DataFusionError::Plan(message) | DataFusionError::Execution(message) => {
                Self::Invalid(message.clone())
            }
            other => Self::Invalid(other.message().into_owned()),
        }
    }
}
