//! The test kit's error: what went wrong while launching a server, talking to it, starting a
//! broker or waiting for a condition, named by whose fault it is.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// What went wrong in the test kit.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or directory could not be created, read or written (external).
    #[error("cannot {action} {path}: {source}")]
    Io {
        /// What was being done: `create`, `read`, ...
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// Why it failed.
        source: std::io::Error,
    },
    /// The server could not be spawned, exited, or did not answer; the message ends with the
    /// last lines it wrote to stderr.
    #[error("veloFlux server {0}")]
    Server(String),
    /// A REST request failed, or was answered with an error status (external).
    #[error("{request} failed: {message}")]
    Api {
        /// The method and path, e.g. `POST /pipelines`.
        request: String,
        /// The transport error, or the status and body of the answer.
        message: String,
    },
    /// A broker URL that is not `tcp://host:port` or `mqtt://host:port` (the caller's).
    #[error("cannot use broker URL '{url}': {reason}")]
    BrokerUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The in-process broker did not start (external: the port is taken, a thread could not
    /// be spawned).
    #[error("in-process MQTT broker on {addr}: {message}")]
    Broker {
        /// Where it was to listen.
        addr: SocketAddr,
        /// Why it does not.
        message: String,
    },
    /// A process could not be signalled (external).
    #[error("cannot send {signal} to process {pid}: {source}")]
    Signal {
        /// The signal's name, e.g. `SIGTERM`.
        signal: &'static str,
        /// The process id.
        pid: u32,
        /// Why the signal was not delivered.
        source: std::io::Error,
    },
    /// A condition did not hold before its deadline.
    #[error("timed out after {after:?} waiting until {what}")]
    Timeout {
        /// The condition, as a clause: `the server answers /healthz`.
        what: String,
        /// How long was waited.
        after: Duration,
    },
}

impl Error {
    /// An [`Error::Io`] for `action` on `path`.
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            action,
            path: path.into(),
            source,
        }
    }
}

/// The result of a test-kit function.
pub type Result<T, E = Error> = std::result::Result<T, E>;
