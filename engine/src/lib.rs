//! Runs a compiled plan over Arrow micro-batches: the executor, its steps, window and
//! stateful state with its checkpoint form, and one [`Chain`] of decoder → executor → encoders. The server's pipelines,
//! the SQL conformance suite and the benches all run this chain.
//!
//! No I/O: no tokio, no sockets, no files. Time comes in as a parameter (`now_ms`), except
//! where [`wall_clock_ms`] is asked for it.

mod chain;
mod checkpoint;
mod error;
mod executor;
mod steps;

pub use chain::{Chain, ChainOutput};
pub use error::{Error, Result};
pub use executor::{Executed, PlanExecutor};
pub use steps::RowError;
pub use veloflux_connectors::clock::wall_clock_ms;
