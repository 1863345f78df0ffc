//! Sources, sinks and the codecs between them.
//!
//! This crate turns bytes into Arrow record batches and back. It knows about wire formats and
//! transports, never about SQL: a [`connector::Source`] delivers payloads, a
//! [`codec::Decoder`] turns a micro-batch of payloads into one `RecordBatch`, an
//! [`codec::Encoder`] turns result batches into messages, and a [`connector::Sink`] sends
//! them on. [`registry::registry`] knows every kind by the `type` name users write.
//!
//! Without the `io` feature the crate is the codecs alone: no tokio, no sockets.

#[cfg(feature = "io")]
mod backoff;
pub mod clock;
pub mod codec;
#[cfg(feature = "io")]
pub mod connector;
#[cfg(feature = "io")]
pub mod delivery;
pub mod error;
#[cfg(feature = "io")]
pub mod file;
#[cfg(feature = "io")]
pub mod http;
#[cfg(feature = "io")]
pub mod kind;
#[cfg(feature = "io")]
mod log;
#[cfg(feature = "io")]
pub mod memory;
#[cfg(feature = "io")]
pub mod mqtt;
#[cfg(feature = "io")]
pub mod nats;
#[cfg(feature = "io")]
mod nop;
#[cfg(feature = "io")]
pub mod progress;
#[cfg(feature = "io")]
pub mod props;
#[cfg(feature = "io")]
pub mod registry;
#[cfg(feature = "io")]
pub mod status;
pub mod template;
#[cfg(feature = "io")]
pub mod tls;
#[cfg(feature = "io")]
pub mod topics;

pub use error::{Error, Result};
