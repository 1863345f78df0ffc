//! Tumbling and hopping windows: fixed-length windows aligned to the epoch, open until time
//! passes their end. A row belongs to every window that covers its time.

use std::collections::{BTreeMap, BTreeSet};

use arrow::array::{BooleanArray, RecordBatch};

use super::assigner::{Assigner, Context};
use super::groups::OpenWindow;
use super::inputs::Inputs;
use crate::Result;

/// Windows `[k * hop, k * hop + size)`, by start.
pub(super) struct Buckets {
    size_ms: i64,
    hop_ms: i64,
    open: BTreeMap<i64, OpenWindow>,
}

impl Buckets {
    pub(super) fn new(size_ms: i64, hop_ms: i64) -> Self {
        Self {
            size_ms,
            hop_ms,
            open: BTreeMap::new(),
        }
    }

    /// The starts of the windows covering `time`.
    fn starts(&self, time: i64) -> impl Iterator<Item = i64> + use<> {
        let (size, hop) = (self.size_ms, self.hop_ms);
        let last = time.div_euclid(hop) * hop;
        (0..)
            .map(move |k| last - k * hop)
            .take_while(move |start| time < start + size)
    }

    fn update(&mut self, context: &Context<'_>, start: i64, inputs: &Inputs) -> Result<()> {
        let window = match self.open.entry(start) {
            std::collections::btree_map::Entry::Occupied(entry) => entry.into_mut(),
            std::collections::btree_map::Entry::Vacant(entry) => entry.insert(OpenWindow {
                start_ms: start,
                end_ms: start + self.size_ms,
                groups: context.groups()?,
            }),
        };
        window.groups.update(context.layout, inputs)
    }
}

impl Assigner for Buckets {
    fn push(&mut self, context: &mut Context<'_>, inputs: Inputs) -> Result<()> {
        let times = context.layout.times(&inputs);
        let Some(first) = times.first().copied() else {
            return Ok(());
        };
        // Usually every row of a batch falls in the same windows: no row is copied then.
        let hop = self.hop_ms;
        let same_windows = self.size_ms % hop == 0
            && times
                .iter()
                .all(|time| time.div_euclid(hop) == first.div_euclid(hop));
        if same_windows {
            for start in self.starts(first) {
                self.update(context, start, &inputs)?;
            }
            return Ok(());
        }
        let starts: BTreeSet<i64> = times.iter().flat_map(|time| self.starts(*time)).collect();
        for start in starts {
            let end = start + self.size_ms;
            let mask: BooleanArray = times
                .iter()
                .map(|time| Some(start <= *time && *time < end))
                .collect();
            self.update(context, start, &inputs.filter(&mask)?)?;
        }
        Ok(())
    }

    fn close_until(&mut self, context: &mut Context<'_>, watermark: i64) -> Result<()> {
        while let Some(entry) = self.open.first_entry() {
            if entry.get().end_ms > watermark {
                break;
            }
            context.emit(entry.remove())?;
        }
        Ok(())
    }

    fn next_close(&self) -> Option<i64> {
        // Every window is as long: the earliest start ends first.
        self.open.first_key_value().map(|(_, window)| window.end_ms)
    }

    fn close_all(&mut self, context: &mut Context<'_>) -> Result<()> {
        self.close_until(context, i64::MAX)
    }

    fn memory_size(&self) -> usize {
        self.open
            .values()
            .map(|window| window.groups.memory_size())
            .sum()
    }

    fn snapshot(&mut self, context: &Context<'_>) -> Result<Vec<RecordBatch>> {
        self.open
            .values_mut()
            .map(|window| window.snapshot(context.aggregation, &[]))
            .collect()
    }

    fn restore(&mut self, context: &Context<'_>, parts: &[RecordBatch]) -> Result<()> {
        self.open = parts
            .iter()
            .map(|part| {
                let window = OpenWindow::restore(context.aggregation, part)?;
                Ok((window.start_ms, window))
            })
            .collect::<Result<_>>()?;
        Ok(())
    }
}
