//! The compiler's toolbox, shared by the passes that end in a plan: [`QueryParts`] takes
//! DataFusion's logical plan of a `SELECT` apart, and a [`Compiler`] type-checks, coerces and
//! simplifies logical expressions over one schema, prunes the stream to the columns they read
//! and turns them into physical expressions and plan steps. It runs no pass and imports none;
//! the passes and the driver import it.

use std::collections::HashSet;
use std::sync::Arc;

use arrow::datatypes::{Field, Schema, SchemaRef};
use datafusion_common::tree_node::{Transformed, TreeNode};
use datafusion_common::{Column, DFSchema, DataFusionError, ScalarValue};
use datafusion_expr::execution_props::ExecutionProps;
use datafusion_expr::physical_planning_context::PhysicalPlanningContext;
use datafusion_expr::simplify::SimplifyContext;
use datafusion_expr::{Expr, LogicalPlan};
use datafusion_optimizer::analyzer::type_coercion::TypeCoercionRewriter;
use datafusion_optimizer::simplify_expressions::ExprSimplifier;
use datafusion_physical_expr::{PhysicalExpr, create_physical_expr};

use crate::plan::{FilterStep, PipelinePlan, PlanStep, ProjectStep, SourceScan};
use crate::{Error, Result, integer_arithmetic};

/// The expressions of a planned `SELECT`, before coercion.
pub(crate) struct QueryParts {
    /// `WHERE`.
    pub(crate) predicate: Option<Expr>,
    /// `GROUP BY` with its aggregates and `HAVING`.
    pub(crate) aggregate: Option<AggregateParts>,
    /// The SELECT list, named.
    pub(crate) outputs: Vec<(String, Expr)>,
}

/// A planned aggregate: group keys (the window's bounds last), aggregate calls, their output
/// schema, and the `HAVING` predicate over it.
pub(crate) struct AggregateParts {
    pub(crate) group_expr: Vec<Expr>,
    pub(crate) aggr_expr: Vec<Expr>,
    pub(crate) schema: datafusion_common::DFSchemaRef,
    pub(crate) having: Option<Expr>,
}

impl QueryParts {
    /// The parts of DataFusion's logical plan of a `SELECT`, from the top down.
    pub(crate) fn try_from_plan(plan: &LogicalPlan) -> Result<Self> {
        let mut parts = Self {
            predicate: None,
            aggregate: None,
            outputs: Vec::new(),
        };
        let mut node = plan;
        loop {
            node = match node {
                LogicalPlan::Projection(projection) => {
                    let names = projection
                        .schema
                        .fields()
                        .iter()
                        .map(|field| field.name().clone());
                    parts.outputs = names.zip(projection.expr.iter().cloned()).collect();
                    &projection.input
                }
                LogicalPlan::Filter(filter) => {
                    // Above the aggregate it is HAVING, which the aggregate takes below.
                    parts.predicate = Some(filter.predicate.clone());
                    &filter.input
                }
                LogicalPlan::SubqueryAlias(alias) => &alias.input,
                LogicalPlan::TableScan(_) => return Ok(parts),
                LogicalPlan::Aggregate(aggregate) => {
                    parts.aggregate = Some(AggregateParts {
                        group_expr: aggregate.group_expr.clone(),
                        aggr_expr: aggregate.aggr_expr.clone(),
                        schema: aggregate.schema.clone(),
                        having: parts.predicate.take(),
                    });
                    &aggregate.input
                }
                other => {
                    return Err(Error::Unsupported(format!(
                        "the {} operator",
                        other.display()
                    )));
                }
            };
        }
    }
}

/// Turns logical expressions over one schema into physical ones.
pub(crate) struct Compiler {
    stream: String,
    stream_schema: Arc<DFSchema>,
    props: ExecutionProps,
}

impl Compiler {
    pub(crate) fn try_new(stream: &str, schema: SchemaRef) -> Result<Self> {
        let stream_schema = DFSchema::try_from(schema.as_ref().clone())
            .map_err(|error| Error::Internal(error.to_string()))?;
        Ok(Self {
            stream: stream.to_owned(),
            stream_schema: Arc::new(stream_schema),
            props: ExecutionProps::new(),
        })
    }

    pub(crate) fn error(&self, error: DataFusionError) -> Error {
        let fields = self.stream_schema.fields().iter();
        let columns = fields
            .map(|field| field.name().as_str())
            .collect::<Vec<_>>()
            .join(", ");
        Error::from_datafusion(error, &self.stream, &columns)
    }

    pub(crate) fn compile(&self, parts: QueryParts) -> Result<PipelinePlan> {
        let predicate = self.where_clause(parts.predicate)?;
        let outputs = self.outputs(parts.outputs)?;
        let scan = self.scan(predicate.iter().chain(outputs.iter().map(|(_, expr)| expr)));
        let input = self.input_schema(&scan.schema)?;
        self.finish(scan, Vec::new(), predicate.as_ref(), &outputs, &input)
    }

