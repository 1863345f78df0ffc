//! Codecs: stream schemas, the [`Decoder`] and [`Encoder`] roles, and the conversions
//! between message payloads and record batches.

mod decoder;
mod encoder;
pub mod json;
pub mod schema;

pub use decoder::{DecodeBatch, Decoder};
pub use encoder::Encoder;
