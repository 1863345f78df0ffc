//! The builder of a column of a primitive type (integers, floats, timestamps).

use std::sync::Arc;

use arrow::array::{ArrayRef, PrimitiveArray};
use arrow::buffer::{NullBuffer, ScalarBuffer};
use arrow::datatypes::ArrowPrimitiveType;

use super::nullable::{Nullable, Slots};

/// A column of primitive type `T`.
pub(crate) type PrimitiveValues<T> = Nullable<Primitives<T>>;

/// The native values of a column of primitive type `T`.
pub(crate) struct Primitives<T: ArrowPrimitiveType>(Vec<T::Native>);

impl<T: ArrowPrimitiveType> Default for PrimitiveValues<T> {
    fn default() -> Self {
        Nullable::new(Primitives(Vec::new()))
    }
}

impl<T: ArrowPrimitiveType> PrimitiveValues<T> {
    /// Appends a non-null value.
    #[inline]
    pub(crate) fn push(&mut self, value: T::Native) {
        self.push_row(|values| values.0.push(value));
    }
}

impl<T: ArrowPrimitiveType> Slots for Primitives<T> {
    fn push_placeholder(&mut self) {
        self.0.push(T::Native::default());
    }

    fn truncate(&mut self, len: usize) {
        self.0.truncate(len);
    }

    fn finish(&mut self, rows: usize, nulls: Option<NullBuffer>) -> ArrayRef {
        // The next batch is likely as large as this one: keep room for it.
        let values = std::mem::replace(&mut self.0, Vec::with_capacity(rows));
        Arc::new(PrimitiveArray::<T>::new(ScalarBuffer::from(values), nulls))
    }
}
