//! Stateful functions (`lag`, `latest`, `changed_col`, `had_changed`, with `OVER (PARTITION BY
//! ...)` or without): each call is taken out of the statement and replaced by a column of
//! its own, which a first step computes row by row in arrival order; the rest of the
//! statement, WHERE included, reads that column.

use std::ops::ControlFlow;
use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion_common::DFSchema;
use datafusion_expr::planner::ContextProvider;
use datafusion_expr::{Expr, ExprSchemable};
use datafusion_sql::planner::{PlannerContext, SqlToRel};
use datafusion_sql::sqlparser::ast::{
    Expr as SqlExpr, Function, Ident, Statement, Value, WindowType, visit_expressions_mut,
};
use veloflux_kernels::stateful::{StatefulCall, StatefulFunctions, StatefulKind};

use crate::compiler::{Compiler, QueryParts, unqualify};
use crate::plan::{PipelinePlan, PlanStep, StatefulStep};
use crate::sql_ast::{call_name, is_stateful, plain_args};
use crate::{Error, Result};

/// The column a call's result is read from.
const COLUMN_PREFIX: &str = "__stateful_";

/// A call as written.
pub(crate) struct CallSyntax {
    name: String,
    args: Vec<SqlExpr>,
    partition: Vec<SqlExpr>,
    text: String,
}

/// A call with its arguments planned over the stream.
pub(crate) struct PlannedCall {
    kind: StatefulKind,
    args: Vec<Expr>,
    partition: Vec<Expr>,
    field: Field,
    text: String,
}

/// Takes every stateful call out of `statement`, replacing each by its column.
pub(crate) fn extract(statement: &mut Statement) -> Result<Vec<CallSyntax>> {
    let mut calls = Vec::new();
    let flow = visit_expressions_mut(statement, |expr| {
        let SqlExpr::Function(function) = expr else {
            return ControlFlow::Continue(());
        };
        if !is_stateful(function) {
            return ControlFlow::Continue(());
        }
        match syntax(function) {
            Ok(call) => {
                *expr = SqlExpr::Identifier(Ident::with_quote(
                    '"',
                    format!("{COLUMN_PREFIX}{}", calls.len()),
                ));
                calls.push(call);
                ControlFlow::Continue(())
            }
            Err(error) => ControlFlow::Break(error),
        }
    });
    match flow {
        ControlFlow::Break(error) => Err(error),
        ControlFlow::Continue(()) => Ok(calls),
    }
}

fn syntax(function: &Function) -> Result<CallSyntax> {
    let name = call_name(function);
    let invalid = |why: &str| Error::Invalid(format!("{name}: {why}"));
    let args = plain_args(function).ok_or_else(|| invalid("its arguments must be plain values"))?;
    let nested = args
        .iter()
        .any(|arg| arg.to_string().contains(COLUMN_PREFIX));
    if nested {
        return Err(invalid(
            "a stateful function cannot take another one's result",
        ));
    }
    let partition = match &function.over {
        None => Vec::new(),
        Some(WindowType::WindowSpec(spec))
            if spec.order_by.is_empty() && spec.window_frame.is_none() =>
        {
            spec.partition_by.clone()
        }
        Some(_) => return Err(invalid("OVER takes only PARTITION BY")),
    };
    Ok(CallSyntax {
        name,
        args,
        partition,
        text: function.to_string(),
    })
}

/// Plans the calls' arguments over the stream's columns.
pub(crate) fn plan_calls<S: ContextProvider>(
    calls: Vec<CallSyntax>,
    planner: &SqlToRel<'_, S>,
    qualified: &DFSchema,
    compiler: &Compiler,
) -> Result<Vec<PlannedCall>> {
    let to_expr = |sql: SqlExpr| {
        planner
            .sql_to_expr(sql, qualified, &mut PlannerContext::new())
            .map_err(|error| compiler.error(error))
            .and_then(|expr| compiler.prepare(unqualify(expr)))
    };
    let mut planned = Vec::with_capacity(calls.len());
    for (index, call) in calls.into_iter().enumerate() {
        let (kind, value_args, default) = kind_of(&call)?;
        let mut args = value_args
            .into_iter()
            .map(&to_expr)
            .collect::<Result<Vec<_>>>()?;
        let value_type = args[0]
            .get_type(compiler.schema())
            .map_err(|error| compiler.error(error))?;
        if let Some(default) = default {
            args.push(
                to_expr(default)?
                    .cast_to(&value_type, compiler.schema())
                    .map_err(|e| compiler.error(e))?,
            );
        }
        let partition = call
            .partition
            .into_iter()
            .map(&to_expr)
            .collect::<Result<_>>()?;
        let data_type = match kind {
            StatefulKind::HadChanged { .. } => DataType::Boolean,
            _ => value_type,
        };
        planned.push(PlannedCall {
            kind,
            args,
            partition,
            field: Field::new(format!("{COLUMN_PREFIX}{index}"), data_type, true),
            text: call.text,
        });
    }
    Ok(planned)
}

