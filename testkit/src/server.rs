//! The real `veloFlux` binary as a child process: started on a free port over a data
//! directory (a temporary one unless the caller gives one), ready once `/healthz` answers
//! (over HTTPS when the options give the certificate authority to trust),
//! stopped with SIGTERM or SIGKILL and started again over the same directory. Its stderr is
//! kept in a file: the errors quote its end, and a server dropped while a test panics prints
//! it.

mod options;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus};
use std::time::Duration;

use tempfile::TempDir;
use tokio::time::Instant;

pub use options::{POLL, START_TIMEOUT, ServerOptions};

use crate::signal::{Signal, send_signal};
use crate::wait::Wait;
use crate::{Api, Error, Result, free_addr};

/// How much of the end of the server's stderr an error quotes.
const STDERR_TAIL_BYTES: usize = 2000;

/// How a server stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stopped {
    /// Its exit status.
    pub status: ExitStatus,
    /// From the signal to the exit.
    pub took: Duration,
}

/// How a server that was run to its end exited, and what it wrote to stderr.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exited {
    /// Its exit status.
    pub status: ExitStatus,
    /// Everything it wrote to stderr.
    pub stderr: String,
}

/// A running (or stopped, to be started again) server; killed when dropped.
#[derive(Debug)]
pub struct Server {
    options: ServerOptions,
    child: Child,
    addr: SocketAddr,
    api: Api,
    data_dir: PathBuf,
    spawned: Instant,
    /// The working directory: the stderr log, and the data directory when none was given.
    scratch: TempDir,
}

impl Server {
    /// Starts the server over a fresh temporary data directory, removed when it is dropped,
    /// and waits until it answers.
    ///
    /// # Errors
    /// As [`Server::start_in`].
    pub async fn start(options: &ServerOptions) -> Result<Self> {
        let mut server = Self::spawn(options, None)?;
        server.wait_ready().await?;
        Ok(server)
    }

    /// Starts the server over `data_dir` (created if missing) and waits until it answers.
    ///
    /// # Errors
    /// When the binary is missing or cannot be spawned, or the server exits or does not
    /// answer `/healthz` within [`ServerOptions::start_timeout`].
    pub async fn start_in(options: &ServerOptions, data_dir: &Path) -> Result<Self> {
        let mut server = Self::spawn(options, Some(data_dir))?;
        server.wait_ready().await?;
        Ok(server)
    }

    /// Spawns the server over `data_dir` (a temporary one for `None`) and returns at once,
    /// before it answers; see [`Server::wait_ready`].
    ///
    /// # Errors
    /// When a directory cannot be made, no port is free, or the binary is missing or cannot
    /// be spawned.
    pub fn spawn(options: &ServerOptions, data_dir: Option<&Path>) -> Result<Self> {
        let scratch = tempfile::Builder::new()
            .prefix("veloflux-server-")
            .tempdir()
            .map_err(|error| Error::io("create", std::env::temp_dir(), error))?;
        let data_dir = match data_dir {
            Some(dir) => std::path::absolute(dir).map_err(|error| Error::io("find", dir, error))?,
            None => scratch.path().join("data"),
        };
        std::fs::create_dir_all(&data_dir)
            .map_err(|error| Error::io("create", &data_dir, error))?;
        let addr = free_addr()?;
        let child = launch(options, &data_dir, addr, scratch.path())?;
        Ok(Self {
            options: options.clone(),
            child,
            addr,
            api: options.api(addr)?,
            data_dir,
            spawned: Instant::now(),
            scratch,
        })
    }

    /// Runs the server over `data_dir` until it exits by itself, as it does when it cannot
    /// start, and returns how it exited and what it wrote to stderr.
    ///
    /// # Errors
    /// When it cannot be spawned, or is still running after
    /// [`ServerOptions::start_timeout`] (it is then killed).
    pub fn run_to_exit(options: &ServerOptions, data_dir: &Path) -> Result<Exited> {
        let mut server = Self::spawn(options, Some(data_dir))?;
        let deadline = std::time::Instant::now() + options.start_timeout;
        while std::time::Instant::now() < deadline {
            match server.child.try_wait() {
                Ok(Some(status)) => {
                    let stderr = std::fs::read(server.stderr_path()).unwrap_or_default();
                    let stderr = String::from_utf8_lossy(&stderr).into_owned();
                    return Ok(Exited { status, stderr });
                }
                Ok(None) => std::thread::sleep(POLL),
                Err(error) => return Err(server.failure(&format!("cannot be waited for: {error}"))),
            }
        }
        let _ = server.kill();
        Err(server.failure("did not exit by itself"))
    }

    /// Waits until `/healthz` answers 200.
    ///
    /// # Errors
    /// When the server exits first, or does not answer within
    /// [`ServerOptions::start_timeout`].
    pub async fn wait_ready(&mut self) -> Result<()> {
        let wait = Wait::up_to(self.options.start_timeout).every(POLL);
        let ready = wait
            .until_some("the server answers /healthz", async || {
                if self.api.healthy().await {
                    return Ok(Some(()));
                }
                self.check_alive().map(|()| None)
            })
            .await;
        ready.map_err(|error| match error {
            Error::Timeout { .. } => self.failure("did not answer /healthz in time"),
            other => other,
        })
    }

