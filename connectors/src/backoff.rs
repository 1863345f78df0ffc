//! Capped exponential backoff between reconnection attempts.

use std::time::Duration;

/// The first wait after a failure.
const INITIAL: Duration = Duration::from_millis(100);
/// The longest wait: a broker back after an outage is found within this long.
const MAX: Duration = Duration::from_secs(5);

/// Doubling waits from 100 ms up to 5 s (or between the bounds given), reset on success.
#[derive(Debug, Clone)]
pub(crate) struct Backoff {
    initial: Duration,
    max: Duration,
    next: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self::between(INITIAL, MAX)
    }
}

impl Backoff {
    /// Doubling waits from `initial` up to `max` (at least `initial`).
    pub(crate) fn between(initial: Duration, max: Duration) -> Self {
        Self {
            initial,
            max: max.max(initial),
            next: initial,
        }
    }

    /// The wait before the next attempt; each call doubles the one after, up to the cap.
    pub(crate) fn next_delay(&mut self) -> Duration {
        let delay = self.next;
        self.next = (self.next * 2).min(self.max);
        delay
    }

    /// Starts again from the shortest wait.
    pub(crate) fn reset(&mut self) {
        self.next = self.initial;
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

    #[test]
    fn bounds_can_be_chosen() {
        let mut backoff = Backoff::between(Duration::from_millis(10), Duration::from_millis(30));
        let delays: Vec<u128> = (0..4).map(|_| backoff.next_delay().as_millis()).collect();
        assert_eq!(delays, [10, 20, 30, 30]);
    }
}
