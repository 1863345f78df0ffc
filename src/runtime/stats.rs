//! Per-stage counters, updated once per batch and read by status requests and metric scrapes.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use serde::Serialize;
use utoipa::ToSchema;

use super::histogram::{BucketHistogram, HistogramSnapshot};

/// Upper bounds of batch processing times, in seconds: 10 µs to 1 s.
const SECONDS_BOUNDS: &[f64] = &[
    1e-5, 5e-5, 1e-4, 5e-4, 1e-3, 5e-3, 1e-2, 5e-2, 0.1, 0.5, 1.0,
];
/// Upper bounds of batch sizes, in rows.
const ROWS_BOUNDS: &[f64] = &[1.0, 4.0, 16.0, 64.0, 256.0, 1024.0, 4096.0, 16384.0];
/// How many recent batch times the percentiles of the status are computed over.
const RECENT_BATCHES: usize = 256;

/// Counters of one stage of a pipeline.
#[derive(Debug)]
pub(super) struct StageStats {
    records_in: AtomicU64,
    records_out: AtomicU64,
    bytes_in: AtomicU64,
    errors: AtomicU64,
    batches: AtomicU64,
    last_error: Mutex<Option<(String, SystemTime)>>,
    batch_seconds: BucketHistogram,
    batch_rows: BucketHistogram,
    /// The times of the last [`RECENT_BATCHES`] batches in nanoseconds, batch `n` at
    /// `n % RECENT_BATCHES`: written without a lock, as batches come much more often than
    /// status requests.
    recent: Box<[AtomicU64]>,
}

impl Default for StageStats {
    fn default() -> Self {
        Self {
            records_in: AtomicU64::default(),
            records_out: AtomicU64::default(),
            bytes_in: AtomicU64::default(),
            errors: AtomicU64::default(),
            batches: AtomicU64::default(),
            last_error: Mutex::default(),
            batch_seconds: BucketHistogram::new(SECONDS_BOUNDS),
            batch_rows: BucketHistogram::new(ROWS_BOUNDS),
            recent: (0..RECENT_BATCHES).map(|_| AtomicU64::default()).collect(),
        }
    }
}

impl StageStats {
    /// Records one batch: `records_in` taken, `records_out` produced, in `elapsed`.
    pub(super) fn record_batch(&self, records_in: usize, records_out: usize, elapsed: Duration) {
        self.records_in
            .fetch_add(records_in as u64, Ordering::Relaxed);
        self.records_out
            .fetch_add(records_out as u64, Ordering::Relaxed);
        let batch = self.batches.fetch_add(1, Ordering::Relaxed);
        self.batch_seconds.observe(elapsed.as_secs_f64());
        #[expect(clippy::cast_precision_loss, reason = "batch sizes are far below 2^52")]
        self.batch_rows.observe(records_in as f64);
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        self.recent[recent_slot(batch)].store(nanos, Ordering::Relaxed);
    }

    /// Records `bytes` of input.
    pub(super) fn record_bytes(&self, bytes: usize) {
        self.bytes_in.fetch_add(bytes as u64, Ordering::Relaxed);
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
        let batches = self.batches.load(Ordering::Relaxed);
        let records_in = self.records_in.load(Ordering::Relaxed);
        let (p50, p99) = self.percentiles();
        StageSnapshot {
            records_in,
            records_out: self.records_out.load(Ordering::Relaxed),
            bytes_in: self.bytes_in.load(Ordering::Relaxed),
            error_count: self.errors.load(Ordering::Relaxed),
            batches,
            #[expect(clippy::cast_precision_loss, reason = "a mean for display")]
            mean_batch_rows: if batches == 0 {
                0.0
            } else {
                records_in as f64 / batches as f64
            },
            p50_batch_ms: p50,
            p99_batch_ms: p99,
            last_error: last_error.as_ref().map(|(message, _)| message.clone()),
            last_error_at_ms: last_error.and_then(|(_, at)| epoch_millis(at)),
            batch_seconds: self.batch_seconds.snapshot(),
            batch_rows: self.batch_rows.snapshot(),
        }
    }

    /// The median and 99th percentile of the recent batch times, in milliseconds.
    fn percentiles(&self) -> (f64, f64) {
        let batches = self.batches.load(Ordering::Relaxed);
        let recorded = self
            .recent
            .len()
            .min(usize::try_from(batches).unwrap_or(usize::MAX));
        let mut times: Vec<Duration> = self.recent[..recorded]
            .iter()
            .map(|nanos| Duration::from_nanos(nanos.load(Ordering::Relaxed)))
            .collect();
        if times.is_empty() {
            return (0.0, 0.0);
        }
        times.sort_unstable();
        let at = |fraction: f64| {
            #[expect(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                clippy::cast_precision_loss,
                reason = "an index into a short list"
            )]
            let index = ((times.len() - 1) as f64 * fraction).round() as usize;
            times[index].as_secs_f64() * 1e3
        };
        (at(0.5), at(0.99))
    }
}

/// Where the time of batch number `batch` is kept among the recent ones.
fn recent_slot(batch: u64) -> usize {
    usize::try_from(batch % RECENT_BATCHES as u64).unwrap_or_default()
}

/// The counters of one stage at one moment.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct StageSnapshot {
    /// Records (messages or rows) the stage took.
    pub records_in: u64,
    /// Records it produced.
    pub records_out: u64,
    /// Bytes of input (the source stage only).
    pub bytes_in: u64,
    /// Records it could not process.
    pub error_count: u64,
    /// Batches it processed.
    pub batches: u64,
    /// Records per batch, on average.
    pub mean_batch_rows: f64,
    /// The median time to process a batch, over the last 256 batches, in milliseconds.
    pub p50_batch_ms: f64,
    /// The 99th percentile of the same.
    pub p99_batch_ms: f64,
    /// Its last error.
    pub last_error: Option<String>,
    /// When that was, in milliseconds since the epoch.
    pub last_error_at_ms: Option<u64>,
    /// Batch processing times, for metrics.
    #[serde(skip)]
    pub batch_seconds: HistogramSnapshot,
    /// Batch sizes, for metrics.
    #[serde(skip)]
    pub batch_rows: HistogramSnapshot,
}

fn epoch_millis(time: SystemTime) -> Option<u64> {
    let since = time.duration_since(SystemTime::UNIX_EPOCH).ok()?;
    u64::try_from(since.as_millis()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_over_the_most_recent_batches_only() {
        let stats = StageStats::default();
        assert_eq!(stats.snapshot().p99_batch_ms, 0.0);
        for _ in 0..1000 {
            stats.record_batch(1, 1, Duration::from_millis(100));
        }
        for millis in 1..=256 {
            stats.record_batch(1, 1, Duration::from_millis(millis));
        }
        let snapshot = stats.snapshot();
        assert_eq!(snapshot.batches, 1256);
        assert_eq!(snapshot.p50_batch_ms, 129.0);
        assert_eq!(snapshot.p99_batch_ms, 253.0);
    }

    #[test]
    fn percentiles_of_fewer_batches_than_are_kept_count_only_those() {
        let stats = StageStats::default();
        stats.record_batch(1, 1, Duration::from_millis(2));
        stats.record_batch(1, 1, Duration::from_millis(4));
        stats.record_batch(1, 1, Duration::from_millis(6));
        let snapshot = stats.snapshot();
        assert_eq!((snapshot.p50_batch_ms, snapshot.p99_batch_ms), (4.0, 6.0));
    }
}
