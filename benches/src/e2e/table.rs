//! What the end-to-end bench measured for each workload, the figures derived from it (ratio
//! to the relay ceiling, loss, CPU per million messages, cores), and the table and JSON that
//! report them.

use std::time::Duration;

use serde_json::{Value, json};
use tabled::grid::config::Offset;
use tabled::settings::object::{Columns, Object, Rows};
use tabled::settings::style::LineChar;
use tabled::settings::{Alignment, Style};
use tabled::{Table, Tabled};

use super::workloads::Workload;
use crate::load::latency::LatencySummary;
use crate::load::report::Report;

/// What the server used during a measured run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ServerUse {
    /// CPU time (user + system) from just before the run until its output went quiet.
    pub cpu: Duration,
    /// The server's peak resident set (`VmHWM`) after the run, in KiB.
    pub peak_rss_kib: u64,
    /// The input rows the pipeline's source counted during the run.
    pub source_rows: u64,
}

/// A second, paced run at a share of the measured maximum, for latency.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Paced {
    /// The rate it published at, in messages per second.
    pub rate: u64,
    /// Expected minus received output messages.
    pub loss: i64,
    /// The latencies of its output.
    pub latency: Option<LatencySummary>,
}

/// W1 paced at a fixed rate: its latency, and what that rate costs the server.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FixedRate {
    /// The paced run.
    pub paced: Paced,
    /// Server CPU time (user + system) over the paced run.
    pub cpu: Duration,
    /// The input rows the pipeline's source counted over it.
    pub source_rows: u64,
}

impl FixedRate {
    /// Server CPU seconds per million input messages over the paced run.
    pub fn cpu_per_million(&self) -> Option<f64> {
        per_million(self.cpu, self.source_rows)
    }

    /// The share of one core the rate keeps busy: CPU per message times the rate.
    pub fn cores(&self) -> Option<f64> {
        Some(self.cpu_per_million()? / 1e6 * self.paced.rate as f64)
    }
}

/// CPU seconds per million of `rows`; none without rows.
fn per_million(cpu: Duration, rows: u64) -> Option<f64> {
    (rows > 0).then(|| cpu.as_secs_f64() * 1e6 / rows as f64)
}

/// Everything measured for one workload.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Measured {
    /// The workload.
    pub workload: Workload,
    /// The unthrottled run.
    pub report: Report,
    /// What the server used (`None` for the relay, which runs in the bench's own process).
    pub server: Option<ServerUse>,
    /// The paced run, for workloads whose output carries a send time.
    pub paced: Option<Paced>,
}

impl Measured {
    /// Input messages per second the load tool published at.
    pub fn throughput(&self) -> Option<f64> {
        self.report.throughput_in()
    }

    /// The input messages that made it through: the output count over the expected ratio
    /// for a one-for-one workload, the rows the server's source counted for an aggregate;
    /// at most what was published.
    pub fn carried(&self) -> Option<u64> {
        let carried = match (self.workload.expect_ratio(), self.server) {
            (Some(ratio), _) if ratio > 0.0 => {
                (self.report.received.count as f64 / ratio).round() as u64
            }
            (_, Some(server)) => server.source_rows,
            _ => return None,
        };
        Some(carried.min(self.report.published.count))
    }

    /// The rate the workload carried input through, in messages per second: [`Self::carried`]
    /// over the longer of the publishing time and the output's span. Below the input rate
    /// when the output lagged behind the input or some of it was lost.
    pub fn sustained_rate(&self) -> Option<f64> {
        let seconds = self.wall().as_secs_f64();
        (seconds > 0.0).then_some(self.carried()? as f64 / seconds)
    }

    /// Messages lost: expected minus received output for a one-for-one workload; for an
    /// aggregate (W2), published minus the input rows the server's source counted.
    pub fn loss(&self) -> i64 {
        match (self.workload.expect_ratio(), self.server) {
            (None, Some(server)) => {
                let lost = i128::from(self.report.published.count) - i128::from(server.source_rows);
                i64::try_from(lost).unwrap_or(i64::MAX)
            }
            _ => self.report.loss(),
        }
    }

    /// [`Self::loss`] as a percentage of what was expected.
    pub fn loss_percent(&self) -> Option<f64> {
        let expected = match self.workload.expect_ratio() {
            Some(_) => self.report.expected(),
            None => self.report.published.count,
        };
        (expected > 0).then(|| self.loss() as f64 * 100.0 / expected as f64)
    }

    /// Server CPU seconds per million input messages the server received (its source's
    /// count: what the broker dropped before the server cost it nothing).
    pub fn cpu_per_million(&self) -> Option<f64> {
        let server = self.server?;
        per_million(server.cpu, server.source_rows)
    }

    /// The cores the server kept busy: its CPU time over the longer of the publishing time
    /// and the output's span.
    pub fn cores(&self) -> Option<f64> {
        let server = self.server?;
        let wall = self.wall().as_secs_f64();
        (wall > 0.0).then(|| server.cpu.as_secs_f64() / wall)
    }

