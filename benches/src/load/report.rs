//! What a load run reports: the figures derived from what was published and received, as a
//! table for people and as one JSON line for scripts.

use std::fmt::Write as _;
use std::time::Duration;

use serde_json::{Value, json};

use super::latency::LatencySummary;

/// What was published: how many messages, and from the first publish until the last one was
/// written to the socket (QoS 0) or acknowledged by the broker (QoS 1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Published {
    /// Messages published.
    pub count: u64,
    /// Time from the first publish to the last write or acknowledgement.
    pub duration: Duration,
}

/// What arrived on the output topic.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Received {
    /// Messages received.
    pub count: u64,
    /// Time from the first to the last message received; `None` before the second message.
    pub span: Option<Duration>,
    /// Latencies of the messages that carried a send time.
    pub latency: Option<LatencySummary>,
}

/// The outcome of a load run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Report {
    /// The publishing rate asked for, in messages per second (0 = unthrottled).
    pub target_rate: u64,
    /// The QoS of publishing and of the subscription.
    pub qos: u8,
    /// The fraction of published messages the output should carry.
    pub expect_ratio: f64,
    /// What was published.
    pub published: Published,
    /// What came out.
    pub received: Received,
}

impl Report {
    /// How many messages the output should carry: published × expected ratio, rounded.
    pub fn expected(&self) -> u64 {
        (self.published.count as f64 * self.expect_ratio).round() as u64
    }

    /// Expected minus received: negative when more came out than expected.
    pub fn loss(&self) -> i64 {
        let expected = i128::from(self.expected());
        let lost = expected - i128::from(self.received.count);
        i64::try_from(lost).unwrap_or(if lost < 0 { i64::MIN } else { i64::MAX })
    }

    /// [`Self::loss`] as a percentage of [`Self::expected`]; `None` when nothing was expected.
    pub fn loss_percent(&self) -> Option<f64> {
        let expected = self.expected();
        (expected > 0).then(|| self.loss() as f64 * 100.0 / expected as f64)
    }

    /// Messages published per second of publishing.
    pub fn throughput_in(&self) -> Option<f64> {
        per_second(self.published.count, Some(self.published.duration))
    }

    /// Messages received per second between the first and the last one received.
    pub fn throughput_out(&self) -> Option<f64> {
        per_second(self.received.count, self.received.span)
    }

    /// The report as an aligned two-column table, one figure per line.
    pub fn table(&self) -> String {
        let mut table = String::new();
        for (name, value) in self.rows() {
            // Writing to a String cannot fail.
            let _ = writeln!(table, "{name:<20} {value}");
        }
        table
    }

    /// The report as one JSON object; durations in seconds and latencies in milliseconds (both
    /// to the microsecond), rates in messages per second, absent figures as `null`.
    pub fn json(&self) -> Value {
        let latency = self.received.latency.map(|latency| {
            json!({
                "samples": latency.samples,
                "p50_ms": round(millis(latency.p50), 3),
                "p99_ms": round(millis(latency.p99), 3),
                "max_ms": round(millis(latency.max), 3),
            })
        });
        let seconds = |duration: Duration| round(duration.as_secs_f64(), 6);
        json!({
            "qos": self.qos,
            "target_rate": self.target_rate,
            "published": self.published.count,
            "publish_seconds": seconds(self.published.duration),
            "throughput_in": self.throughput_in().map(|rate| round(rate, 1)),
            "received": self.received.count,
            "receive_seconds": self.received.span.map(seconds),
            "throughput_out": self.throughput_out().map(|rate| round(rate, 1)),
            "expected": self.expected(),
            "loss": self.loss(),
            "loss_percent": self.loss_percent().map(|percent| round(percent, 3)),
            "latency": latency,
        })
    }

    fn rows(&self) -> Vec<(&'static str, String)> {
        let target = match self.target_rate {
            0 => "unthrottled".to_owned(),
            rate => format!("{rate} msg/s"),
        };
        let mut rows = vec![
            ("qos", self.qos.to_string()),
            ("target rate", target),
            ("published", self.published.count.to_string()),
            ("publish duration", seconds(Some(self.published.duration))),
            ("throughput in", rate(self.throughput_in())),
            ("received", self.received.count.to_string()),
            ("receive span", seconds(self.received.span)),
            ("throughput out", rate(self.throughput_out())),
            ("expected", self.expected().to_string()),
            ("loss", self.loss_row()),
        ];
        rows.extend(latency_rows(self.received.latency));
        rows
    }

