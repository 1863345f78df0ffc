//! Checkpoints of a running pipeline's state: taken every `runtime.checkpoint_interval_ms`
//! while the state changes (and sooner when acknowledgements wait on one: once as many wait
//! as a broker sends before it waits for them, or once the input has gone quiet), and at a
//! stop; written to redb off the pipeline's task; restored when the
//! pipeline starts. A message that fed the state is acknowledged once a checkpoint taken
//! after it is committed ([`super::settlement`]).

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::task::JoinHandle;
use veloflux_engine::{Chain, wall_clock_ms};

use super::checkpoint_stats::CheckpointStats;
use super::start_error::StartError;
use crate::storage::{Storage, StoredCheckpoint};

/// How long the input must stay quiet, with acknowledgements waiting on a checkpoint, before
/// one is taken ahead of the interval: the broker is then likely waiting on those.
const QUIET: Duration = Duration::from_millis(10);

/// How many acknowledgements may wait on a checkpoint before one is taken ahead of the
/// interval: a broker sends a QoS 1 subscriber only so many messages before it waits for
/// their acknowledgements (Mosquitto's `max_inflight_messages`: 20 by default; EMQX's
/// `max_inflight`: 32), so waiting longer would stall the input.
const BROKER_WINDOW: usize = 16;

/// Checkpoints taken early are spaced by at least this many times the time the pipeline
/// spent taking the last one, so that they take at most about a tenth of its time. Writing
/// one, mostly waiting for the disk, happens off the pipeline's task and does not count.
const EARLY_SPACING: u32 = 10;

/// Where and how often a pipeline's state is saved.
pub(super) struct CheckpointPlan {
    pub(super) storage: Arc<Storage>,
    pub(super) pipeline: String,
    /// The statement the state belongs to; a checkpoint of another is not restored.
    pub(super) statement: String,
    pub(super) interval: Duration,
}

/// The checkpoints of one running pipeline.
pub(super) struct Checkpointing {
    plan: CheckpointPlan,
    stats: Arc<CheckpointStats>,
    /// When the last checkpoint was taken, and how long taking it (not writing it) took.
    last: Instant,
    last_duration: Duration,
    last_input: Instant,
    /// How many acknowledgements wait on the next checkpoint.
    held_acks: usize,
    /// Whether the state may have changed since the last checkpoint.
    dirty: bool,
    /// The number the next checkpoint will have; the first is 1.
    next: u64,
    /// The checkpoint being written: its number and the write.
    writing: Option<(u64, JoinHandle<Result<(), String>>)>,
}

impl Checkpointing {
    pub(super) fn new(plan: CheckpointPlan, stats: Arc<CheckpointStats>) -> Self {
        let now = Instant::now();
        Self {
            plan,
            stats,
            last: now,
            last_duration: Duration::ZERO,
            last_input: now,
            held_acks: 0,
            dirty: false,
            next: 1,
            writing: None,
        }
    }

    /// A batch of input, whose messages hold `acks` acknowledgements, is going through the
    /// state: the number of the checkpoint whose commit settles its messages.
    pub(super) fn fed(&mut self, acks: usize) -> u64 {
        self.dirty = true;
        self.held_acks += acks;
        self.last_input = Instant::now();
        self.next
    }

    /// Time moved windows on.
    pub(super) fn changed(&mut self) {
        self.dirty = true;
    }

    /// Whether a checkpoint is being written.
    pub(super) fn is_writing(&self) -> bool {
        self.writing.is_some()
    }

    /// When the next checkpoint is due, if one is: an interval after the last while the state
    /// changed, and sooner when `acks_wait`: at once when a broker's window of them waits,
    /// else when the input went quiet; early ones spaced by [`EARLY_SPACING`].
    pub(super) fn due(&self, acks_wait: bool) -> Option<Instant> {
        if !self.dirty || self.writing.is_some() {
            return None;
        }
        let periodic = self.last + self.plan.interval;
        if !acks_wait {
            return Some(periodic);
        }
        let spaced = self.last + self.last_duration * EARLY_SPACING;
        let early = if self.held_acks >= BROKER_WINDOW {
            spaced
        } else {
            (self.last_input + QUIET).max(spaced)
        };
        Some(periodic.min(early))
    }

