//! Per-pipeline counters, updated once per batch and read by status and stats requests.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use serde::Serialize;

/// Counters of one stage of a pipeline.
#[derive(Debug, Default)]
pub(super) struct StageStats {
    records_in: AtomicU64,
    records_out: AtomicU64,
    errors: AtomicU64,
    batches: AtomicU64,
    last_error: Mutex<Option<(String, SystemTime)>>,
}

impl StageStats {
    /// Records one batch: `records_in` taken, `records_out` produced.
    pub(super) fn record_batch(&self, records_in: usize, records_out: usize) {
        self.records_in
            .fetch_add(records_in as u64, Ordering::Relaxed);
        self.records_out
            .fetch_add(records_out as u64, Ordering::Relaxed);
        self.batches.fetch_add(1, Ordering::Relaxed);
    }

    /// Records `count` errors, the last of which says `message`.
    pub(super) fn record_errors(&self, count: usize, message: impl FnOnce() -> String) {
        if count == 0 {
            return;
        }
        self.errors.fetch_add(count as u64, Ordering::Relaxed);
        if let Ok(mut last) = self.last_error.lock() {
            *last = Some((message(), SystemTime::now()));
        }
    }

    /// The counters as they are now.
    pub(super) fn snapshot(&self) -> StageSnapshot {
        let last_error = self.last_error.lock().ok().and_then(|last| last.clone());
        StageSnapshot {
            records_in: self.records_in.load(Ordering::Relaxed),
            records_out: self.records_out.load(Ordering::Relaxed),
            error_count: self.errors.load(Ordering::Relaxed),
            batches: self.batches.load(Ordering::Relaxed),
            last_error: last_error.as_ref().map(|(message, _)| message.clone()),
            last_error_at_ms: last_error.and_then(|(_, at)| epoch_millis(at)),
        }
    }
}

/// The counters of one stage at one moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StageSnapshot {
    /// Records (messages or rows) the stage took.
    pub records_in: u64,
    /// Records it produced.
    pub records_out: u64,
    /// Records it could not process.
    pub error_count: u64,
    /// Batches it processed.
    pub batches: u64,
    /// Its last error.
    pub last_error: Option<String>,
    /// When that was, in milliseconds since the epoch.
    pub last_error_at_ms: Option<u64>,
}

fn epoch_millis(time: SystemTime) -> Option<u64> {
    let since = time.duration_since(SystemTime::UNIX_EPOCH).ok()?;
    u64::try_from(since.as_millis()).ok()
}
