//! Many pipelines on one stream: `N` started pipelines on one shared MQTT subscription, each
//! the filter and projection of [`pipelines::sql`] with a threshold of its own into a `nop`
//! sink, while the load tool publishes at a fixed rate; what the server then costs.
//!
//! After a warm-up at the same rate, the measured run reports the server's CPU time over its
//! wall time (the share of one core), its resident set sampled while the load runs (the
//! median: the steady figure) and at its peak (`VmHWM`, creation included), and the
//! messages the stream took in and the micro-batches it cut them into (the first pipeline's
//! source counts).

use std::future::Future;
use std::path::Path;
use std::time::Duration;

use rumqttc::QoS;
use serde_json::{Value, json};
use tabled::Tabled;
use tokio::time::Instant;
use veloflux_testkit::Api;
use veloflux_testkit::api::stage_counter;

use super::deploy::Topics;
use super::footprint::pipelines;
use super::measure::{self, Bench};
use super::procfs;
use super::table::{self, hundredths, mebibytes};
use crate::load::run::{self, RunConfig};
use crate::workload::WINDOW_DEVICES;
use crate::{Error, Result};

/// How long creating the pipelines may take to show them all running.
const RUNNING_TIMEOUT: Duration = Duration::from_secs(300);

/// How often the resident set is sampled during the measured run.
const RSS_SAMPLE: Duration = Duration::from_millis(250);

/// How long the load tool waits after its last publish: short, since no output is expected
/// and the idle tail would dilute the CPU share.
const DRAIN: Duration = Duration::from_millis(200);

/// The load every pipeline count is measured under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Load {
    /// Messages per second published to the shared stream.
    pub rate: u64,
    /// How long the load runs before the measured run.
    pub warm_up: Duration,
    /// How long the measured run publishes.
    pub measured: Duration,
}

impl Load {
    /// The messages a run of `duration` publishes at [`Self::rate`].
    fn messages(&self, duration: Duration) -> u64 {
        (self.rate as f64 * duration.as_secs_f64()).round() as u64
    }
}

/// What one pipeline count cost under the load.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Loaded {
    /// The pipelines started on the stream.
    pub pipelines: usize,
    /// The rate published at, in messages per second.
    pub rate: u64,
    /// Messages the load tool published during the measured run.
    pub published: u64,
    /// Messages the stream took in during it.
    pub messages_in: u64,
    /// The micro-batches the stream cut them into.
    pub batches: u64,
    /// The measured run's wall time.
    pub wall: Duration,
    /// The server's CPU time (user + system) over it.
    pub cpu: Duration,
    /// The median of the resident sets sampled during it, in KiB.
    pub steady_rss_kib: u64,
    /// The server's peak resident set (`VmHWM`) after it, in KiB.
    pub peak_rss_kib: u64,
}

impl Loaded {
    /// The server's CPU time over the wall time, in percent of one core.
    pub fn cpu_percent(&self) -> Option<f64> {
        let wall = self.wall.as_secs_f64();
        (wall > 0.0).then(|| self.cpu.as_secs_f64() * 100.0 / wall)
    }

    /// Messages per micro-batch, on average.
    pub fn messages_per_batch(&self) -> Option<f64> {
        (self.batches > 0).then(|| self.messages_in as f64 / self.batches as f64)
    }

    /// The figures as one JSON object; memory in MiB.
    pub fn json(&self) -> Value {
        json!({
            "pipelines": self.pipelines,
            "rate": self.rate,
            "published": self.published,
            "messages_in": self.messages_in,
            "batches": self.batches,
            "messages_per_batch": self.messages_per_batch(),
            "wall_seconds": self.wall.as_secs_f64(),
            "server_cpu_seconds": self.cpu.as_secs_f64(),
            "cpu_percent_of_one_core": self.cpu_percent(),
            "steady_rss_mib": self.steady_rss_kib as f64 / 1024.0,
            "peak_rss_mib": self.peak_rss_kib as f64 / 1024.0,
        })
    }
}

/// The measured pipeline counts as a Markdown table.
pub fn render(rows: &[Loaded]) -> String {
    table::markdown(rows.iter().map(Line::new), 1)
}

/// One line of [`render`]'s table.
#[derive(Tabled)]
struct Line {
    pipelines: usize,
    #[tabled(rename = "msg/s")]
    rate: u64,
    #[tabled(rename = "messages in")]
    messages_in: u64,
    #[tabled(rename = "messages per batch", display = "hundredths")]
    messages_per_batch: Option<f64>,
    #[tabled(rename = "CPU % of one core", display = "hundredths")]
    cpu_percent: Option<f64>,
    #[tabled(rename = "steady RSS", display = "mebibytes")]
    steady_rss_kib: Option<u64>,
    #[tabled(rename = "peak RSS", display = "mebibytes")]
    peak_rss_kib: Option<u64>,
}

impl Line {
    fn new(row: &Loaded) -> Self {
        Self {
            pipelines: row.pipelines,
            rate: row.rate,
            messages_in: row.messages_in,
            messages_per_batch: row.messages_per_batch(),
            cpu_percent: row.cpu_percent(),
            steady_rss_kib: Some(row.steady_rss_kib),
            peak_rss_kib: Some(row.peak_rss_kib),
        }
    }
}

