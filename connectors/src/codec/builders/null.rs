//! The builder of a column of the null type: a count of nulls.

use std::sync::Arc;

use arrow::array::{ArrayRef, NullArray};

use super::RollbackBuilder;

/// The values of a null column: how many there are.
#[derive(Default)]
pub(crate) struct NullValues {
    len: usize,
}

impl RollbackBuilder for NullValues {
    fn push_null(&mut self) {
        self.len += 1;
    }

    fn len(&self) -> usize {
        self.len
    }

    fn truncate(&mut self, len: usize) {
        self.len = len;
    }

    fn finish(&mut self) -> ArrayRef {
        Arc::new(NullArray::new(std::mem::take(&mut self.len)))
    }
}
