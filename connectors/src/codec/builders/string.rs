//! The builder of a string column: the text of every value in one buffer, and where each ends.

use std::sync::Arc;

use arrow::array::{ArrayRef, StringArray};
use arrow::buffer::NullBuffer;

use super::nullable::{Nullable, Slots};
use super::offsets::{OffsetOverflow, Offsets};

/// A string column.
pub(crate) type StringValues = Nullable<Strings>;

/// The values of a string column: their text, and where each ends.
#[derive(Default)]
pub(crate) struct Strings {
    offsets: Offsets,
    data: Vec<u8>,
}

impl Default for StringValues {
    fn default() -> Self {
        Nullable::new(Strings::default())
    }
}

impl StringValues {
    /// Appends a non-null value.
    ///
    /// # Errors
    /// When the column's text would outgrow 2 GiB; the caller rolls the payload back.
    #[inline]
    pub(crate) fn push(&mut self, text: &str) -> Result<(), OffsetOverflow> {
        self.try_push_row(|strings| {
            strings.data.extend_from_slice(text.as_bytes());
            strings.offsets.push(strings.data.len())
        })
    }
}

impl Slots for Strings {
    fn push_placeholder(&mut self) {
        self.offsets.push_empty();
    }

    fn truncate(&mut self, len: usize) {
        let end = self.offsets.truncate(len);
        self.data.truncate(end);
    }

    fn finish(&mut self, _: usize, nulls: Option<NullBuffer>) -> ArrayRef {
        let offsets = self.offsets.finish();
        let data = std::mem::take(&mut self.data);
        // Every value was a `&str`: UTF-8.
        Arc::new(StringArray::new(offsets, data.into(), nulls))
    }
}
