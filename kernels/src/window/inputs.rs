//! The values a windowed aggregation reads from a batch, evaluated once: group keys,
//! aggregate arguments and filters, the time of each row and the state conditions. Kept as
//! one record batch, so windows slice, filter and buffer rows with Arrow's own kernels.

use std::ops::Range;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Int64Array, RecordBatch};
use arrow::compute::{concat_batches, filter_record_batch, prep_null_mask_filter};
use arrow::datatypes::{DataType, Field, Int64Type, Schema, SchemaRef};
use datafusion_physical_expr::PhysicalExpr;

use super::spec::Aggregation;
use crate::checkpoint::{expect, tagged_batch};
use crate::{Error, Result};

/// Where each value sits among the columns of [`Inputs`].
#[derive(Debug)]
pub(super) struct Layout {
    keys: Range<usize>,
    args: Vec<Range<usize>>,
    filters: Vec<Option<usize>>,
    time: usize,
    conditions: Option<(usize, usize)>,
    /// Made from the first batch: the types do not change.
    schema: Option<SchemaRef>,
}

/// Evaluated rows of one batch (or several, concatenated).
#[derive(Debug, Clone)]
pub(super) struct Inputs {
    columns: RecordBatch,
}

impl Layout {
    pub(super) fn new(aggregation: &Aggregation, conditions: bool) -> Self {
        let keys = 0..aggregation.keys.len();
        let mut next = keys.end;
        let args = aggregation
            .aggregates
            .iter()
            .map(|aggregate| {
                let range = next..next + aggregate.expressions().len();
                next = range.end;
                range
            })
            .collect();
        let filters = aggregation
            .filters
            .iter()
            .map(|filter| {
                filter.as_ref().map(|_| {
                    next += 1;
                    next - 1
                })
            })
            .collect();
        let time = next;
        Self {
            keys,
            args,
            filters,
            time,
            conditions: conditions.then_some((time + 1, time + 2)),
            schema: None,
        }
    }

    /// Evaluates what `aggregation` reads from `batch`, with `times` as each row's time.
    pub(super) fn evaluate(
        &mut self,
        aggregation: &Aggregation,
        conditions: Option<[&Arc<dyn PhysicalExpr>; 2]>,
        batch: &RecordBatch,
        times: ArrayRef,
    ) -> Result<Inputs> {
        let rows = batch.num_rows();
        let evaluate = |expr: &Arc<dyn PhysicalExpr>| -> Result<ArrayRef> {
            Ok(expr.evaluate(batch)?.into_array(rows)?)
        };
        let mut columns = aggregation
            .keys
            .iter()
            .map(evaluate)
            .collect::<Result<Vec<_>>>()?;
        for aggregate in &aggregation.aggregates {
            for expr in aggregate.expressions() {
                columns.push(evaluate(&expr)?);
            }
        }
        for filter in aggregation.filters.iter().flatten() {
            columns.push(boolean(evaluate(filter)?)?);
        }
        columns.push(times);
        for condition in conditions.into_iter().flatten() {
            columns.push(boolean(evaluate(condition)?)?);
        }
        let schema = self
            .schema
            .get_or_insert_with(|| schema_of(&columns))
            .clone();
        Ok(Inputs {
            columns: RecordBatch::try_new(schema, columns)?,
        })
    }