/// Measures `pipelines` pipelines under `load` on a server of their own, whose data
/// directory goes under `work_dir`.
///
/// # Errors
/// When the server, a request or a run fails, or the stream takes nothing in during the
/// warm-up.
pub async fn measure(
    bench: &Bench,
    pipelines: usize,
    load: &Load,
    work_dir: &Path,
) -> Result<Loaded> {
    let name = format!("pipelines-{pipelines}");
    let mut server = measure::start(bench, &name, work_dir).await?;
    let topics = Topics::new(&name);
    let api = server.api();
    pipelines::create_stream(api, &bench.broker, &topics).await?;
    pipelines::create_and_start(api, 0..pipelines).await?;
    pipelines::wait_all_running(api, pipelines, RUNNING_TIMEOUT).await?;
    run::run(&run_config(bench, &topics, load, load.warm_up)).await?;
    if source_counts(api).await?.0 == 0 {
        return Err(Error::Server(format!(
            "the shared stream took in none of the warm-up on '{}'",
            topics.input
        )));
    }
    let pid = server.pid();
    let (cpu_before, counts_before, started) =
        (cpu_time(pid)?, source_counts(api).await?, Instant::now());
    let config = run_config(bench, &topics, load, load.measured);
    let (report, samples) = sampling_rss(pid, run::run(&config)).await?;
    let report = report?;
    let counts = source_counts(api).await?;
    let loaded = Loaded {
        pipelines,
        rate: load.rate,
        published: report.published.count,
        messages_in: counts.0.saturating_sub(counts_before.0),
        batches: counts.1.saturating_sub(counts_before.1),
        wall: started.elapsed(),
        cpu: cpu_time(pid)?.saturating_sub(cpu_before),
        steady_rss_kib: median(samples),
        peak_rss_kib: procfs::memory(pid)?.peak_kib,
    };
    server.terminate().await?;
    Ok(loaded)
}

/// A load-tool run publishing to the shared stream at `load.rate` for `duration`.
fn run_config(bench: &Bench, topics: &Topics, load: &Load, duration: Duration) -> RunConfig {
    RunConfig {
        broker: bench.broker.clone(),
        input: topics.input.clone(),
        output: topics.output.clone(),
        messages: load.messages(duration),
        rate: load.rate,
        qos: QoS::AtMostOnce,
        expect_ratio: 0.0,
        devices: WINDOW_DEVICES,
        device_topics: false,
        drain: DRAIN,
    }
}

/// The messages and micro-batches the first pipeline's source has counted: each pipeline
/// on the shared stream sees every batch the stream cuts.
async fn source_counts(api: &Api) -> Result<(u64, u64)> {
    let status = api.status(&pipelines::id(0)).await?;
    let count = |counter| stage_counter(&status, Some("source"), counter).unwrap_or(0);
    Ok((count("records_in"), count("batches")))
}

fn cpu_time(pid: u32) -> Result<Duration> {
    procfs::cpu_time(pid, procfs::clock_ticks())
}

/// Runs `work` while sampling the resident set of `pid` every [`RSS_SAMPLE`]; returns its
/// output and the samples, in KiB.
async fn sampling_rss<T>(pid: u32, work: impl Future<Output = T>) -> Result<(T, Vec<u64>)> {
    let mut work = std::pin::pin!(work);
    let mut ticker = tokio::time::interval(RSS_SAMPLE);
    let mut samples = Vec::new();
    loop {
        tokio::select! {
            output = &mut work => return Ok((output, samples)),
            _ = ticker.tick() => samples.push(procfs::memory(pid)?.rss_kib),
        }
    }
}

/// The median of `values` (the upper one of an even count); 0 for none.
fn median(mut values: Vec<u64>) -> u64 {
    values.sort_unstable();
    values.get(values.len() / 2).copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loaded(pipelines: usize, cpu_ms: u64) -> Loaded {
        Loaded {
            pipelines,
            rate: 500,
            published: 15_000,
            messages_in: 15_000,
            batches: 3_000,
            wall: Duration::from_secs(30),
            cpu: Duration::from_millis(cpu_ms),
            steady_rss_kib: 30 * 1024,
            peak_rss_kib: 45 * 1024 + 512,
        }
    }

    #[test]
    fn the_cpu_share_is_cpu_time_over_wall_time() {
        assert_eq!(loaded(300, 3000).cpu_percent(), Some(10.0));
        let idle = Loaded {
            wall: Duration::ZERO,
            ..loaded(1, 0)
        };
        assert_eq!(idle.cpu_percent(), None);
        assert_eq!(loaded(300, 3000).json()["peak_rss_mib"], 45.5);
        assert_eq!(loaded(300, 3000).messages_per_batch(), Some(5.0));
        let no_batches = Loaded {
            batches: 0,
            ..loaded(1, 0)
        };
        assert_eq!(no_batches.messages_per_batch(), None);
    }

    #[test]
    fn the_table_has_a_line_per_pipeline_count() {
        let table = render(&[loaded(300, 3000), loaded(1000, 15_000)]);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 4, "{table}");
        assert!(lines[0].contains("CPU % of one core"), "{table}");
        assert!(lines[2].contains(" 10.00 |"), "{table}");
        assert!(lines[3].contains(" 50.00 |"), "{table}");
        assert!(lines[3].contains("45.5 MiB"), "{table}");
    }

    #[test]
    fn a_load_publishes_its_rate_for_the_duration_and_the_median_is_the_middle() {
        let load = Load {
            rate: 500,
            warm_up: Duration::from_secs(5),
            measured: Duration::from_secs(30),
        };
        assert_eq!(load.messages(load.measured), 15_000);
        assert_eq!(median(vec![5, 1, 9]), 5);
        assert_eq!(median(Vec::new()), 0);
    }
}
