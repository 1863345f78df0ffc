//! The veloFlux binary: the server (`veloFlux --data-dir ./tmp/data`, or `veloFlux serve …`)
//! and the command-line client of its REST API (`veloFlux pipeline list`, `veloFlux top`, …).

mod cli;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{CommandFactory, Parser, Subcommand};
use tokio::net::TcpListener;
use veloflux::config::{self, Config};
use veloflux::control::Control;
use veloflux::instance::instance_id;
use veloflux::manager::{Access, Profiling};
use veloflux::runtime::Runtime;
use veloflux::storage::Storage;
use veloflux::tls::{self, ServerTls};

/// The stack of each runtime thread.
const WORKER_STACK_BYTES: usize = 16 << 20;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// SQL over MQTT streams, on Apache Arrow micro-batches: without a command, the server; with
/// one, a client of a running server.
#[derive(Debug, Parser)]
#[command(name = "veloFlux", version, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(flatten)]
    serve: ServeArgs,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start the server (what `veloFlux` does without a command).
    Serve(ServeArgs),
    #[command(flatten)]
    Client(cli::ClientCommand),
    /// Print the completion script of a shell: `source <(veloFlux completions bash)`.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

/// The server's flags.
#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// Where streams and pipelines are stored.
    #[arg(long, default_value = "./tmp")]
    data_dir: PathBuf,
    /// A YAML configuration file (default: ./config.yaml if it exists).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Where the REST API listens (server.manager_addr).
    #[arg(long)]
    manager_addr: Option<String>,
    /// error, warn, info, debug or trace (logging.level).
    #[arg(long)]
    log_level: Option<String>,
    /// Start an MQTT broker inside the server at this address (embedded_broker.addr).
    #[arg(long)]
    embedded_broker: Option<String>,
    /// Serve the Arrow Flight endpoint at this address (debug.flight_addr).
    #[arg(long)]
    flight_addr: Option<String>,
}