    fn loss_row(&self) -> String {
        match self.loss_percent() {
            Some(percent) => format!("{} ({percent:.3} %)", self.loss()),
            None => self.loss().to_string(),
        }
    }
}

fn latency_rows(latency: Option<LatencySummary>) -> Vec<(&'static str, String)> {
    let Some(latency) = latency else {
        return vec![("latency", "n/a (no sent_us in the output)".to_owned())];
    };
    vec![
        ("latency samples", latency.samples.to_string()),
        ("latency p50", format!("{:.3} ms", millis(latency.p50))),
        ("latency p99", format!("{:.3} ms", millis(latency.p99))),
        ("latency max", format!("{:.3} ms", millis(latency.max))),
    ]
}

fn per_second(count: u64, span: Option<Duration>) -> Option<f64> {
    let seconds = span?.as_secs_f64();
    (seconds > 0.0).then(|| count as f64 / seconds)
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

/// `value` rounded to `decimals` places, so that the JSON line shows 52.347, not
/// 52.346999999999994.
fn round(value: f64, decimals: i32) -> f64 {
    let scale = 10_f64.powi(decimals);
    (value * scale).round() / scale
}

fn seconds(duration: Option<Duration>) -> String {
    duration.map_or_else(
        || "n/a".to_owned(),
        |duration| format!("{:.3} s", duration.as_secs_f64()),
    )
}

fn rate(per_second: Option<f64>) -> String {
    per_second.map_or_else(|| "n/a".to_owned(), |rate| format!("{rate:.0} msg/s"))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A report of `published` messages over 4 s and `received` over 5 s.
    pub(crate) fn report(published: u64, received: u64, expect_ratio: f64) -> Report {
        Report {
            target_rate: 0,
            qos: 0,
            expect_ratio,
            published: Published {
                count: published,
                duration: Duration::from_secs(4),
            },
            received: Received {
                count: received,
                span: Some(Duration::from_secs(5)),
                latency: None,
            },
        }
    }

    #[test]
    fn loss_is_expected_minus_received() {
        let half = report(200_000, 99_000, 0.5);
        assert_eq!(half.expected(), 100_000);
        assert_eq!(half.loss(), 1000);
        assert_eq!(half.loss_percent(), Some(1.0));
        let extra = report(10, 12, 1.0);
        assert_eq!(extra.loss(), -2);
        assert_eq!(report(0, 0, 0.5).loss_percent(), None);
    }

    #[test]
    fn throughput_is_per_second_of_each_side() {
        let run = report(200_000, 100_000, 0.5);
        assert_eq!(run.throughput_in(), Some(50_000.0));
        assert_eq!(run.throughput_out(), Some(20_000.0));
        let single = Report {
            received: Received {
                count: 1,
                span: Some(Duration::ZERO),
                latency: None,
            },
            ..run
        };
        assert_eq!(single.throughput_out(), None);
    }

    #[test]
    fn the_json_line_holds_every_figure() {
        let mut run = report(1000, 1000, 1.0);
        run.received.latency = LatencySummary::of(vec![1500, 2500, 52_347]);
        let json = run.json();
        assert_eq!(json["published"], 1000);
        assert_eq!(json["loss"], 0);
        assert_eq!(json["throughput_in"], 250.0);
        assert_eq!(json["latency"]["p50_ms"], 2.5);
        assert_eq!(json["latency"]["max_ms"], 52.347);
        assert!(!json.to_string().contains('\n'));
    }

    #[test]
    fn the_table_names_each_figure() {
        let table = report(1000, 400, 0.5).table();
        assert!(
            table.contains("loss                 100 (20.000 %)"),
            "{table}"
        );
        assert!(table.contains("throughput in        250 msg/s"), "{table}");
        assert!(table.contains("latency              n/a"), "{table}");
    }
}
