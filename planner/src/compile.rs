//! Statement to [`PipelinePlan`]: plan with DataFusion's SQL planner, check operand types,
//! coerce, simplify, prune the columns to decode, and compile physical expressions.

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
use datafusion_sql::planner::{ParserOptions, SqlToRel};

use crate::context::StreamContext;
use crate::plan::{FilterStep, PipelinePlan, PlanStep, ProjectStep, SourceScan};
use crate::statement;
use crate::{Catalog, Error, Result, integer_arithmetic, rewrite, typecheck};

/// Plans `sql` against `catalog`.
pub(crate) fn plan(sql: &str, catalog: &Catalog) -> Result<PipelinePlan> {
    let mut query = statement::parse(sql)?;
    let schema = catalog.schema(&query.stream)?.clone();
    rewrite::rewrite(&mut query.statement);
    let compiler = Compiler::try_new(&query.stream, schema.clone())?;
    let context = StreamContext::new(&query.stream, schema.clone());
    let options = ParserOptions::new()
        .with_enable_ident_normalization(false)
        .with_map_string_types_to_utf8view(false);
    let planner = SqlToRel::new_with_options(&context, options);
    if let Some(select) = query.select() {
        let qualified = DFSchema::try_from_qualified_schema(query.qualifier.as_str(), &schema)
            .map_err(|error| compiler.error(error))?;
        typecheck::check_select(&planner, select, &qualified)?;
    }
    let logical = planner
        .sql_statement_to_plan(query.statement)
        .map_err(|error| compiler.error(error))?;
    compiler.compile(QueryParts::try_from_plan(&logical)?)
}

/// The expressions of a planned `SELECT`, before coercion.
struct QueryParts {
    predicate: Option<Expr>,
    outputs: Vec<(String, Expr)>,
}

impl QueryParts {
    fn try_from_plan(plan: &LogicalPlan) -> Result<Self> {
        let mut parts = Self {
            predicate: None,
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
                    parts.predicate = Some(filter.predicate.clone());
                    &filter.input
                }
                LogicalPlan::SubqueryAlias(alias) => &alias.input,
                LogicalPlan::TableScan(_) => return Ok(parts),
                LogicalPlan::Aggregate(_) => {
                    return Err(Error::Unsupported(
                        "an aggregate function without GROUP BY <window>".into(),
                    ));
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

struct Compiler {
    stream: String,
    stream_schema: Arc<DFSchema>,
    props: ExecutionProps,
}

impl Compiler {
    fn try_new(stream: &str, schema: SchemaRef) -> Result<Self> {
        let stream_schema = DFSchema::try_from(schema.as_ref().clone())
            .map_err(|error| Error::Internal(error.to_string()))?;
        Ok(Self {
            stream: stream.to_owned(),
            stream_schema: Arc::new(stream_schema),
            props: ExecutionProps::new(),
        })
    }

    fn error(&self, error: DataFusionError) -> Error {
        let fields = self.stream_schema.fields().iter();
        let columns = fields
            .map(|field| field.name().as_str())
            .collect::<Vec<_>>()
            .join(", ");
        Error::from_datafusion(error, &self.stream, &columns)
    }

    fn compile(&self, parts: QueryParts) -> Result<PipelinePlan> {
        let predicate = match parts.predicate {
            Some(predicate) => {
                let predicate = unqualify(predicate);
                Some(self.prepare(predicate)?).filter(|expr| !is_true(expr))
            }
            None => None,
        };
        let outputs = parts
            .outputs
            .into_iter()
            .map(|(name, expr)| Ok((name, self.prepare(unalias(unqualify(expr)))?)))
            .collect::<Result<Vec<_>>>()?;
        let scan = self.scan(predicate.iter().chain(outputs.iter().map(|(_, expr)| expr)));
        let input = DFSchema::try_from(scan.schema.as_ref().clone()).map_err(|e| self.error(e))?;
        let mut steps = Vec::new();
        if let Some(predicate) = predicate {
            let description = predicate.human_display().to_string();
            let predicate = self.physical(&predicate, &input)?;
            steps.push(PlanStep::Filter(FilterStep {
                predicate,
                description,
            }));
        }
        let project = self.project(&outputs, &input)?;
        let output_schema = project.schema.clone();
        steps.push(PlanStep::Project(project));
        Ok(PipelinePlan {
            source: scan,
            steps,
            output_schema,
        })
    }

    /// Type-checks, coerces and simplifies one expression over the stream's columns.
    fn prepare(&self, expr: Expr) -> Result<Expr> {
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
    fn scan<'a>(&self, exprs: impl Iterator<Item = &'a Expr>) -> SourceScan {
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
        }
    }

    fn project(&self, outputs: &[(String, Expr)], input: &DFSchema) -> Result<ProjectStep> {
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

    fn physical(&self, expr: &Expr, input: &DFSchema) -> Result<Arc<dyn PhysicalExpr>> {
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

fn unalias(expr: Expr) -> Expr {
    match expr {
        Expr::Alias(alias) => *alias.expr,
        other => other,
    }
}

fn is_true(expr: &Expr) -> bool {
    matches!(expr, Expr::Literal(ScalarValue::Boolean(Some(true)), _))
}
