//! JSON payloads to Arrow and back.
//!
//! Decoding is columnar: a hand-written scanner walks each payload once and appends the values
//! of the columns a plan reads straight into Arrow buffers, skipping every other field without
//! building it. A payload that turns out malformed or mistyped is rolled back, so it costs
//! nothing but itself. Encoding writes rows from Arrow arrays into one reused buffer.

mod columns;
mod decode;
mod encode;
mod floats;
mod scanner;
mod values;

pub use decode::{DecodeError, DecodedBatch, JsonDecoder, PayloadError};
pub use encode::{EncodedMessages, JsonEncoder, JsonFormat};

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;
