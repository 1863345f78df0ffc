//! What every decoder does: payloads in, rows of a fixed schema out, a bad payload reported
//! and skipped without losing the rest of its micro-batch.

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;

use super::json::{DecodeError, DecodedBatch, PayloadError};
use crate::Result;

/// Turns payloads into rows of a fixed schema, a micro-batch at a time.
pub trait Decoder: Send {
    /// The schema of the batches it produces.
    fn schema(&self) -> &SchemaRef;

    /// Appends the rows of one payload; on error nothing of that payload is kept.
    ///
    /// # Errors
    /// When the payload is malformed or a value does not fit its column.
    fn push(&mut self, payload: &[u8]) -> Result<(), DecodeError>;

    /// The rows appended since the last flush, as one batch.
    ///
    /// # Errors
    /// Only on a bug.
    fn flush(&mut self) -> Result<RecordBatch>;
}

/// Decoding a whole micro-batch, for every [`Decoder`].
pub trait DecodeBatch {
    /// Decodes `payloads` into one batch, skipping and reporting the bad ones.
    ///
    /// # Errors
    /// Only on a bug; bad payloads are reported in [`DecodedBatch::errors`].
    fn decode_batch<P: AsRef<[u8]>>(&mut self, payloads: &[P]) -> Result<DecodedBatch>;
}

impl<D: Decoder + ?Sized> DecodeBatch for D {
    fn decode_batch<P: AsRef<[u8]>>(&mut self, payloads: &[P]) -> Result<DecodedBatch> {
        let mut errors = Vec::new();
        for (index, payload) in payloads.iter().enumerate() {
            if let Err(error) = self.push(payload.as_ref()) {
                errors.push(PayloadError { index, error });
            }
        }
        Ok(DecodedBatch {
            batch: self.flush()?,
            errors,
        })
    }
}
