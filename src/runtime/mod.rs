//! The runtime: what carries batches through a pipeline.

mod chain;
mod executor;

pub use chain::{ChainOutput, JsonChain};
pub use executor::{Executed, PlanExecutor, RowError};
