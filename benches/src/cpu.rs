//! Criterion measuring CPU time instead of wall time: the CPU time of the whole process
//! (every thread: a sink's sending task, its blocking-pool writes, the local webhook), read
//! with `clock_gettime(CLOCK_PROCESS_CPUTIME_ID)`.
//!
//! The connector targets are stated in CPU per message, and the machine of
//! `docs/PERFORMANCE.md` is shared: pinned to a core that other processes also run on, a
//! bench's wall time counts the time it waits for them (a busy-loop measured 268 ms of wall
//! time for 168 ms of CPU there), its CPU time does not.

use std::time::Duration;

use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use rustix::time::{ClockId, clock_gettime};

/// The CPU time every thread of this process has used so far.
pub fn process_cpu_time() -> Duration {
    let now = clock_gettime(ClockId::ProcessCPUTime);
    let seconds = u64::try_from(now.tv_sec).unwrap_or(0);
    let nanos = u32::try_from(now.tv_nsec).unwrap_or(0);
    Duration::new(seconds, nanos)
}

/// Criterion's measurement of the process's CPU time, shown like wall time (ns … s).
#[derive(Debug, Default, Clone, Copy)]
pub struct ProcessCpuTime;

impl Measurement for ProcessCpuTime {
    type Intermediate = Duration;
    type Value = Duration;

    fn start(&self) -> Duration {
        process_cpu_time()
    }

    fn end(&self, started: Duration) -> Duration {
        process_cpu_time().saturating_sub(started)
    }

    fn add(&self, first: &Duration, second: &Duration) -> Duration {
        *first + *second
    }

    fn zero(&self) -> Duration {
        Duration::ZERO
    }

    fn to_f64(&self, value: &Duration) -> f64 {
        value.as_nanos() as f64
    }

    fn formatter(&self) -> &dyn ValueFormatter {
        // Wall time's formatter of nanoseconds, borrowed from a constant.
        let wall: &'static WallTime = &WallTime;
        wall.formatter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_time_grows_with_work_and_not_with_sleep() {
        let clock = ProcessCpuTime;
        let started = clock.start();
        std::thread::sleep(Duration::from_millis(50));
        let slept = clock.end(started);
        let started = clock.start();
        let mut sum = 0_u64;
        for value in 0..20_000_000_u64 {
            sum = std::hint::black_box(sum.wrapping_add(value));
        }
        let worked = clock.end(started);
        assert!(slept < Duration::from_millis(20), "{slept:?}");
        assert!(worked > slept, "{worked:?} vs {slept:?}");
    }
}
