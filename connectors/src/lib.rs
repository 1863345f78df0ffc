//! Sources, sinks and the codecs between them.
//!
//! This crate turns bytes into Arrow record batches and back. It knows about wire formats and
//! transports, never about SQL: a source delivers payloads, a [`codec::json::JsonDecoder`]
//! turns a micro-batch of payloads into one `RecordBatch`, and a [`codec::json::JsonEncoder`]
//! turns result batches into messages for a sink.

mod backoff;
pub mod codec;
pub mod delivery;
pub mod error;
pub mod memory;
pub mod mqtt;
pub mod status;

pub use error::{Error, Result};
