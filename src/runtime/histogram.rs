//! A fixed-bucket histogram updated with a few atomic adds per observation, for batch sizes
//! and batch processing times; read at scrape time.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

/// Counts of observations at or below each upper bound, plus their sum.
#[derive(Debug)]
pub(super) struct BucketHistogram {
    bounds: &'static [f64],
    counts: Vec<AtomicU64>,
    /// The sum in millionths, so that it adds atomically.
    sum_micros: AtomicU64,
}

/// A histogram as Prometheus exposes it: cumulative counts per upper bound.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct HistogramSnapshot {
    /// `(upper bound, observations at or below it)`, ascending; `+Inf` is `count`.
    pub buckets: Vec<(f64, u64)>,
    /// The sum of all observations.
    pub sum: f64,
    /// How many observations there were.
    pub count: u64,
}

impl BucketHistogram {
    /// An empty histogram over `bounds` (ascending).
    pub(super) fn new(bounds: &'static [f64]) -> Self {
        let counts = (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect();
        Self {
            bounds,
            counts,
            sum_micros: AtomicU64::new(0),
        }
    }

    /// Adds one observation.
    pub(super) fn observe(&self, value: f64) {
        let bucket = self
            .bounds
            .iter()
            .position(|&bound| value <= bound)
            .unwrap_or(self.bounds.len());
        self.counts[bucket].fetch_add(1, Ordering::Relaxed);
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "non-negative"
        )]
        self.sum_micros
            .fetch_add((value * 1e6) as u64, Ordering::Relaxed);
    }

    /// The observations so far.
    pub(super) fn snapshot(&self) -> HistogramSnapshot {
        let mut cumulative = 0;
        let mut buckets = Vec::with_capacity(self.bounds.len());
        for (bound, count) in self.bounds.iter().zip(&self.counts) {
            cumulative += count.load(Ordering::Relaxed);
            buckets.push((*bound, cumulative));
        }
        let count = cumulative + self.counts[self.bounds.len()].load(Ordering::Relaxed);
        #[expect(clippy::cast_precision_loss, reason = "a sum for display")]
        let sum = self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        HistogramSnapshot {
            buckets,
            sum,
            count,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_cumulative_per_bound() {
        let histogram = BucketHistogram::new(&[1.0, 10.0]);
        for value in [0.5, 1.0, 5.0, 50.0] {
            histogram.observe(value);
        }
        let snapshot = histogram.snapshot();
        assert_eq!(snapshot.buckets, [(1.0, 2), (10.0, 3)]);
        assert_eq!((snapshot.count, snapshot.sum), (4, 56.5));
    }
}
