//! Windowed statements: `GROUP BY <window>` becomes an aggregate step between the `WHERE`
//! filter, which sees input rows, and the `HAVING` filter and SELECT list, which see one row
//! per group and window.

use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion_common::{Column, DFSchema};
use datafusion_expr::Expr;
use datafusion_expr::physical_planning_context::PhysicalPlanningContext;
use datafusion_expr::planner::ContextProvider;
use datafusion_physical_expr::aggregate::{LoweredAggregate, LoweredAggregateBuilder};
use datafusion_sql::planner::{PlannerContext, SqlToRel};
use datafusion_sql::sqlparser::ast::Expr as SqlExpr;
use veloflux_kernels::window::{Aggregation, Window, WindowTime};

use crate::compiler::{AggregateParts, Compiler, QueryParts, unqualify};
use crate::function_names::{WINDOW_END, WINDOW_START};
use crate::plan::{AggregateStep, PipelinePlan, PlanOptions, PlanStep};
use crate::window_clause::WindowClause;
use crate::{Catalog, Error, Result};

/// A window with its conditions planned.
pub(crate) enum PlannedWindow {
    Plain(Window),
    State { begin: Expr, emit: Expr },
}

/// Plans the state window's conditions over the stream's columns.
pub(crate) fn plan_window<S: ContextProvider>(
    clause: WindowClause,
    planner: &SqlToRel<'_, S>,
    schema: &DFSchema,
    compiler: &Compiler,
) -> Result<PlannedWindow> {
    match clause {
        WindowClause::Plain(window) => Ok(PlannedWindow::Plain(window)),
        WindowClause::State { begin, emit } => {
            let plan = |condition: Box<SqlExpr>| {
                planner
                    .sql_to_expr(*condition, schema, &mut PlannerContext::new())
                    .map_err(|error| compiler.error(error))
                    .and_then(|expr| compiler.prepare(unqualify(expr)))
            };
            Ok(PlannedWindow::State {
                begin: plan(begin)?,
                emit: plan(emit)?,
            })
        }
    }
}

/// Compiles a windowed statement.
pub(crate) fn compile(
    compiler: &Compiler,
    parts: QueryParts,
    aggregate: AggregateParts,
    window: PlannedWindow,
    (options, catalog): (&PlanOptions, &Catalog),
) -> Result<PipelinePlan> {
    let predicate = compiler.where_clause(parts.predicate)?;
    let key_count = aggregate
        .group_expr
        .len()
        .checked_sub(2)
        .ok_or_else(lost_bounds)?;
    let keys = aggregate.group_expr[..key_count]
        .iter()
        .map(|key| compiler.prepare(unqualify(key.clone())))
        .collect::<Result<Vec<_>>>()?;
    if !aggregate.group_expr[key_count..]
        .iter()
        .zip([WINDOW_START, WINDOW_END])
        .all(|(expr, name)| is_call(expr, name))
    {
        return Err(lost_bounds());
    }
    let calls = aggregate
        .aggr_expr
        .iter()
        .map(|call| compiler.prepare(unqualify(call.clone())))
        .collect::<Result<Vec<_>>>()?;
    let event_time = event_time_column(compiler, options, catalog)?;
    let conditions = match &window {
        PlannedWindow::State { begin, emit } => vec![begin, emit],
        PlannedWindow::Plain(_) => Vec::new(),
    };
    let scan = compiler.scan(
        predicate
            .iter()
            .chain(&keys)
            .chain(&calls)
            .chain(conditions)
            .chain(event_time.iter().map(|(column, _, _)| column)),
    );
    let input = compiler.input_schema(&scan.schema)?;
    let mut steps = Vec::new();
    if let Some(predicate) = &predicate {
        steps.push(PlanStep::Filter(compiler.filter(predicate, &input)?));
    }
    let names: Vec<&String> = aggregate
        .schema
        .fields()
        .iter()
        .map(|field| field.name())
        .collect();
    let lowering = Lowering {
        compiler,
        input: &input,
        arrow_input: &scan.schema,
    };
    let step = lowering.aggregate_step(&keys, &calls, &names, window, event_time)?;
    let output = step.aggregation.schema.clone();
    steps.push(PlanStep::Aggregate(step));
    let post = Compiler::try_new(compiler.stream(), output.clone())?;
    let post_input = post.input_schema(&output)?;
    let having = post.where_clause(aggregate.having)?;
    let outputs = post.outputs(parts.outputs)?;
    post.finish(scan, steps, having.as_ref(), &outputs, &post_input)
}

