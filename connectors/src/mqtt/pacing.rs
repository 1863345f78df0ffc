//! Read pacing: a busy subscription reads the socket at most once per interval, so a burst of
//! messages costs one wakeup and one read instead of one each. A quiet one reads at once, and
//! one that is falling behind (its last read found a backlog) reads on without pausing: the
//! socket's buffer, then the broker's queue, would fill meanwhile, and a broker drops QoS 0
//! messages for a client whose queue is full.

use std::future::Future;
use std::pin::pin;
use std::time::Duration;

use tokio::time::Instant;

/// Reads ready without waiting that show a backlog: the socket held this many messages at
/// once. (At 200 bytes a message, 50 KB: most of a fresh connection's receive window.)
const BACKLOG: usize = 256;

/// When a subscription next waits for its socket.
#[derive(Debug)]
pub(super) struct ReadPacer {
    interval: Duration,
    last_wait_ended: Option<Instant>,
    ready_since_wait: usize,
}

impl ReadPacer {
    /// A pacer allowing one wait for the socket per `interval`; zero never delays.
    pub(super) fn new(interval: Duration) -> Self {
        Self {
            interval,
            last_wait_ended: None,
            ready_since_wait: 0,
        }
    }

    /// Runs `read` to completion. What it can return at once (buffered, or already on the
    /// socket) comes at once. If it must wait for the network within `interval` of the end
    /// of the last such wait, it first sleeps until that interval is over, so what arrives
    /// meanwhile is read in one go. A read that waited longer than `interval` costs nothing
    /// more: only a busy connection is paced. Nor does one after a backlog of [`BACKLOG`]
    /// reads that were ready at once.
    pub(super) async fn read<T>(&mut self, read: impl Future<Output = T>) -> T {
        let mut read = pin!(read);
        let ready = tokio::select! {
            biased;
            value = &mut read => Some(value),
            () = std::future::ready(()) => None,
        };
        if let Some(value) = ready {
            self.ready_since_wait += 1;
            return value;
        }
        let behind = self.ready_since_wait >= BACKLOG;
        if let (Some(last_wait_ended), false) = (self.last_wait_ended, behind) {
            tokio::time::sleep_until(last_wait_ended + self.interval).await;
        }
        let value = read.await;
        self.last_wait_ended = (!self.interval.is_zero()).then(Instant::now);
        self.ready_since_wait = 0;
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::sync::mpsc;

    const INTERVAL: Duration = Duration::from_millis(10);

    #[tokio::test(start_paused = true)]
    async fn what_is_ready_comes_at_once() {
        let mut pacer = ReadPacer::new(INTERVAL);
        let started = Instant::now();
        for value in 0..100 {
            assert_eq!(pacer.read(async { value }).await, value);
        }
        assert_eq!(started.elapsed(), Duration::ZERO);
    }

    /// Sends `count` values, numbered from 0, each `period` after the one before, with the
    /// time it was sent.
    fn send_every(period: Duration, count: u32) -> mpsc::UnboundedReceiver<(u32, Instant)> {
        let (sender, receiver) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            for value in 0..count {
                tokio::time::sleep(period).await;
                let _ = sender.send((value, Instant::now()));
            }
        });
        receiver
    }

    #[tokio::test(start_paused = true)]
    async fn a_busy_source_waits_for_the_network_once_per_interval() {
        // The first wait ends at once (a message 1 ms later); messages keep coming every
        // millisecond, so the next wait sleeps until the interval is over and then finds
        // the ones that arrived meanwhile queued.
        let mut receiver = send_every(Duration::from_millis(1), 20);
        let mut pacer = ReadPacer::new(INTERVAL);
        let started = Instant::now();
        let (first, _) = pacer.read(receiver.recv()).await.unwrap();
        assert_eq!(first, 0);
        assert_eq!(started.elapsed(), Duration::from_millis(1));
        let (second, sent) = pacer.read(receiver.recv()).await.unwrap();
        assert_eq!(second, 1);
        assert_eq!(started.elapsed(), Duration::from_millis(11));
        assert_eq!(sent - started, Duration::from_millis(2));
        for expected in 2..10 {
            let (value, _) = pacer.read(receiver.recv()).await.unwrap();
            assert_eq!(value, expected);
        }
        assert_eq!(
            started.elapsed(),
            Duration::from_millis(11),
            "queued, no waiting"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_source_that_found_a_backlog_reads_on_without_pausing() {
        let mut receiver = send_every(Duration::from_millis(1), 2);
        let mut pacer = ReadPacer::new(INTERVAL);
        let started = Instant::now();
        assert_eq!(pacer.read(receiver.recv()).await.unwrap().0, 0);
        for value in 0..BACKLOG {
            assert_eq!(pacer.read(async { value }).await, value);
        }
        let (second, _) = pacer.read(receiver.recv()).await.unwrap();
        assert_eq!(second, 1);
        assert_eq!(
            started.elapsed(),
            Duration::from_millis(2),
            "read as it came"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_quiet_source_is_not_delayed() {
        let mut receiver = send_every(INTERVAL * 2, 3);
        let mut pacer = ReadPacer::new(INTERVAL);
        let started = Instant::now();
        for value in 0..3u32 {
            let (read, _) = pacer.read(receiver.recv()).await.unwrap();
            assert_eq!(read, value);
            assert_eq!(started.elapsed(), INTERVAL * 2 * (value + 1));
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_zero_interval_never_delays() {
        let mut receiver = send_every(Duration::from_millis(1), 5);
        let mut pacer = ReadPacer::new(Duration::ZERO);
        let started = Instant::now();
        for value in 0..5u32 {
            let (read, _) = pacer.read(receiver.recv()).await.unwrap();
            assert_eq!(read, value);
            assert_eq!(
                started.elapsed(),
                Duration::from_millis(u64::from(value) + 1)
            );
        }
    }
}
