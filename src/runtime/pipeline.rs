//! The task of one running pipeline: micro-batches in, plan, sinks out.

use std::sync::Arc;
use std::time::Instant;

use arrow::array::RecordBatch;
use tokio_util::sync::CancellationToken;
use veloflux_planner::PlanStep;

use super::batcher::BatchPolicy;
use super::executor::PlanExecutor;
use super::input::Input;
use super::sink::Sink;
use super::stats::StageStats;
use super::tap::{TapPoint, Taps};

/// The counters of a running pipeline, by stage.
#[derive(Debug, Default)]
pub(super) struct PipelineStats {
    pub(super) source: Arc<StageStats>,
    pub(super) plan: Arc<StageStats>,
    pub(super) sinks: Vec<(String, Arc<StageStats>)>,
}

/// Everything a running pipeline owns.
pub(super) struct PipelineTask {
    pub(super) input: Input,
    pub(super) executor: PlanExecutor,
    pub(super) sinks: Vec<Sink>,
    pub(super) policy: BatchPolicy,
    pub(super) source_stats: Arc<StageStats>,
    pub(super) plan_stats: Arc<StageStats>,
    pub(super) taps: Arc<Taps>,
}

impl PipelineTask {
    /// Processes batches until the input ends or `shutdown` is cancelled; then processes what
    /// is already queued, so a stop loses nothing that was received.
    pub(super) async fn run(mut self, shutdown: CancellationToken) {
        loop {
            let more = tokio::select! {
                biased;
                () = shutdown.cancelled() => false,
                more = self.input.next(self.policy) => more,
            };
            if !more {
                break;
            }
            self.process().await;
        }
        while self.input.take_queued(self.policy) {
            self.process().await;
        }
    }

    async fn process(&mut self) {
        let Some(batch) = self.input.batch(&self.source_stats) else {
            return;
        };
        if batch.num_rows() == 0 {
            return;
        }
        let taps = &self.taps;
        taps.observe(TapPoint::Source, &batch);
        let started = Instant::now();
        let mut observe = |step: &PlanStep, output: &RecordBatch| match step {
            PlanStep::Filter(_) => taps.observe(TapPoint::Filter, output),
            PlanStep::Project(_) => taps.observe(TapPoint::Project, output),
        };
        let executed = match self.executor.execute_observed(&batch, &mut observe) {
            Ok(executed) => executed,
            Err(error) => {
                self.plan_stats
                    .record_errors(batch.num_rows(), || error.to_string());
                return;
            }
        };
        self.plan_stats.record_batch(
            batch.num_rows(),
            executed.batch.num_rows(),
            started.elapsed(),
        );
        self.plan_stats.record_errors(executed.errors.len(), || {
            executed
                .errors
                .last()
                .map(|error| error.message.clone())
                .unwrap_or_default()
        });
        if executed.batch.num_rows() == 0 {
            return;
        }
        self.taps.observe(TapPoint::Sink, &executed.batch);
        for sink in &mut self.sinks {
            sink.send(&executed.batch).await;
        }
    }
}
