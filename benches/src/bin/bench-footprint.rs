//! `bench-footprint`: how much memory and disk the release `veloFlux` server takes.
//!
//! It measures the resident set idle after start, with 1, 100 and 1000 idle pipelines on one
//! shared stream (and so the cost of each extra one), the time to restore those 1000 running
//! pipelines after a SIGTERM and a restart, the resident set across 10 000 create/delete cycles
//! of a pipeline, and the size of the `release` and `release-thin` binaries (with the idle
//! resident set of the latter). The results are also written as JSON.
//!
//! ```text
//! bench-footprint [--broker tcp://127.0.0.1:1883] [--pipelines 1,100,1000] [--cycles 10000]
//!     [--server PATH] [--thin PATH] [--server-cpus 1] [--json PATH]
//! ```

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use clap::Parser;
use serde_json::json;
use veloflux_benches::e2e::deploy::Topics;
use veloflux_benches::e2e::footprint::{
    self, Figure, binary, cycles, pipelines, restore, settled_rss,
};
use veloflux_benches::e2e::server;
use veloflux_testkit::{BrokerAddress, Server, ServerOptions};

/// How long creating pipelines may take to show them all running.
const RUNNING_TIMEOUT: Duration = Duration::from_secs(120);

/// Measure the memory and disk footprint of the release server.
#[derive(Debug, Parser)]
#[command(name = "bench-footprint", version)]
struct Cli {
    /// Broker address the idle pipelines' shared stream subscribes to: tcp://host:port.
    #[arg(long, default_value = "tcp://127.0.0.1:1883")]
    broker: String,
    /// Idle pipeline counts to measure at, ascending; the last is also the restore count.
    #[arg(long, value_delimiter = ',', default_value = "1,100,1000")]
    pipelines: Vec<usize>,
    /// Create/delete cycles (sampled at every quarter).
    #[arg(long, default_value_t = 10_000)]
    cycles: usize,
    /// The veloFlux binary (default: the one next to this binary).
    #[arg(long)]
    server: Option<PathBuf>,
    /// The release-thin binary (default: <target>/release-thin/veloFlux).
    #[arg(long)]
    thin: Option<PathBuf>,
    /// Pin the server to these CPUs with taskset (e.g. 1); unpinned by default.
    #[arg(long)]
    server_cpus: Option<String>,
    /// Where to write the results as JSON (default: bench-footprint.json in the target
    /// directory).
    #[arg(long)]
    json: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("bench-footprint: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let mut options = server::release();
    if let Some(binary) = &cli.server {
        options.binary.clone_from(binary);
    }
    options.cpus.clone_from(&cli.server_cpus);
    let broker = BrokerAddress::parse(&cli.broker)?;
    let work_dir = tempfile::tempdir().context("creating a temporary directory")?;
    let mut figures = idle_pipelines(&cli, &options, &broker, work_dir.path()).await?;
    eprintln!("bench-footprint: {} create/delete cycles", cli.cycles);
    figures.extend(create_delete_cycles(&cli, &options, &broker, work_dir.path()).await?);
    figures.extend(binaries(&cli, &options, work_dir.path()).await?);
    print!("{}", footprint::render(&figures));
    let path = cli
        .json
        .clone()
        .unwrap_or_else(|| target_file(&options.binary));
    let document = json!({
        "broker": cli.broker,
        "server_cpus": options.cpus,
        "figures": footprint::json(&figures),
    });
    std::fs::write(&path, serde_json::to_string_pretty(&document)?)
        .with_context(|| format!("writing {}", path.display()))?;
    eprintln!("bench-footprint: results written to {}", path.display());
    Ok(())
}

/// Idle RSS, RSS with idle pipelines, and the restore of the last count of them.
async fn idle_pipelines(
    cli: &Cli,
    options: &ServerOptions,
    broker: &BrokerAddress,
    work_dir: &Path,
) -> anyhow::Result<Vec<Figure>> {
    let mut server = Server::start_in(options, &work_dir.join("pipelines")).await?;
    let api = server.api();
    let mut figures = vec![Figure::rss(
        "idle RSS after start",
        settled_rss(server.pid()).await?,
    )];
    pipelines::create_stream(api, broker, &Topics::new("footprint")).await?;
    let mut created = 0;
    let mut first = None;
    for &count in &cli.pipelines {
        eprintln!("bench-footprint: {count} idle pipelines");
        pipelines::create_and_start(api, created..count.max(created)).await?;
        created = created.max(count);
        pipelines::wait_all_running(api, created, RUNNING_TIMEOUT).await?;
        let rss = settled_rss(server.pid()).await?;
        let noun = if created == 1 {
            "pipeline"
        } else {
            "pipelines"
        };
        figures.push(Figure::rss(format!("RSS with {created} idle {noun}"), rss));
        let (first_count, first_rss) = *first.get_or_insert((created, rss));
        if created > first_count {
            let per = (rss as f64 - first_rss as f64) / (created - first_count) as f64;
            let name = format!("per extra idle pipeline ({first_count} to {created})");
            figures.push(Figure::new(name, per, "KiB"));
        }
    }
    eprintln!("bench-footprint: restoring {created} pipelines");
    let restored = restore::restart(&mut server, created).await?;
    figures.extend([
        Figure::new(
            "shutdown (SIGTERM to exit)",
            restored.shutdown.as_secs_f64(),
            "s",
        ),
        Figure::new(
            "restart: spawn to /healthz",
            restored.ready.as_secs_f64(),
            "s",
        ),
        Figure::new(
            format!("restart: spawn to all {created} running"),
            restored.all_running.as_secs_f64(),
            "s",
        ),
        Figure::rss(
            format!("RSS after restoring {created}"),
            settled_rss(server.pid()).await?,
        ),
    ]);
    server.terminate().await?;
    Ok(figures)
}

async fn create_delete_cycles(
    cli: &Cli,
    options: &ServerOptions,
    broker: &BrokerAddress,
    work_dir: &Path,
) -> anyhow::Result<Vec<Figure>> {
    let mut server = Server::start_in(options, &work_dir.join("cycles")).await?;
    pipelines::create_stream(server.api(), broker, &Topics::new("cycles")).await?;
    let figures = cycles::run(server.api(), server.pid(), cli.cycles, 4).await?;
    server.terminate().await?;
    Ok(figures)
}

async fn binaries(
    cli: &Cli,
    options: &ServerOptions,
    work_dir: &Path,
) -> anyhow::Result<Vec<Figure>> {
    let megabytes = |bytes: u64| bytes as f64 / 1e6;
    let mut figures = Vec::new();
    if let Some(bytes) = binary::size(&options.binary) {
        figures.push(Figure::new("release binary", megabytes(bytes), "MB"));
    }
    let thin = cli
        .thin
        .clone()
        .unwrap_or_else(|| binary::of_profile(&options.binary, "release-thin"));
    let Some(bytes) = binary::size(&thin) else {
        eprintln!(
            "bench-footprint: no {} (run `make release-thin`): its size is not measured",
            thin.display()
        );
        return Ok(figures);
    };
    figures.push(Figure::new("release-thin binary", megabytes(bytes), "MB"));
    let thin_options = ServerOptions {
        binary: thin,
        ..options.clone()
    };
    let mut server = Server::start_in(&thin_options, &work_dir.join("thin")).await?;
    let rss = settled_rss(server.pid()).await?;
    figures.push(Figure::rss("release-thin idle RSS after start", rss));
    server.terminate().await?;
    Ok(figures)
}

/// bench-footprint.json in the target directory of `binary` (`<target>/release/veloFlux`).
fn target_file(binary: &Path) -> PathBuf {
    binary
        .parent()
        .and_then(Path::parent)
        .unwrap_or_else(|| Path::new("target"))
        .join("bench-footprint.json")
}
