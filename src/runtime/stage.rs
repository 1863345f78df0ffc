//! The stages of a pipeline, as status, stats and metric labels name them. A sink's name
//! is its own (validated unique, never a reserved stage name), so a stage is told by its
//! kind, not by comparing names.

use serde::Serialize;
use utoipa::ToSchema;

/// One stage of a running pipeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stage {
    /// Receiving and decoding.
    Source,
    /// The compiled statement.
    Plan,
    /// A sink, by its name (its id, or `sink_<index>`).
    Sink(String),
}

/// What kind of stage a [`Stage`] is, as status reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum StageKind {
    /// Receiving and decoding.
    Source,
    /// The compiled statement.
    Plan,
    /// A sink.
    Sink,
}

impl Stage {
    /// The stage's name: `source`, `plan` or the sink's.
    pub fn name(&self) -> &str {
        match self {
            Self::Source => "source",
            Self::Plan => "plan",
            Self::Sink(name) => name,
        }
    }

    /// What kind of stage it is.
    pub fn kind(&self) -> StageKind {
        match self {
            Self::Source => StageKind::Source,
            Self::Plan => StageKind::Plan,
            Self::Sink(_) => StageKind::Sink,
        }
    }
}