    fn wall(&self) -> Duration {
        let published = self.report.published.duration;
        self.report
            .received
            .span
            .map_or(published, |span| span.max(published))
    }

    /// The figures as one JSON object; rates in messages per second, latencies in ms.
    pub fn json(&self, ceiling: Option<f64>) -> Value {
        let latency = self.paced.map(|paced| {
            json!({
                "rate": paced.rate,
                "loss": paced.loss,
                "samples": paced.latency.map(|latency| latency.samples),
                "p50_ms": paced.latency.map(|latency| millis(latency.p50)),
                "p99_ms": paced.latency.map(|latency| millis(latency.p99)),
                "max_ms": paced.latency.map(|latency| millis(latency.max)),
            })
        });
        json!({
            "workload": self.workload.name(),
            "qos": self.workload.qos,
            "sql": self.workload.sql(),
            "published": self.report.published.count,
            "received": self.report.received.count,
            "throughput_in": self.throughput().map(round),
            "carried": self.carried(),
            "sustained_rate": self.sustained_rate().map(round),
            "ratio_to_ceiling": ratio(self.sustained_rate(), ceiling),
            "server_source_rows": self.server.map(|server| server.source_rows),
            "loss": self.loss(),
            "loss_percent": self.loss_percent(),
            "server_cpu_seconds": self.server.map(|server| server.cpu.as_secs_f64()),
            "cpu_seconds_per_million": self.cpu_per_million(),
            "cores": self.cores(),
            "peak_rss_kib": self.server.map(|server| server.peak_rss_kib),
            "latency": latency,
            "run": self.report.json(),
        })
    }
}

/// The table of every measured workload, in Markdown, with ratios of their sustained rates to
/// `ceiling` (the QoS 0 relay's).
pub fn render(rows: &[Measured], ceiling: Option<f64>) -> String {
    markdown(rows.iter().map(|row| Line::new(row, ceiling)), 1)
}

/// `rows` as a Markdown table ending in a newline, with the columns from `right_from` on
/// (the figures) right-aligned.
pub fn markdown<T: Tabled>(rows: impl IntoIterator<Item = T>, right_from: usize) -> String {
    let figures = Columns::new(right_from..);
    // Row 1's top line is the one under the header: a `:` at its right end aligns the column
    // right wherever the Markdown is rendered.
    let separator = Rows::one(1).intersect(Columns::new(right_from..));
    let mut table = Table::new(rows);
    table
        .with(Style::markdown())
        .modify(figures, Alignment::right())
        .modify(separator, LineChar::horizontal(':', Offset::End(0)));
    format!("{table}\n")
}

/// One line of [`render`]'s table; `-` where a figure is missing.
#[derive(Tabled)]
struct Line {
    workload: String,
    qos: u8,
    #[tabled(rename = "in msg/s", display = "whole")]
    throughput: Option<f64>,
    #[tabled(rename = "carried/s", display = "whole")]
    sustained_rate: Option<f64>,
    #[tabled(display = "hundredths")]
    ratio: Option<f64>,
    #[tabled(display("loss", self))]
    loss: i64,
    #[tabled(rename = "CPU s/M", display = "hundredths")]
    cpu_per_million: Option<f64>,
    #[tabled(display = "hundredths")]
    cores: Option<f64>,
    #[tabled(rename = "peak RSS", display = "mebibytes")]
    peak_rss_kib: Option<u64>,
    #[tabled(rename = "lat. rate", display = "or_dash")]
    latency_rate: Option<u64>,
    #[tabled(display = "milliseconds")]
    p50: Option<Duration>,
    #[tabled(display = "milliseconds")]
    p99: Option<Duration>,
    #[tabled(skip)]
    loss_percent: Option<f64>,
}

impl Line {
    fn new(row: &Measured, ceiling: Option<f64>) -> Self {
        let latency = row.paced.and_then(|paced| paced.latency);
        Self {
            workload: row.workload.name(),
            qos: row.workload.qos,
            throughput: row.throughput(),
            sustained_rate: row.sustained_rate(),
            ratio: ratio(row.sustained_rate(), ceiling),
            loss: row.loss(),
            cpu_per_million: row.cpu_per_million(),
            cores: row.cores(),
            peak_rss_kib: row.server.map(|server| server.peak_rss_kib),
            latency_rate: row.paced.map(|paced| paced.rate),
            p50: latency.map(|latency| latency.p50),
            p99: latency.map(|latency| latency.p99),
            loss_percent: row.loss_percent(),
        }
    }
}

fn whole(value: &Option<f64>) -> String {
    value.map_or_else(dash, |value| format!("{value:.0}"))
}

/// A figure with two decimals, `-` when missing.
pub(super) fn hundredths(value: &Option<f64>) -> String {
    value.map_or_else(dash, |value| format!("{value:.2}"))
}

