//! Codecs: stream schemas, the [`Decoder`] and [`Encoder`] roles, and the conversions
//! between message payloads and record batches.

mod builders;
pub mod csv;
mod decoder;
mod encoder;
mod error;
mod interned;
pub mod json;
mod message;
mod metadata;
mod pending;
pub mod schema;
#[cfg(test)]
mod test_support;
mod value_writers;

pub use decoder::{DecodeBatch, DecodedBatch, Decoder};
pub use encoder::{EncodedMessages, Encoder, MessageBuffer};
pub use error::{DecodeError, PayloadError};
pub use message::Message;
pub use metadata::{MessageDecoder, MetadataColumn};
