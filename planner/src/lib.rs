//! SQL to pipeline plans.
//!
//! A statement is parsed, checked against the catalog of stream schemas, planned with
//! DataFusion's SQL planner, type-coerced and simplified once, and compiled into a
//! [`PipelinePlan`]: the columns to decode and a list of steps holding compiled physical
//! expressions. Evaluating a plan is the kernels' job; nothing here touches data or I/O.
//!
//! `driver` runs the passes (`statement`, `rewrite`, `metadata`, `window_clause`, `stateful`, `typecheck`,
//! `compile_window`) in order; the modules they share (`compiler`, `function_names`,
//! `sql_ast`, `context`, `plan`) import no pass.

mod catalog;
mod compile_window;
mod compiler;
mod context;
mod driver;
mod error;
mod explain;
mod function_names;
mod integer_arithmetic;
mod metadata;
mod plan;
mod rewrite;
mod sql_ast;
mod stateful;
mod statement;
mod typecheck;
mod window_bounds;
mod window_clause;

pub use catalog::{Catalog, EventTimeColumn};
pub use error::{Error, Result};
pub use plan::{
    AggregateStep, FilterStep, Metadata, PipelinePlan, PlanOptions, PlanStep, ProjectStep,
    SourceScan,
};

/// Plans `sql` against the streams of `catalog`.
///
/// # Errors
/// A syntax error, an unknown stream or column, a type mismatch, or a clause veloFlux does not
/// run; each message names the offending part of the statement.
pub fn plan(sql: &str, catalog: &Catalog) -> Result<PipelinePlan> {
    plan_with(sql, catalog, &PlanOptions::default())
}

/// Plans `sql` against the streams of `catalog`, with windows in event time when `options`
/// say so.
///
/// # Errors
/// As [`plan`]; also when event time is asked of a stream that declares no event-time column,
/// or one that is neither an integer nor a timestamp.
pub fn plan_with(sql: &str, catalog: &Catalog, options: &PlanOptions) -> Result<PipelinePlan> {
    // Planning recurses as deep as the statement's expressions nest, several passes over; it
    // runs on a thread of its own with room for the deepest statement the parser accepts,
    // whatever the stack of the caller.
    std::thread::scope(|scope| {
        let planning = std::thread::Builder::new()
            .name("sql-planner".into())
            .stack_size(PLANNING_STACK_BYTES)
            .spawn_scoped(scope, || driver::plan(sql, catalog, options));
        match planning {
            Ok(handle) => handle
                .join()
                .unwrap_or_else(|_| Err(Error::Internal("planning panicked".into()))),
            Err(_) => driver::plan(sql, catalog, options),
        }
    })
}

/// The stack planning runs on: reserved, not resident, until a deep statement needs it.
const PLANNING_STACK_BYTES: usize = 256 << 20;
