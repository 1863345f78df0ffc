//! How far the sink got: requests queued, requests settled (delivered, or refused for good),
//! and the refused ones not yet reported. The pipeline takes [`Progress::queued`] as a mark
//! and acknowledges its source once everything up to the mark is settled.

use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::Notify;

/// Counters shared by the sink and its sending task.
#[derive(Debug, Default)]
pub(super) struct Progress {
    queued: AtomicU64,
    settled: AtomicU64,
    refused: AtomicU64,
    changed: Notify,
}

impl Progress {
    /// One more request was queued.
    pub(super) fn queue(&self) {
        self.queued.fetch_add(1, Ordering::Relaxed);
    }

    /// The oldest unsettled request was answered: delivered, or `refused` for good.
    pub(super) fn settle(&self, refused: bool) {
        if refused {
            self.refused.fetch_add(1, Ordering::Relaxed);
        }
        self.settled.fetch_add(1, Ordering::Relaxed);
        self.changed.notify_waiters();
    }

    /// How many requests were queued so far.
    pub(super) fn queued(&self) -> u64 {
        self.queued.load(Ordering::Relaxed)
    }

    /// Whether the first `mark` requests queued are settled.
    pub(super) fn is_settled_through(&self, mark: u64) -> bool {
        self.settled.load(Ordering::Relaxed) >= mark
    }

    /// Resolves once the first `mark` requests queued are settled.
    pub(super) async fn settled_through(&self, mark: u64) {
        loop {
            let changed = self.changed.notified();
            if self.is_settled_through(mark) {
                return;
            }
            changed.await;
        }
    }

    /// The requests refused since the last call.
    pub(super) fn take_refused(&self) -> u64 {
        self.refused.swap(0, Ordering::Relaxed)
    }
}
