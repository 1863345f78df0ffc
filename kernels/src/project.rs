//! `project`: computes the output columns of a batch.

use std::sync::Arc;

use arrow::array::{RecordBatch, RecordBatchOptions};
use arrow::datatypes::SchemaRef;
use datafusion_physical_expr::PhysicalExpr;

use crate::Result;

/// Evaluates `exprs` over `batch` into a batch of `schema`. A bare column reference costs a
/// reference-count increment: its array is shared, not copied.
///
/// # Errors
/// When an expression fails on the batch's values.
pub fn project(
    batch: &RecordBatch,
    exprs: &[Arc<dyn PhysicalExpr>],
    schema: &SchemaRef,
) -> Result<RecordBatch> {
    let rows = batch.num_rows();
    let columns = exprs
        .iter()
        .map(|expr| Ok(expr.evaluate(batch)?.into_array(rows)?))
        .collect::<Result<Vec<_>>>()?;
    let options = RecordBatchOptions::new().with_row_count(Some(rows));
    Ok(RecordBatch::try_new_with_options(
        schema.clone(),
        columns,
        &options,
    )?)
}

#[cfg(test)]
mod tests {
    use arrow::array::{ArrayRef, Int64Array};
    use arrow::datatypes::{DataType, Field, Schema};
    use arrow::util::pretty::pretty_format_batches;
    use datafusion_common::ScalarValue;
    use datafusion_expr::Operator;
    use datafusion_physical_expr::expressions::{BinaryExpr, Column, Literal};

    use super::*;

    fn batch() -> RecordBatch {
        let schema = Schema::new(vec![Field::new("id", DataType::Int64, true)]);
        let ids: ArrayRef = Arc::new(Int64Array::from(vec![1, 2, 3]));
        RecordBatch::try_new(Arc::new(schema), vec![ids]).unwrap()
    }

    fn output_schema(names: &[&str]) -> SchemaRef {
        let fields = names
            .iter()
            .map(|name| Field::new(*name, DataType::Int64, true));
        Arc::new(Schema::new(fields.collect::<Vec<_>>()))
    }

    #[test]
    fn computes_each_output_column() {
        let doubled: Arc<dyn PhysicalExpr> = Arc::new(BinaryExpr::new(
            Arc::new(Column::new("id", 0)),
            Operator::Multiply,
            Arc::new(Literal::new(ScalarValue::Int64(Some(2)))),
        ));
        let constant: Arc<dyn PhysicalExpr> = Arc::new(Literal::new(ScalarValue::Int64(Some(7))));
        let exprs = [Arc::new(Column::new("id", 0)) as _, doubled, constant];
        let projected =
            project(&batch(), &exprs, &output_schema(&["id", "twice", "seven"])).unwrap();
        assert_eq!(
            pretty_format_batches(&[projected]).unwrap().to_string(),
            "\
+----+-------+-------+
| id | twice | seven |
+----+-------+-------+
| 1  | 2     | 7     |
| 2  | 4     | 7     |
| 3  | 6     | 7     |
+----+-------+-------+"
        );
    }

    #[test]
    fn a_bare_column_is_shared_not_copied() {
        let input = batch();
        let exprs = [Arc::new(Column::new("id", 0)) as Arc<dyn PhysicalExpr>];
        let projected = project(&input, &exprs, &output_schema(&["renamed"])).unwrap();
        assert!(Arc::ptr_eq(projected.column(0), input.column(0)));
    }

    #[test]
    fn no_columns_keeps_the_row_count() {
        let projected = project(&batch(), &[], &output_schema(&[])).unwrap();
        assert_eq!(projected.num_rows(), 3);
    }
}
