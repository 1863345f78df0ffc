//! A process's CPU time and memory, read from `/proc/<pid>/stat` and `/proc/<pid>/status`.
//!
//! CPU time is `utime + stime` in clock ticks (fields 14 and 15 of `stat`), converted with the
//! tick rate `getconf CLK_TCK` reports (100 on every Linux this runs on, the fallback).
//! Memory is the resident set (`VmRSS`) and its peak (`VmHWM`), in KiB as the kernel writes
//! them.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use crate::{Error, Result};

/// The tick rate assumed when `getconf CLK_TCK` cannot be run.
pub const DEFAULT_CLOCK_TICKS: u64 = 100;

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
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|output| String::from_utf8(output.stdout).ok())
        .and_then(|text| text.trim().parse().ok())
        .filter(|ticks| *ticks > 0)
        .unwrap_or(DEFAULT_CLOCK_TICKS)
}

/// The CPU time (user + system) process `pid` has used so far.
///
/// # Errors
/// When the process does not exist or its `stat` cannot be parsed.
pub fn cpu_time(pid: u32, ticks_per_second: u64) -> Result<Duration> {
    let path = PathBuf::from(format!("/proc/{pid}/stat"));
    let text = read(&path)?;
    let ticks = parse_cpu_ticks(&text).ok_or_else(|| Error::Proc {
        path,
        reason: "no utime and stime fields".to_owned(),
    })?;
    let nanos = u128::from(ticks) * 1_000_000_000 / u128::from(ticks_per_second.max(1));
    Ok(Duration::from_nanos(
        u64::try_from(nanos).unwrap_or(u64::MAX),
    ))
}

/// The resident memory of process `pid`.
///
/// # Errors
/// When the process does not exist or its `status` lacks `VmRSS` or `VmHWM`.
pub fn memory(pid: u32) -> Result<Memory> {
    let path = PathBuf::from(format!("/proc/{pid}/status"));
    let text = read(&path)?;
    parse_memory(&text).ok_or_else(|| Error::Proc {
        path,
        reason: "no VmRSS and VmHWM lines".to_owned(),
    })
}

/// `utime + stime` in clock ticks from the text of `/proc/<pid>/stat`.
///
/// The second field, the command name, is in parentheses and may hold spaces and parentheses
/// itself, so fields are counted from the last `)`.
pub fn parse_cpu_ticks(stat: &str) -> Option<u64> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    // After the name come field 3 (state) onwards: utime is field 14, stime field 15.
    let mut fields = after_name.split_whitespace().skip(11);
    let user: u64 = fields.next()?.parse().ok()?;
    let system: u64 = fields.next()?.parse().ok()?;
    Some(user + system)
}

/// `VmRSS` and `VmHWM` from the text of `/proc/<pid>/status`.
pub fn parse_memory(status: &str) -> Option<Memory> {
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
            .and_then(|value| value.split_whitespace().next()?.parse().ok())
    };
    Some(Memory {
        rss_kib: field("VmRSS")?,
        peak_kib: field("VmHWM")?,
    })
}

fn read(path: &PathBuf) -> Result<String> {
    std::fs::read_to_string(path).map_err(|error| Error::Proc {
        path: path.clone(),
        reason: error.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_ticks_are_utime_plus_stime_after_the_name() {
        let stat = "4242 (veloFlux (x) y) S 1 4242 4242 0 -1 4194560 1961 0 0 0 \
                    1234 567 0 0 20 0 9 0 123456 1411170304 20307 18446744073709551615";
        assert_eq!(parse_cpu_ticks(stat), Some(1801));
        assert_eq!(parse_cpu_ticks("4242 (cut) S 1 2"), None);
    }

    #[test]
    fn memory_is_read_in_kib() {
        let status = "Name:\tveloFlux\nVmPeak:\t  900000 kB\nVmHWM:\t   24576 kB\n\
                      VmRSS:\t   20480 kB\nThreads:\t9\n";
        let memory = parse_memory(status).unwrap();
        assert_eq!(memory.rss_kib, 20_480);
        assert_eq!(memory.peak_kib, 24_576);
        assert_eq!(parse_memory("Name:\tx\n"), None);
    }

    #[test]
    fn this_process_can_be_read() {
        let pid = std::process::id();
        assert!(memory(pid).unwrap().rss_kib > 0);
        assert!(cpu_time(pid, clock_ticks()).is_ok());
        assert!(memory(u32::MAX).is_err());
    }
}
