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
pub(super) struct Steps {
    steps: Vec<PlanStep>,
    output_schema: SchemaRef,
}

impl Steps {
    pub(super) fn new(steps: Vec<PlanStep>, output_schema: SchemaRef) -> Self {
        Self {
            steps,
            output_schema,
        }
    }

    pub(super) fn output_schema(&self) -> SchemaRef {
        self.output_schema.clone()
    }

    /// Runs every step over `batch`, showing `observe` the output of each.
    ///
    /// When an expression fails on some value, the batch is run again row by row so that only
    /// the failing rows are dropped; they are returned beside the output.
    pub(super) fn run(
        &self,
        batch: &RecordBatch,
        observe: &mut dyn FnMut(&PlanStep, &RecordBatch),
    ) -> Result<(RecordBatch, Vec<RowError>)> {
        match self.run_whole(batch, observe) {
            Ok(output) => Ok((output, Vec::new())),
            Err(KernelError::Evaluation(_)) => self.run_row_by_row(batch),
            Err(error) => Err(error.into()),
        }
    }

    fn run_whole(
        &self,
        batch: &RecordBatch,
        observe: &mut dyn FnMut(&PlanStep, &RecordBatch),
    ) -> Result<RecordBatch, KernelError> {
        let mut current = batch.clone();
        for step in &self.steps {
            if current.num_rows() == 0 {
                return Ok(RecordBatch::new_empty(self.output_schema.clone()));
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

    /// The rows one by one: the one-row batches are not observed, they say nothing a whole
    /// batch would not.
    fn run_row_by_row(&self, batch: &RecordBatch) -> Result<(RecordBatch, Vec<RowError>)> {
        let mut outputs = Vec::new();
        let mut errors = Vec::new();
        for row in 0..batch.num_rows() {
            match self.run_whole(&batch.slice(row, 1), &mut |_, _| {}) {
                Ok(output) => outputs.push(output),
                Err(KernelError::Evaluation(message)) => errors.push(RowError { row, message }),
                Err(error) => return Err(error.into()),
            }
        }
        let batch = arrow::compute::concat_batches(&self.output_schema, &outputs)
            .map_err(|error| KernelError::Internal(error.to_string()))?;
        Ok((batch, errors))
    }
}
