//! Sliding windows: every row emits the window of the `size` milliseconds that end with it,
//! over the rows seen in that span. Rows are kept until no row on time could reach them: older
//! than `size` before the watermark (the latest time minus the late tolerance).

use arrow::array::{BooleanArray, RecordBatch};

use super::assigner::{Assigner, Context};
use super::inputs::Inputs;
use crate::Result;
use crate::checkpoint::expect;

pub(super) struct Sliding {
    size_ms: i64,
    tolerance_ms: i64,
    /// The rows of the last `size_ms`.
    recent: Option<Inputs>,
}

impl Sliding {
    pub(super) fn new(size_ms: i64, tolerance_ms: i64) -> Self {
        Self {
            size_ms,
            tolerance_ms,
            recent: None,
        }
    }
}

impl Assigner for Sliding {
    fn push(&mut self, context: &mut Context<'_>, inputs: Inputs) -> Result<()> {
        let all = match &self.recent {
            Some(recent) => recent.concat(std::slice::from_ref(&inputs))?,
            None => inputs.clone(),
        };
        let before = all.len() - inputs.len();
        let times = context.layout.times(&all).to_vec();
        for row in before..all.len() {
            let end = times[row];
            let start = end - self.size_ms;
            let seen = all.slice(0, row + 1);
            let mask: BooleanArray = times[..=row]
                .iter()
                .map(|time| Some(start < *time && *time <= end))
                .collect();
            context.emit_rows(&seen.filter(&mask)?, start, end)?;
        }
        let newest = times.iter().copied().max().unwrap_or(i64::MIN);
        let oldest_reachable = newest.saturating_sub(self.tolerance_ms + self.size_ms);
        let keep: BooleanArray = times
            .iter()
            .map(|time| Some(*time > oldest_reachable))
            .collect();
        self.recent = Some(all.filter(&keep)?);
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
        self.recent
            .iter()
            .map(|recent| recent.snapshot(&[]))
            .collect()
    }

    fn restore(&mut self, context: &Context<'_>, parts: &[RecordBatch]) -> Result<()> {
        expect(parts.len() <= 1, "one batch of kept rows")?;
        self.recent = parts
            .first()
            .map(|part| Inputs::restore(context.layout, part))
            .transpose()?;
        Ok(())
    }
}
