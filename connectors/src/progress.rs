//! What a sink has published and what its destination has confirmed, counted so that the
//! pipeline can wait until what it sent is safe before acknowledging its input. A message the
//! destination refused for good counts as confirmed too (nothing will ever confirm it) and is
//! reported once as lost, with the reason.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::Notify;

/// Messages a destination will never confirm, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lost {
    /// How many.
    pub count: u64,
    /// Why the last of them was lost.
    pub reason: String,
}

/// Messages published, confirmed, and refused for good.
#[derive(Debug, Default)]
pub struct Progress {
    published: AtomicU64,
    confirmed: AtomicU64,
    lost: AtomicU64,
    /// Why the last message was lost.
    reason: Mutex<String>,
    changed: Notify,
}

impl Progress {
    /// One more message published.
    pub(crate) fn publish_one(&self) {
        self.published.fetch_add(1, Ordering::Relaxed);
    }

    /// How many messages have been published: a mark to wait on.
    pub fn published(&self) -> u64 {
        self.published.load(Ordering::Relaxed)
    }

    /// The first `mark` messages published are confirmed.
    pub(crate) fn confirm_through(&self, mark: u64) {
        self.confirmed.fetch_max(mark, Ordering::Relaxed);
        self.changed.notify_waiters();
    }

    /// The next message in publishing order is confirmed.
    pub(crate) fn confirm_one(&self) {
        self.confirmed.fetch_add(1, Ordering::Relaxed);
        self.changed.notify_waiters();
    }

    /// The next message in publishing order was refused for good, because of `reason`.
    pub(crate) fn lose_one(&self, reason: String) {
        self.lose(1, reason);
        self.confirm_one();
    }

    /// Every message published and not yet confirmed will never be: the destination forgot
    /// them (a broker that lost its session), because of `reason`. Returns how many.
    pub(crate) fn lose_unconfirmed(&self, reason: &str) -> u64 {
        let published = self.published();
        let confirmed = self.confirmed.swap(published, Ordering::Relaxed);
        let lost = published.saturating_sub(confirmed);
        if lost > 0 {
            self.lose(lost, reason.to_owned());
        }
        self.changed.notify_waiters();
        lost
    }

    fn lose(&self, count: u64, reason: String) {
        if let Ok(mut last) = self.reason.lock() {
            *last = reason;
        }
        self.lost.fetch_add(count, Ordering::Relaxed);
    }

    /// The messages lost since the last call, and why the last of them was.
    pub fn take_lost(&self) -> Option<Lost> {
        let count = self.lost.swap(0, Ordering::Relaxed);
        let reason = self.reason.lock().map(|r| r.clone()).unwrap_or_default();
        (count > 0).then_some(Lost { count, reason })
    }

    /// Whether the first `mark` messages published are confirmed.
    pub fn is_confirmed_through(&self, mark: u64) -> bool {
        self.confirmed.load(Ordering::Relaxed) >= mark
    }

    /// Resolves once the first `mark` messages published are confirmed.
    pub async fn confirmed_through(&self, mark: u64) {
        loop {
            let changed = self.changed.notified();
            if self.is_confirmed_through(mark) {
                return;
            }
            changed.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lost_messages_are_confirmed_and_reported_once_with_the_last_reason() {
        let progress = Progress::default();
        (0..4).for_each(|_| progress.publish_one());
        progress.confirm_one();
        progress.lose_one("HTTP 400 Bad Request: no".into());
        assert!(progress.is_confirmed_through(2) && !progress.is_confirmed_through(3));
        assert_eq!(progress.lose_unconfirmed("the broker lost its session"), 2);
        assert!(progress.is_confirmed_through(4));
        let lost = progress.take_lost().unwrap();
        assert_eq!(
            (lost.count, lost.reason.as_str()),
            (3, "the broker lost its session")
        );
        assert!(progress.take_lost().is_none());
    }
}
