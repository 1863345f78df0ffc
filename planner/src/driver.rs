//! The planner's driver: runs the passes over one statement, in this order.
//!
//! 1. `statement` parses the statement and refuses what a stream pipeline cannot run; the
//!    stream it reads is looked up in the catalog.
//! 2. `rewrite` turns eKuiper and veloFlux spellings into DataFusion's and names unnamed
//!    output columns; `metadata` turns `meta(topic)` calls into columns appended to the
//!    stream's schema.
//! 3. `window_clause` takes the window out of `GROUP BY`; without one, `statement` refuses
//!    `window_start()` and `window_end()`.
//! 4. `stateful` takes the stateful calls out of the statement and plans their arguments over
//!    the stream's columns.
//! 5. `typecheck` checks operand types over the stream's and the calls' columns.
//! 6. `compile_window` plans the state window's conditions.
//! 7. DataFusion's SQL planner plans the statement, which [`QueryParts`] takes apart.
//! 8. The parts are compiled: by `compile_window` for a window, by `stateful` with stateful
//!    calls, else by the [`Compiler`] alone.

use arrow::datatypes::SchemaRef;
use datafusion_common::DFSchema;
use datafusion_sql::planner::{ParserOptions, SqlToRel};

use crate::compiler::{Compiler, QueryParts};
use crate::context::StreamContext;
use crate::plan::{PipelinePlan, PlanOptions};
use crate::statement::StreamQuery;
use crate::window_clause::WindowClause;
use crate::{Catalog, Error, Result};
use crate::{compile_window, metadata, rewrite, stateful, statement, typecheck, window_clause};

/// Plans `sql` against `catalog`.
pub(crate) fn plan(sql: &str, catalog: &Catalog, options: &PlanOptions) -> Result<PipelinePlan> {
    let mut query = statement::parse(sql)?;
    rewrite::rewrite(&mut query.statement);
    let metadata = metadata::rewrite(&mut query.statement)?;
    let stream_schema = metadata::extend(catalog.schema(&query.stream)?, &metadata)?;
    let window = take_window(&mut query)?;
    let calls = stateful::extract(&mut query.statement)?;
    if window.is_some() && !calls.is_empty() {
        return Err(Error::Unsupported(
            "lag, latest, changed_col and had_changed with GROUP BY <window>".into(),
        ));
    }
    let stream = Compiler::try_new(&query.stream, stream_schema.clone())?;
    let calls = if calls.is_empty() {
        Vec::new()
    } else {
        let context = StreamContext::new(&query.stream, stream_schema.clone());
        let planner = SqlToRel::new_with_options(&context, parser_options());
        let qualified = qualified_schema(&query.qualifier, &stream_schema, &stream)?;
        stateful::plan_calls(calls, &planner, &qualified, &stream)?
    };
    // The statement reads the stream's columns and the stateful calls' columns.
    let schema = stateful::extended(&stream_schema, &calls);
    let compiler = Compiler::try_new(&query.stream, schema.clone())?;
    let context = StreamContext::new(&query.stream, schema.clone());
    let planner = SqlToRel::new_with_options(&context, parser_options());
    let qualified = qualified_schema(&query.qualifier, &schema, &compiler)?;
    if let Some(select) = query.select() {
        typecheck::check_select(&planner, select, &qualified)?;
    }
    let window = match window {
        Some(clause) => Some(compile_window::plan_window(
            clause, &planner, &qualified, &compiler,
        )?),
        None => None,
    };
    let logical = planner
        .sql_statement_to_plan(query.statement)
        .map_err(|error| compiler.error(error))?;
    let mut parts = QueryParts::try_from_plan(&logical)?;
    let mut plan = match (window, parts.aggregate.take()) {
        (Some(window), Some(aggregate)) => {
            compile_window::compile(&compiler, parts, aggregate, window, (options, catalog))
        }
        (None, Some(_)) => Err(Error::Unsupported(
            "an aggregate function without GROUP BY <window>".into(),
        )),
        (_, None) if calls.is_empty() => compiler.compile(parts),
        (_, None) => stateful::compile(&stream, &compiler, parts, calls),
    }?;
    metadata::mark(&mut plan.source, &metadata);
    Ok(plan)
}

/// The window taken out of `GROUP BY`; a statement without one may not read its bounds.
fn take_window(query: &mut StreamQuery) -> Result<Option<WindowClause>> {
    let window = match query.select_mut() {
        Some(select) => window_clause::extract(select)?,
        None => None,
    };
    if window.is_none() {
        statement::check_no_window_bounds(&query.statement)?;
    }
    Ok(window)
}

fn parser_options() -> ParserOptions {
    ParserOptions::new()
        .with_enable_ident_normalization(false)
        .with_map_string_types_to_utf8view(false)
}

/// `schema` with its columns qualified by the stream's name or alias.
fn qualified_schema(qualifier: &str, schema: &SchemaRef, compiler: &Compiler) -> Result<DFSchema> {
    DFSchema::try_from_qualified_schema(qualifier, schema).map_err(|error| compiler.error(error))
}