    /// Takes a checkpoint of `chain`'s state and starts writing it.
    pub(super) fn take(&mut self, chain: &mut Chain) {
        let started = Instant::now();
        let state = match chain.checkpoint() {
            Ok(state) => state,
            Err(error) => {
                self.stats.record_failure(error.to_string());
                return;
            }
        };
        let bytes = state.len();
        let record = StoredCheckpoint {
            statement: self.plan.statement.clone(),
            written_at_ms: wall_clock_ms(),
            state,
        };
        let storage = Arc::clone(&self.plan.storage);
        let pipeline = self.plan.pipeline.clone();
        let stats = Arc::clone(&self.stats);
        let write = tokio::task::spawn_blocking(move || {
            storage
                .put_checkpoint(&pipeline, &record)
                .map_err(|error| error.to_string())?;
            stats.record(bytes, started.elapsed());
            Ok(())
        });
        self.last_duration = started.elapsed();
        self.writing = Some((self.next, write));
        self.next += 1;
        self.held_acks = 0;
        self.dirty = false;
        self.last = Instant::now();
    }

    /// Resolves when the checkpoint being written is committed (its number) or failed
    /// (`None`: what it held waits for the next); never while none is being written.
    pub(super) async fn written(&mut self) -> Option<u64> {
        let Some((number, write)) = &mut self.writing else {
            return std::future::pending().await;
        };
        let number = *number;
        let result = write.await.unwrap_or_else(|error| Err(error.to_string()));
        self.writing = None;
        match result {
            Ok(()) => Some(number),
            Err(error) => {
                self.stats.record_failure(error);
                self.dirty = true;
                None
            }
        }
    }

    /// At a stop: waits for the checkpoint being written, then writes a last one of what
    /// changed since; the number of the last committed, if any.
    pub(super) async fn finish(&mut self, chain: &mut Chain) -> Option<u64> {
        let mut committed = None;
        if self.writing.is_some() {
            committed = self.written().await;
        }
        if self.dirty {
            self.take(chain);
            committed = self.written().await.or(committed);
        }
        committed
    }
}

/// Restores `chain`'s state from pipeline `plan.pipeline`'s last checkpoint, if it has one of
/// the same statement and `chain` keeps state; discards any other. A note for the pipeline's
/// status when state was discarded.
///
/// # Errors
/// When the checkpoint cannot be read or restored: the pipeline must not start empty.
pub(super) fn restore(
    chain: &mut Chain,
    plan: &CheckpointPlan,
    enabled: bool,
) -> Result<Option<String>, StartError> {
    let Some(stored) = plan.storage.checkpoint(&plan.pipeline)? else {
        return Ok(None);
    };
    let same_statement = stored.statement == plan.statement;
    if !(enabled && chain.has_state() && same_statement) {
        plan.storage.delete_checkpoint(&plan.pipeline)?;
        let age = Duration::from_millis(
            u64::try_from(wall_clock_ms() - stored.written_at_ms).unwrap_or(0),
        );
        return Ok((!same_statement).then(|| {
            format!(
                "the statement changed: the state of the last checkpoint (taken {} s before \
                 this start) was discarded",
                age.as_secs()
            )
        }));
    }
    chain
        .restore(&stored.state, wall_clock_ms())
        .map_err(|error| {
            StartError::Checkpoint(format!(
                "pipeline '{}' cannot resume its state: {error}. Its windows are not started \
                 empty; to discard the state, delete the pipeline and create it again",
                plan.pipeline
            ))
        })?;
    tracing::info!(pipeline = %plan.pipeline, bytes = stored.state.len(), "state restored");
    Ok(None)
}
