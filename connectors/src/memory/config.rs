//! The `props` of a memory stream or sink.

use serde::{Deserialize, Serialize};

use crate::props::Props;

/// The in-process topic to read or write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemoryConfig {
    /// The in-process topic.
    pub topic: String,
}

impl Props for MemoryConfig {}
