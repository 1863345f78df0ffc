//! SQL to pipeline plans.
//!
//! A statement is parsed, checked against the catalog of stream schemas, planned with
//! DataFusion's SQL planner, type-coerced and simplified once, and compiled into a
//! [`PipelinePlan`]: the columns to decode and a list of steps holding compiled physical
//! expressions. Evaluating a plan is the kernels' job; nothing here touches data or I/O.

mod catalog;
mod compile;
mod context;
mod error;
mod explain;
mod integer_arithmetic;
mod plan;
mod rewrite;
mod statement;
mod typecheck;

pub use catalog::Catalog;
pub use error::{Error, Result};
pub use plan::{FilterStep, PipelinePlan, PlanStep, ProjectStep, SourceScan};

/// Plans `sql` against the streams of `catalog`.
///
/// # Errors
/// A syntax error, an unknown stream or column, a type mismatch, or a clause veloFlux does not
/// run; each message names the offending part of the statement.
pub fn plan(sql: &str, catalog: &Catalog) -> Result<PipelinePlan> {
    compile::plan(sql, catalog)
}
