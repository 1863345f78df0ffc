//! Integer arithmetic runs in 64 bits and is checked: `+`, `-` and `*` over narrower integer
//! columns would otherwise wrap around silently in their own width (an `int8` 100 + 100 is
//! -56), and 64-bit overflow would wrap too. Widened, almost nothing overflows; what still does
//! fails its row, which is reported, instead of producing a wrong number.

use std::sync::Arc;

use arrow::datatypes::DataType;
use datafusion_common::tree_node::{Transformed, TreeNode};
use datafusion_common::{DFSchema, Result};
use datafusion_expr::{BinaryExpr, Expr, ExprSchemable, Operator, cast};
use datafusion_physical_expr::PhysicalExpr;
use datafusion_physical_expr::expressions::BinaryExpr as PhysicalBinaryExpr;

fn may_overflow(op: Operator) -> bool {
    matches!(op, Operator::Plus | Operator::Minus | Operator::Multiply)
}

/// Casts the narrow integer operands of `+`, `-` and `*` in `expr` to 64 bits.
pub(crate) fn widen_integer_arithmetic(expr: Expr, schema: &DFSchema) -> Result<Expr> {
    expr.transform_up(|node| match node {
        Expr::BinaryExpr(BinaryExpr { left, op, right }) if may_overflow(op) => {
            let (left, widened_left) = widen(*left, schema)?;
            let (right, widened_right) = widen(*right, schema)?;
            let node = Expr::BinaryExpr(BinaryExpr::new(Box::new(left), op, Box::new(right)));
            Ok(if widened_left || widened_right {
                Transformed::yes(node)
            } else {
                Transformed::no(node)
            })
        }
        other => Ok(Transformed::no(other)),
    })
    .map(|transformed| transformed.data)
}

fn widen(operand: Expr, schema: &DFSchema) -> Result<(Expr, bool)> {
    let wide = match operand.get_type(schema)? {
        DataType::Int8 | DataType::Int16 | DataType::Int32 => DataType::Int64,
        DataType::UInt8 | DataType::UInt16 | DataType::UInt32 => DataType::Int64,
        _ => return Ok((operand, false)),
    };
    Ok((cast(operand, wide), true))
}

/// Makes every `+`, `-` and `*` in `expr` fail on overflow instead of wrapping.
pub(crate) fn fail_on_overflow(expr: Arc<dyn PhysicalExpr>) -> Result<Arc<dyn PhysicalExpr>> {
    expr.transform_up(|node| {
        let Some(binary) = node.downcast_ref::<PhysicalBinaryExpr>() else {
            return Ok(Transformed::no(node));
        };
        if !may_overflow(*binary.op()) {
            return Ok(Transformed::no(node));
        }
        let checked =
            PhysicalBinaryExpr::new(binary.left().clone(), *binary.op(), binary.right().clone())
                .with_fail_on_overflow(true);
        Ok(Transformed::yes(Arc::new(checked) as Arc<dyn PhysicalExpr>))
    })
    .map(|transformed| transformed.data)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Int8Array, Int64Array, RecordBatch};
    use arrow::datatypes::{DataType, Field, Schema};

    use crate::{Catalog, plan};

    fn evaluate(sql: &str, batch: &RecordBatch) -> datafusion_common::Result<String> {
        let catalog = Catalog::new().with_stream("s", batch.schema());
        let plan = plan(sql, &catalog).unwrap();
        let columns = plan.source.schema.fields().iter().map(|field| field.name());
        let indices: Vec<usize> = columns
            .map(|name| batch.schema().index_of(name).unwrap())
            .collect();
        let batch = &batch.project(&indices).unwrap();
        let crate::PlanStep::Project(project) = &plan.steps[0] else {
            panic!("a projection")
        };
        let value = project.exprs[0]
            .evaluate(batch)?
            .into_array(batch.num_rows())?;
        Ok(format!("{value:?}"))
    }

    #[test]
    fn narrow_integers_widen_and_wide_ones_fail_instead_of_wrapping() {
        let schema = Schema::new(vec![
            Field::new("small", DataType::Int8, true),
            Field::new("big", DataType::Int64, true),
        ]);
        let batch = RecordBatch::try_new(
            Arc::new(schema),
            vec![
                Arc::new(Int8Array::from(vec![100])),
                Arc::new(Int64Array::from(vec![i64::MAX])),
            ],
        )
        .unwrap();
        assert!(
            evaluate("SELECT small + small FROM s", &batch)
                .unwrap()
                .contains("200")
        );
        let error = evaluate("SELECT big * 2 FROM s", &batch).unwrap_err();
        assert!(error.to_string().contains("Overflow"), "{error}");
    }
}
