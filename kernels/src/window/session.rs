//! Session windows: rows closer than `timeout` to the previous one form one window, which is
//! cut when it has lasted `max`. A window ends at its last row plus `timeout`, or at its start
//! plus `max`, whichever comes first.

use arrow::array::RecordBatch;

use super::assigner::{Assigner, Context};
use super::groups::OpenWindow;
use super::inputs::Inputs;
use crate::Result;
use crate::checkpoint::{expect, tag};

pub(super) struct Session {
    max_ms: i64,
    timeout_ms: i64,
    open: Option<(OpenWindow, i64)>,
}

impl Session {
    pub(super) fn new(max_ms: i64, timeout_ms: i64) -> Self {
        Self {
            max_ms,
            timeout_ms,
            open: None,
        }
    }

    /// When the open window ends if no row comes: the earlier of its timeout and its maximum.
    fn end_of(&self, window: &OpenWindow, last: i64) -> i64 {
        (last + self.timeout_ms).min(window.start_ms + self.max_ms)
    }

    fn close(&mut self, context: &mut Context<'_>) -> Result<()> {
        if let Some((mut window, last)) = self.open.take() {
            window.end_ms = self.end_of(&window, last);
            context.emit(window)?;
        }
        Ok(())
    }
}

impl Assigner for Session {
    fn push(&mut self, context: &mut Context<'_>, inputs: Inputs) -> Result<()> {
        let times = context.layout.times(&inputs).to_vec();
        let mut segment_start = 0;
        for (row, time) in times.iter().copied().enumerate() {
            let ends_here = self
                .open
                .as_ref()
                .is_some_and(|(window, last)| time >= self.end_of(window, *last));
            if ends_here {
                self.extend(context, &inputs.slice(segment_start, row - segment_start))?;
                self.close(context)?;
                segment_start = row;
            }
            match &mut self.open {
                Some((_, last)) => *last = (*last).max(time),
                None => {
                    let window = OpenWindow {
                        start_ms: time,
                        end_ms: time,
                        groups: context.groups()?,
                    };
                    self.open = Some((window, time));
                }
            }
        }
        self.extend(
            context,
            &inputs.slice(segment_start, times.len() - segment_start),
        )
    }

    fn close_until(&mut self, context: &mut Context<'_>, watermark: i64) -> Result<()> {
        if self.next_close().is_some_and(|end| end <= watermark) {
            self.close(context)?;
        }
        Ok(())
    }

    fn next_close(&self) -> Option<i64> {
        let (window, last) = self.open.as_ref()?;
        Some(self.end_of(window, *last))
    }

    fn close_all(&mut self, context: &mut Context<'_>) -> Result<()> {
        self.close(context)
    }

    fn memory_size(&self) -> usize {
        self.open
            .as_ref()
            .map_or(0, |(window, _)| window.groups.memory_size())
    }

    fn snapshot(&mut self, context: &Context<'_>) -> Result<Vec<RecordBatch>> {
        self.open
            .as_mut()
            .map(|(window, last)| window.snapshot(context.aggregation, &[("last_ms", *last)]))
            .into_iter()
            .collect()
    }

    fn restore(&mut self, context: &Context<'_>, parts: &[RecordBatch]) -> Result<()> {
        expect(parts.len() <= 1, "at most one open session")?;
        self.open = parts
            .first()
            .map(|part| {
                let window = OpenWindow::restore(context.aggregation, part)?;
                Ok::<_, crate::Error>((window, tag(part, "last_ms")?))
            })
            .transpose()?;
        Ok(())
    }
}

impl Session {
    /// Adds rows to the open window.
    fn extend(&mut self, context: &Context<'_>, rows: &Inputs) -> Result<()> {
        match &mut self.open {
            Some((window, _)) => window.groups.update(context.layout, rows),
            None => Ok(()),
        }
    }
}
