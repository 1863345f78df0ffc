//! The checkpoint form of the kernels' state: Arrow record batches, each carrying in its
//! schema's metadata the numbers that go with its rows (a window's bounds, a counter). A
//! batch restored from a checkpoint is checked against what reads it: one that does not fit
//! is an [`Error::Checkpoint`], never a silent empty state.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, RecordBatchOptions};
use arrow::datatypes::{DataType, Field, Schema};

use crate::{Error, Result};

/// A batch of `columns` named `names` (one per column), with `tags` in its metadata.
pub(crate) fn tagged_batch(
    names: impl IntoIterator<Item = String>,
    columns: Vec<ArrayRef>,
    tags: &[(&str, i64)],
) -> Result<RecordBatch> {
    let fields: Vec<Field> = names
        .into_iter()
        .zip(&columns)
        .map(|(name, column)| Field::new(name, column.data_type().clone(), true))
        .collect();
    let metadata: HashMap<String, String> = tags
        .iter()
        .map(|(name, value)| ((*name).to_owned(), value.to_string()))
        .collect();
    let schema = Arc::new(Schema::new_with_metadata(fields, metadata));
    let rows = columns.first().map_or(0, |column| column.len());
    let options = RecordBatchOptions::new().with_row_count(Some(rows));
    Ok(RecordBatch::try_new_with_options(
        schema, columns, &options,
    )?)
}

/// The number tagged `name` on `batch`.
///
/// # Errors
/// [`Error::Checkpoint`] when the tag is missing or not a number.
pub(crate) fn tag(batch: &RecordBatch, name: &str) -> Result<i64> {
    batch
        .schema_ref()
        .metadata()
        .get(name)
        .and_then(|value| value.parse().ok())
        .ok_or_else(|| Error::Checkpoint(format!("a state batch without its '{name}'")))
}

/// A count as a tag.
pub(crate) fn count_tag(value: usize) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// The count tagged `name` on `batch`.
///
/// # Errors
/// [`Error::Checkpoint`] when the tag is missing or not a count.
pub(crate) fn count(batch: &RecordBatch, name: &str) -> Result<usize> {
    usize::try_from(tag(batch, name)?)
        .map_err(|_| Error::Checkpoint(format!("a negative '{name}'")))
}

/// `batch`'s columns from `start` on, `count` of them.
///
/// # Errors
/// [`Error::Checkpoint`] when it has fewer.
pub(crate) fn columns(batch: &RecordBatch, start: usize, count: usize) -> Result<&[ArrayRef]> {
    batch.columns().get(start..start + count).ok_or_else(|| {
        Error::Checkpoint(format!(
            "a state batch of {} columns where {} were expected",
            batch.num_columns(),
            start + count
        ))
    })
}

/// Fails naming the first of `columns` that is not of its expected type.
pub(crate) fn expect_types<'a>(
    columns: &[ArrayRef],
    expected: impl IntoIterator<Item = &'a DataType>,
) -> Result<()> {
    for (column, expected) in columns.iter().zip(expected) {
        if column.data_type() != expected {
            return Err(Error::Checkpoint(format!(
                "a column of type {} where {expected} was expected",
                column.data_type()
            )));
        }
    }
    Ok(())
}

/// Fails with what was expected unless `condition` holds.
pub(crate) fn expect(condition: bool, what: &str) -> Result<()> {
    if condition {
        return Ok(());
    }
    Err(Error::Checkpoint(format!("expected {what}")))
}