    /// The REST client of this server.
    pub fn api(&self) -> &Api {
        &self.api
    }

    /// The REST client of this server, to change its token.
    pub fn api_mut(&mut self) -> &mut Api {
        &mut self.api
    }

    /// The address of the REST API.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The process id (of the binary itself: `taskset` replaces itself with it).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// When the current process was spawned.
    pub fn spawned(&self) -> Instant {
        self.spawned
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// What the server has written to stderr so far, across restarts.
    ///
    /// # Errors
    /// When the log cannot be read.
    pub fn stderr(&self) -> Result<String> {
        let path = self.stderr_path();
        let bytes = std::fs::read(&path).map_err(|error| Error::io("read", &path, error))?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// Fails if the process has exited, quoting the end of its stderr.
    ///
    /// # Errors
    /// When it has, or cannot be waited for.
    pub fn check_alive(&mut self) -> Result<()> {
        match self.child.try_wait() {
            Ok(None) => Ok(()),
            Ok(Some(status)) => Err(self.failure(&format!("exited ({status})"))),
            Err(error) => Err(self.failure(&format!("cannot be waited for: {error}"))),
        }
    }

    /// Sends `signal` to the process, unless it has exited.
    ///
    /// # Errors
    /// When the signal cannot be delivered.
    pub fn signal(&mut self, signal: Signal) -> Result<()> {
        send_signal(&mut self.child, signal)
    }

    /// Kills the process at once (SIGKILL, as a power cut would) and reaps it.
    ///
    /// # Errors
    /// When it cannot be signalled or waited for.
    pub fn kill(&mut self) -> Result<ExitStatus> {
        self.signal(Signal::Kill)?;
        self.child
            .wait()
            .map_err(|error| self.failure(&format!("cannot be waited for: {error}")))
    }

    /// Sends SIGTERM, as an operator would, and waits for the process to exit.
    ///
    /// # Errors
    /// When the signal cannot be sent, or the process is still running after
    /// [`ServerOptions::start_timeout`] (it is then killed).
    pub async fn terminate(&mut self) -> Result<Stopped> {
        let signalled = Instant::now();
        self.signal(Signal::Terminate)?;
        let wait = Wait::up_to(self.options.start_timeout).every(POLL);
        let exited = wait
            .until_some("the server exits", async || {
                self.child
                    .try_wait()
                    .map_err(|error| self.failure(&format!("cannot be waited for: {error}")))
            })
            .await;
        match exited {
            Ok(status) => Ok(Stopped {
                status,
                took: signalled.elapsed(),
            }),
            Err(Error::Timeout { .. }) => {
                let _ = self.kill();
                Err(self.failure("was still running long after SIGTERM"))
            }
            Err(other) => Err(other),
        }
    }

    /// Spawns the server again, once it has stopped, with the same options, data directory
    /// and address; returns before it answers.
    ///
    /// # Errors
    /// When it is still running, or cannot be spawned.
    pub fn respawn(&mut self) -> Result<()> {
        if let Ok(None) = self.child.try_wait() {
            return Err(self.failure("is still running: kill or terminate it first"));
        }
        self.child = launch(
            &self.options,
            &self.data_dir,
            self.addr,
            self.scratch.path(),
        )?;
        self.spawned = Instant::now();
        Ok(())
    }

    /// [`Server::respawn`], then waits until it answers.
    ///
    /// # Errors
    /// As [`Server::respawn`] and [`Server::wait_ready`].
    pub async fn restart(&mut self) -> Result<()> {
        self.respawn()?;
        self.wait_ready().await
    }

    fn stderr_path(&self) -> PathBuf {
        self.scratch.path().join("stderr.log")
    }

    fn failure(&self, what: &str) -> Error {
        let tail = options::tail(&self.stderr_path(), STDERR_TAIL_BYTES);
        Error::Server(format!(
            "on {} (pid {}) {what}; the end of its stderr:\n{tail}",
            self.addr,
            self.child.id(),
        ))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.kill();
        if std::thread::panicking() {
            let tail = options::tail(&self.stderr_path(), STDERR_TAIL_BYTES);
            // The test harness shows this with the failed test's output.
            eprintln!(
                "veloFlux server on {}, the end of its stderr:\n{tail}",
                self.addr
            );
        }
    }
}

/// Spawns the process of a server.
fn launch(
    options: &ServerOptions,
    data_dir: &Path,
    addr: SocketAddr,
    scratch: &Path,
) -> Result<Child> {
    let stderr = scratch.join("stderr.log");
    let mut command = options.command(data_dir, addr, scratch, &stderr)?;
    command
        .spawn()
        .map_err(|error| Error::Server(format!("cannot be spawned ({command:?}): {error}")))
}

#[cfg(test)]
mod tests;
