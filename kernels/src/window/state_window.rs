//! The state window (`Window::State`, `STATEWINDOW(begin, emit)` in SQL): a window opens at a
//! row where the begin condition holds and closes after the row where the emit condition
//! holds; rows outside a window are not aggregated. Its bounds are the times of its first and
//! last rows.

use arrow::array::RecordBatch;

use super::assigner::{Assigner, Context};
use super::groups::OpenWindow;
use super::inputs::Inputs;
use crate::checkpoint::expect;
use crate::{Error, Result};

pub(super) struct StateWindow {
    open: Option<OpenWindow>,
}

impl StateWindow {
    pub(super) fn new() -> Self {
        Self { open: None }
    }

    fn extend(&mut self, context: &Context<'_>, rows: &Inputs, last_time: i64) -> Result<()> {
        if let Some(window) = &mut self.open {
            window.groups.update(context.layout, rows)?;
            window.end_ms = last_time;
        }
        Ok(())
    }
}

impl Assigner for StateWindow {
    fn push(&mut self, context: &mut Context<'_>, inputs: Inputs) -> Result<()> {
        let Some((begin, emit)) = context.layout.conditions(&inputs) else {
            return Err(Error::Internal("a state window without conditions".into()));
        };
        let (begin, emit) = (begin.clone(), emit.clone());
        let times = context.layout.times(&inputs).to_vec();
        let mut segment_start = None;
        for (row, time) in times.iter().copied().enumerate() {
            if self.open.is_none() && begin.value(row) {
                self.open = Some(OpenWindow {
                    start_ms: time,
                    end_ms: time,
                    groups: context.groups()?,
                });
                segment_start = Some(row);
            }
            if self.open.is_some() && emit.value(row) {
                let start = segment_start.unwrap_or(0);
                self.extend(context, &inputs.slice(start, row + 1 - start), time)?;
                if let Some(window) = self.open.take() {
                    context.emit(window)?;
                }
                segment_start = None;
            } else if self.open.is_some() && segment_start.is_none() {
                segment_start = Some(row);
            }
        }
        if let Some(start) = segment_start {
            let last = times[times.len() - 1];
            self.extend(context, &inputs.slice(start, inputs.len() - start), last)?;
        }
        Ok(())
    }

    fn close_all(&mut self, _: &mut Context<'_>) -> Result<()> {
        self.open = None;
        Ok(())
    }

    fn memory_size(&self) -> usize {
        self.open
            .as_ref()
            .map_or(0, |window| window.groups.memory_size())
    }

    fn snapshot(&mut self, context: &Context<'_>) -> Result<Vec<RecordBatch>> {
        self.open
            .as_mut()
            .map(|window| window.snapshot(context.aggregation, &[]))
            .into_iter()
            .collect()
    }

    fn restore(&mut self, context: &Context<'_>, parts: &[RecordBatch]) -> Result<()> {
        expect(parts.len() <= 1, "at most one open state window")?;
        self.open = parts
            .first()
            .map(|part| OpenWindow::restore(context.aggregation, part))
            .transpose()?;
        Ok(())
    }
}
