//! The streams a statement may read, by name.

use std::collections::BTreeMap;

use arrow::datatypes::SchemaRef;

use crate::{Error, Result};

/// Stream names and their schemas.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    streams: BTreeMap<String, SchemaRef>,
}

impl Catalog {
    /// An empty catalog.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds or replaces a stream.
    pub fn insert(&mut self, name: impl Into<String>, schema: SchemaRef) {
        self.streams.insert(name.into(), schema);
    }

    /// Builder form of [`Self::insert`].
    pub fn with_stream(mut self, name: impl Into<String>, schema: SchemaRef) -> Self {
        self.insert(name, schema);
        self
    }

    /// The schema of stream `name`.
    ///
    /// # Errors
    /// When no stream has that name; the message lists the streams that exist.
    pub fn schema(&self, name: &str) -> Result<&SchemaRef> {
        self.streams.get(name).ok_or_else(|| Error::UnknownStream {
            name: name.to_owned(),
            known: if self.streams.is_empty() {
                "none".to_owned()
            } else {
                self.streams.keys().cloned().collect::<Vec<_>>().join(", ")
            },
        })
    }
}
