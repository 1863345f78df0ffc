//! The checkpoint form of what stateful functions remember: per call, one batch with a row
//! per partition: its key (Arrow's row format), how many values it remembers, and those
//! values, the first in column `value0`, the second in `value1`, and so on.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray, BinaryArray, RecordBatch, UInt32Array};
use arrow::datatypes::{DataType, UInt32Type};
use datafusion_common::ScalarValue;

use super::{Memory, StatefulFunctions, StatefulState};
use crate::checkpoint::{columns, expect, tagged_batch};
use crate::{Error, Result};

impl StatefulState {
    /// What every call remembers, one batch per call, for a checkpoint.
    ///
    /// # Errors
    /// Only on a bug.
    pub fn snapshot(&self, functions: &StatefulFunctions) -> Result<Vec<RecordBatch>> {
        (0..functions.calls.len())
            .map(|call| match self.memory.get(call) {
                Some(memory) => call_snapshot(memory),
                None => call_snapshot(&HashMap::new()),
            })
            .collect()
    }

    /// Replaces what is remembered by what [`Self::snapshot`] saved.
    ///
    /// # Errors
    /// [`Error::Checkpoint`] when `parts` do not fit `functions`.
    pub fn restore(&mut self, functions: &StatefulFunctions, parts: &[RecordBatch]) -> Result<()> {
        expect(parts.len() == functions.calls.len(), "one batch per call")?;
        self.memory = parts.iter().map(call_restore).collect::<Result<_>>()?;
        Ok(())
    }
}

fn call_snapshot(memory: &HashMap<Box<[u8]>, Memory>) -> Result<RecordBatch> {
    let keys = BinaryArray::from_iter_values(memory.keys());
    let lengths: UInt32Array = memory
        .values()
        .map(|remembered| u32::try_from(remembered.history.len()).unwrap_or(u32::MAX))
        .collect();
    let slots = memory
        .values()
        .map(|remembered| remembered.history.len())
        .max()
        .unwrap_or(0);
    let mut names = vec!["key".to_owned(), "values".to_owned()];
    let mut columns: Vec<ArrayRef> = vec![Arc::new(keys), Arc::new(lengths)];
    for slot in 0..slots {
        names.push(format!("value{slot}"));
        columns.push(slot_column(memory, slot)?);
    }
    tagged_batch(names, columns, &[])
}

/// The `slot`th remembered value of every partition, null where a partition has fewer.
fn slot_column(memory: &HashMap<Box<[u8]>, Memory>, slot: usize) -> Result<ArrayRef> {
    let data_type = memory
        .values()
        .filter_map(|remembered| remembered.history.get(slot))
        .map(ScalarValue::data_type)
        .find(|data_type| *data_type != DataType::Null)
        .unwrap_or(DataType::Null);
    let null = ScalarValue::try_from(&data_type)?;
    let values = memory
        .values()
        .map(|remembered| match remembered.history.get(slot) {
            Some(value) if !value.is_null() => value.clone(),
            _ => null.clone(),
        });
    Ok(ScalarValue::iter_to_array(values)?)
}

fn call_restore(part: &RecordBatch) -> Result<HashMap<Box<[u8]>, Memory>> {
    let [keys, lengths] = columns(part, 0, 2)? else {
        return Err(Error::Checkpoint("a call's memory without keys".into()));
    };
    let (Some(keys), Some(lengths)) = (
        keys.as_binary_opt::<i32>(),
        lengths.as_primitive_opt::<UInt32Type>(),
    ) else {
        return Err(Error::Checkpoint("a call's memory of other types".into()));
    };
    let slots = &part.columns()[2..];
    (0..part.num_rows())
        .map(|row| {
            let history = (0..lengths.value(row) as usize)
                .map(|slot| {
                    let column = slots.get(slot).ok_or_else(|| {
                        Error::Checkpoint("a partition with more values than columns".into())
                    })?;
                    Ok(ScalarValue::try_from_array(column, row)?)
                })
                .collect::<Result<VecDeque<_>>>()?;
            Ok((keys.value(row).into(), Memory { history }))
        })
        .collect()
}
