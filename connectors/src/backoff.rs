//! Capped exponential backoff between reconnection attempts.

use std::time::Duration;

/// The first wait after a failure.
const INITIAL: Duration = Duration::from_millis(100);
/// The longest wait: a broker back after an outage is found within this long.
const MAX: Duration = Duration::from_secs(5);

/// Doubling waits from 100 ms up to 5 s, reset on success.
#[derive(Debug, Clone)]
pub(crate) struct Backoff {
    next: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self { next: INITIAL }
    }
}

impl Backoff {
    /// The wait before the next attempt; each call doubles the one after, up to the cap.
    pub(crate) fn next_delay(&mut self) -> Duration {
        let delay = self.next;
        self.next = (self.next * 2).min(MAX);
        delay
    }

    /// Starts again from the shortest wait.
    pub(crate) fn reset(&mut self) {
        self.next = INITIAL;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_the_cap_and_resets() {
        let mut backoff = Backoff::default();
        let delays: Vec<u128> = (0..8).map(|_| backoff.next_delay().as_millis()).collect();
        assert_eq!(delays, [100, 200, 400, 800, 1600, 3200, 5000, 5000]);
        backoff.reset();
        assert_eq!(backoff.next_delay(), INITIAL);
    }
}
