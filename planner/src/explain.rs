//! The `EXPLAIN` text of a plan: one line per operator, from the source down.

use std::fmt::{self, Display, Write};

use arrow::datatypes::Schema;

use datafusion_physical_expr::expressions::Column;
use veloflux_kernels::window::WindowTime;

use crate::plan::{PipelinePlan, PlanStep};

impl PipelinePlan {
    /// A readable description of the plan: the stream and the columns decoded from it, then
    /// each step with its expressions and output types.
    pub fn explain(&self) -> String {
        self.to_string()
    }
}

impl Display for PipelinePlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let source = &self.source;
        let decoded = source.decoded_schema();
        write!(
            f,
            "Source: stream={} decode=[{}] ({} of {} columns)",
            source.stream,
            columns(&decoded),
            decoded.fields().len(),
            source.stream_columns
        )?;
        if !source.metadata.is_empty() {
            let keys: Vec<_> = source.metadata.iter().map(|kind| kind.key()).collect();
            write!(f, " metadata=[{}]", keys.join(", "))?;
        }
        writeln!(f)?;
        for step in &self.steps {
            match step {
                PlanStep::Filter(filter) => writeln!(f, "  Filter: {}", filter.description)?,
                PlanStep::Project(project) => {
                    let mut items = String::new();
                    for (field, text) in project.schema.fields().iter().zip(&project.descriptions) {
                        if !items.is_empty() {
                            items.push_str(", ");
                        }
                        if field.name() == text {
                            write!(items, "{text}: {}", field.data_type())?;
                        } else {
                            write!(items, "{text} AS {}: {}", field.name(), field.data_type())?;
                        }
                    }
                    writeln!(f, "  Project: {items}")?;
                }
                PlanStep::Stateful(stateful) => {
                    writeln!(f, "  Stateful: {}", stateful.descriptions.join(", "))?;
                }
                PlanStep::Aggregate(aggregate) => {
                    let time = match &aggregate.time {
                        WindowTime::Processing => "processing time".to_owned(),
                        WindowTime::Event {
                            column,
                            late_tolerance_ms,
                            ..
                        } => {
                            let column =
                                (column.as_ref() as &dyn std::any::Any).downcast_ref::<Column>();
                            let name = column.map_or("?", Column::name);
                            format!("event time {name}, late tolerance {late_tolerance_ms} ms")
                        }
                    };
                    writeln!(f, "  Window: {} in {time}", aggregate.window_description)?;
                    let schema = &aggregate.aggregation.schema;
                    let keys = aggregate.aggregation.keys.len();
                    let fields = schema.fields().iter();
                    let outputs = fields
                        .take(keys)
                        .chain(schema.fields().iter().skip(keys + 2));
                    let items: Vec<String> = outputs
                        .zip(&aggregate.descriptions)
                        .map(|(field, text)| format!("{text}: {}", field.data_type()))
                        .collect();
                    let (groups, accumulators) = items.split_at(keys);
                    writeln!(
                        f,
                        "  Aggregate: group by [{}] accumulators [{}]",
                        groups.join(", "),
                        accumulators.join(", ")
                    )?;
                }
            }
        }
        write!(f, "Output: [{}]", columns(&self.output_schema))
    }
}

fn columns(schema: &Schema) -> String {
    let fields = schema.fields().iter();
    fields
        .map(|field| format!("{}: {}", field.name(), field.data_type()))
        .collect::<Vec<_>>()
        .join(", ")
}