    /// The plan reading `source` through `steps`, then the filter `predicate` (if any) and
    /// the SELECT list `outputs`, both over `input`.
    pub(crate) fn finish(
        &self,
        source: SourceScan,
        mut steps: Vec<PlanStep>,
        predicate: Option<&Expr>,
        outputs: &[(String, Expr)],
        input: &DFSchema,
    ) -> Result<PipelinePlan> {
        if let Some(predicate) = predicate {
            steps.push(PlanStep::Filter(self.filter(predicate, input)?));
        }
        let project = self.project(outputs, input)?;
        let output_schema = project.schema.clone();
        steps.push(PlanStep::Project(project));
        Ok(PipelinePlan {
            source,
            steps,
            output_schema,
        })
    }

    /// A predicate, prepared; `None` when it always holds.
    pub(crate) fn where_clause(&self, predicate: Option<Expr>) -> Result<Option<Expr>> {
        let Some(predicate) = predicate else {
            return Ok(None);
        };
        Ok(Some(self.prepare(unqualify(predicate))?).filter(|expr| !is_true(expr)))
    }

    /// The SELECT list, prepared.
    pub(crate) fn outputs(&self, outputs: Vec<(String, Expr)>) -> Result<Vec<(String, Expr)>> {
        outputs
            .into_iter()
            .map(|(name, expr)| Ok((name, self.prepare(unalias(unqualify(expr)))?)))
            .collect()
    }

    pub(crate) fn input_schema(&self, schema: &SchemaRef) -> Result<DFSchema> {
        DFSchema::try_from(schema.as_ref().clone()).map_err(|error| self.error(error))
    }

    pub(crate) fn filter(&self, predicate: &Expr, input: &DFSchema) -> Result<FilterStep> {
        Ok(FilterStep {
            predicate: self.physical(predicate, input)?,
            description: predicate.human_display().to_string(),
        })
    }

    pub(crate) fn props(&self) -> &ExecutionProps {
        &self.props
    }

    pub(crate) fn stream(&self) -> &str {
        &self.stream
    }

    /// The columns expressions are compiled over.
    pub(crate) fn schema(&self) -> &DFSchema {
        &self.stream_schema
    }

    /// Type-checks, coerces and simplifies one expression over the stream's columns.
    pub(crate) fn prepare(&self, expr: Expr) -> Result<Expr> {
        let widened = integer_arithmetic::widen_integer_arithmetic(expr, &self.stream_schema)
            .map_err(|error| self.error(error))?;
        let coerced = widened
            .rewrite(&mut TypeCoercionRewriter::new(&self.stream_schema))
            .map_err(|error| self.error(error))?
            .data;
        let context = SimplifyContext::builder()
            .with_schema(self.stream_schema.clone())
            .build();
        ExprSimplifier::new(context)
            .simplify(coerced)
            .map_err(|error| self.error(error))
    }

    /// The stream columns `exprs` read, in stream order.
    pub(crate) fn scan<'a>(&self, exprs: impl Iterator<Item = &'a Expr>) -> SourceScan {
        let mut used = HashSet::new();
        for expr in exprs {
            used.extend(
                expr.column_refs()
                    .into_iter()
                    .map(|column| column.name.clone()),
            );
        }
        let fields = self.stream_schema.fields().iter();
        let kept: Vec<_> = fields
            .filter(|field| used.contains(field.name()))
            .cloned()
            .collect();
        SourceScan {
            stream: self.stream.clone(),
            schema: Arc::new(Schema::new(kept)),
            stream_columns: self.stream_schema.fields().len(),
            metadata: Vec::new(),
        }
    }

    pub(crate) fn project(
        &self,
        outputs: &[(String, Expr)],
        input: &DFSchema,
    ) -> Result<ProjectStep> {
        let mut exprs = Vec::with_capacity(outputs.len());
        let mut fields = Vec::with_capacity(outputs.len());
        let mut descriptions = Vec::with_capacity(outputs.len());
        for (name, expr) in outputs {
            let physical = self.physical(expr, input)?;
            let field = physical
                .return_field(input.as_arrow())
                .map_err(|e| self.error(e))?;
            fields.push(Field::new(
                name,
                field.data_type().clone(),
                field.is_nullable(),
            ));
            exprs.push(physical);
            descriptions.push(expr.human_display().to_string());
        }
        Ok(ProjectStep {
            exprs,
            schema: Arc::new(Schema::new(fields)),
            descriptions,
        })
    }

    pub(crate) fn physical(&self, expr: &Expr, input: &DFSchema) -> Result<Arc<dyn PhysicalExpr>> {
        create_physical_expr(
            expr,
            input,
            &self.props,
            &PhysicalPlanningContext::default(),
        )
        .and_then(integer_arithmetic::fail_on_overflow)
        .map_err(|error| self.error(error))
    }
}

/// Drops table qualifiers: a plan reads one stream, so column names are unique.
pub(crate) fn unqualify(expr: Expr) -> Expr {
    expr.transform(|expr| {
        Ok(match expr {
            Expr::Column(Column {
                relation: Some(_),
                name,
                ..
            }) => Transformed::yes(Expr::Column(Column::new_unqualified(name))),
            other => Transformed::no(other),
        })
    })
    .map_or_else(
        |_| unreachable!("the closure never fails"),
        |transformed| transformed.data,
    )
}

pub(crate) fn unalias(expr: Expr) -> Expr {
    match expr {
        Expr::Alias(alias) => *alias.expr,
        other => other,
    }
}

fn is_true(expr: &Expr) -> bool {
    matches!(expr, Expr::Literal(ScalarValue::Boolean(Some(true)), _))
}
