//! `filter`: keeps the rows of a batch for which a predicate is true.

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::compute::filter_record_batch;
use arrow::datatypes::DataType;
use datafusion_physical_expr::PhysicalExpr;

use crate::{Error, Result};

/// The rows of `batch` where `predicate` is true; null counts as false.
///
/// A batch where every row passes is returned as it is, without copying.
///
/// # Errors
/// When the predicate fails on the batch's values, or does not return booleans.
pub fn filter(batch: &RecordBatch, predicate: &dyn PhysicalExpr) -> Result<RecordBatch> {
    let mask = predicate.evaluate(batch)?.into_array(batch.num_rows())?;
    if mask.data_type() != &DataType::Boolean {
        return Err(Error::Internal(format!(
            "a filter predicate returned {}",
            mask.data_type()
        )));
    }
    let mask = mask.as_boolean();
    if mask.null_count() == 0 && mask.true_count() == batch.num_rows() {
        return Ok(batch.clone());
    }
    Ok(filter_record_batch(batch, mask)?)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Float64Array, Int64Array};
    use arrow::datatypes::{Field, Schema};
    use arrow::util::pretty::pretty_format_batches;
    use datafusion_common::ScalarValue;
    use datafusion_expr::Operator;
    use datafusion_physical_expr::expressions::{BinaryExpr, Column, Literal};

    use super::*;

    fn batch() -> RecordBatch {
        let schema = Schema::new(vec![
            Field::new("id", DataType::Int64, true),
            Field::new("score", DataType::Float64, true),
        ]);
        RecordBatch::try_new(
            Arc::new(schema),
            vec![
                Arc::new(Int64Array::from(vec![1, 2, 3, 4])),
                Arc::new(Float64Array::from(vec![
                    Some(-1.0),
                    Some(2.5),
                    None,
                    Some(7.0),
                ])),
            ],
        )
        .unwrap()
    }

    fn score_above(threshold: f64) -> Arc<dyn PhysicalExpr> {
        Arc::new(BinaryExpr::new(
            Arc::new(Column::new("score", 1)),
            Operator::Gt,
            Arc::new(Literal::new(ScalarValue::Float64(Some(threshold)))),
        ))
    }

    #[test]
    fn keeps_rows_where_the_predicate_is_true_and_drops_nulls() {
        let cases = [
            (
                0.0,
                vec![
                    "+----+-------+",
                    "| id | score |",
                    "+----+-------+",
                    "| 2  | 2.5   |",
                    "| 4  | 7.0   |",
                    "+----+-------+",
                ],
            ),
            (
                100.0,
                vec![
                    "+----+-------+",
                    "| id | score |",
                    "+----+-------+",
                    "+----+-------+",
                ],
            ),
        ];
        for (threshold, expected) in cases {
            let filtered = filter(&batch(), score_above(threshold).as_ref()).unwrap();
            assert_eq!(
                pretty_format_batches(&[filtered]).unwrap().to_string(),
                expected.join("\n")
            );
        }
    }

    #[test]
    fn a_batch_that_passes_whole_is_not_copied() {
        let input = batch().slice(1, 1);
        let filtered = filter(&input, score_above(0.0).as_ref()).unwrap();
        assert!(Arc::ptr_eq(filtered.column(1), input.column(1)));
    }

    #[test]
    fn a_predicate_that_is_not_boolean_is_a_bug() {
        let error = filter(&batch(), &Column::new("score", 1)).unwrap_err();
        assert_eq!(
            error.to_string(),
            "internal error: a filter predicate returned Float64"
        );
    }
}
