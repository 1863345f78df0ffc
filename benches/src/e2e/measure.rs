//! One row of the end-to-end table: the workload run unthrottled (throughput, loss, the
//! server's CPU time and peak memory), then paced at a share of the rate it sustained, for
//! latency. Each pipeline workload gets a fresh server, so that its CPU time and peak memory
//! are its own.

use std::path::Path;
use std::time::Duration;

use veloflux_testkit::{BrokerAddress, Server, ServerOptions};

use super::deploy::{self, Topics};
use super::procfs;
use super::relay;
use super::table::{FixedRate, Measured, Paced, ServerUse};
use super::workloads::{Kind, Workload};
use crate::Result;
use crate::load::report::Report;
use crate::load::run;

/// What every measurement shares.
#[derive(Debug, Clone)]
pub struct Bench {
    /// The broker the load tool and the server use.
    pub broker: BrokerAddress,
    /// How to run the server.
    pub server: ServerOptions,
    /// Messages per run.
    pub messages: u64,
    /// How long the output must stay quiet before a run ends.
    pub drain: Duration,
    /// The share of the sustained rate the latency run publishes at (0.5: half).
    pub latency_share: f64,
    /// Whether the load tool publishes each message to its device's topic (`<input>/
    /// dev-0042/data`, the source subscribing to `<input>/+/data`) instead of to one topic.
    pub device_topics: bool,
    /// The server's `runtime.checkpoint_interval_ms`, when the bench sets it (0: off).
    pub checkpoint_interval_ms: Option<u64>,
}

impl Bench {
    /// The topics of the run named `run`, per device if the bench says so.
    pub fn topics(&self, run: &str) -> Topics {
        Topics::new(run).with_device_topics(self.device_topics)
    }
}

/// Measures `workload`: through the relay, or through a pipeline on a server of its own whose
/// data directory and log go under `work_dir`.
///
/// # Errors
/// When the server, a request or a run fails.
pub async fn measure(bench: &Bench, workload: Workload, work_dir: &Path) -> Result<Measured> {
    match workload.kind {
        Kind::Relay => measure_relay(bench, workload).await,
        Kind::Filter | Kind::FilterMeta | Kind::Window => {
            measure_pipeline(bench, workload, work_dir).await
        }
    }
}

/// Runs `workload` through a fresh server and pipeline at a fixed `rate` (the target
/// rate), returning the paced run's latency and what it cost the server.
///
/// # Errors
/// When the server, a request or the run fails.
pub async fn at_fixed_rate(
    bench: &Bench,
    workload: Workload,
    rate: u64,
    work_dir: &Path,
) -> Result<FixedRate> {
    let name = format!("{}-at-{rate}", workload.name());
    let mut server = start(bench, &name, work_dir).await?;
    let topics = bench.topics(&name);
    deploy::deploy(server.api(), &bench.broker, workload, &topics, None).await?;
    let before = Usage::now(&server).await?;
    let paced = paced(bench, workload, &topics, rate).await?;
    let used = Usage::now(&server).await?.since(&before);
    server.terminate().await?;
    Ok(FixedRate {
        paced,
        cpu: used.cpu,
        source_rows: used.source_rows,
    })
}

/// The server's CPU time and its source's count so far.
struct Usage {
    cpu: Duration,
    source_rows: u64,
}

impl Usage {
    async fn now(server: &Server) -> Result<Self> {
        Ok(Self {
            cpu: procfs::cpu_time(server.pid(), procfs::clock_ticks())?,
            source_rows: deploy::source_rows(server.api()).await?,
        })
    }

    fn since(&self, before: &Self) -> Self {
        Self {
            cpu: self.cpu.saturating_sub(before.cpu),
            source_rows: self.source_rows.saturating_sub(before.source_rows),
        }
    }
}

async fn measure_relay(bench: &Bench, workload: Workload) -> Result<Measured> {
    let topics = bench.topics(&workload.name());
    let config = run_config(bench, workload, &topics, 0);
    let report = relay::run_through(&config, &topics).await?;
    let mut measured = Measured {
        workload,
        report,
        server: None,
        paced: None,
    };
    if let Some(rate) = latency_rate(bench, &measured) {
        let paced_topics = bench.topics(&format!("{}-paced", workload.name()));
        let config = run_config(bench, workload, &paced_topics, rate);
        let report = relay::run_through(&config, &paced_topics).await?;
        measured.paced = Some(summarise(rate, &report));
    }
    Ok(measured)
}

async fn measure_pipeline(bench: &Bench, workload: Workload, work_dir: &Path) -> Result<Measured> {
    let name = workload.name();
    let mut server = start(bench, &name, work_dir).await?;
    let topics = bench.topics(&name);
    deploy::deploy(server.api(), &bench.broker, workload, &topics, None).await?;
    let before = Usage::now(&server).await?;
    let config = run_config(bench, workload, &topics, 0);
    let report = run::run(&config).await?;
    let used = Usage::now(&server).await?.since(&before);
    let memory = procfs::memory(server.pid())?;
    let mut measured = Measured {
        workload,
        report,
        server: Some(ServerUse {
            cpu: used.cpu,
            peak_rss_kib: memory.peak_kib,
            source_rows: used.source_rows,
        }),
        paced: None,
    };
    if let Some(rate) = latency_rate(bench, &measured) {
        measured.paced = Some(paced(bench, workload, &topics, rate).await?);
    }
    server.terminate().await?;
    Ok(measured)
}

/// A server of its own for the run `name`, over a data directory in `work_dir`.
///
/// # Errors
/// When the server does not start.
pub(super) async fn start(bench: &Bench, name: &str, work_dir: &Path) -> Result<Server> {
    Ok(Server::start_in(&bench.server, &work_dir.join(name)).await?)
}

/// The paced run's rate: the configured share of the rate the workload sustained, for
/// workloads whose output carries a send time.
fn latency_rate(bench: &Bench, measured: &Measured) -> Option<u64> {
    if !measured.workload.carries_send_time() {
        return None;
    }
    let rate = (measured.sustained_rate()? * bench.latency_share).round() as u64;
    (rate > 0).then_some(rate)
}

async fn paced(bench: &Bench, workload: Workload, topics: &Topics, rate: u64) -> Result<Paced> {
    let config = run_config(bench, workload, topics, rate);
    let report = run::run(&config).await?;
    Ok(summarise(rate, &report))
}

/// A run of `bench.messages` at `rate` messages per second (0: unthrottled).
fn run_config(bench: &Bench, workload: Workload, topics: &Topics, rate: u64) -> run::RunConfig {
    deploy::run_config(
        &bench.broker,
        workload,
        topics,
        bench.messages,
        rate,
        bench.drain,
    )
}

fn summarise(rate: u64, report: &Report) -> Paced {
    Paced {
        rate,
        loss: report.loss(),
        latency: report.received.latency,
    }
}
