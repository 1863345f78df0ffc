//! The groups of one window: group keys interned to dense ids with Arrow's row format, and
//! one DataFusion `GroupsAccumulator` per aggregate updated a batch at a time; saved for a
//! checkpoint as the keys and the accumulators' intermediate state, and merged back.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, Int64Array, RecordBatch};
use arrow::compute::cast;
use arrow::row::{RowConverter, Rows, SortField};
use datafusion_expr_common::groups_accumulator::{EmitTo, GroupsAccumulator};
use datafusion_functions_aggregate_common::aggregate::groups_accumulator::GroupsAccumulatorAdapter;

use datafusion_physical_expr::aggregate::AggregateFunctionExpr;

use super::inputs::{Inputs, Layout};
use super::spec::Aggregation;
use crate::Result;
use crate::checkpoint::{columns, count, count_tag, expect, expect_types, tag, tagged_batch};

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
            .map(accumulator_for)
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

    /// The groups as one batch: the keys, then each accumulator's intermediate state, a row
    /// per group; `tags` go in its metadata. The accumulators go on from the same state.
    fn snapshot(&mut self, aggregation: &Aggregation, tags: &[(&str, i64)]) -> Result<RecordBatch> {
        let mut names = Vec::new();
        let mut columns = Vec::new();
        if !aggregation.keys.is_empty() {
            names.extend((0..aggregation.keys.len()).map(|index| format!("key{index}")));
            columns.extend(self.key_columns(aggregation)?);
        }
        let ids: Vec<usize> = (0..self.groups).collect();
        let pairs = self.accumulators.iter_mut().zip(&aggregation.aggregates);
        for (index, (accumulator, aggregate)) in pairs.enumerate() {
            // Taking the state empties an accumulator: a new one goes on from it.
            let state = accumulator.state(EmitTo::All)?;
            let mut fresh = accumulator_for(aggregate)?;
            if self.groups > 0 {
                fresh.merge_batch(&state, &ids, self.groups)?;
            }
            *accumulator = fresh;
            names.extend((0..state.len()).map(|column| format!("state{index}_{column}")));
            columns.extend(state);
        }
        tagged_batch(
            names,
            columns,
            &[tags, &[("groups", count_tag(self.groups))]].concat(),
        )
    }

    /// The groups saved by [`Self::snapshot`].
    fn restore(aggregation: &Aggregation, batch: &RecordBatch) -> Result<Self> {
        let mut groups = Self::try_new(aggregation)?;
        let rows = count(batch, "groups")?;
        if rows == 0 {
            return Ok(groups);
        }
        let keys = columns(batch, 0, aggregation.keys.len())?;
        let key_fields = &aggregation.schema.fields()[..keys.len()];
        expect_types(keys, key_fields.iter().map(|field| field.data_type()))?;
        // Every row is a group of its own: the key map is sized for all of them at once
        // rather than rehashed as it doubles (7 % of restoring 10 000 groups in the
        // `checkpoint` bench).
        groups.ids.reserve(rows);
        groups.intern(keys, rows)?;
        expect(groups.groups == rows, "one row per group")?;
        let mut next = keys.len();
        let pairs = groups.accumulators.iter_mut().zip(&aggregation.aggregates);
        for (accumulator, aggregate) in pairs {
            let fields = aggregate.state_fields()?;
            let state = columns(batch, next, fields.len())?;
            expect_types(state, fields.iter().map(|field| field.data_type()))?;
            let width = fields.len();
            accumulator.merge_batch(state, &groups.row_groups, rows)?;
            next += width;
        }
        expect(next == batch.num_columns(), "no columns beyond the state")?;
        Ok(groups)
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

impl OpenWindow {
    /// The window as one batch, its bounds and `tags` in the metadata; it stays open.
    pub(super) fn snapshot(
        &mut self,
        aggregation: &Aggregation,
        tags: &[(&str, i64)],
    ) -> Result<RecordBatch> {
        let bounds = [("start_ms", self.start_ms), ("end_ms", self.end_ms)];
        self.groups
            .snapshot(aggregation, &[&bounds[..], tags].concat())
    }

    /// The window saved by [`Self::snapshot`].
    pub(super) fn restore(aggregation: &Aggregation, batch: &RecordBatch) -> Result<Self> {
        Ok(Self {
            start_ms: tag(batch, "start_ms")?,
            end_ms: tag(batch, "end_ms")?,
            groups: Groups::restore(aggregation, batch)?,
        })
    }
}

/// A new accumulator for `aggregate`: its grouped form, or its plain one behind an adapter.
fn accumulator_for(aggregate: &Arc<AggregateFunctionExpr>) -> Result<Box<dyn GroupsAccumulator>> {
    if aggregate.groups_accumulator_supported() {
        return Ok(aggregate.create_groups_accumulator()?);
    }
    let aggregate = Arc::clone(aggregate);
    Ok(Box::new(GroupsAccumulatorAdapter::new(move || {
        aggregate.create_accumulator()
    })))
}