impl ServeArgs {
    fn overrides(&self) -> Vec<(&'static str, String)> {
        let flags = [
            ("server.manager_addr", &self.manager_addr),
            ("logging.level", &self.log_level),
            ("embedded_broker.addr", &self.embedded_broker),
            ("debug.flight_addr", &self.flight_addr),
        ];
        flags
            .into_iter()
            .filter_map(|(key, value)| Some((key, value.clone()?)))
            .collect()
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let args = match cli.command {
        None => cli.serve,
        Some(Command::Serve(args)) => args,
        Some(Command::Client(command)) => return cli::run(command),
        Some(Command::Completions { shell }) => {
            let mut command = Cli::command();
            clap_complete::generate(shell, &mut command, "veloFlux", &mut std::io::stdout());
            return ExitCode::SUCCESS;
        }
    };
    match run_server(args) {
        Ok(()) => ExitCode::SUCCESS,
        // As `main() -> anyhow::Result<()>` reports it: the error and its causes.
        Err(error) => {
            eprintln!("Error: {error:?}");
            ExitCode::FAILURE
        }
    }
}

fn run_server(args: ServeArgs) -> anyhow::Result<()> {
    let config = config::load(args.config.as_deref(), std::env::vars(), &args.overrides())?;
    init_logging(&config);
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        // Expressions are evaluated recursively, as deep as a statement nests (at most about
        // 1250 levels, which the planner enforces): room for that, reserved, not resident.
        .thread_stack_size(WORKER_STACK_BYTES)
        .build()
        .context("starting the async runtime")?
        .block_on(serve(args, config))
}

fn init_logging(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_new(&config.logging.level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // The log is the server's diagnostic output: stderr, beside its startup errors, where
    // service managers and the test kit collect it.
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

async fn serve(args: ServeArgs, config: Config) -> anyhow::Result<()> {
    // Before anything starts: a certificate that cannot be used stops the server at once.
    let tls = match config.server.tls_files() {
        Some((cert, key)) => Some(ServerTls::load(cert, key)?),
        None => None,
    };
    if let Some(addr) = config.embedded_broker.addr {
        start_embedded_broker(addr)?;
    }
    let instance = instance_id(config.server.instance_id.as_deref(), &args.data_dir)
        .map_err(anyhow::Error::msg)?;
    let storage = Arc::new(Storage::open(&args.data_dir)?);
    let runtime = Runtime::new(config.runtime.clone(), instance, Arc::clone(&storage));
    let control = Arc::new(Control::open(storage, runtime)?);
    control.restore().await;
    let access = access(&config);
    if let Some(addr) = config.metrics.addr {
        let listener = bind(addr, "metrics.addr").await?;
        let app = veloflux::manager::metrics_app(control.clone(), access.clone());
        spawn_http(listener, tls.clone(), app);
    }
    if let Some(addr) = config.debug.flight_addr {
        serve_flight(addr, control.clone(), access.clone(), tls.clone()).await?;
    }
    let profiling = serve_profiling(&config, access.clone(), tls.clone()).await?;
    let addr = config.server.manager_addr;
    let listener = bind(addr, "server.manager_addr").await?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    tracing::info!(%addr, scheme, data_dir = %args.data_dir.display(), "veloFlux is serving");
    let app = veloflux::manager::app_with(control.clone(), access, profiling);
    tls::serve_http(listener, tls, app, shutdown_signal())
        .await
        .context("serving the REST API")?;
    tracing::info!("stopping pipelines");
    control.shutdown().await;
    Ok(())
}

/// Listens on `addr`, the value of the configuration key `key`.
async fn bind(addr: SocketAddr, key: &str) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .with_context(|| format!("listening on {addr} ({key})"))
}

/// Serves `app` on `listener` (through TLS when configured) for as long as the process runs.
fn spawn_http(listener: TcpListener, tls: Option<ServerTls>, app: axum::Router) {
    tokio::spawn(tls::serve_http(listener, tls, app, std::future::pending()));
}

/// Starts the profiling endpoint on `profiling.addr` when set; says whether the manager port
/// serves it.
async fn serve_profiling(
    config: &Config,
    access: Access,
    tls: Option<ServerTls>,
) -> anyhow::Result<Profiling> {
    if !config.profiling.enabled {
        return Ok(Profiling::Elsewhere(
            "CPU profiling is off (profiling.enabled: false)",
        ));
    }
    let Some(addr) = config.profiling.addr else {
        return Ok(Profiling::Here);
    };
    #[cfg(feature = "profiling")]
    {
        let listener = bind(addr, "profiling.addr").await?;
        spawn_http(listener, tls, veloflux::manager::profiling_app(access));
        Ok(Profiling::Elsewhere(
            "CPU profiles are served on their own address (profiling.addr)",
        ))
    }
    #[cfg(not(feature = "profiling"))]
    {
        let _ = (access, tls);
        anyhow::bail!("profiling.addr is set ({addr}) but this build has no profiling feature")
    }
}

/// Who may call the API; warns when it is open to other machines.
fn access(config: &Config) -> Access {
    let token = config.server.token();
    let reachable = config.listeners().any(|(_, addr)| !addr.ip().is_loopback());
    if token.is_none() && reachable {
        tracing::warn!(
            "the API listens beyond this machine without authentication: set server.auth_token \
             (or VELOFLUX_SERVER__AUTH_TOKEN)"
        );
    }
    Access {
        token: token.map(Arc::from),
        metrics_public: config.server.metrics_public,
    }
}

/// Starts the Arrow Flight endpoint (through TLS when configured), or says why this build
/// has none.
async fn serve_flight(
    addr: SocketAddr,
    control: Arc<Control>,
    access: Access,
    tls: Option<ServerTls>,
) -> anyhow::Result<()> {
    #[cfg(feature = "flight")]
    {
        let listener = bind(addr, "debug.flight_addr").await?;
        tracing::info!(%addr, "Arrow Flight endpoint is serving");
        tokio::spawn(async move {
            if let Err(error) = veloflux::flight::serve(listener, tls, control, access).await {
                tracing::error!(%error, "the Arrow Flight endpoint stopped");
            }
        });
    }
    #[cfg(not(feature = "flight"))]
    {
        let _ = (control, access, tls);
        tracing::warn!(%addr, "debug.flight_addr is set but this build has no Flight endpoint (feature `flight`)");
    }
    Ok(())
}

/// Starts the MQTT broker inside the server.
#[cfg(feature = "embedded-broker")]
fn start_embedded_broker(addr: SocketAddr) -> anyhow::Result<()> {
    Ok(veloflux_connectors::mqtt::start_embedded(addr)?)
}

/// Says why this build cannot start a broker inside the server.
#[cfg(not(feature = "embedded-broker"))]
fn start_embedded_broker(addr: SocketAddr) -> anyhow::Result<()> {
    anyhow::bail!(
        "embedded_broker.addr is {addr} but this build has no embedded broker (cargo feature \
         `embedded-broker`): start a broker such as Mosquitto, or use the default build"
    )
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(_) => return interrupt.await.unwrap_or_default(),
            };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    interrupt.await.unwrap_or_default();
}