fn loss(loss: &i64, line: &Line) -> String {
    match line.loss_percent {
        Some(percent) => format!("{loss} ({percent:.2} %)"),
        None => loss.to_string(),
    }
}

/// KiB as MiB with one decimal, `-` when missing.
pub(super) fn mebibytes(kib: &Option<u64>) -> String {
    kib.map_or_else(dash, |kib| format!("{:.1} MiB", kib as f64 / 1024.0))
}

fn or_dash(value: &Option<u64>) -> String {
    value.map_or_else(dash, |value| value.to_string())
}

fn milliseconds(duration: &Option<Duration>) -> String {
    duration.map_or_else(dash, |duration| format!("{:.2} ms", millis(duration)))
}

fn dash() -> String {
    "-".to_owned()
}

fn ratio(throughput: Option<f64>, ceiling: Option<f64>) -> Option<f64> {
    let ceiling = ceiling.filter(|ceiling| *ceiling > 0.0)?;
    throughput.map(|throughput| (throughput / ceiling * 1000.0).round() / 1000.0)
}

fn millis(duration: Duration) -> f64 {
    (duration.as_secs_f64() * 1e6).round() / 1e3
}

fn round(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::e2e::workloads::Kind;
    use crate::load::report::tests::report;

    fn measured(kind: Kind, published: u64, received: u64, source_rows: u64) -> Measured {
        let workload = Workload::new(kind, 0);
        Measured {
            workload,
            report: report(published, received, workload.expect_ratio().unwrap_or(0.0)),
            server: Some(ServerUse {
                cpu: Duration::from_secs(2),
                peak_rss_kib: 20 * 1024,
                source_rows,
            }),
            paced: None,
        }
    }

    #[test]
    fn a_fixed_rate_costs_cpu_per_message_times_the_rate() {
        let fixed = FixedRate {
            paced: Paced {
                rate: 20_000,
                loss: 0,
                latency: None,
            },
            cpu: Duration::from_secs(1),
            source_rows: 100_000,
        };
        assert_eq!(fixed.cpu_per_million(), Some(10.0));
        assert_eq!(fixed.cores(), Some(0.2));
        let idle = FixedRate {
            source_rows: 0,
            ..fixed
        };
        assert_eq!(idle.cores(), None);
    }

    #[test]
    fn figures_are_per_input_message() {
        let row = measured(Kind::Filter, 200_000, 100_000, 200_000);
        assert_eq!(row.throughput(), Some(50_000.0));
        assert_eq!(row.sustained_rate(), Some(40_000.0));
        assert_eq!(row.loss(), 0);
        assert_eq!(row.cpu_per_million(), Some(10.0));
        assert_eq!(row.cores(), Some(0.4));
    }

    #[test]
    fn the_sustained_rate_counts_only_what_came_through() {
        let lossy = measured(Kind::Filter, 200_000, 5000, 20_000);
        assert_eq!(lossy.carried(), Some(10_000));
        assert_eq!(lossy.sustained_rate(), Some(2000.0));
        assert_eq!(lossy.cpu_per_million(), Some(100.0));
        let window = measured(Kind::Window, 200_000, 5000, 150_000);
        assert_eq!(window.carried(), Some(150_000));
    }

    #[test]
    fn an_aggregate_loses_what_its_source_did_not_count() {
        let row = measured(Kind::Window, 200_000, 5000, 199_000);
        assert_eq!(row.loss(), 1000);
        assert_eq!(row.loss_percent(), Some(0.5));
    }

    #[test]
    fn the_table_has_a_line_per_workload_and_ratios_to_the_ceiling() {
        let rows = [
            measured(Kind::Filter, 200_000, 100_000, 200_000),
            measured(Kind::Window, 200_000, 5000, 200_000),
        ];
        let table = render(&rows, Some(20_000.0));
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 4, "{table}");
        fn cells(line: &str) -> Vec<&str> {
            line.split('|').map(str::trim).collect()
        }
        assert_eq!(
            cells(lines[0])[1..4],
            ["workload", "qos", "in msg/s"],
            "{table}"
        );
        assert!(
            cells(lines[1])
                .iter()
                .all(|cell| cell.starts_with('-') || cell.is_empty()),
            "{table}"
        );
        assert!(
            lines[1].starts_with("|---") && lines[1].ends_with("-:|"),
            "{table}"
        );
        assert_eq!(cells(lines[2])[1], "w1-q0", "{table}");
        assert_eq!(cells(lines[2])[5], "2.00", "{table}");
        assert_eq!(cells(lines[3])[9], "20.0 MiB", "{table}");
        assert_eq!(cells(lines[3])[12], "-", "{table}");
        assert!(
            lines.iter().all(|line| line.split('|').count() == 14),
            "{table}"
        );
        let json = rows[0].json(Some(20_000.0));
        assert_eq!(json["ratio_to_ceiling"], 2.0);
        assert_eq!(json["cpu_seconds_per_million"], 10.0);
    }
}
