//! `bench-e2e`: the release `veloFlux` server measured end to end through an MQTT broker.
//!
//! For each workload (the load tool's relay as the ceiling, W1 = filter and projection at
//! QoS 0 and 1, W2 = a one-second tumbling window over 1000 devices) it starts a fresh server
//! over a temporary data directory, creates the stream and the pipeline over REST, publishes
//! the workload unthrottled, and reports the input rate, its ratio to the relay's, loss, the
//! server's CPU seconds per million messages and cores used, its peak RSS, and the latency
//! p50/p99 of a second run paced at half the rate the workload sustained. The results are
//! also written as JSON.
//!
//! With `--sweep` it instead runs W1 at QoS 0 for every `batch_size` (1 … 8192) × `linger_ms`
//! (0, 5, 20), unthrottled and paced at `--sweep-rate`, and draws the result as an SVG.
//!
//! With `--pipelines N,M` it instead measures many pipelines on one stream: for each count, a
//! fresh server with that many filter/projection pipelines on one shared subscription, each
//! into a `nop` sink, under a steady `--pipelines-rate`; it reports the server's share of one
//! core, its steady and peak resident set, and the messages the stream took in.
//!
//! `--checkpoint-interval-ms` sets the server's `runtime.checkpoint_interval_ms` (0: no
//! checkpoints; the server's default, 1000, otherwise), e.g. to run W2 with and without them.
//!
//! ```text
//! bench-e2e [--broker tcp://127.0.0.1:1883] [--messages 200000] [--server-cpus 1]
//!     [--workloads relay-q0,w1-q0,w1m-q0,w2-q1] [--device-topics] [--latency-rate 20000]
//!     [--checkpoint-interval-ms 1000] [--json PATH]
//! bench-e2e --sweep [--messages 200000] [--sweep-rate 20000] [--chart PATH] [--json PATH]
//! bench-e2e --redraw SWEEP.json [--chart PATH]
//! bench-e2e --pipelines 300,1000 [--pipelines-rate 500] [--pipelines-seconds 30]
//!     [--pipelines-warm-up 5] [--json PATH]
//! ```

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use clap::Parser;
use serde_json::json;
use veloflux_benches::e2e::measure::{self, Bench};
use veloflux_benches::e2e::table::{self, Measured};
use veloflux_benches::e2e::workloads::{Kind, Workload};
use veloflux_benches::e2e::{chart, server, shared_stream, sweep};
use veloflux_testkit::BrokerAddress;

/// Measure the release server end to end through an MQTT broker.
#[derive(Debug, Parser)]
#[command(name = "bench-e2e", version)]
struct Cli {
    #[command(flatten)]
    common: Common,
    /// Workloads to run, by name (relay-q0, relay-q1, w1-q0, w1-q1, w2-q0, W1 selecting
    /// meta(topic): w1m-q0, w1m-q1, and W2 at QoS 1: w2-q1); all but w1m and w2-q1 by default.
    #[arg(long, value_delimiter = ',')]
    workloads: Vec<String>,
    /// Also measure W1 QoS 0 latency at this fixed rate (the issue's target rate); 0: skip.
    #[arg(long, default_value_t = 20_000)]
    latency_rate: u64,
    /// Where to write the results as JSON (default: bench-e2e.json, bench-sweep.json with
    /// --sweep, bench-pipelines.json with --pipelines, in the target directory).
    #[arg(long)]
    json: Option<PathBuf>,
    /// Run the batch-size sweep instead of the table.
    #[arg(long)]
    sweep: bool,
    /// The rate of the sweep's paced runs, for latency, in messages per second.
    #[arg(long, default_value_t = 20_000)]
    sweep_rate: u64,
    /// Where the sweep draws its chart.
    #[arg(long, default_value = "docs/img/batch-sweep.svg")]
    chart: PathBuf,
    /// Redraw the sweep's table and chart from the JSON a sweep wrote, without measuring.
    #[arg(long)]
    redraw: Option<PathBuf>,
    /// Measure this many pipelines on one shared stream (e.g. 300,1000) instead of the table.
    #[arg(long, value_delimiter = ',')]
    pipelines: Vec<usize>,
    /// The rate published to the pipelines' shared stream, in messages per second.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u64).range(1..))]
    pipelines_rate: u64,
    /// Seconds of the measured run of each pipeline count.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    pipelines_seconds: u64,
    /// Seconds of load before each measured run of a pipeline count.
    #[arg(long, default_value_t = 5)]
    pipelines_warm_up: u64,
}

