//! Runs a compiled plan batch after batch: the stateless steps, and for a windowed statement
//! the window aggregation between them, which keeps its state from batch to batch and emits
//! when windows close.

use arrow::array::RecordBatch;
use std::sync::Arc;

use veloflux_kernels::Error as KernelError;
use veloflux_kernels::stateful::{StatefulFunctions, StatefulState};
use veloflux_kernels::window::WindowAggregator;
use veloflux_planner::{PipelinePlan, PlanStep};

use crate::{Error, Result};

use crate::checkpoint::StateParts;
use crate::steps::{RowError, Steps, concat, whole_or_row_by_row};

/// The output of one batch and the rows that could not be processed.
#[derive(Debug)]
pub struct Executed {
    /// The rows that came through every step.
    pub batch: RecordBatch,
    /// Rows dropped because an expression failed on them (a failed cast, a division by zero).
    pub errors: Vec<RowError>,
    /// Rows dropped because they came behind the event-time watermark.
    pub late_rows: usize,
}

/// Evaluates a plan's steps over decoded batches.
#[derive(Debug)]
pub struct PlanExecutor {
    plan: PipelinePlan,
    /// The stateful functions' step and what they remember.
    stateful: Option<(Arc<StatefulFunctions>, StatefulState)>,
    /// The steps before the window, or all of them.
    before: Steps,
    window: Option<Windowed>,
}

/// The window aggregation and the steps after it.
#[derive(Debug)]
struct Windowed {
    aggregator: WindowAggregator,
    after: Steps,
}

impl PlanExecutor {
    /// An executor for `plan`, with no window open.
    pub fn new(plan: PipelinePlan) -> Self {
        let stateful = match plan.steps.first() {
            Some(PlanStep::Stateful(step)) => {
                Some((step.functions.clone(), StatefulState::default()))
            }
            _ => None,
        };
        let first = usize::from(stateful.is_some());
        let position = plan
            .steps
            .iter()
            .position(|step| matches!(step, PlanStep::Aggregate(_)));
        let Some(position) = position else {
            let before = Steps::new(plan.steps[first..].to_vec(), plan.output_schema.clone());
            return Self {
                plan,
                stateful,
                before,
                window: None,
            };
        };
        let before = Steps::new(plan.steps[..position].to_vec(), plan.source.schema.clone());
        let after = Steps::new(
            plan.steps[position + 1..].to_vec(),
            plan.output_schema.clone(),
        );
        let window = match &plan.steps[position] {
            PlanStep::Aggregate(step) => Some(Windowed {
                aggregator: WindowAggregator::new(
                    &step.window,
                    step.time.clone(),
                    step.aggregation.clone(),
                ),
                after,
            }),
            _ => None,
        };
        Self {
            plan,
            stateful,
            before,
            window,
        }
    }

    /// The plan being executed.
    pub fn plan(&self) -> &PipelinePlan {
        &self.plan
    }

    /// Runs `batch` (with the plan's source schema), processed at `now_ms` (epoch
    /// milliseconds).
    ///
    /// When an expression fails on some value, the batch is run again row by row so that only
    /// the failing rows are dropped; they are reported in [`Executed::errors`].
    ///
    /// # Errors
    /// Only on a bug in planning: data errors are reported per row.
    pub fn execute(&mut self, batch: &RecordBatch, now_ms: i64) -> Result<Executed> {
        self.execute_observed(batch, now_ms, &mut |_, _| {})
    }

    /// [`Self::execute`], showing `observe` the output of the filter before any window and of
    /// the final projection.
    ///
    /// # Errors
    /// Only on a bug in planning: data errors are reported per row.
    pub fn execute_observed(
        &mut self,
        batch: &RecordBatch,
        now_ms: i64,
        observe: &mut dyn FnMut(&PlanStep, &RecordBatch),
    ) -> Result<Executed> {
        let mut errors = Vec::new();
        let batch = match &mut self.stateful {
            Some((functions, state)) => apply_stateful(functions, state, batch, &mut errors)?,
            None => batch.clone(),
        };
        let (rows, before_errors) = self.before.run(&batch, observe)?;
        errors.extend(before_errors);
        let Some(window) = &mut self.window else {
            return Ok(Executed {
                batch: rows,
                errors,
                late_rows: 0,
            });
        };
        let (closed, late_rows) = window.push(&rows, now_ms, &mut errors)?;
        let mut executed = window.finish_rows(closed, observe)?;
        executed.errors.extend(errors);
        executed.late_rows = late_rows;
        Ok(executed)
    }

    /// Closes the windows that time has ended by `now_ms` and runs their rows through the
    /// rest of the plan.
    ///
    /// # Errors
    /// Only on a bug.
    pub fn advance(
        &mut self,
        now_ms: i64,
        observe: &mut dyn FnMut(&PlanStep, &RecordBatch),
    ) -> Result<Option<Executed>> {
        let Some(window) = &mut self.window else {
            return Ok(None);
        };
        let closed = window.aggregator.advance(now_ms)?;
        window.finish_rows(closed, observe).map(Some)
    }

