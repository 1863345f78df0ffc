//! JSON payloads to Arrow and back.
//!
//! Decoding is columnar: a hand-written scanner walks each payload once and appends the values
//! of the columns a plan reads straight into Arrow buffers, skipping every other field without
//! building it. A payload that turns out malformed or mistyped is rolled back, so it costs
//! nothing but itself. Encoding writes rows from Arrow arrays into one reused buffer.

mod decode;
mod encode;

pub use decode::JsonDecoder;
pub use encode::{JsonEncoder, JsonFormat};

use super::{DecodeError, EncodedMessages};

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

impl super::Decoder for JsonDecoder {
    fn schema(&self) -> &arrow::datatypes::SchemaRef {
        JsonDecoder::schema(self)
    }

    fn push(&mut self, payload: &[u8]) -> Result<usize, DecodeError> {
        JsonDecoder::push(self, payload)
    }

    fn flush(&mut self) -> crate::Result<arrow::array::RecordBatch> {
        JsonDecoder::flush(self)
    }
}

impl super::Encoder for JsonEncoder {
    fn encode(&mut self, batch: &arrow::array::RecordBatch) -> crate::Result<EncodedMessages<'_>> {
        JsonEncoder::encode(self, batch)
    }

    fn message_per_row(&self) -> bool {
        self.format() == JsonFormat::MessagePerRow
    }
}

#[cfg(feature = "io")]
mod config;
#[cfg(feature = "io")]
pub use config::JsonEncoderConfig;
#[cfg(feature = "io")]
pub(crate) use config::{decoder, encoder};
