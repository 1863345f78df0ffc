//! Windowed aggregation: rows are assigned to windows (by processing or event time, by count
//! or by conditions), grouped by key with Arrow's row format, and aggregated a batch at a time
//! with DataFusion's accumulators. A window emits one row per group when it closes.
//!
//! `spec` says what to compute; the `aggregator` sets each row's time and drives the
//! assigner of the window's kind (`buckets`, `sliding`, `session`, `count`, `state_window`),
//! which hands rows (`inputs`) to the `groups` of each open window.

mod aggregator;
mod assigner;
mod buckets;
mod count;
mod groups;
mod inputs;
mod session;
mod sliding;
mod spec;
mod state_window;

pub use aggregator::{Pushed, WindowAggregator};
pub use spec::{Aggregation, Window, WindowTime};
