//! Rate limiting for the publisher: how many messages are due after a given time at a given
//! rate, so that a timer ticking every millisecond can send each tick's batch at once instead
//! of sleeping once per message (a tokio sleep is at least a millisecond).

use std::time::Duration;

/// How often a rate-limited publisher wakes up to send the messages that have come due.
pub const TICK: Duration = Duration::from_millis(1);

/// A schedule of `total` messages at `rate` messages per second.
///
/// The count due is computed from the time elapsed since the start rather than added up per
/// tick, so late or missed ticks are caught up and rates that do not divide into ticks (1500/s
/// is 1.5 per millisecond) do not drift.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pacer {
    rate: u64,
    total: u64,
}

impl Pacer {
    /// A schedule of `total` messages at `rate` per second; a rate of 0 means as fast as
    /// possible, so every message is due at once.
    pub fn new(rate: u64, total: u64) -> Self {
        Self { rate, total }
    }

    /// How many messages should have been sent `elapsed` after the start, at most `total`.
    pub fn due_by(&self, elapsed: Duration) -> u64 {
        if self.rate == 0 {
            return self.total;
        }
        let due = u128::from(self.rate) * elapsed.as_nanos() / 1_000_000_000;
        u64::try_from(due).map_or(self.total, |due| due.min(self.total))
    }

    /// How long sending all messages takes at this rate (zero when unthrottled).
    pub fn duration(&self) -> Duration {
        if self.rate == 0 {
            return Duration::ZERO;
        }
        let nanos = u128::from(self.total) * 1_000_000_000 / u128::from(self.rate);
        Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn millis(count: u64) -> Duration {
        Duration::from_millis(count)
    }

    #[test]
    fn each_tick_sends_a_thousandth_of_the_rate() {
        let pacer = Pacer::new(20_000, 1_000_000);
        let due: Vec<u64> = (0..4).map(|tick| pacer.due_by(TICK * tick)).collect();
        assert_eq!(due, [0, 20, 40, 60]);
    }

    #[test]
    fn fractional_batches_add_up_without_drift() {
        let pacer = Pacer::new(1500, 1_000_000);
        let due: Vec<u64> = (0..5).map(|tick| pacer.due_by(millis(tick))).collect();
        assert_eq!(due, [0, 1, 3, 4, 6]);
        assert_eq!(pacer.due_by(Duration::from_secs(10)), 15_000);
    }

    #[test]
    fn a_late_tick_catches_up_and_the_total_caps_it() {
        let pacer = Pacer::new(1000, 50);
        assert_eq!(pacer.due_by(millis(30)), 30);
        assert_eq!(pacer.due_by(millis(80)), 50);
        assert_eq!(pacer.due_by(Duration::MAX), 50);
    }

    #[test]
    fn rate_zero_makes_everything_due_at_once() {
        let pacer = Pacer::new(0, 200_000);
        assert_eq!(pacer.due_by(Duration::ZERO), 200_000);
        assert_eq!(pacer.duration(), Duration::ZERO);
    }

    #[test]
    fn duration_is_total_over_rate() {
        assert_eq!(
            Pacer::new(20_000, 200_000).duration(),
            Duration::from_secs(10)
        );
        assert_eq!(
            Pacer::new(3, 1).duration(),
            Duration::from_nanos(333_333_333)
        );
    }
}
