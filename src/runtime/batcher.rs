//! Adaptive micro-batching: take whatever is queued, up to the batch size, without waiting
//! when the queue is empty (unless asked to linger). Light load gets low latency, heavy load
//! gets big batches.

use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

/// How micro-batches are cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchPolicy {
    /// The most items in one batch.
    pub max_items: usize,
    /// How long to wait for more items once one has arrived; zero never waits.
    pub linger: Duration,
}

/// Fills `batch` with the next micro-batch: waits for one item, then takes what is queued up
/// to `policy.max_items`, lingering for more if the policy says so. Returns false once the
/// channel is closed and empty.
pub(super) async fn next_batch<T>(
    input: &mut mpsc::Receiver<T>,
    policy: BatchPolicy,
    batch: &mut Vec<T>,
) -> bool {
    batch.clear();
    let Some(first) = input.recv().await else {
        return false;
    };
    batch.push(first);
    take_queued(input, policy.max_items, batch);
    if policy.linger.is_zero() {
        return true;
    }
    let deadline = Instant::now() + policy.linger;
    while batch.len() < policy.max_items {
        tokio::select! {
            item = input.recv() => match item {
                Some(item) => {
                    batch.push(item);
                    take_queued(input, policy.max_items, batch);
                }
                None => break,
            },
            () = tokio::time::sleep_until(deadline) => break,
        }
    }
    true
}

/// Moves queued items into `batch` without waiting, up to `max_items` in all.
pub(super) fn take_queued<T>(input: &mut mpsc::Receiver<T>, max_items: usize, batch: &mut Vec<T>) {
    while batch.len() < max_items {
        match input.try_recv() {
            Ok(item) => batch.push(item),
            Err(_) => break,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(max_items: usize, linger_ms: u64) -> BatchPolicy {
        BatchPolicy {
            max_items,
            linger: Duration::from_millis(linger_ms),
        }
    }

    #[tokio::test]
    async fn takes_what_is_queued_up_to_the_batch_size() {
        let (sender, mut receiver) = mpsc::channel(16);
        for item in 0..5 {
            sender.send(item).await.unwrap();
        }
        let mut batch = Vec::new();
        assert!(next_batch(&mut receiver, policy(3, 0), &mut batch).await);
        assert_eq!(batch, [0, 1, 2]);
        assert!(next_batch(&mut receiver, policy(3, 0), &mut batch).await);
        assert_eq!(batch, [3, 4]);
        drop(sender);
        assert!(!next_batch(&mut receiver, policy(3, 0), &mut batch).await);
    }

    #[tokio::test(start_paused = true)]
    async fn lingers_for_more_only_when_asked() {
        let (sender, mut receiver) = mpsc::channel(16);
        sender.send(1).await.unwrap();
        let late = sender.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(5)).await;
            late.send(2).await.unwrap();
        });
        let mut batch = Vec::new();
        assert!(next_batch(&mut receiver, policy(10, 20), &mut batch).await);
        assert_eq!(batch, [1, 2]);
    }
}
