//! Count windows: every `every` rows, the window of the last `size` rows. A window that never
//! fills is not emitted. Its bounds are the times of its first and last rows.

use arrow::array::RecordBatch;

use super::assigner::{Assigner, Context};
use super::inputs::Inputs;
use crate::Result;
use crate::checkpoint::{count, count_tag, expect};

pub(super) struct Count {
    size: usize,
    every: usize,
    /// The last `size` rows at most.
    recent: Option<Inputs>,
    /// Rows since the last window was emitted.
    since_emit: usize,
}

impl Count {
    pub(super) fn new(size: usize, every: usize) -> Self {
        Self {
            size,
            every,
            recent: None,
            since_emit: 0,
        }
    }

    fn append(&mut self, rows: Inputs) -> Result<Inputs> {
        let all = match self.recent.take() {
            Some(recent) => recent.concat(&[rows])?,
            None => rows,
        };
        let excess = all.len().saturating_sub(self.size);
        Ok(all.slice(excess, all.len() - excess))
    }
}

impl Assigner for Count {
    fn push(&mut self, context: &mut Context<'_>, inputs: Inputs) -> Result<()> {
        let mut offset = 0;
        while offset < inputs.len() {
            let take = (self.every - self.since_emit).min(inputs.len() - offset);
            let recent = self.append(inputs.slice(offset, take))?;
            offset += take;
            self.since_emit += take;
            if self.since_emit == self.every {
                self.since_emit = 0;
                if recent.len() == self.size {
                    let times = context.layout.times(&recent);
                    let (start, end) = (times[0], times[times.len() - 1]);
                    context.emit_rows(&recent, start, end)?;
                }
            }
            self.recent = Some(recent);
        }
        Ok(())
    }

    fn close_all(&mut self, _: &mut Context<'_>) -> Result<()> {
        self.recent = None;
        Ok(())
    }

    fn memory_size(&self) -> usize {
        self.recent.as_ref().map_or(0, Inputs::memory_size)
    }

    fn snapshot(&mut self, _: &Context<'_>) -> Result<Vec<RecordBatch>> {
        let since_emit = count_tag(self.since_emit);
        self.recent
            .iter()
            .map(|recent| recent.snapshot(&[("since_emit", since_emit)]))
            .collect()
    }

    fn restore(&mut self, context: &Context<'_>, parts: &[RecordBatch]) -> Result<()> {
        expect(parts.len() <= 1, "one batch of kept rows")?;
        self.since_emit = match parts.first() {
            Some(part) => count(part, "since_emit")?,
            None => 0,
        };
        expect(self.since_emit < self.every, "a count within the window's")?;
        self.recent = parts
            .first()
            .map(|part| Inputs::restore(context.layout, part))
            .transpose()?;
        Ok(())
    }
}
