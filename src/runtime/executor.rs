//! Runs the steps of a compiled plan over one batch at a time.

use arrow::array::RecordBatch;
use veloflux_kernels::{Error as KernelError, filter, project};
use veloflux_planner::{PipelinePlan, PlanStep};

use crate::Result;

/// A row dropped because an expression failed on its values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// The row's position in the input batch.
    pub row: usize,
    /// What failed.
    pub message: String,
}

/// The output of one batch and the rows that could not be processed.
#[derive(Debug)]
pub struct Executed {
    /// The rows that came through every step.
    pub batch: RecordBatch,
    /// Rows dropped because an expression failed on them (a failed cast, a division by zero).
    pub errors: Vec<RowError>,
}

/// Evaluates a plan's steps over decoded batches.
#[derive(Debug, Clone)]
pub struct PlanExecutor {
    plan: PipelinePlan,
}

impl PlanExecutor {
    /// An executor for `plan`.
    pub fn new(plan: PipelinePlan) -> Self {
        Self { plan }
    }

    /// The plan being executed.
    pub fn plan(&self) -> &PipelinePlan {
        &self.plan
    }

    /// Runs every step over `batch`, which must have the plan's source schema.
    ///
    /// When an expression fails on some value, the batch is run again row by row so that only
    /// the failing rows are dropped; they are reported in [`Executed::errors`].
    ///
    /// # Errors
    /// Only on a bug in planning: data errors are reported per row.
    pub fn execute(&self, batch: &RecordBatch) -> Result<Executed> {
        self.execute_observed(batch, &mut |_, _| {})
    }

    /// [`Self::execute`], showing `observe` the output of each step (not of the row-by-row
    /// rerun, whose one-row batches say nothing a whole batch would not).
    ///
    /// # Errors
    /// Only on a bug in planning: data errors are reported per row.
    pub fn execute_observed(
        &self,
        batch: &RecordBatch,
        observe: &mut dyn FnMut(&PlanStep, &RecordBatch),
    ) -> Result<Executed> {
        match self.run_steps(batch, observe) {
            Ok(output) => Ok(Executed {
                batch: output,
                errors: Vec::new(),
            }),
            Err(KernelError::Evaluation(_)) => self.execute_row_by_row(batch),
            Err(error) => Err(error.into()),
        }
    }

    fn run_steps(
        &self,
        batch: &RecordBatch,
        observe: &mut dyn FnMut(&PlanStep, &RecordBatch),
    ) -> Result<RecordBatch, KernelError> {
        let mut current = batch.clone();
        for step in &self.plan.steps {
            if current.num_rows() == 0 {
                return Ok(RecordBatch::new_empty(self.plan.output_schema.clone()));
            }
            current = match step {
                PlanStep::Filter(filter_step) => filter(&current, filter_step.predicate.as_ref())?,
                PlanStep::Project(project_step) => {
                    project(&current, &project_step.exprs, &project_step.schema)?
                }
            };
            observe(step, &current);
        }
        Ok(current)
    }

    fn execute_row_by_row(&self, batch: &RecordBatch) -> Result<Executed> {
        let mut outputs = Vec::new();
        let mut errors = Vec::new();
        for row in 0..batch.num_rows() {
            match self.run_steps(&batch.slice(row, 1), &mut |_, _| {}) {
                Ok(output) => outputs.push(output),
                Err(KernelError::Evaluation(message)) => errors.push(RowError { row, message }),
                Err(error) => return Err(error.into()),
            }
        }
        let schema = self.plan.output_schema.clone();
        let batch = arrow::compute::concat_batches(&schema, &outputs)
            .map_err(|error| KernelError::Internal(error.to_string()))?;
        Ok(Executed { batch, errors })
    }
}
