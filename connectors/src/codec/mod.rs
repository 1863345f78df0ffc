//! Codecs: stream schemas, the [`Decoder`] and [`Encoder`] roles, and the conversions
//! between message payloads and record batches.

pub mod csv;
mod decoder;
mod encoder;
mod error;
pub mod json;
mod message;
mod metadata;
pub mod schema;

pub use decoder::{DecodeBatch, DecodedBatch, Decoder};
pub use encoder::{EncodedMessages, Encoder, MessageBuffer};
pub use error::{DecodeError, PayloadError};
pub use message::Message;
pub use metadata::{MessageDecoder, MetadataColumn};
