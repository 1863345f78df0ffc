//! Stateful functions: `lag`, `latest`, `changed_col` and `had_changed`, each remembering
//! values from earlier rows, per partition (`OVER (PARTITION BY ...)`) or for the whole
//! stream. Rows are taken in arrival order; the result of each call becomes a new column.
//! What they remember is saved for a checkpoint by `checkpoint`.

mod checkpoint;

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch};
use arrow::datatypes::SchemaRef;
use arrow::row::{RowConverter, SortField};
use datafusion_common::ScalarValue;
use datafusion_physical_expr::PhysicalExpr;

use crate::{Error, Result};

/// What a stateful function computes.
#[derive(Debug, Clone)]
pub enum StatefulKind {
    /// `lag(x[, offset[, default[, ignore_null]]])`: `x` of `offset` rows before, else the
    /// default (the second argument, evaluated per row, when given).
    Lag {
        /// How many rows back.
        offset: usize,
        /// Whether rows where `x` is null are skipped.
        ignore_null: bool,
    },
    /// `latest(x[, default])`: the last non-null `x`, this row's included, else the default.
    Latest,
    /// `changed_col(ignore_null, x)`: `x` when it differs from the previous row's, else null.
    ChangedCol {
        /// Whether null values are ignored (neither a change nor remembered).
        ignore_null: bool,
    },
    /// `had_changed(ignore_null, x, ...)`: whether any argument differs from the previous
    /// row's.
    HadChanged {
        /// Whether null values are ignored (neither a change nor remembered).
        ignore_null: bool,
    },
}

/// One call of a stateful function.
#[derive(Debug, Clone)]
pub struct StatefulCall {
    /// The function.
    pub kind: StatefulKind,
    /// Its value arguments, over the input batches (for `lag` and `latest`, the value then
    /// the default, if given).
    pub args: Vec<Arc<dyn PhysicalExpr>>,
    /// `PARTITION BY` keys; none for one state over the whole stream.
    pub partition: Vec<Arc<dyn PhysicalExpr>>,
}

/// The calls of a statement and the schema of their output: the input's columns, then one
/// per call.
#[derive(Debug, Clone)]
pub struct StatefulFunctions {
    /// The calls, in the order of their columns.
    pub calls: Vec<StatefulCall>,
    /// The input's fields followed by one field per call.
    pub schema: SchemaRef,
}

/// What the calls remember between batches.
#[derive(Debug, Default)]
pub struct StatefulState {
    /// Per call, per partition key (in Arrow's row format).
    memory: Vec<HashMap<Box<[u8]>, Memory>>,
}

/// What one call remembers for one partition.
#[derive(Debug, Default)]
struct Memory {
    history: VecDeque<ScalarValue>,
}

impl StatefulState {
    /// `batch` with one more column per call; the state moves on by every row of it.
    ///
    /// # Errors
    /// When an argument fails on the batch's values; the state is then left as it was.
    pub fn apply(
        &mut self,
        functions: &StatefulFunctions,
        batch: &RecordBatch,
    ) -> Result<RecordBatch> {
        let rows = batch.num_rows();
        let evaluate = |exprs: &[Arc<dyn PhysicalExpr>]| -> Result<Vec<ArrayRef>> {
            exprs
                .iter()
                .map(|expr| Ok(expr.evaluate(batch)?.into_array(rows)?))
                .collect()
        };
        let mut inputs = Vec::with_capacity(functions.calls.len());
        for call in &functions.calls {
            inputs.push((
                evaluate(&call.args)?,
                partition_keys(&evaluate(&call.partition)?, rows)?,
            ));
        }
        self.memory.resize_with(functions.calls.len(), HashMap::new);
        let mut columns = batch.columns().to_vec();
        for ((call, (args, keys)), memory) in
            functions.calls.iter().zip(inputs).zip(&mut self.memory)
        {
            let mut values = Vec::with_capacity(rows);
            for (row, key) in keys.iter().enumerate() {
                let row_args = args
                    .iter()
                    .map(|arg| ScalarValue::try_from_array(arg, row))
                    .collect::<datafusion_common::Result<Vec<_>>>()?;
                // A key is copied only the first time it is seen.
                if !memory.contains_key(key) {
                    memory.insert(key.clone(), Memory::default());
                }
                let remembered = memory
                    .get_mut(key)
                    .ok_or_else(|| Error::Internal("lost a partition".into()))?;
                values.push(step(&call.kind, remembered, row_args));
            }
            let field_type = functions.schema.field(columns.len()).data_type().clone();
            columns.push(if values.is_empty() {
                arrow::array::new_empty_array(&field_type)
            } else {
                ScalarValue::iter_to_array(values)?
            });
        }
        RecordBatch::try_new(functions.schema.clone(), columns)
            .map_err(|error| Error::Internal(error.to_string()))
    }

    /// Partitions remembered, over every call.
    pub fn partitions(&self) -> usize {
        self.memory.iter().map(HashMap::len).sum()
    }
}

/// One row through one call: its result, and the memory moved on.
fn step(kind: &StatefulKind, memory: &mut Memory, args: Vec<ScalarValue>) -> ScalarValue {
    let mut args = args.into_iter();
    let value = args.next().unwrap_or(ScalarValue::Null);
    match kind {
        StatefulKind::Lag {
            offset,
            ignore_null,
        } => {
            let default = args.next().unwrap_or_else(|| null_like(&value));
            let result = match memory.history.len().checked_sub(*offset) {
                Some(index) => memory.history[index].clone(),
                None => default,
            };
            if !(*ignore_null && value.is_null()) {
                memory.history.push_back(value);
                if memory.history.len() > *offset {
                    memory.history.pop_front();
                }
            }
            result
        }
        StatefulKind::Latest => {
            let default = args.next().unwrap_or_else(|| null_like(&value));
            if !value.is_null() {
                memory.history = VecDeque::from([value]);
            }
            memory.history.front().cloned().unwrap_or(default)
        }
        StatefulKind::ChangedCol { ignore_null } => {
            if *ignore_null && value.is_null() {
                return value;
            }
            let changed = memory.history.front() != Some(&value);
            let null = null_like(&value);
            memory.history = VecDeque::from([value.clone()]);
            if changed { value } else { null }
        }
        StatefulKind::HadChanged { ignore_null } => {
            let values: Vec<ScalarValue> = std::iter::once(value).chain(args).collect();
            let first = memory.history.is_empty();
            if first {
                memory.history = values.iter().map(null_like).collect();
            }
            let mut changed = false;
            for (index, value) in values.into_iter().enumerate() {
                if *ignore_null && value.is_null() {
                    continue;
                }
                changed |= first || memory.history[index] != value;
                memory.history[index] = value;
            }
            ScalarValue::Boolean(Some(changed))
        }
    }
}

/// A null of `value`'s type.
fn null_like(value: &ScalarValue) -> ScalarValue {
    ScalarValue::try_from(value.data_type()).unwrap_or(ScalarValue::Null)
}

/// Each row's partition key in Arrow's row format; one empty key without partitions.
fn partition_keys(columns: &[ArrayRef], rows: usize) -> Result<Vec<Box<[u8]>>> {
    if columns.is_empty() {
        return Ok(vec![Box::default(); rows]);
    }
    let fields = columns
        .iter()
        .map(|column| SortField::new(column.data_type().clone()))
        .collect();
    let converted = RowConverter::new(fields)?.convert_columns(columns)?;
    Ok(converted.iter().map(|row| row.as_ref().into()).collect())
}
