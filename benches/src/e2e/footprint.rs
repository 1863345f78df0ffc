//! The footprint bench behind `bench-footprint`: resident memory idle, with idle pipelines and
//! across create/delete cycles; the time to restore pipelines at start; binary sizes.
//!
//! Memory is the server's `VmRSS`, read once it has stopped moving ([`settled_rss`]): right
//! after a burst of requests the allocator still holds memory it is about to return.

pub mod binary;
pub mod cycles;
pub mod pipelines;
pub mod restore;

use std::fmt::Write as _;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::time::Instant;

use super::procfs;
use crate::Result;

/// How often the resident set is sampled while waiting for it to settle.
const RSS_POLL: Duration = Duration::from_millis(100);

/// Consecutive equal samples that count as settled.
const RSS_STABLE_SAMPLES: usize = 5;

/// The longest wait for the resident set to settle; the last sample is taken after it.
const RSS_SETTLE_LIMIT: Duration = Duration::from_secs(5);

/// One measured figure: a name, a value, and its unit.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// What was measured.
    pub name: String,
    /// The value, in `unit`.
    pub value: f64,
    /// `MiB`, `KiB`, `s`, `MB`, ...
    pub unit: &'static str,
}

impl Figure {
    /// A figure `name` of `value` `unit`.
    pub fn new(name: impl Into<String>, value: f64, unit: &'static str) -> Self {
        Self {
            name: name.into(),
            value,
            unit,
        }
    }

    /// A resident set size, given in KiB, as MiB.
    pub fn rss(name: impl Into<String>, kib: u64) -> Self {
        Self::new(name, kib as f64 / 1024.0, "MiB")
    }
}

/// The figures as an aligned two-column table.
pub fn render(figures: &[Figure]) -> String {
    let width = figures
        .iter()
        .map(|figure| figure.name.len())
        .max()
        .unwrap_or(0);
    let mut table = String::new();
    for figure in figures {
        let decimals = if figure.value.abs() >= 100.0 { 0 } else { 2 };
        // Writing to a String cannot fail.
        let _ = writeln!(
            table,
            "{:<width$}  {:>10.decimals$} {}",
            figure.name, figure.value, figure.unit
        );
    }
    table
}

/// The figures as a JSON list of `{"name", "value", "unit"}`.
pub fn json(figures: &[Figure]) -> Value {
    figures
        .iter()
        .map(|figure| json!({"name": figure.name, "value": figure.value, "unit": figure.unit}))
        .collect()
}

/// The resident set of `pid` in KiB once [`RSS_STABLE_SAMPLES`] samples in a row agree, or
/// the last sample after [`RSS_SETTLE_LIMIT`].
///
/// # Errors
/// When the process's status cannot be read.
pub async fn settled_rss(pid: u32) -> Result<u64> {
    let deadline = Instant::now() + RSS_SETTLE_LIMIT;
    let mut last = procfs::memory(pid)?.rss_kib;
    let mut same = 1;
    while same < RSS_STABLE_SAMPLES && Instant::now() < deadline {
        tokio::time::sleep(RSS_POLL).await;
        let rss = procfs::memory(pid)?.rss_kib;
        same = if rss == last { same + 1 } else { 1 };
        last = rss;
    }
    Ok(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_aligns_names_and_values() {
        let figures = [
            Figure::rss("idle", 10 * 1024),
            Figure::new("restore 1000 pipelines", 0.25, "s"),
            Figure::new("per extra pipeline", 123.4, "KiB"),
        ];
        let table = render(&figures);
        assert_eq!(
            table,
            "idle                         10.00 MiB\n\
             restore 1000 pipelines        0.25 s\n\
             per extra pipeline             123 KiB\n"
        );
        assert_eq!(json(&figures)[2]["unit"], "KiB");
    }
}
