//! Runs stateless plan steps (filters and projections) over one batch, dropping only the
//! rows an expression fails on.

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use veloflux_kernels::{Error as KernelError, filter, project};
use veloflux_planner::PlanStep;

use crate::Result;

/// A row dropped because an expression failed on its values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// The row's position in the input batch.
    pub row: usize,
    /// What failed.
    pub message: String,
}

/// A run of filters and projections, and the schema they produce.
#[derive(Debug, Clone)]
pub(crate) struct Steps {
    steps: Vec<PlanStep>,
    /// No rows of the output schema: what a batch the filters emptied gives, built once.
    empty: RecordBatch,
}

impl Steps {
    pub(crate) fn new(steps: Vec<PlanStep>, output_schema: SchemaRef) -> Self {
        Self {
            steps,
            empty: RecordBatch::new_empty(output_schema),
        }
    }

    /// No rows of the output schema.
    pub(crate) fn empty(&self) -> RecordBatch {
        self.empty.clone()
    }

    /// Runs every step over `batch`, showing `observe` the output of each.
    ///
    /// When an expression fails on some value, the batch is run again row by row so that only
    /// the failing rows are dropped; they are returned beside the output.
    pub(crate) fn run(
        &self,
        batch: &RecordBatch,
        observe: &mut dyn FnMut(&PlanStep, &RecordBatch),
    ) -> Result<(RecordBatch, Vec<RowError>)> {
        let mut errors = Vec::new();
        // Only the whole batch is observed: one-row reruns say nothing it would not.
        let mut whole = true;
        let outputs = whole_or_row_by_row(batch, &mut errors, |rows| {
            let observed = std::mem::replace(&mut whole, false);
            if observed {
                self.run_whole(rows, observe)
            } else {
                self.run_whole(rows, &mut |_, _| {})
            }
        })?;
        Ok((concat(&self.empty.schema(), outputs)?, errors))
    }

    fn run_whole(
        &self,
        batch: &RecordBatch,
        observe: &mut dyn FnMut(&PlanStep, &RecordBatch),
    ) -> Result<RecordBatch, KernelError> {
        let mut current = batch.clone();
        for step in &self.steps {
            if current.num_rows() == 0 {
                return Ok(self.empty.clone());
            }
            current = match step {
                PlanStep::Filter(filter_step) => filter(&current, filter_step.predicate.as_ref())?,
                PlanStep::Project(project_step) => {
                    project(&current, &project_step.exprs, &project_step.schema)?
                }
                PlanStep::Stateful(_) | PlanStep::Aggregate(_) => {
                    return Err(KernelError::Internal(
                        "a stateful step among stateless ones".into(),
                    ));
                }
            };
            observe(step, &current);
        }
        Ok(current)
    }
}

/// Runs `run` over `batch` whole; when an expression fails on some value, over each row
/// alone, keeping what succeeded and reporting the failing rows in `errors`.
pub(crate) fn whole_or_row_by_row<T>(
    batch: &RecordBatch,
    errors: &mut Vec<RowError>,
    mut run: impl FnMut(&RecordBatch) -> Result<T, KernelError>,
) -> Result<Vec<T>> {
    match run(batch) {
        Ok(output) => return Ok(vec![output]),
        Err(KernelError::Evaluation(_)) => {}
        Err(error) => return Err(error.into()),
    }
    let mut outputs = Vec::new();
    for row in 0..batch.num_rows() {
        match run(&batch.slice(row, 1)) {
            Ok(output) => outputs.push(output),
            Err(KernelError::Evaluation(message)) => errors.push(RowError { row, message }),
            Err(error) => return Err(error.into()),
        }
    }
    Ok(outputs)
}

/// `batches` as one batch of `schema`; a single batch as it is.
pub(crate) fn concat(schema: &SchemaRef, mut batches: Vec<RecordBatch>) -> Result<RecordBatch> {
    if batches.len() == 1 {
        return Ok(batches.remove(0));
    }
    arrow::compute::concat_batches(schema, &batches)
        .map_err(|error| KernelError::Internal(error.to_string()).into())
}
