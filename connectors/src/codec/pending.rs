//! The rows a decoder holds for its next batch, added a whole payload at a time: a payload
//! that fails adds none, and the columns are rolled back to the rows held before it.

use arrow::array::{ArrayRef, RecordBatch, RecordBatchOptions};
use arrow::datatypes::SchemaRef;

use super::DecodeError;
use crate::Result;

/// How many rows a decoder holds since its last flush.
#[derive(Debug, Default)]
pub(crate) struct PendingRows(usize);

impl PendingRows {
    /// The rows held.
    pub(crate) fn count(&self) -> usize {
        self.0
    }

    /// Counts the rows a payload appended if `read` (the result of appending them)
    /// succeeded; otherwise calls `roll_back` with the rows to keep and passes the error on.
    ///
    /// # Errors
    /// The error of `read`.
    #[inline]
    pub(crate) fn add(
        &mut self,
        read: Result<usize, DecodeError>,
        roll_back: impl FnOnce(usize),
    ) -> Result<usize, DecodeError> {
        match read {
            Ok(rows) => {
                self.0 += rows;
                Ok(rows)
            }
            Err(error) => {
                roll_back(self.0);
                Err(error)
            }
        }
    }

    /// The rows held as one batch of `schema`, from the `columns` they were appended to; the
    /// count starts again at zero.
    ///
    /// # Errors
    /// Only on a bug: the columns always match the schema.
    pub(crate) fn flush(
        &mut self,
        schema: &SchemaRef,
        columns: Vec<ArrayRef>,
    ) -> Result<RecordBatch> {
        let options = RecordBatchOptions::new().with_row_count(Some(std::mem::take(&mut self.0)));
        Ok(RecordBatch::try_new_with_options(
            schema.clone(),
            columns,
            &options,
        )?)
    }
}
