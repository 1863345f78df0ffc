//! A process's CPU time and memory, read from `/proc/<pid>/stat` and `/proc/<pid>/status` with
//! the `procfs` crate.
//!
//! CPU time is `utime + stime` in clock ticks, converted with the tick rate the kernel gives
//! every process (`AT_CLKTCK`, what `getconf CLK_TCK` prints). Memory is the resident set
//! (`VmRSS`) and its peak (`VmHWM`), in KiB as the kernel writes them.

use std::path::{Path, PathBuf};
use std::time::Duration;

use ::procfs::process::Process;

use crate::{Error, Result};

/// A process's resident memory, in KiB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Memory {
    /// Resident set size now (`VmRSS`).
    pub rss_kib: u64,
    /// The largest resident set size so far (`VmHWM`).
    pub peak_kib: u64,
}

/// Clock ticks per second of the CPU times in `/proc`.
pub fn clock_ticks() -> u64 {
    ::procfs::ticks_per_second()
}

/// The CPU time (user + system) process `pid` has used so far.
///
/// # Errors
/// When the process does not exist or its `stat` cannot be parsed.
pub fn cpu_time(pid: u32, ticks_per_second: u64) -> Result<Duration> {
    let path = proc_path(pid, "stat");
    let stat = process(pid, &path)?
        .stat()
        .map_err(|error| proc_error(&path, error))?;
    Ok(ticks_to_duration(
        stat.utime.saturating_add(stat.stime),
        ticks_per_second,
    ))
}

/// The resident memory of process `pid`.
///
/// # Errors
/// When the process does not exist or its `status` lacks `VmRSS` or `VmHWM`.
pub fn memory(pid: u32) -> Result<Memory> {
    let path = proc_path(pid, "status");
    let status = process(pid, &path)?
        .status()
        .map_err(|error| proc_error(&path, error))?;
    // Kernel threads have no memory of their own and so neither line.
    match (status.vmrss, status.vmhwm) {
        (Some(rss_kib), Some(peak_kib)) => Ok(Memory { rss_kib, peak_kib }),
        _ => Err(proc_error(&path, "no VmRSS and VmHWM lines")),
    }
}

fn ticks_to_duration(ticks: u64, ticks_per_second: u64) -> Duration {
    let nanos = u128::from(ticks) * 1_000_000_000 / u128::from(ticks_per_second.max(1));
    Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
}

/// The process `pid`; `path` names the file the caller wants in the error.
fn process(pid: u32, path: &Path) -> Result<Process> {
    let pid = i32::try_from(pid).map_err(|_| proc_error(path, "no such process id"))?;
    Process::new(pid).map_err(|error| proc_error(path, error))
}

fn proc_path(pid: u32, file: &str) -> PathBuf {
    PathBuf::from(format!("/proc/{pid}/{file}"))
}

fn proc_error(path: &Path, reason: impl std::fmt::Display) -> Error {
    Error::Proc {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    #[test]
    fn this_process_has_a_resident_set_no_larger_than_its_peak() {
        let memory = memory(std::process::id()).unwrap();
        assert!(memory.rss_kib > 0);
        assert!(memory.peak_kib >= memory.rss_kib, "{memory:?}");
    }

    #[test]
    fn cpu_time_grows_while_this_process_computes() {
        let pid = std::process::id();
        let ticks = clock_ticks();
        assert!(ticks > 0);
        let before = cpu_time(pid, ticks).unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut sum = 0_u64;
        while cpu_time(pid, ticks).unwrap() <= before {
            assert!(Instant::now() < deadline, "CPU time stayed at {before:?}");
            sum = (0..100_000_u64).fold(sum, |sum, value| sum.wrapping_add(value * value));
            std::hint::black_box(sum);
        }
    }

    #[test]
    fn ticks_are_converted_at_the_given_rate() {
        assert_eq!(ticks_to_duration(250, 100), Duration::from_millis(2500));
        assert_eq!(ticks_to_duration(3, 1000), Duration::from_millis(3));
        assert_eq!(ticks_to_duration(7, 0), Duration::from_secs(7));
    }

    #[test]
    fn a_missing_process_is_an_error_naming_its_file() {
        // Above the kernel's largest pid (2^22), and one that is no i32.
        for pid in [i32::MAX as u32, u32::MAX] {
            let error = memory(pid).unwrap_err().to_string();
            assert!(error.contains(&format!("/proc/{pid}/status")), "{error}");
            assert!(cpu_time(pid, clock_ticks()).is_err());
        }
    }
}
