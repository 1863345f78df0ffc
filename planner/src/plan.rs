//! The compiled form of a statement: what to decode and the steps that run on every batch.

use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use datafusion_physical_expr::PhysicalExpr;
use veloflux_kernels::stateful::StatefulFunctions;
use veloflux_kernels::window::{Aggregation, Window, WindowTime};

/// A statement compiled once, ready to evaluate batch after batch.
#[derive(Debug, Clone)]
pub struct PipelinePlan {
    /// What the source must decode.
    pub source: SourceScan,
    /// The operators every decoded batch goes through, in order.
    pub steps: Vec<PlanStep>,
    /// The schema of the batches the last step produces.
    pub output_schema: SchemaRef,
}

/// The stream a plan reads and the columns it needs from it.
#[derive(Debug, Clone)]
pub struct SourceScan {
    /// The stream's name.
    pub stream: String,
    /// The columns the plan reads, in stream order: the schema decoders should produce. The
    /// plan's expressions index into this schema.
    pub schema: SchemaRef,
    /// How many columns the whole stream has.
    pub stream_columns: usize,
}

/// One operator of a plan.
#[derive(Debug, Clone)]
pub enum PlanStep {
    /// Keep the rows for which a predicate is true.
    Filter(FilterStep),
    /// Compute the output columns.
    Project(ProjectStep),
    /// Compute the stateful functions' columns, row by row in arrival order; always first.
    Stateful(StatefulStep),
    /// Group rows into windows and aggregate them; a window emits one row per group when it
    /// closes. The steps before it see input batches, the steps after it the windows' rows.
    Aggregate(AggregateStep),
}

/// The compiled stateful function calls.
#[derive(Debug, Clone)]
pub struct StatefulStep {
    /// The calls and the schema of their output: the decoded columns, then one per call.
    pub functions: Arc<StatefulFunctions>,
    /// Each call as written with its type, for `EXPLAIN`.
    pub descriptions: Vec<String>,
}

/// The compiled `GROUP BY <window>` with its aggregates.
#[derive(Debug, Clone)]
pub struct AggregateStep {
    /// How rows are assigned to windows.
    pub window: Window,
    /// Where the time of a row comes from.
    pub time: WindowTime,
    /// The group keys, the aggregates and the output schema.
    pub aggregation: Arc<Aggregation>,
    /// The window as SQL-like text, for `EXPLAIN`.
    pub window_description: String,
    /// Each group key and aggregate as SQL-like text, for `EXPLAIN`.
    pub descriptions: Vec<String>,
}

/// How a pipeline runs its statement.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PlanOptions {
    /// Windows follow the stream's event-time column instead of the clock.
    pub event_time: bool,
    /// In event time, how far behind the latest event time a row may come and still count.
    pub late_tolerance_ms: i64,
}
/// The compiled `WHERE` clause.
#[derive(Debug, Clone)]
pub struct FilterStep {
    /// Evaluates to a boolean per row; null counts as false.
    pub predicate: Arc<dyn PhysicalExpr>,
    /// The predicate as SQL-like text, for `EXPLAIN`.
    pub description: String,
}

/// The compiled `SELECT` list.
#[derive(Debug, Clone)]
pub struct ProjectStep {
    /// One expression per output column.
    pub exprs: Vec<Arc<dyn PhysicalExpr>>,
    /// The output schema: one field per expression, named as the statement names it.
    pub schema: SchemaRef,
    /// Each expression as SQL-like text, for `EXPLAIN`.
    pub descriptions: Vec<String>,
}