/// The options of every end-to-end measurement.
#[derive(Debug, clap::Args)]
struct Common {
    /// Broker address: tcp://host:port.
    #[arg(long, default_value = "tcp://127.0.0.1:1883")]
    broker: String,
    /// Messages per run.
    #[arg(long, default_value_t = 200_000, value_parser = clap::value_parser!(u64).range(1..))]
    messages: u64,
    /// Milliseconds the output must stay quiet before a run ends.
    #[arg(long, default_value_t = 2000)]
    drain_ms: u64,
    /// The veloFlux binary (default: the one next to this binary).
    #[arg(long)]
    server: Option<PathBuf>,
    /// Pin the server to these CPUs with taskset (e.g. 1); unpinned by default.
    #[arg(long)]
    server_cpus: Option<String>,
    /// Publish each message to its device's topic, `<input>/dev-NNNN/data` (1000 topics),
    /// the stream subscribing to `<input>/+/data`: what `w1m` reads with `meta(topic)`.
    #[arg(long)]
    device_topics: bool,
    /// The server's checkpoint interval (runtime.checkpoint_interval_ms); 0 turns checkpoints
    /// off. The server's default (1000) when not given.
    #[arg(long)]
    checkpoint_interval_ms: Option<u64>,
}

impl Common {
    /// The bench's settings; a configuration file the server needs goes in `work_dir`.
    fn bench(&self, work_dir: &std::path::Path) -> anyhow::Result<Bench> {
        let mut options = server::release();
        if let Some(binary) = &self.server {
            options.binary.clone_from(binary);
        }
        options.cpus.clone_from(&self.server_cpus);
        if let Some(interval_ms) = self.checkpoint_interval_ms {
            options = server::with_checkpoint_interval(options, interval_ms, work_dir)?;
        }
        Ok(Bench {
            broker: BrokerAddress::parse(&self.broker)?,
            server: options,
            messages: self.messages,
            drain: Duration::from_millis(self.drain_ms),
            latency_share: 0.5,
            device_topics: self.device_topics,
            checkpoint_interval_ms: self.checkpoint_interval_ms,
        })
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("bench-e2e: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let work_dir = tempfile::tempdir().context("creating a temporary directory")?;
    let bench = cli.common.bench(work_dir.path())?;
    let workloads = selected(&cli.workloads)?;
    if let Some(path) = &cli.redraw {
        return redraw(path, &cli.chart);
    }
    if cli.sweep {
        return sweep(&cli, &bench, work_dir.path()).await;
    }
    if !cli.pipelines.is_empty() {
        return many_pipelines(&cli, &bench, work_dir.path()).await;
    }
    eprintln!(
        "bench-e2e: {} messages per run through {}, server {}{}, checkpoints {}",
        bench.messages,
        cli.common.broker,
        bench.server.binary.display(),
        bench
            .server
            .cpus
            .as_ref()
            .map_or_else(String::new, |cpus| format!(" pinned to CPU {cpus}")),
        match bench.checkpoint_interval_ms {
            None => "at the server's default interval".to_owned(),
            Some(0) => "off".to_owned(),
            Some(interval_ms) => format!("every {interval_ms} ms"),
        },
    );
    let mut rows = Vec::new();
    for workload in workloads {
        eprintln!("bench-e2e: measuring {}", workload.name());
        let measured = measure::measure(&bench, workload, work_dir.path())
            .await
            .with_context(|| format!("measuring {}", workload.name()))?;
        rows.push(measured);
    }
    let fixed = fixed_rate_latency(&bench, &cli, work_dir.path()).await?;
    let ceiling = ceiling(&rows);
    print!("{}", table::render(&rows, ceiling));
    if let Some(fixed) = &fixed {
        let paced = &fixed.paced;
        println!(
            "w1-q0 at a fixed {} msg/s: p50 {:.2} ms, p99 {:.2} ms, loss {}, CPU {:.2} s/M ({:.1} % of a core)",
            paced.rate,
            paced
                .latency
                .map_or(f64::NAN, |l| l.p50.as_secs_f64() * 1e3),
            paced
                .latency
                .map_or(f64::NAN, |l| l.p99.as_secs_f64() * 1e3),
            paced.loss,
            fixed.cpu_per_million().unwrap_or(f64::NAN),
            fixed.cores().map_or(f64::NAN, |cores| cores * 100.0),
        );
    }
    let path = cli.json.unwrap_or_else(|| target_file("bench-e2e.json"));
    write_json(&path, &bench, &rows, ceiling, fixed.as_ref())?;
    eprintln!("bench-e2e: results written to {}", path.display());
    Ok(())
}

fn selected(names: &[String]) -> anyhow::Result<Vec<Workload>> {
    if names.is_empty() {
        return Ok(Workload::ALL.to_vec());
    }
    names
        .iter()
        .map(|name| {
            Workload::selectable()
                .find(|workload| workload.name() == *name)
                .with_context(|| format!("unknown workload '{name}'"))
        })
        .collect()
}

async fn fixed_rate_latency(
    bench: &Bench,
    cli: &Cli,
    work_dir: &std::path::Path,
) -> anyhow::Result<Option<table::FixedRate>> {
    let w1 = Workload::new(Kind::Filter, 0);
    let wanted = cli.workloads.is_empty() || cli.workloads.contains(&w1.name());
    if cli.latency_rate == 0 || !wanted {
        return Ok(None);
    }
    eprintln!(
        "bench-e2e: measuring w1-q0 latency at {} msg/s",
        cli.latency_rate
    );
    let fixed = measure::at_fixed_rate(bench, w1, cli.latency_rate, work_dir)
        .await
        .context("measuring w1-q0 at the fixed rate")?;
    Ok(Some(fixed))
}

/// The rate the relay sustained at QoS 0: the ceiling every ratio is relative to.
fn ceiling(rows: &[Measured]) -> Option<f64> {
    rows.iter()
        .find(|row| row.workload == Workload::new(Kind::Relay, 0))
        .and_then(Measured::sustained_rate)
}

async fn sweep(cli: &Cli, bench: &Bench, work_dir: &std::path::Path) -> anyhow::Result<()> {
    eprintln!(
        "bench-e2e: batch-size sweep of w1-q0, {} messages unthrottled, paced at {} msg/s",
        bench.messages, cli.sweep_rate
    );
    let points = sweep::run(bench, cli.sweep_rate, work_dir).await?;
    print!("{}", sweep::render(&points));
    let labelled = chart::draw(&points, cli.sweep_rate, &cli.chart)?;
    eprintln!(
        "bench-e2e: chart written to {}{}",
        cli.chart.display(),
        if labelled { "" } else { " (without labels)" }
    );
    let path = cli
        .json
        .clone()
        .unwrap_or_else(|| target_file("bench-sweep.json"));
    let document = json!({
        "messages": bench.messages,
        "paced_rate": cli.sweep_rate,
        "server_cpus": bench.server.cpus,
        "points": points.iter().map(sweep::Point::json).collect::<Vec<_>>(),
    });
    std::fs::write(&path, serde_json::to_string_pretty(&document)?)
        .with_context(|| format!("writing {}", path.display()))?;
    eprintln!("bench-e2e: results written to {}", path.display());
    Ok(())
}

async fn many_pipelines(
    cli: &Cli,
    bench: &Bench,
    work_dir: &std::path::Path,
) -> anyhow::Result<()> {
    let load = shared_stream::Load {
        rate: cli.pipelines_rate,
        warm_up: Duration::from_secs(cli.pipelines_warm_up),
        measured: Duration::from_secs(cli.pipelines_seconds),
    };
    let mut rows = Vec::new();
    for &count in &cli.pipelines {
        eprintln!(
            "bench-e2e: {count} pipelines on one stream at {} msg/s, {} s warm-up, {} s measured",
            load.rate,
            load.warm_up.as_secs(),
            load.measured.as_secs()
        );
        let loaded = shared_stream::measure(bench, count, &load, work_dir)
            .await
            .with_context(|| format!("measuring {count} pipelines on one stream"))?;
        rows.push(loaded);
    }
    print!("{}", shared_stream::render(&rows));
    let path = cli
        .json
        .clone()
        .unwrap_or_else(|| target_file("bench-pipelines.json"));
    let document = json!({
        "broker": format!("{}:{}", bench.broker.host, bench.broker.port),
        "server_cpus": bench.server.cpus,
        "rate": load.rate,
        "warm_up_seconds": load.warm_up.as_secs(),
        "measured_seconds": load.measured.as_secs(),
        "pipelines": rows.iter().map(shared_stream::Loaded::json).collect::<Vec<_>>(),
    });
    std::fs::write(&path, serde_json::to_string_pretty(&document)?)
        .with_context(|| format!("writing {}", path.display()))?;
    eprintln!("bench-e2e: results written to {}", path.display());
    Ok(())
}

fn redraw(path: &std::path::Path, chart_path: &std::path::Path) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let document: serde_json::Value = serde_json::from_str(&text)?;
    let points = document["points"]
        .as_array()
        .context("the sweep JSON has no points")?
        .iter()
        .map(|point| sweep::Point::from_json(point).context("a sweep point lacks a field"))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let rate = document["paced_rate"]
        .as_u64()
        .context("the sweep JSON has no paced_rate")?;
    print!("{}", sweep::render(&points));
    chart::draw(&points, rate, chart_path)?;
    eprintln!("bench-e2e: chart written to {}", chart_path.display());
    Ok(())
}

/// `name` in the target directory (this binary lives in `<target>/release/`).
fn target_file(name: &str) -> PathBuf {
    let target = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.to_owned()))
        .unwrap_or_else(|| PathBuf::from("target"));
    target.join(name)
}

