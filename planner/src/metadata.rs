//! Source metadata in SQL: `meta(topic)` (also spelled `mqtt(topic)`) is the topic, subject
//! or path a message arrived on, `meta(received_at)` when its source received it, and
//! `meta(<name>)` its property of that name (an MQTT 5 user property, a header). The pass
//! turns each call into a column of that name appended to the stream's schema, so the rest
//! of the planner sees an ordinary column; a statement that reads none leaves the schema as
//! it was, and its decoder fills nothing more.

use std::ops::ControlFlow;
use std::sync::Arc;

use arrow::datatypes::{Field, Schema, SchemaRef};
use datafusion_sql::sqlparser::ast::{Expr, Ident, Statement, visit_expressions_mut};

use crate::plan::{Metadata, SourceScan};
use crate::sql_ast::{call_name, plain_args};
use crate::{Error, Result};

/// Replaces every `meta(<key>)` and `mqtt(<key>)` call with its column; returns the kinds
/// read: topic, receive time, then properties by name.
///
/// # Errors
/// When a call's argument is not a bare name.
pub(crate) fn rewrite(statement: &mut Statement) -> Result<Vec<Metadata>> {
    let mut read = Vec::new();
    let outcome = visit_expressions_mut(statement, |expr| match metadata_call(expr) {
        Ok(Some(kind)) => {
            *expr = Expr::Identifier(Ident::with_quote('"', kind.column_name()));
            read.push(kind);
            ControlFlow::Continue(())
        }
        Ok(None) => ControlFlow::Continue(()),
        Err(error) => ControlFlow::Break(error),
    });
    if let ControlFlow::Break(error) = outcome {
        return Err(error);
    }
    read.sort_unstable();
    read.dedup();
    Ok(read)
}

/// The kind `expr` reads, if it is a `meta(...)` call.
fn metadata_call(expr: &Expr) -> Result<Option<Metadata>> {
    let Expr::Function(function) = expr else {
        return Ok(None);
    };
    let name = call_name(function);
    if name != "meta" && name != "mqtt" {
        return Ok(None);
    }
    match plain_args(function).as_deref() {
        Some([Expr::Identifier(ident)]) => Ok(Some(Metadata::from_key(&ident.value))),
        _ => Err(Error::Invalid(format!(
            "{name}(...) takes one bare name: {name}(topic), {name}(received_at), or the name \
             of a message property ({name}(device_id))"
        ))),
    }
}

/// `schema` followed by the columns of `read`.
///
/// # Errors
/// When the stream declares a column of the same name.
pub(crate) fn extend(schema: &SchemaRef, read: &[Metadata]) -> Result<SchemaRef> {
    if read.is_empty() {
        return Ok(schema.clone());
    }
    let mut fields: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone()).collect();
    for kind in read {
        let name = kind.column_name();
        if schema.field_with_name(&name).is_ok() {
            return Err(Error::Invalid(format!(
                "the stream declares a column named '{name}', which {name} would hide"
            )));
        }
        fields.push(kind.field());
    }
    Ok(Arc::new(Schema::new(fields)))
}

/// Marks the metadata columns at the end of `scan.schema` as such.
pub(crate) fn mark(scan: &mut SourceScan, read: &[Metadata]) {
    let names: Vec<String> = read.iter().map(|kind| kind.column_name()).collect();
    scan.metadata = read
        .iter()
        .zip(&names)
        .filter(|(_, name)| scan.schema.field_with_name(name).is_ok())
        .map(|(kind, _)| kind.clone())
        .collect();
    scan.stream_columns = scan.stream_columns.saturating_sub(read.len());
}