/// The event-time column, when the options ask for event time.
fn event_time_column(
    compiler: &Compiler,
    options: &PlanOptions,
    catalog: &Catalog,
) -> Result<Option<(Expr, i64, i64)>> {
    if !options.event_time {
        return Ok(None);
    }
    let column = catalog.event_time(compiler.stream()).ok_or_else(|| {
        Error::Invalid(format!(
            "event time is enabled but stream '{}' declares no eventtime column",
            compiler.stream()
        ))
    })?;
    let expr = Expr::Column(Column::new_unqualified(&column.column));
    Ok(Some((expr, column.unit_ms, options.late_tolerance_ms)))
}

fn lost_bounds() -> Error {
    Error::Internal("the window's bounds are not the last group keys".into())
}

fn is_call(expr: &Expr, name: &str) -> bool {
    matches!(expr, Expr::ScalarFunction(call) if call.name() == name)
}

/// Logical to physical, over the pruned input.
struct Lowering<'a> {
    compiler: &'a Compiler,
    input: &'a DFSchema,
    arrow_input: &'a SchemaRef,
}

impl Lowering<'_> {
    fn aggregate_step(
        &self,
        keys: &[Expr],
        calls: &[Expr],
        names: &[&String],
        window: PlannedWindow,
        event_time: Option<(Expr, i64, i64)>,
    ) -> Result<AggregateStep> {
        let mut fields = Vec::new();
        let mut physical_keys = Vec::new();
        for (key, name) in keys.iter().zip(names) {
            let physical = self.compiler.physical(key, self.input)?;
            let field = physical
                .return_field(self.arrow_input)
                .map_err(|error| self.compiler.error(error))?;
            fields.push(Field::new(*name, field.data_type().clone(), true));
            physical_keys.push(physical);
        }
        for bound in &names[keys.len()..keys.len() + 2] {
            fields.push(Field::new(*bound, DataType::Int64, false));
        }
        let mut aggregates = Vec::new();
        let mut filters = Vec::new();
        for (call, name) in calls.iter().zip(&names[keys.len() + 2..]) {
            let lowered = self.aggregate(call, name)?;
            let field = lowered.aggregate.field().as_ref().clone().with_name(*name);
            fields.push(field);
            aggregates.push(lowered.aggregate);
            filters.push(lowered.filter);
        }
        let mut descriptions: Vec<String> = keys
            .iter()
            .map(|key| key.human_display().to_string())
            .collect();
        descriptions.extend(calls.iter().map(|call| call.human_display().to_string()));
        let (window, window_description) = self.window(window)?;
        let time = self.time(event_time)?;
        Ok(AggregateStep {
            window,
            time,
            aggregation: Arc::new(Aggregation {
                keys: physical_keys,
                aggregates,
                filters,
                schema: Arc::new(Schema::new(fields)),
            }),
            window_description,
            descriptions,
        })
    }

    fn aggregate(&self, call: &Expr, name: &str) -> Result<LoweredAggregate> {
        let context = PhysicalPlanningContext::default();
        let lowered = LoweredAggregateBuilder::new(
            call,
            self.input,
            self.arrow_input,
            self.compiler.props(),
            &context,
        )
        .with_name(name)
        .build()
        .map_err(|error| self.compiler.error(error))?;
        if !lowered.order_bys.is_empty() {
            return Err(Error::Unsupported(format!("ORDER BY inside {name}")));
        }
        Ok(lowered)
    }

    fn window(&self, window: PlannedWindow) -> Result<(Window, String)> {
        Ok(match window {
            PlannedWindow::Plain(window) => {
                let description = format!("{window:?}");
                (window, description)
            }
            PlannedWindow::State { begin, emit } => {
                let description = format!(
                    "state(begin {}, emit {})",
                    begin.human_display(),
                    emit.human_display()
                );
                let window = Window::State {
                    begin: self.compiler.physical(&begin, self.input)?,
                    emit: self.compiler.physical(&emit, self.input)?,
                };
                (window, description)
            }
        })
    }

    fn time(&self, event_time: Option<(Expr, i64, i64)>) -> Result<WindowTime> {
        let Some((column, unit_ms, late_tolerance_ms)) = event_time else {
            return Ok(WindowTime::Processing);
        };
        let physical = self.compiler.physical(&column, self.input)?;
        let data_type = physical
            .return_field(self.arrow_input)
            .map_err(|error| self.compiler.error(error))?
            .data_type()
            .clone();
        if !data_type.is_integer() && !matches!(data_type, DataType::Timestamp(_, _)) {
            return Err(Error::TypeMismatch(format!(
                "the event-time column '{column}' is {data_type}; it must be an integer or a \
                 timestamp"
            )));
        }
        Ok(WindowTime::Event {
            column: physical,
            unit_ms,
            late_tolerance_ms,
        })
    }
}
