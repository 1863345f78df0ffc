//! What every encoder does: rows of a result batch in, messages out.

use arrow::array::RecordBatch;

use super::json::EncodedMessages;
use crate::Result;

/// Turns result batches into messages, written into a buffer the encoder reuses.
pub trait Encoder: Send {
    /// Encodes the rows of `batch`; an empty batch gives no message.
    ///
    /// # Errors
    /// Only on a bug: every Arrow value has a written form.
    fn encode(&mut self, batch: &RecordBatch) -> Result<EncodedMessages<'_>>;
}
