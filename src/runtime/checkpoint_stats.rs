//! What status and metrics show of a pipeline's checkpoints: how many, how big, how long the
//! last took, how old it is, and the last failure to write one.

use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use serde::Serialize;
use utoipa::ToSchema;
use veloflux_engine::wall_clock_ms;

/// Counters of a pipeline's checkpoints, updated once per checkpoint.
#[derive(Debug, Default)]
pub(super) struct CheckpointStats {
    count: AtomicU64,
    bytes: AtomicU64,
    last_duration_us: AtomicU64,
    /// Epoch milliseconds; 0 before the first.
    last_at_ms: AtomicI64,
    failure: Mutex<Option<String>>,
}

/// What status and metrics show of a pipeline's checkpoints.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CheckpointSnapshot {
    /// Checkpoints committed since the pipeline started.
    pub count: u64,
    /// The size of the last one.
    pub bytes: u64,
    /// How long the last one took, from taking the state to its commit.
    pub last_duration_ms: f64,
    /// How long ago the last one was committed; null before the first.
    pub age_ms: Option<u64>,
    /// Why the last attempt to write one failed, if it did; the next attempt retries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

impl CheckpointStats {
    /// A checkpoint of `bytes` was committed, `duration` after its state was taken.
    pub(super) fn record(&self, bytes: usize, duration: Duration) {
        self.count.fetch_add(1, Ordering::Relaxed);
        self.bytes.store(bytes as u64, Ordering::Relaxed);
        let micros = u64::try_from(duration.as_micros()).unwrap_or(u64::MAX);
        self.last_duration_us.store(micros, Ordering::Relaxed);
        self.last_at_ms.store(wall_clock_ms(), Ordering::Relaxed);
        *self.lock_failure() = None;
    }

    /// A checkpoint could not be taken or written.
    pub(super) fn record_failure(&self, message: String) {
        tracing::error!(%message, "checkpoint failed");
        *self.lock_failure() = Some(message);
    }

    pub(super) fn snapshot(&self) -> CheckpointSnapshot {
        let last_at = self.last_at_ms.load(Ordering::Relaxed);
        #[expect(clippy::cast_precision_loss, reason = "microseconds of one checkpoint")]
        let last_duration_ms = self.last_duration_us.load(Ordering::Relaxed) as f64 / 1000.0;
        CheckpointSnapshot {
            count: self.count.load(Ordering::Relaxed),
            bytes: self.bytes.load(Ordering::Relaxed),
            last_duration_ms,
            age_ms: (last_at > 0).then(|| u64::try_from(wall_clock_ms() - last_at).unwrap_or(0)),
            last_error: self.lock_failure().clone(),
        }
    }

    fn lock_failure(&self) -> std::sync::MutexGuard<'_, Option<String>> {
        self.failure
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