    /// The stream ended: closes every window time would close.
    ///
    /// # Errors
    /// Only on a bug.
    pub fn finish(&mut self) -> Result<Option<Executed>> {
        let Some(window) = &mut self.window else {
            return Ok(None);
        };
        let closed = window.aggregator.finish()?;
        window.finish_rows(closed, &mut |_, _| {}).map(Some)
    }

    /// When [`Self::advance`] should next be called (epoch milliseconds), if a window is open
    /// that time will close.
    pub fn next_deadline(&self) -> Option<i64> {
        self.window.as_ref()?.aggregator.next_deadline()
    }

    /// Bytes held by open windows, approximately.
    pub fn window_state_bytes(&self) -> usize {
        self.window
            .as_ref()
            .map_or(0, |window| window.aggregator.memory_size())
    }

    /// Whether the plan keeps state from batch to batch (a window or a stateful function):
    /// what a checkpoint would hold.
    pub fn has_state(&self) -> bool {
        self.stateful.is_some() || self.window.is_some()
    }

    /// The state as the bytes of a checkpoint; execution goes on as it was.
    ///
    /// # Errors
    /// Only on a bug.
    pub fn checkpoint(&mut self) -> Result<Vec<u8>> {
        let mut parts = StateParts::default();
        if let Some((functions, state)) = &self.stateful {
            parts.stateful = state.snapshot(functions)?;
        }
        if let Some(window) = &mut self.window {
            parts.window = window.aggregator.snapshot()?;
        }
        parts.encode()
    }

    /// Replaces the state by a checkpoint's, restored at `now_ms`.
    ///
    /// # Errors
    /// [`Error::Checkpoint`] when the bytes are damaged or hold another statement's state;
    /// the executor is then left part restored, for nothing but dropping.
    pub fn restore(&mut self, checkpoint: &[u8], now_ms: i64) -> Result<()> {
        let parts = StateParts::decode(checkpoint)?;
        match &mut self.stateful {
            Some((functions, state)) => state
                .restore(functions, &parts.stateful)
                .map_err(not_restored)?,
            None if parts.stateful.is_empty() => {}
            None => return Err(not_restored("stateful functions the statement has not")),
        }
        match &mut self.window {
            Some(window) => window
                .aggregator
                .restore(&parts.window, now_ms)
                .map_err(not_restored)?,
            None if parts.window.is_empty() => {}
            None => return Err(not_restored("windows the statement has not")),
        }
        Ok(())
    }
}

/// The error of a checkpoint that does not fit the statement.
fn not_restored(why: impl std::fmt::Display) -> Error {
    Error::Checkpoint(format!("the checkpoint does not fit the statement: {why}"))
}

impl Windowed {
    /// Adds rows to their windows; when an expression fails on some row, the rows are added
    /// one by one and the failing ones reported.
    fn push(
        &mut self,
        rows: &RecordBatch,
        now_ms: i64,
        errors: &mut Vec<RowError>,
    ) -> Result<(Vec<RecordBatch>, usize)> {
        let pushed = whole_or_row_by_row(rows, errors, |rows| self.aggregator.push(rows, now_ms))?;
        let late_rows = pushed.iter().map(|pushed| pushed.late_rows).sum();
        let closed = pushed
            .into_iter()
            .flat_map(|pushed| pushed.batches)
            .collect();
        Ok((closed, late_rows))
    }

    /// Runs the rows of closed windows through HAVING and the SELECT list.
    fn finish_rows(
        &self,
        closed: Vec<RecordBatch>,
        observe: &mut dyn FnMut(&PlanStep, &RecordBatch),
    ) -> Result<Executed> {
        let Some(first) = closed.first() else {
            return Ok(Executed {
                batch: self.after.empty(),
                errors: Vec::new(),
                late_rows: 0,
            });
        };
        let rows = arrow::compute::concat_batches(&first.schema(), &closed)
            .map_err(|error| KernelError::Internal(error.to_string()))?;
        let mut observe_projection = |step: &PlanStep, batch: &RecordBatch| {
            if matches!(step, PlanStep::Project(_)) {
                observe(step, batch);
            }
        };
        let (batch, errors) = self.after.run(&rows, &mut observe_projection)?;
        Ok(Executed {
            batch,
            errors,
            late_rows: 0,
        })
    }
}

/// `batch` with the stateful functions' columns; when an argument fails on some row, the
/// rows are taken one by one and the failing ones dropped and reported.
fn apply_stateful(
    functions: &StatefulFunctions,
    state: &mut StatefulState,
    batch: &RecordBatch,
    errors: &mut Vec<RowError>,
) -> Result<RecordBatch> {
    let outputs = whole_or_row_by_row(batch, errors, |rows| state.apply(functions, rows))?;
    concat(&functions.schema, outputs)
}
