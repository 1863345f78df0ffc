//! Where each row of a variable-length column (strings, lists) ends, as the 32-bit offsets of
//! Arrow's `StringArray` and `ListArray`.

use arrow::buffer::{OffsetBuffer, ScalarBuffer};

use crate::codec::DecodeError;

/// A column outgrew what 32-bit offsets address (2 GiB of text, or 2^31 list elements).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OffsetOverflow;

impl From<OffsetOverflow> for DecodeError {
    fn from(_: OffsetOverflow) -> Self {
        DecodeError::TooLarge
    }
}

/// The end of each row, after a leading 0.
pub(crate) struct Offsets(Vec<i32>);

impl Default for Offsets {
    fn default() -> Self {
        Self(vec![0])
    }
}

impl Offsets {
    /// Ends a row at `end`.
    ///
    /// # Errors
    /// When `end` does not fit an offset; nothing is appended.
    #[inline]
    pub(crate) fn push(&mut self, end: usize) -> Result<(), OffsetOverflow> {
        let end = i32::try_from(end).map_err(|_| OffsetOverflow)?;
        self.0.push(end);
        Ok(())
    }

    /// Ends an empty row, where the last one ended.
    pub(crate) fn push_empty(&mut self) {
        // Every end was checked to fit an i32 when it was pushed.
        self.0.push(*self.0.last().unwrap_or(&0));
    }

    /// Drops every row after the first `rows`; returns where the rows kept end.
    pub(crate) fn truncate(&mut self, rows: usize) -> usize {
        self.0.truncate(rows + 1);
        self.0.last().map_or(0, |&end| end as usize)
    }

    /// The offsets as a buffer; starts again with no row, with room for as many as there were.
    pub(crate) fn finish(&mut self) -> OffsetBuffer<i32> {
        let capacity = self.0.len();
        let offsets = std::mem::replace(&mut self.0, Vec::with_capacity(capacity));
        self.0.push(0);
        OffsetBuffer::new(ScalarBuffer::from(offsets))
    }
}
