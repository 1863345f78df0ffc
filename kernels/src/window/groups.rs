//! The groups of one window: group keys interned to dense ids with Arrow's row format, and
//! one DataFusion `GroupsAccumulator` per aggregate updated a batch at a time.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, Int64Array, RecordBatch};
use arrow::compute::cast;
use arrow::row::{RowConverter, Rows, SortField};
use datafusion_expr_common::groups_accumulator::{EmitTo, GroupsAccumulator};
use datafusion_functions_aggregate_common::aggregate::groups_accumulator::GroupsAccumulatorAdapter;

use super::inputs::{Inputs, Layout};
use super::spec::Aggregation;
use crate::Result;

/// The aggregation state of one window.
pub(super) struct Groups {
    converter: RowConverter,
    /// Each group's key, by group id.
    keys: Rows,
    ids: HashMap<Box<[u8]>, usize>,
    groups: usize,
    accumulators: Vec<Box<dyn GroupsAccumulator>>,
    /// Scratch: the group id of each row of the batch being added.
    row_groups: Vec<usize>,
}

impl std::fmt::Debug for Groups {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Groups")
            .field("groups", &self.groups)
            .finish()
    }
}

impl Groups {
    pub(super) fn try_new(aggregation: &Aggregation) -> Result<Self> {
        let fields = aggregation.schema.fields()[..aggregation.keys.len()]
            .iter()
            .map(|field| SortField::new(field.data_type().clone()))
            .collect();
        let converter = RowConverter::new(fields)?;
        let keys = converter.empty_rows(0, 0);
        let accumulators = aggregation
            .aggregates
            .iter()
            .map(|aggregate| -> Result<Box<dyn GroupsAccumulator>> {
                if aggregate.groups_accumulator_supported() {
                    return Ok(aggregate.create_groups_accumulator()?);
                }
                let aggregate = Arc::clone(aggregate);
                Ok(Box::new(GroupsAccumulatorAdapter::new(move || {
                    aggregate.create_accumulator()
                })))
            })
            .collect::<Result<_>>()?;
        Ok(Self {
            converter,
            keys,
            ids: HashMap::new(),
            groups: 0,
            accumulators,
            row_groups: Vec::new(),
        })
    }

    /// Adds `inputs` to their groups.
    pub(super) fn update(&mut self, layout: &Layout, inputs: &Inputs) -> Result<()> {
        if inputs.len() == 0 {
            return Ok(());
        }
        self.intern(layout.keys(inputs), inputs.len())?;
        for (index, accumulator) in self.accumulators.iter_mut().enumerate() {
            accumulator.update_batch(
                layout.args(inputs, index),
                &self.row_groups,
                layout.filter(inputs, index),
                self.groups,
            )?;
        }
        Ok(())
    }

    fn intern(&mut self, keys: &[ArrayRef], rows: usize) -> Result<()> {
        self.row_groups.clear();
        if keys.is_empty() {
            self.groups = 1;
            self.row_groups.resize(rows, 0);
            return Ok(());
        }
        let converted = self.converter.convert_columns(keys)?;
        for row in converted.iter() {
            let id = match self.ids.get(row.as_ref()) {
                Some(id) => *id,
                None => {
                    let id = self.groups;
                    self.ids.insert(row.as_ref().into(), id);
                    self.keys.push(row);
                    self.groups += 1;
                    id
                }
            };
            self.row_groups.push(id);
        }
        Ok(())
    }

    /// One row per group: keys, the window's bounds, the aggregates; `None` without rows.
    pub(super) fn emit(
        &mut self,
        aggregation: &Aggregation,
        start_ms: i64,
        end_ms: i64,
    ) -> Result<Option<RecordBatch>> {
        if self.groups == 0 {
            return Ok(None);
        }
        let mut columns = if aggregation.keys.is_empty() {
            Vec::new()
        } else {
            self.key_columns(aggregation)?
        };
        columns.push(Arc::new(Int64Array::from_value(start_ms, self.groups)));
        columns.push(Arc::new(Int64Array::from_value(end_ms, self.groups)));
        for accumulator in &mut self.accumulators {
            columns.push(accumulator.evaluate(EmitTo::All)?);
        }
        Ok(Some(RecordBatch::try_new(
            aggregation.schema.clone(),
            columns,
        )?))
    }

    /// The group keys as columns of the key types. The row format gives dictionary-encoded
    /// keys (`meta(topic)`) back as plain values: they are encoded again.
    fn key_columns(&self, aggregation: &Aggregation) -> Result<Vec<ArrayRef>> {
        let columns = self.converter.convert_rows(self.keys.iter())?;
        let fields = aggregation.schema.fields().iter();
        columns
            .into_iter()
            .zip(fields)
            .map(|(column, field)| {
                if column.data_type() == field.data_type() {
                    return Ok(column);
                }
                Ok(cast(&column, field.data_type())?)
            })
            .collect()
    }

    /// Bytes held, approximately.
    pub(super) fn memory_size(&self) -> usize {
        let ids =
            self.ids.capacity() * (size_of::<Box<[u8]>>() + size_of::<usize>()) + self.keys.size();
        let accumulators: usize = self.accumulators.iter().map(|a| a.size()).sum();
        ids + accumulators + self.row_groups.capacity() * size_of::<usize>()
    }
}

/// One window's groups, with their bounds.
#[derive(Debug)]
pub(super) struct OpenWindow {
    pub(super) start_ms: i64,
    pub(super) end_ms: i64,
    pub(super) groups: Groups,
}
