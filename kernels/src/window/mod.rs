//! Windowed aggregation: rows are assigned to windows (by processing or event time, by count
//! or by conditions), grouped by key with Arrow's row format, and aggregated a batch at a time
//! with DataFusion's accumulators. A window emits one row per group when it closes.

mod assigner;
mod buckets;
mod count;
mod groups;
mod inputs;
mod session;
mod sliding;
mod spec;
mod state;
mod time;

pub use spec::{Aggregation, Window, WindowTime};
pub use time::{Pushed, WindowAggregator};
