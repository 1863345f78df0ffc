//! A column builder as its values and their null mask, appended and rolled back together.

use arrow::array::ArrayRef;
use arrow::array::builder::NullBufferBuilder;
use arrow::buffer::NullBuffer;

use super::RollbackBuilder;

/// The values of a column, one slot per row whether the row is null or not.
pub(crate) trait Slots: Send {
    /// Appends the slot under a null: a zero, an empty string, an empty list.
    fn push_placeholder(&mut self);
    /// Drops every slot after the first `len`.
    fn truncate(&mut self, len: usize);
    /// The `rows` slots as an array with `nulls`; starts again empty.
    fn finish(&mut self, rows: usize, nulls: Option<NullBuffer>) -> ArrayRef;
}

/// A column builder: the values in `S`, and which rows are null.
pub(crate) struct Nullable<S> {
    slots: S,
    nulls: NullBufferBuilder,
}

impl<S> Nullable<S> {
    /// An empty column whose values go into `slots`.
    pub(crate) fn new(slots: S) -> Self {
        Self {
            slots,
            nulls: NullBufferBuilder::new(0),
        }
    }

    /// Appends a non-null row, whose value `fill` appends to the slots.
    #[inline]
    pub(crate) fn push_row(&mut self, fill: impl FnOnce(&mut S)) {
        fill(&mut self.slots);
        self.nulls.append_non_null();
    }

    /// Appends a non-null row, whose value `fill` appends to the slots.
    ///
    /// # Errors
    /// What `fill` returns; the row is then incomplete and the caller rolls its payload back.
    #[inline]
    pub(crate) fn try_push_row<E>(
        &mut self,
        fill: impl FnOnce(&mut S) -> Result<(), E>,
    ) -> Result<(), E> {
        fill(&mut self.slots)?;
        self.nulls.append_non_null();
        Ok(())
    }
}

impl<S: Slots> RollbackBuilder for Nullable<S> {
    fn push_null(&mut self) {
        self.slots.push_placeholder();
        self.nulls.append_null();
    }

    fn len(&self) -> usize {
        self.nulls.len()
    }

    fn truncate(&mut self, len: usize) {
        self.slots.truncate(len);
        self.nulls.truncate(len);
    }

    fn finish(&mut self) -> ArrayRef {
        let rows = self.len();
        let nulls = self.nulls.finish();
        self.slots.finish(rows, nulls)
    }
}
