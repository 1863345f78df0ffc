//! The `EXPLAIN` text of a plan: one line per operator, from the source down.

use std::fmt::{self, Display, Write};

use arrow::datatypes::Schema;

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
        writeln!(
            f,
            "Source: stream={} decode=[{}] ({} of {} columns)",
            source.stream,
            columns(&source.schema),
            source.schema.fields().len(),
            source.stream_columns
        )?;
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
