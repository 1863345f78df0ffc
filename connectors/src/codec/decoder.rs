//! What every decoder does: payloads in, rows of a fixed schema out, a bad payload reported
//! and skipped without losing the rest of its micro-batch.

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;

use super::error::{DecodeError, PayloadError};
use super::message::Message;
use crate::Result;

/// Turns payloads into rows of a fixed schema, a micro-batch at a time.
pub trait Decoder: Send {
    /// The schema of the batches it produces.
    fn schema(&self) -> &SchemaRef;

    /// Appends the rows of one payload and returns how many; on error nothing of that payload
    /// is kept.
    ///
    /// # Errors
    /// When the payload is malformed or a value does not fit its column.
    fn push(&mut self, payload: &[u8]) -> Result<usize, DecodeError>;

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
    fn decode_batch<M: Message>(&mut self, payloads: &[M]) -> Result<DecodedBatch>;
}

impl<D: Decoder + ?Sized> DecodeBatch for D {
    fn decode_batch<M: Message>(&mut self, payloads: &[M]) -> Result<DecodedBatch> {
        let mut errors = Vec::new();
        for (index, message) in payloads.iter().enumerate() {
            if let Err(error) = self.push(message.payload()) {
                errors.push(PayloadError { index, error });
            }
        }
        Ok(DecodedBatch {
            batch: self.flush()?,
            errors,
        })
    }
}

/// The result of decoding a micro-batch: the rows of every good payload, and what was wrong
/// with the others.
#[derive(Debug)]
pub struct DecodedBatch {
    /// One row per record of every payload that decoded.
    pub batch: RecordBatch,
    /// The payloads that were skipped, in order.
    pub errors: Vec<PayloadError>,
}
