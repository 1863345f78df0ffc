//! The compiled form of a statement: what to decode and the steps that run on every batch.

use std::sync::Arc;

use arrow::datatypes::{DataType, Field, SchemaRef, TimeUnit};
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
    /// How many columns the whole stream declares.
    pub stream_columns: usize,
    /// The metadata the plan reads (`meta(topic)`): the last columns of `schema`, filled
    /// from what the source knew of each message rather than decoded from its payload.
    pub metadata: Vec<Metadata>,
}

impl SourceScan {
    /// The columns decoded from payloads: `schema` without the metadata columns.
    pub fn decoded_schema(&self) -> SchemaRef {
        if self.metadata.is_empty() {
            return self.schema.clone();
        }
        let decoded = self.schema.fields().len() - self.metadata.len();
        let fields: Vec<_> = self.schema.fields().iter().take(decoded).cloned().collect();
        Arc::new(arrow::datatypes::Schema::new(fields))
    }
}

/// What a source knows of each message besides its payload.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Metadata {
    /// `meta(topic)`: the topic, subject or path, as dictionary-encoded text.
    Topic,
    /// `meta(received_at)`: when the source received the message, a millisecond timestamp.
    ReceivedAt,
    /// `meta(<name>)` for any other name: the message's property of that name (an MQTT 5
    /// user property, a header) as dictionary-encoded text, null when it has none.
    Property(String),
}

impl Metadata {
    /// The kinds every source can fill, in the order their columns follow the stream's.
    pub const ALWAYS: [Self; 2] = [Self::Topic, Self::ReceivedAt];

    /// The key written inside `meta(...)`.
    pub fn key(&self) -> &str {
        match self {
            Self::Topic => "topic",
            Self::ReceivedAt => "received_at",
            Self::Property(name) => name,
        }
    }

    /// The name of its column: the call as written, `meta(topic)`.
    pub fn column_name(&self) -> String {
        format!("meta({})", self.key())
    }

    /// Its column.
    pub fn field(&self) -> Field {
        let data_type = match self {
            Self::Topic | Self::Property(_) => {
                DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8))
            }
            Self::ReceivedAt => DataType::Timestamp(TimeUnit::Millisecond, None),
        };
        Field::new(self.column_name(), data_type, true)
    }

    /// The kind written `key` inside `meta(...)`.
    pub fn from_key(key: &str) -> Self {
        match key {
            "topic" => Self::Topic,
            "received_at" => Self::ReceivedAt,
            name => Self::Property(name.to_owned()),
        }
    }
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
