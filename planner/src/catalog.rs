//! The streams a statement may read, by name.

use std::collections::BTreeMap;

use arrow::datatypes::SchemaRef;

use crate::{Error, Result};

/// Stream names, their schemas and event-time columns.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    streams: BTreeMap<String, SchemaRef>,
    event_times: BTreeMap<String, EventTimeColumn>,
}

/// The column of a stream holding each row's event time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventTimeColumn {
    /// The column: an integer in `unit_ms` or a timestamp.
    pub column: String,
    /// Milliseconds per unit: 1 for `unixtimestamp_ms`, 1000 for `unixtimestamp_s`.
    pub unit_ms: i64,
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

    /// Declares the event-time column of stream `name`.
    pub fn set_event_time(&mut self, name: impl Into<String>, column: EventTimeColumn) {
        self.event_times.insert(name.into(), column);
    }

    /// The event-time column stream `name` declares.
    pub fn event_time(&self, name: &str) -> Option<&EventTimeColumn> {
        self.event_times.get(name)
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
