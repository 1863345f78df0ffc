//! The task of one running pipeline: micro-batches in, plan, sinks out.

use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow::array::RecordBatch;
use tokio_util::sync::CancellationToken;
use veloflux_engine::{Chain, Executed, wall_clock_ms};
use veloflux_planner::PlanStep;

use super::batcher::BatchPolicy;
use super::checkpoint::Checkpointing;
use super::checkpoint_stats::CheckpointStats;
use super::input::Input;
use super::settlement::Settlements;
use super::sink::Sink;
use super::stage::Stage;
use super::stats::StageStats;
use super::tap::{TapPoint, Taps};
use super::window_stats::WindowStats;

/// The counters of a running pipeline, by stage.
#[derive(Debug, Default)]
pub(super) struct PipelineStats {
    pub(super) source: Arc<StageStats>,
    pub(super) plan: Arc<StageStats>,
    pub(super) sinks: Vec<(Stage, Arc<StageStats>)>,
    /// For a windowed statement.
    pub(super) window: Option<Arc<WindowStats>>,
    /// For a statement with state, when checkpoints are on.
    pub(super) checkpoint: Option<Arc<CheckpointStats>>,
}

/// Everything a running pipeline owns.
pub(super) struct PipelineTask {
    pub(super) input: Input,
    /// Decoder, plan and one encoder per sink, in the order of `sinks`.
    pub(super) chain: Chain,
    pub(super) sinks: Vec<Sink>,
    pub(super) policy: BatchPolicy,
    /// The source's counters; a shared stream's are its own, kept by the stream.
    pub(super) source_stats: Arc<StageStats>,
    pub(super) plan_stats: Arc<StageStats>,
    pub(super) window_stats: Option<Arc<WindowStats>>,
    pub(super) taps: Arc<Taps>,
    pub(super) settlements: Settlements,
    /// For a statement with state, when checkpoints are on.
    pub(super) checkpointing: Option<Checkpointing>,
    pub(super) shutdown: CancellationToken,
}

/// How long a stopping pipeline waits for its sinks to confirm what it sent.
const STOP_PATIENCE: Duration = Duration::from_secs(5);

/// What wakes a pipeline.
enum Wake {
    Batch,
    Confirmed,
    WindowEnd,
    SinkBatchDue,
    CheckpointDue,
    Checkpointed(Option<u64>),
    Stop,
}

impl PipelineTask {
    /// Processes batches until the input ends or `shutdown` is cancelled; then processes what
    /// is already queued and sends what sinks hold for their batches, so a stop loses nothing
    /// that was received, checkpoints the state (windows still open are resumed at the next
    /// start), and waits a little for the sinks to confirm what was sent.
    pub(super) async fn run(mut self) {
        let mut healthy = self.process_until_stopped().await;
        if healthy {
            while healthy && self.input.take_queued(self.policy) {
                healthy = self.process().await;
            }
        }
        self.send_held(None).await;
        if healthy
            && let Some(checkpointing) = &mut self.checkpointing
            && let Some(number) = checkpointing.finish(&mut self.chain).await
        {
            self.settlements.checkpoint_committed(&self.sinks, number);
        }
        self.settlements.finish(&self.sinks, STOP_PATIENCE).await;
    }

    /// False when the pipeline stopped itself.
    async fn process_until_stopped(&mut self) -> bool {
        let shutdown = self.shutdown.clone();
        loop {
            let window_end = window_end_sleep(self.chain.next_deadline());
            let sink_batch_due =
                sleep_until(self.sinks.iter().filter_map(Sink::send_deadline).min());
            let checkpoint_due =
                sleep_until(self.checkpointing.as_ref().and_then(|checkpointing| {
                    checkpointing.due(self.settlements.waits_on_checkpoint())
                }));
            let writing = self
                .checkpointing
                .as_ref()
                .is_some_and(Checkpointing::is_writing);
            let waiting = self.settlements.waits_on_sinks();
            let full = self.settlements.is_full();
            let wake = tokio::select! {
                biased;
                () = shutdown.cancelled() => Wake::Stop,
                () = self.settlements.oldest_confirmed(&self.sinks), if waiting => Wake::Confirmed,
                // Before the input: a busy input must not keep checkpoints from being taken.
                committed = written(&mut self.checkpointing), if writing => {
                    Wake::Checkpointed(committed)
                }
                () = checkpoint_due => Wake::CheckpointDue,
                more = self.input.next(self.policy), if !full => {
                    if more { Wake::Batch } else { Wake::Stop }
                }
                () = window_end => Wake::WindowEnd,
                () = sink_batch_due => Wake::SinkBatchDue,
            };
            let healthy = match wake {
                Wake::Batch => self.process().await,
                Wake::Confirmed => {
                    self.settlements.settle_confirmed(&self.sinks);
                    true
                }
                Wake::WindowEnd => self.close_windows().await,
                Wake::SinkBatchDue => {
                    self.send_held(Some(Instant::now())).await;
                    true
                }
                Wake::CheckpointDue => {
                    if let Some(checkpointing) = &mut self.checkpointing {
                        checkpointing.take(&mut self.chain);
                    }
                    true
                }
                Wake::Checkpointed(committed) => {
                    if let Some(number) = committed {
                        self.settlements.checkpoint_committed(&self.sinks, number);
                    }
                    true
                }
                Wake::Stop => return true,
            };
            if !healthy {
                return false;
            }
        }
    }

