//! The `veloFlux` server under test, as a child process: started on a free port over a data
//! directory of the caller's, with its log in a file, optionally pinned to CPUs with `taskset`,
//! and stopped with SIGTERM as an operator would.

use std::fs::File;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tokio::time::Instant;

use super::api::Api;
use crate::{Error, Result};

/// How long a server may take to answer `/healthz` after it was spawned, or to exit after
/// SIGTERM. Restoring 1000 pipelines is part of the start, so this is generous.
pub const START_TIMEOUT: Duration = Duration::from_secs(60);

/// How often readiness and exit are polled.
pub const POLL: Duration = Duration::from_millis(5);

/// How to run the server.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// The `veloFlux` binary.
    pub binary: PathBuf,
    /// CPUs to pin the server to (`taskset -c <cpus>`), or `None` to leave it to the scheduler.
    pub cpus: Option<String>,
    /// The `--log-level`.
    pub log_level: String,
}

impl ServerOptions {
    /// The release server next to this binary (both live in `$CARGO_TARGET_DIR/release`),
    /// unpinned, logging warnings only.
    pub fn release() -> Self {
        Self {
            binary: sibling_binary("veloFlux"),
            cpus: None,
            log_level: "warn".to_owned(),
        }
    }
}

/// The path of `name` in the directory of the running executable: where cargo puts every
/// binary of a profile.
pub fn sibling_binary(name: &str) -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.join(name)))
        .unwrap_or_else(|| PathBuf::from(name))
}

/// A running server; killed when dropped unless [`Server::terminate`]d first.
#[derive(Debug)]
pub struct Server {
    child: Child,
    addr: SocketAddr,
    spawned: Instant,
    log: PathBuf,
}

impl Server {
    /// Spawns the server over `data_dir` with its standard error in `log`; returns once the
    /// process is running, before it answers.
    ///
    /// # Errors
    /// When the binary is missing or cannot be spawned, or no port is free.
    pub fn spawn(options: &ServerOptions, data_dir: &Path, log: &Path) -> Result<Self> {
        if !options.binary.is_file() {
            return Err(Error::Server(format!(
                "no binary at {} (build it with `cargo build --release -p veloflux`)",
                options.binary.display()
            )));
        }
        let addr = free_port()?;
        let mut command = command(options);
        command
            .arg("--data-dir")
            .arg(data_dir)
            .args(["--manager-addr", &addr.to_string()])
            .args(["--log-level", &options.log_level])
            // The server reads ./config.yaml if there is one: start it where there is none.
            .current_dir(data_dir.parent().unwrap_or(data_dir))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(create(log)?);
        let child = command
            .spawn()
            .map_err(|error| Error::Server(format!("cannot spawn {command:?}: {error}")))?;
        Ok(Self {
            child,
            addr,
            spawned: Instant::now(),
            log: log.to_owned(),
        })
    }

    /// [`Server::spawn`], then waits until `/healthz` answers.
    ///
    /// # Errors
    /// As [`Server::spawn`], and when the server exits or does not answer within
    /// [`START_TIMEOUT`].
    pub async fn start(options: &ServerOptions, data_dir: &Path, log: &Path) -> Result<Self> {
        let mut server = Self::spawn(options, data_dir, log)?;
        let api = server.api()?;
        server.wait_ready(&api).await?;
        Ok(server)
    }

    /// Polls `/healthz` until it answers 200.
    ///
    /// # Errors
    /// When the server exits first or [`START_TIMEOUT`] passes.
    pub async fn wait_ready(&mut self, api: &Api) -> Result<()> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if api.healthy().await {
                return Ok(());
            }
            self.check_alive()?;
            if Instant::now() >= deadline {
                return Err(self.failure("did not answer /healthz in time"));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// A REST client for this server.
    ///
    /// # Errors
    /// When the HTTP client cannot be built.
    pub fn api(&self) -> Result<Api> {
        Api::new(&format!("http://{}", self.addr))
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// When the process was spawned.
    pub fn spawned(&self) -> Instant {
        self.spawned
    }

    /// Fails if the process has exited, with the end of its log.
    ///
    /// # Errors
    /// When it has.
    pub fn check_alive(&mut self) -> Result<()> {
        match self.child.try_wait() {
            Ok(None) => Ok(()),
            Ok(Some(status)) => Err(self.failure(&format!("exited ({status})"))),
            Err(error) => Err(self.failure(&format!("cannot be waited for: {error}"))),
        }
    }

    /// Sends SIGTERM and waits for the process to exit; returns how long the shutdown took.
    ///
    /// # Errors
    /// When the signal cannot be sent, or the process is still running after
    /// [`START_TIMEOUT`] (it is then killed).
    pub async fn terminate(mut self) -> Result<Duration> {
        let signalled = Instant::now();
        let sent = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status();
        if !sent.is_ok_and(|status| status.success()) {
            return Err(self.failure("could not be sent SIGTERM"));
        }
        while signalled.elapsed() < START_TIMEOUT {
            match self.child.try_wait() {
                Ok(Some(_)) => return Ok(signalled.elapsed()),
                Ok(None) => tokio::time::sleep(POLL).await,
                Err(error) => return Err(self.failure(&format!("cannot be waited for: {error}"))),
            }
        }
        Err(self.failure("was still running long after SIGTERM"))
    }

    fn failure(&self, what: &str) -> Error {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let start = log.len().saturating_sub(2000);
        let tail = log.get(start..).unwrap_or_default().trim();
        Error::Server(format!(
            "{} (pid {}) {what}; end of {}:\n{tail}",
            self.addr,
            self.child.id(),
            self.log.display()
        ))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn command(options: &ServerOptions) -> Command {
    match &options.cpus {
        Some(cpus) => {
            let mut command = Command::new("taskset");
            command.args(["-c", cpus]).arg(&options.binary);
            command
        }
        None => Command::new(&options.binary),
    }
}

/// A loopback address whose port was free a moment ago.
fn free_port() -> Result<SocketAddr> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map_err(|error| Error::Server(format!("no free port on 127.0.0.1: {error}")))
}

fn create(log: &Path) -> Result<File> {
    File::create(log)
        .map_err(|error| Error::Server(format!("cannot create {}: {error}", log.display())))
}
