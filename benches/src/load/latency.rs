//! End-to-end latency: reading the send time back out of an output payload, and summarising
//! the latencies of a run as percentiles.

use std::time::Duration;

/// The latencies of a run's timestamped output messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LatencySummary {
    /// How many output messages carried a send time.
    pub samples: usize,
    /// The median.
    pub p50: Duration,
    /// The 99th percentile.
    pub p99: Duration,
    /// The largest.
    pub max: Duration,
}

impl LatencySummary {
    /// The summary of `micros`, one latency per message in microseconds, in any order; `None`
    /// when there are none (the output carried no send times, e.g. an aggregate).
    pub fn of(mut micros: Vec<u64>) -> Option<Self> {
        micros.sort_unstable();
        let at = |percent| percentile(&micros, percent).map(Duration::from_micros);
        Some(Self {
            samples: micros.len(),
            p50: at(50.0)?,
            p99: at(99.0)?,
            max: at(100.0)?,
        })
    }
}

/// The `percent` percentile of `sorted` (ascending) by the nearest-rank method: the smallest
/// value with at least `percent`% of the values at or below it. `None` when `sorted` is empty.
pub fn percentile(sorted: &[u64], percent: f64) -> Option<u64> {
    let last = sorted.len().checked_sub(1)?;
    let rank = (percent.clamp(0.0, 100.0) / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.saturating_sub(1).min(last)).copied()
}

/// The send time an output `payload` carries in its [`crate::workload::SENT_MICROS_FIELD`], if
/// any.
///
/// A pass-through query's JSON output keeps the field as the load tool wrote it; an integer
/// written as a float (`1.7e15` is not accepted, `1700000000123456.0` is) still counts.
pub fn sent_micros(payload: &[u8]) -> Option<u64> {
    let start = find(payload, SENT_MICROS_KEY)? + SENT_MICROS_KEY.len();
    let rest = trim_start(&payload[start..]);
    let value = trim_start(rest.strip_prefix(b":")?);
    let (whole, rest) = split_digits(value);
    let number = std::str::from_utf8(whole).ok()?.parse().ok()?;
    let rest = match rest.strip_prefix(b".") {
        Some(fraction) => split_digits(fraction).1,
        None => rest,
    };
    match rest.first() {
        Some(b'e' | b'E') => None,
        _ => Some(number),
    }
}

/// The latency of a message sent at `sent_micros` and received at `received_micros` (both
/// Unix microseconds); zero if the wall clock stepped back in between.
pub fn latency_micros(sent_micros: u64, received_micros: u64) -> u64 {
    received_micros.saturating_sub(sent_micros)
}

/// [`crate::workload::SENT_MICROS_FIELD`] as a JSON key, spelled out because `concat!` takes
/// only literals.
const SENT_MICROS_KEY: &[u8] = b"\"sent_us\"";

fn split_digits(bytes: &[u8]) -> (&[u8], &[u8]) {
    let digits = bytes
        .iter()
        .take_while(|byte| byte.is_ascii_digit())
        .count();
    bytes.split_at(digits)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

fn trim_start(bytes: &[u8]) -> &[u8] {
    let blank = bytes
        .iter()
        .take_while(|byte| byte.is_ascii_whitespace())
        .count();
    &bytes[blank..]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::{SENT_MICROS_FIELD, timestamped_message};

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let sorted: Vec<u64> = (1..=100).collect();
        let cases = [
            (0.0, 1),
            (1.0, 1),
            (50.0, 50),
            (99.0, 99),
            (99.5, 100),
            (100.0, 100),
        ];
        for (percent, expected) in cases {
            assert_eq!(percentile(&sorted, percent), Some(expected), "p{percent}");
        }
        assert_eq!(percentile(&[7], 50.0), Some(7));
        assert_eq!(percentile(&[1, 2], 50.0), Some(1));
        assert_eq!(percentile(&[1, 2], 51.0), Some(2));
        assert_eq!(percentile(&[], 50.0), None);
    }

    #[test]
    fn summaries_sort_their_samples() {
        let micros = vec![5000, 1000, 3000, 2000, 4000];
        let summary = LatencySummary::of(micros).unwrap();
        assert_eq!(summary.samples, 5);
        assert_eq!(summary.p50, Duration::from_millis(3));
        assert_eq!(summary.p99, Duration::from_millis(5));
        assert_eq!(summary.max, Duration::from_millis(5));
        assert_eq!(LatencySummary::of(Vec::new()), None);
    }

    #[test]
    fn send_times_are_read_from_payloads() {
        let cases: [(&[u8], Option<u64>); 7] = [
            (
                br#"{"user_id":1,"sent_us":1700000000123456}"#,
                Some(1_700_000_000_123_456),
            ),
            (br#"{"sent_us" : 42 ,"score":1.5}"#, Some(42)),
            (
                br#"{"sent_us":1700000000123456.0}"#,
                Some(1_700_000_000_123_456),
            ),
            (br#"{"sent_us":1.7e15}"#, None),
            (br#"{"sent_us":null}"#, None),
            (br#"{"device":"dev-0001","count":12}"#, None),
            (b"", None),
        ];
        for (payload, expected) in cases {
            let text = String::from_utf8_lossy(payload);
            assert_eq!(sent_micros(payload), expected, "{text}");
        }
    }

    #[test]
    fn the_key_is_the_workload_field() {
        assert_eq!(
            SENT_MICROS_KEY,
            format!(r#""{SENT_MICROS_FIELD}""#).as_bytes()
        );
    }

    #[test]
    fn the_workload_send_time_round_trips() {
        let payload = timestamped_message(42, 1000, 1_700_000_000_654_321);
        assert_eq!(sent_micros(&payload), Some(1_700_000_000_654_321));
    }

    #[test]
    fn a_clock_step_back_is_zero_latency() {
        assert_eq!(latency_micros(1000, 3500), 2500);
        assert_eq!(latency_micros(3500, 1000), 0);
    }
}
