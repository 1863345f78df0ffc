//! Operand type checks run before DataFusion's coercion, so that a mismatch is reported as
//! the user wrote it ("the right operand `device` of `score + device` is Utf8") instead of
//! as a coercion failure, or worse, as a cast that fails on every row at run time.

use arrow::datatypes::DataType;
use datafusion_common::DFSchema;
use datafusion_common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion_expr::planner::ContextProvider;
use datafusion_expr::{BinaryExpr, Expr, ExprSchemable, Operator};
use datafusion_sql::planner::{PlannerContext, SqlToRel};
use datafusion_sql::sqlparser::ast::{Expr as SqlExpr, Select, SelectItem};

use crate::compiler::unqualify;
use crate::{Error, Result};

/// Checks the SELECT list and the WHERE clause of `select` over the stream's columns
/// (qualified as the statement qualifies them), before DataFusion builds a plan: its own
/// checks would report a mismatch in its words, or not at all.
///
/// Expressions that do not even plan are left for the planner to report.
pub(crate) fn check_select<S: ContextProvider>(
    planner: &SqlToRel<'_, S>,
    select: &Select,
    schema: &DFSchema,
) -> Result<()> {
    let items = select.projection.iter().filter_map(|item| match item {
        SelectItem::UnnamedExpr(expr) | SelectItem::ExprWithAlias { expr, .. } => Some(expr),
        _ => None,
    });
    for expr in items.filter_map(|expr| to_logical(planner, expr, schema)) {
        check(&expr, schema)?;
    }
    let predicate = select
        .selection
        .as_ref()
        .and_then(|expr| to_logical(planner, expr, schema));
    if let Some(predicate) = predicate {
        check(&predicate, schema)?;
        check_predicate(&predicate, schema)?;
    }
    Ok(())
}

fn to_logical<S: ContextProvider>(
    planner: &SqlToRel<'_, S>,
    expr: &SqlExpr,
    schema: &DFSchema,
) -> Option<Expr> {
    let mut context = PlannerContext::new();
    planner
        .sql_to_expr(expr.clone(), schema, &mut context)
        .ok()
        .map(unqualify)
}

/// The broad kind of a type, as far as operators care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Number,
    Text,
    Boolean,
    Time,
    Nested,
    Null,
    Other,
}

fn kind(data_type: &DataType) -> Kind {
    match data_type {
        DataType::Null => Kind::Null,
        DataType::Boolean => Kind::Boolean,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => Kind::Text,
        data_type if data_type.is_numeric() => Kind::Number,
        DataType::Timestamp(..)
        | DataType::Date32
        | DataType::Date64
        | DataType::Time32(_)
        | DataType::Time64(_)
        | DataType::Duration(_)
        | DataType::Interval(_) => Kind::Time,
        DataType::Struct(_) | DataType::List(_) | DataType::LargeList(_) | DataType::Map(..) => {
            Kind::Nested
        }
        DataType::Dictionary(_, value) => kind(value),
        _ => Kind::Other,
    }
}

/// Checks the operands of every operator in `expr`, innermost first.
fn check(expr: &Expr, schema: &DFSchema) -> Result<()> {
    let mut outcome = Ok(());
    let _ = expr.apply(|node| {
        if let Expr::BinaryExpr(binary) = node {
            outcome = check_binary(binary, schema);
            if outcome.is_err() {
                return Ok(TreeNodeRecursion::Stop);
            }
        }
        Ok(TreeNodeRecursion::Continue)
    });
    outcome
}

/// Checks that a `WHERE` clause is a condition.
fn check_predicate(predicate: &Expr, schema: &DFSchema) -> Result<()> {
    let data_type = type_of(predicate, schema)?;
    if matches!(kind(&data_type), Kind::Boolean | Kind::Null) {
        return Ok(());
    }
    Err(Error::TypeMismatch(format!(
        "WHERE needs a boolean condition, but `{predicate}` is {data_type}"
    )))
}

fn type_of(expr: &Expr, schema: &DFSchema) -> Result<DataType> {
    expr.get_type(schema)
        .map_err(|error| Error::TypeMismatch(error.message().into_owned()))
}

fn check_binary(binary: &BinaryExpr, schema: &DFSchema) -> Result<()> {
    let left = type_of(&binary.left, schema)?;
    let right = type_of(&binary.right, schema)?;
    let op = binary.op;
    let (blame_left, wanted) = match operand_rule(op) {
        Some((accepts, wanted)) if !accepts(kind(&left)) => (true, wanted),
        Some((accepts, wanted)) if !accepts(kind(&right)) => (false, wanted),
        None if is_comparison(op) && !comparable(kind(&left), kind(&right)) => {
            // Blame the side that is not a literal: `device > 5` is about `device`.
            let blame_left = !matches!(*binary.left, Expr::Literal(..));
            (blame_left, "compares values of one kind; CAST one side")
        }
        _ => return Ok(()),
    };
    let (side, operand, data_type) = if blame_left {
        ("left", &binary.left, &left)
    } else {
        ("right", &binary.right, &right)
    };
    Err(Error::TypeMismatch(format!(
        "the {side} operand `{}` of `{}` is {data_type}, but {op} {wanted}",
        operand.human_display(),
        Expr::BinaryExpr(binary.clone()).human_display(),
    )))
}

/// Which operand kinds an operator accepts, and how to say so.
type OperandRule = (fn(Kind) -> bool, &'static str);

/// The operand rule of an arithmetic or logical operator.
fn operand_rule(op: Operator) -> Option<OperandRule> {
    if op.is_numerical_operators() {
        Some((
            |kind| matches!(kind, Kind::Number | Kind::Time | Kind::Null),
            "needs numbers",
        ))
    } else if matches!(op, Operator::And | Operator::Or) {
        Some((
            |kind| matches!(kind, Kind::Boolean | Kind::Null),
            "needs booleans",
        ))
    } else {
        None
    }
}

fn is_comparison(op: Operator) -> bool {
    matches!(
        op,
        Operator::Eq
            | Operator::NotEq
            | Operator::Lt
            | Operator::LtEq
            | Operator::Gt
            | Operator::GtEq
            | Operator::IsDistinctFrom
            | Operator::IsNotDistinctFrom
    )
}

fn comparable(left: Kind, right: Kind) -> bool {
    left == right
        || matches!(left, Kind::Null | Kind::Other)
        || matches!(right, Kind::Null | Kind::Other)
        || matches!(
            (left, right),
            (Kind::Time, Kind::Text) | (Kind::Text, Kind::Time)
        )
}