/// The function, its value arguments and its default.
fn kind_of(call: &CallSyntax) -> Result<(StatefulKind, Vec<SqlExpr>, Option<SqlExpr>)> {
    let name = call.name.as_str();
    let invalid = |usage: &str| Error::Invalid(format!("{name}: write {usage}"));
    let args = call.args.clone();
    match (name, args.as_slice()) {
        ("lag", [value, rest @ ..]) if rest.len() <= 3 => {
            let offset = match rest.first() {
                Some(offset) => positive(offset).ok_or_else(|| invalid(LAG))?,
                None => 1,
            };
            let ignore_null = match rest.get(2) {
                Some(flag) => boolean(flag).ok_or_else(|| invalid(LAG))?,
                None => false,
            };
            let kind = StatefulKind::Lag {
                offset,
                ignore_null,
            };
            Ok((kind, vec![value.clone()], rest.get(1).cloned()))
        }
        ("latest", [value, rest @ ..]) if rest.len() <= 1 => Ok((
            StatefulKind::Latest,
            vec![value.clone()],
            rest.first().cloned(),
        )),
        ("changed_col", [flag, value]) => {
            let ignore_null = boolean(flag).ok_or_else(|| invalid(CHANGED_COL))?;
            Ok((
                StatefulKind::ChangedCol { ignore_null },
                vec![value.clone()],
                None,
            ))
        }
        ("had_changed", [flag, values @ ..]) if !values.is_empty() => {
            let ignore_null = boolean(flag).ok_or_else(|| invalid(HAD_CHANGED))?;
            Ok((
                StatefulKind::HadChanged { ignore_null },
                values.to_vec(),
                None,
            ))
        }
        ("lag", _) => Err(invalid(LAG)),
        ("latest", _) => Err(invalid("latest(x[, default])")),
        ("changed_col", _) => Err(invalid(CHANGED_COL)),
        _ => Err(invalid(HAD_CHANGED)),
    }
}

const LAG: &str =
    "lag(x[, offset[, default[, ignore_null]]]) with a positive integer offset and true or false";
const CHANGED_COL: &str = "changed_col(ignore_null, x) with ignore_null true or false";
const HAD_CHANGED: &str = "had_changed(ignore_null, x, ...) with ignore_null true or false";

fn positive(expr: &SqlExpr) -> Option<usize> {
    let SqlExpr::Value(value) = expr else {
        return None;
    };
    let Value::Number(digits, _) = &value.value else {
        return None;
    };
    digits.parse::<usize>().ok().filter(|number| *number > 0)
}

fn boolean(expr: &SqlExpr) -> Option<bool> {
    let SqlExpr::Value(value) = expr else {
        return None;
    };
    match value.value {
        Value::Boolean(flag) => Some(flag),
        _ => None,
    }
}

/// The stream's schema with one column per call after its own.
pub(crate) fn extended(schema: &SchemaRef, calls: &[PlannedCall]) -> SchemaRef {
    let fields = schema.fields().iter().map(|field| field.as_ref().clone());
    let fields = fields.chain(calls.iter().map(|call| call.field.clone()));
    Arc::new(Schema::new(fields.collect::<Vec<_>>()))
}

/// Compiles a statement with stateful calls: the calls' step, then WHERE and the SELECT list
/// over the decoded columns and the calls' columns.
pub(crate) fn compile(
    stream: &Compiler,
    statement: &Compiler,
    parts: QueryParts,
    calls: Vec<PlannedCall>,
) -> Result<PipelinePlan> {
    let predicate = statement.where_clause(parts.predicate)?;
    let outputs = statement.outputs(parts.outputs)?;
    let arguments = calls
        .iter()
        .flat_map(|call| call.args.iter().chain(&call.partition));
    let scan = stream.scan(
        predicate
            .iter()
            .chain(outputs.iter().map(|(_, expr)| expr))
            .chain(arguments),
    );
    let input = stream.input_schema(&scan.schema)?;
    let with_calls = extended(&scan.schema, &calls);
    let mut physical_calls = Vec::with_capacity(calls.len());
    let mut descriptions = Vec::with_capacity(calls.len());
    for call in calls {
        let physical = |exprs: &[Expr]| -> Result<Vec<_>> {
            exprs
                .iter()
                .map(|expr| stream.physical(expr, &input))
                .collect()
        };
        physical_calls.push(StatefulCall {
            kind: call.kind,
            args: physical(&call.args)?,
            partition: physical(&call.partition)?,
        });
        descriptions.push(format!("{}: {}", call.text, call.field.data_type()));
    }
    let steps = vec![PlanStep::Stateful(StatefulStep {
        functions: Arc::new(StatefulFunctions {
            calls: physical_calls,
            schema: with_calls.clone(),
        }),
        descriptions,
    })];
    let after = statement.input_schema(&with_calls)?;
    statement.finish(scan, steps, predicate.as_ref(), &outputs, &after)
}
