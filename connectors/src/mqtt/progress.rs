//! What an MQTT sink published at QoS 1 or 2 and what the broker settled of it, in either
//! protocol version, so the pipeline can wait until everything it published is safe.

use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::Notify;

/// Messages published at QoS 1 or 2, those the broker settled (acknowledged, or refused
/// for good), and those refused or dropped with a session the broker lost.
#[derive(Debug, Default)]
pub(super) struct Progress {
    published: AtomicU64,
    settled: AtomicU64,
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

    /// The broker acknowledged the oldest message not yet settled.
    pub(super) fn acknowledge_one(&self) {
        self.settled.fetch_add(1, Ordering::Relaxed);
        self.changed.notify_waiters();
    }

    /// The broker refused the oldest message not yet settled: nothing will acknowledge it,
    /// so it is settled, and counted as lost.
    pub(super) fn refuse_one(&self) {
        self.lost.fetch_add(1, Ordering::Relaxed);
        self.acknowledge_one();
    }

    /// The broker has no session for the client, which then drops what was not acknowledged:
    /// count it as lost instead of waiting for it forever.
    pub(super) fn forget_unacknowledged(&self, topic: &str) {
        let published = self.published.load(Ordering::Relaxed);
        let settled = self.settled.swap(published, Ordering::Relaxed);
        let lost = published.saturating_sub(settled);
        if lost > 0 {
            tracing::warn!(%topic, lost, "the broker lost its session: messages not acknowledged before it went away are lost");
            self.lost.fetch_add(lost, Ordering::Relaxed);
        }
        self.changed.notify_waiters();
    }

    /// The messages lost since the last call.
    pub(super) fn take_lost(&self) -> u64 {
        self.lost.swap(0, Ordering::Relaxed)
    }

    /// Whether the first `mark` messages published are settled.
    pub(super) fn is_settled_through(&self, mark: u64) -> bool {
        self.settled.load(Ordering::Relaxed) >= mark
    }

    /// Resolves once the first `mark` messages published are settled.
    pub(super) async fn settled_through(&self, mark: u64) {
        loop {
            let changed = self.changed.notified();
            if self.is_settled_through(mark) {
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
    fn refused_and_forgotten_messages_are_settled_and_lost() {
        let progress = Progress::default();
        (0..4).for_each(|_| progress.publish_one());
        progress.acknowledge_one();
        progress.refuse_one();
        assert!(progress.is_settled_through(2) && !progress.is_settled_through(3));
        assert_eq!(progress.take_lost(), 1);
        progress.forget_unacknowledged("out");
        assert!(progress.is_settled_through(progress.published()));
        assert_eq!(progress.take_lost(), 2);
        assert_eq!(progress.take_lost(), 0);
    }
}
