//! Sliding windows: every row emits the window of the `size` milliseconds that end with it,
//! over the rows seen in that span (kept in a buffer until they are older than `size`).

use arrow::array::BooleanArray;

use super::assigner::{Assigner, Context};
use super::inputs::Inputs;
use crate::Result;

pub(super) struct Sliding {
    size_ms: i64,
    /// The rows of the last `size_ms`.
    recent: Option<Inputs>,
}

impl Sliding {
    pub(super) fn new(size_ms: i64) -> Self {
        Self {
            size_ms,
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
        let keep: BooleanArray = times
            .iter()
            .map(|time| Some(*time > newest - self.size_ms))
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
}
