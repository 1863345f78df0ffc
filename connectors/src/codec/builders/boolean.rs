//! The builder of a boolean column.

use std::sync::Arc;

use arrow::array::builder::BooleanBufferBuilder;
use arrow::array::{ArrayRef, BooleanArray};
use arrow::buffer::NullBuffer;

use super::nullable::{Nullable, Slots};

/// A boolean column.
pub(crate) type BooleanValues = Nullable<Booleans>;

/// The values of a boolean column, one bit each.
pub(crate) struct Booleans(BooleanBufferBuilder);

impl Default for BooleanValues {
    fn default() -> Self {
        Nullable::new(Booleans(BooleanBufferBuilder::new(0)))
    }
}

impl BooleanValues {
    /// Appends a non-null value.
    #[inline]
    pub(crate) fn push(&mut self, value: bool) {
        self.push_row(|values| values.0.append(value));
    }
}

impl Slots for Booleans {
    fn push_placeholder(&mut self) {
        self.0.append(false);
    }

    fn truncate(&mut self, len: usize) {
        self.0.truncate(len);
    }

    fn finish(&mut self, _: usize, nulls: Option<NullBuffer>) -> ArrayRef {
        Arc::new(BooleanArray::new(self.0.finish(), nulls))
    }
}
