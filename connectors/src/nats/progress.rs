//! What a sink has published and what its destination has confirmed, counted so the
//! pipeline can wait until what it sent is safe before acknowledging its input.

use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::Notify;

/// Messages published, confirmed, and refused for good.
#[derive(Debug, Default)]
pub(super) struct Progress {
    published: AtomicU64,
    confirmed: AtomicU64,
    lost: AtomicU64,
    changed: Notify,
}

impl Progress {
    /// One more message published.
    pub(super) fn publish_one(&self) {
        self.published.fetch_add(1, Ordering::Relaxed);
    }

    /// How many messages have been published: a mark to wait on.
    pub(super) fn published(&self) -> u64 {
        self.published.load(Ordering::Relaxed)
    }

    /// The first `mark` messages published are confirmed.
    pub(super) fn confirm_through(&self, mark: u64) {
        self.confirmed.fetch_max(mark, Ordering::Relaxed);
        self.changed.notify_waiters();
    }

    /// The next message in publishing order is confirmed.
    pub(super) fn confirm_one(&self) {
        self.confirmed.fetch_add(1, Ordering::Relaxed);
        self.changed.notify_waiters();
    }

    /// A message the destination refused for good; it counts as confirmed too, for nothing
    /// will ever confirm it.
    pub(super) fn lose_one(&self) {
        self.lost.fetch_add(1, Ordering::Relaxed);
        self.confirm_one();
    }

    /// The messages refused since the last call.
    pub(super) fn take_lost(&self) -> u64 {
        self.lost.swap(0, Ordering::Relaxed)
    }

    /// Whether the first `mark` messages published are confirmed.
    pub(super) fn is_confirmed_through(&self, mark: u64) -> bool {
        self.confirmed.load(Ordering::Relaxed) >= mark
    }

    /// Resolves once the first `mark` messages published are confirmed.
    pub(super) async fn confirmed_through(&self, mark: u64) {
        loop {
            let changed = self.changed.notified();
            if self.is_confirmed_through(mark) {
                return;
            }
            changed.await;
        }
    }
}