    /// Processes one batch; its messages are acknowledged once the sinks have what it
    /// produced and, when the statement keeps state, once a checkpoint holds what it changed.
    /// False when the pipeline must stop.
    async fn process(&mut self) -> bool {
        let acks = self.input.take_acks();
        let Some(batch) = self.input.batch(self.chain.decoder(), &self.source_stats) else {
            // Nothing to deliver (nothing decodable): handled, or it would come back forever.
            self.settlements.push(&self.sinks, acks, None);
            return true;
        };
        let checkpoint = match &mut self.checkpointing {
            Some(checkpointing) if batch.num_rows() > 0 => Some(checkpointing.fed(acks.len())),
            _ => None,
        };
        let healthy = self.process_batch(batch).await;
        self.settlements.push(&self.sinks, acks, checkpoint);
        healthy
    }

    async fn process_batch(&mut self, batch: RecordBatch) -> bool {
        if batch.num_rows() == 0 {
            return true;
        }
        let taps = &self.taps;
        taps.observe(TapPoint::Source, &batch);
        let started = Instant::now();
        let mut observe = |step: &PlanStep, output: &RecordBatch| observe_step(taps, step, output);
        let now = wall_clock_ms();
        let executed = match self.chain.execute(&batch, now, &mut observe) {
            Ok(executed) => executed,
            Err(error) => {
                self.plan_stats
                    .record_errors(batch.num_rows(), || error.to_string());
                return true;
            }
        };
        self.plan_stats.record_batch(
            batch.num_rows(),
            executed.batch.num_rows(),
            started.elapsed(),
        );
        self.deliver(executed).await
    }

    /// Emits the windows whose end has come.
    async fn close_windows(&mut self) -> bool {
        if let Some(checkpointing) = &mut self.checkpointing {
            checkpointing.changed();
        }
        let taps = &self.taps;
        let mut observe = |step: &PlanStep, output: &RecordBatch| observe_step(taps, step, output);
        match self.chain.advance(wall_clock_ms(), &mut observe) {
            Ok(Some(executed)) => self.deliver(executed).await,
            Ok(None) => true,
            Err(error) => {
                self.plan_stats.record_errors(0, || error.to_string());
                true
            }
        }
    }

    /// Counts what a batch left behind and sends its rows to the sinks; false when the
    /// window state is over its cap.
    async fn deliver(&mut self, executed: Executed) -> bool {
        self.plan_stats.record_errors(executed.errors.len(), || {
            executed
                .errors
                .last()
                .map(|error| error.message.clone())
                .unwrap_or_default()
        });
        let within_cap = self.window_stats.as_ref().is_none_or(|stats| {
            let recorded = stats.record(executed.late_rows, self.chain.window_state_bytes());
            recorded
                .inspect_err(|message| tracing::error!(%message))
                .is_ok()
        });
        let rows = executed.batch.num_rows();
        if rows > 0 {
            self.taps.observe(TapPoint::Sink, &executed.batch);
            for (index, sink) in self.sinks.iter_mut().enumerate() {
                sink.deliver(&mut self.chain, index, &executed.batch).await;
            }
        }
        within_cap
    }
}

impl PipelineTask {
    /// Sends the rows sinks hold for their batches: those due by `now`, or all of them.
    async fn send_held(&mut self, now: Option<Instant>) {
        for (index, sink) in self.sinks.iter_mut().enumerate() {
            let due = sink
                .send_deadline()
                .is_some_and(|deadline| now.is_none_or(|now| deadline <= now));
            if due {
                sink.send_held(&mut self.chain, index).await;
            }
        }
        self.settlements.settle_confirmed(&self.sinks);
    }
}

/// Resolves at `deadline`; never without one.
async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline.into()).await,
        None => std::future::pending().await,
    }
}

/// Shows the taps the filter before any window and the final projection.
fn observe_step(taps: &Taps, step: &PlanStep, output: &RecordBatch) {
    match step {
        PlanStep::Filter(_) => taps.observe(TapPoint::Filter, output),
        PlanStep::Project(_) => taps.observe(TapPoint::Project, output),
        PlanStep::Stateful(_) | PlanStep::Aggregate(_) => {}
    }
}

/// Resolves when the checkpoint being written is committed or failed; never without one.
async fn written(checkpointing: &mut Option<Checkpointing>) -> Option<u64> {
    match checkpointing {
        Some(checkpointing) => checkpointing.written().await,
        None => std::future::pending().await,
    }
}

/// Resolves when the clock reaches `deadline_ms` (epoch milliseconds); never without one.
async fn window_end_sleep(deadline_ms: Option<i64>) {
    let Some(deadline_ms) = deadline_ms else {
        return std::future::pending().await;
    };
    let wait = u64::try_from(deadline_ms - wall_clock_ms()).unwrap_or(0);
    tokio::time::sleep(Duration::from_millis(wait)).await;
}