    pub(super) fn keys<'a>(&self, inputs: &'a Inputs) -> &'a [ArrayRef] {
        &inputs.columns.columns()[self.keys.clone()]
    }

    pub(super) fn args<'a>(&self, inputs: &'a Inputs, aggregate: usize) -> &'a [ArrayRef] {
        &inputs.columns.columns()[self.args[aggregate].clone()]
    }

    pub(super) fn filter<'a>(
        &self,
        inputs: &'a Inputs,
        aggregate: usize,
    ) -> Option<&'a BooleanArray> {
        self.filters[aggregate].map(|index| inputs.columns.column(index).as_boolean())
    }

    /// Checks that `batch` has this layout's columns, as far as they are known without a
    /// batch: the count, the times and the booleans. Other types are checked by the first
    /// batch the restored rows are joined with.
    fn check_restored(&self, batch: &RecordBatch) -> Result<()> {
        let width = self.time + 1 + if self.conditions.is_some() { 2 } else { 0 };
        expect(
            batch.num_columns() == width,
            "kept rows with this statement's columns",
        )?;
        let booleans = self.filters.iter().flatten().copied();
        let booleans = booleans.chain(self.conditions.into_iter().flat_map(|(b, e)| [b, e]));
        for index in booleans {
            expect(
                batch.column(index).data_type() == &DataType::Boolean,
                "conditions of kept rows to be booleans",
            )?;
        }
        expect(
            batch.column(self.time).data_type() == &DataType::Int64,
            "times of kept rows in milliseconds",
        )
    }

    /// Each row's time, in epoch milliseconds.
    pub(super) fn times<'a>(&self, inputs: &'a Inputs) -> &'a [i64] {
        inputs
            .columns
            .column(self.time)
            .as_primitive::<Int64Type>()
            .values()
    }

    /// The state window's begin and emit conditions of each row.
    pub(super) fn conditions<'a>(
        &self,
        inputs: &'a Inputs,
    ) -> Option<(&'a BooleanArray, &'a BooleanArray)> {
        let (begin, emit) = self.conditions?;
        Some((
            inputs.columns.column(begin).as_boolean(),
            inputs.columns.column(emit).as_boolean(),
        ))
    }
}

impl Inputs {
    pub(super) fn len(&self) -> usize {
        self.columns.num_rows()
    }

    pub(super) fn slice(&self, offset: usize, len: usize) -> Self {
        Self {
            columns: self.columns.slice(offset, len),
        }
    }

    /// The rows where `mask` is true.
    pub(super) fn filter(&self, mask: &BooleanArray) -> Result<Self> {
        Ok(Self {
            columns: filter_record_batch(&self.columns, mask)?,
        })
    }

    /// These rows followed by `more`.
    pub(super) fn concat(&self, more: &[Self]) -> Result<Self> {
        let all = std::iter::once(&self.columns).chain(more.iter().map(|inputs| &inputs.columns));
        Ok(Self {
            columns: concat_batches(self.columns.schema_ref(), all)?,
        })
    }

    pub(super) fn memory_size(&self) -> usize {
        self.columns.get_array_memory_size()
    }

    /// The rows as a batch for a checkpoint, with `tags` in its metadata.
    pub(super) fn snapshot(&self, tags: &[(&str, i64)]) -> Result<RecordBatch> {
        let names = self
            .columns
            .schema_ref()
            .fields()
            .iter()
            .map(|f| f.name().clone());
        tagged_batch(names, self.columns.columns().to_vec(), tags)
    }

    /// The rows saved by [`Self::snapshot`], for `layout`.
    pub(super) fn restore(layout: &Layout, batch: &RecordBatch) -> Result<Self> {
        layout.check_restored(batch)?;
        Ok(Self {
            columns: RecordBatch::try_new(schema_of(batch.columns()), batch.columns().to_vec())?,
        })
    }
}

/// A predicate's result with nulls as false.
fn boolean(array: ArrayRef) -> Result<ArrayRef> {
    if array.data_type() != &DataType::Boolean {
        return Err(Error::Internal(format!(
            "a condition returned {}",
            array.data_type()
        )));
    }
    let booleans = array.as_boolean();
    if booleans.null_count() == 0 {
        return Ok(array);
    }
    Ok(Arc::new(prep_null_mask_filter(booleans)))
}

fn schema_of(columns: &[ArrayRef]) -> SchemaRef {
    let fields = columns
        .iter()
        .enumerate()
        .map(|(index, column)| Field::new(format!("c{index}"), column.data_type().clone(), true));
    Arc::new(Schema::new(fields.collect::<Vec<_>>()))
}

/// Times for `rows` rows all at `now_ms`.
pub(super) fn constant_times(now_ms: i64, rows: usize) -> ArrayRef {
    Arc::new(Int64Array::from_value(now_ms, rows))
}