fn write_json(
    path: &std::path::Path,
    bench: &Bench,
    rows: &[Measured],
    ceiling: Option<f64>,
    fixed: Option<&table::FixedRate>,
) -> anyhow::Result<()> {
    let fixed = fixed.map(|fixed| {
        let paced = &fixed.paced;
        json!({
            "workload": "w1-q0",
            "rate": paced.rate,
            "loss": paced.loss,
            "p50_ms": paced.latency.map(|l| l.p50.as_secs_f64() * 1e3),
            "p99_ms": paced.latency.map(|l| l.p99.as_secs_f64() * 1e3),
            "max_ms": paced.latency.map(|l| l.max.as_secs_f64() * 1e3),
            "cpu_seconds_per_million": fixed.cpu_per_million(),
            "cores": fixed.cores(),
        })
    });
    let document = json!({
        "messages": bench.messages,
        "broker": format!("{}:{}", bench.broker.host, bench.broker.port),
        "server_cpus": bench.server.cpus,
        "device_topics": bench.device_topics,
        "checkpoint_interval_ms": bench.checkpoint_interval_ms,
        "ceiling_msg_per_s": ceiling,
        "workloads": rows.iter().map(|row| row.json(ceiling)).collect::<Vec<_>>(),
        "fixed_rate_latency": fixed,
    });
    let text = serde_json::to_string_pretty(&document)?;
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}
