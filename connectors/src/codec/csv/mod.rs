//! CSV (delimited text) payloads to Arrow and back.
//!
//! Decoding splits each payload into fields with `csv_core`, the allocation-free state machine
//! under the `csv` and `arrow-csv` crates, and appends each field's value straight into column
//! builders that roll back when a payload fails, so a bad payload costs only itself. Encoding
//! writes rows from Arrow arrays into one reused buffer, quoting a field only when it must.

mod decode;
mod dialect;
mod encode;

pub use decode::{CsvDecoder, CsvFields};
pub use dialect::CsvDialect;
pub use encode::{CsvEncoder, CsvFormat};

use super::{DecodeError, EncodedMessages};

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

impl super::Decoder for CsvDecoder {
    fn schema(&self) -> &arrow::datatypes::SchemaRef {
        CsvDecoder::schema(self)
    }

    fn push(&mut self, payload: &[u8]) -> Result<usize, DecodeError> {
        CsvDecoder::push(self, payload)
    }

    fn flush(&mut self) -> crate::Result<arrow::array::RecordBatch> {
        CsvDecoder::flush(self)
    }
}

impl super::Encoder for CsvEncoder {
    fn message_per_row(&self) -> bool {
        self.format() == CsvFormat::MessagePerRow
    }

    fn encode(&mut self, batch: &arrow::array::RecordBatch) -> crate::Result<EncodedMessages<'_>> {
        CsvEncoder::encode(self, batch)
    }
}

#[cfg(feature = "io")]
mod config;
#[cfg(feature = "io")]
pub use config::{CsvDecoderConfig, CsvEncoderConfig, CsvFormatName};
#[cfg(feature = "io")]
pub(crate) use config::{decoder, encoder};
