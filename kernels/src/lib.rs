//! Vectorized operators over Arrow record batches.
//!
//! Each operator takes a batch and compiled expressions and returns a new batch; none does
//! I/O or knows where batches come from. One file per operator; windowed aggregation, which
//! keeps state between batches, has a module of its own.

mod checkpoint;
mod error;
mod filter;
mod project;
pub mod stateful;
pub mod window;

pub use error::{Error, Result};
pub use filter::filter;
pub use project::project;
