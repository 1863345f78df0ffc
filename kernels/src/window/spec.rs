//! What a windowed aggregation is asked to do: the window, where time comes from, and the
//! grouping and aggregate expressions.

use std::fmt;
use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use datafusion_physical_expr::PhysicalExpr;
use datafusion_physical_expr::aggregate::AggregateFunctionExpr;

/// How rows are assigned to windows. Durations are in milliseconds.
#[derive(Clone)]
pub enum Window {
    /// Back-to-back windows of `size_ms`, aligned to the epoch.
    Tumbling {
        /// The length of a window.
        size_ms: i64,
    },
    /// Windows of `size_ms` starting every `hop_ms`, aligned to the epoch.
    Hopping {
        /// The length of a window.
        size_ms: i64,
        /// The time between two window starts.
        hop_ms: i64,
    },
    /// Every row emits the window of the `size_ms` that end with it.
    Sliding {
        /// The length of a window.
        size_ms: i64,
    },
    /// Rows closer than `timeout_ms` to each other form one window, cut at `max_ms`.
    Session {
        /// The longest a window lasts.
        max_ms: i64,
        /// The gap that ends a window.
        timeout_ms: i64,
    },
    /// Every `every` rows, a window of the last `size` rows (`every == size`: back to back).
    Count {
        /// The rows in a window.
        size: usize,
        /// The rows between two windows.
        every: usize,
    },
    /// A window opens at a row where `begin` holds and closes after a row where `emit` holds.
    State {
        /// Opens a window.
        begin: Arc<dyn PhysicalExpr>,
        /// Closes the open window, including the row.
        emit: Arc<dyn PhysicalExpr>,
    },
}

impl fmt::Debug for Window {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Tumbling { size_ms } => write!(formatter, "tumbling({size_ms} ms)"),
            Self::Hopping { size_ms, hop_ms } => {
                write!(formatter, "hopping({size_ms} ms every {hop_ms} ms)")
            }
            Self::Sliding { size_ms } => write!(formatter, "sliding({size_ms} ms)"),
            Self::Session { max_ms, timeout_ms } => {
                write!(
                    formatter,
                    "session(at most {max_ms} ms, timeout {timeout_ms} ms)"
                )
            }
            Self::Count { size, every } => write!(formatter, "count({size} rows every {every})"),
            Self::State { begin, emit } => write!(formatter, "state(begin {begin}, emit {emit})"),
        }
    }
}

/// Where the time of a row comes from.
#[derive(Debug, Clone)]
pub enum WindowTime {
    /// The wall clock when the row's batch is processed.
    Processing,
    /// A column of the row; windows close as the watermark passes their end.
    Event {
        /// Evaluates to the row's time: an integer in `unit_ms` or a millisecond timestamp.
        column: Arc<dyn PhysicalExpr>,
        /// Milliseconds per unit of the column (1 or 1000).
        unit_ms: i64,
        /// How far behind the latest event time a row may be and still count.
        late_tolerance_ms: i64,
    },
}

/// The grouping of a windowed aggregation and what it computes per group.
#[derive(Debug, Clone)]
pub struct Aggregation {
    /// The group keys, over the input batches.
    pub keys: Vec<Arc<dyn PhysicalExpr>>,
    /// The aggregate functions.
    pub aggregates: Vec<Arc<AggregateFunctionExpr>>,
    /// Each aggregate's `FILTER (WHERE ...)`.
    pub filters: Vec<Option<Arc<dyn PhysicalExpr>>>,
    /// The output: the keys, `window_start` and `window_end` (Int64 epoch milliseconds),
    /// then the aggregates.
    pub schema: SchemaRef,
}
