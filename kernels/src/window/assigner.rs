//! What every kind of window does with rows and time, and what it needs to do it.

use arrow::array::RecordBatch;

use super::groups::{Groups, OpenWindow};
use super::inputs::{Inputs, Layout};
use super::spec::Aggregation;
use crate::Result;

/// The rows and output shared by the windows of one aggregation.
pub(super) struct Context<'a> {
    pub(super) aggregation: &'a Aggregation,
    pub(super) layout: &'a Layout,
    pub(super) output: &'a mut Vec<RecordBatch>,
}

impl Context<'_> {
    /// Empty groups for a new window.
    pub(super) fn groups(&self) -> Result<Groups> {
        Groups::try_new(self.aggregation)
    }

    /// Aggregates `inputs` alone as the window `start_ms..end_ms` and emits it.
    pub(super) fn emit_rows(&mut self, inputs: &Inputs, start_ms: i64, end_ms: i64) -> Result<()> {
        let mut groups = self.groups()?;
        groups.update(self.layout, inputs)?;
        self.emit(OpenWindow {
            start_ms,
            end_ms,
            groups,
        })
    }

    /// Emits a closed window's rows, if it has any.
    pub(super) fn emit(&mut self, mut window: OpenWindow) -> Result<()> {
        let emitted = window
            .groups
            .emit(self.aggregation, window.start_ms, window.end_ms)?;
        self.output.extend(emitted);
        Ok(())
    }
}

/// One kind of window: which rows go together and when they are emitted.
pub(super) trait Assigner: Send {
    /// Takes rows whose times are set (and none late).
    fn push(&mut self, context: &mut Context<'_>, inputs: Inputs) -> Result<()>;

    /// Emits the windows that end at or before `watermark`; windows that time does not close
    /// have none.
    fn close_until(&mut self, _context: &mut Context<'_>, _watermark: i64) -> Result<()> {
        Ok(())
    }

    /// The time at which the next window ends, if one is open that time closes.
    fn next_close(&self) -> Option<i64> {
        None
    }

    /// The stream ended: emits every window that time alone would close, drops the others.
    fn close_all(&mut self, context: &mut Context<'_>) -> Result<()>;

    /// Bytes held, approximately.
    fn memory_size(&self) -> usize;

    /// The open windows and kept rows as batches, for a checkpoint; they stay as they are.
    fn snapshot(&mut self, context: &Context<'_>) -> Result<Vec<RecordBatch>>;

    /// Replaces what is held by what [`Self::snapshot`] saved.
    fn restore(&mut self, context: &Context<'_>, parts: &[RecordBatch]) -> Result<()>;
}
