//! The error of the benchmark support code: a failed setup step, named by the layer it came
//! from, a criterion result that cannot be read back, a load-tool run the broker cut short, or
//! a server under test that did not start or answer.

use std::path::PathBuf;

/// What went wrong while preparing a benchmark or reading its results.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The stream schema or a codec could not be built.
    #[error(transparent)]
    Connectors(#[from] veloflux_connectors::Error),
    /// The benchmark query did not plan.
    #[error(transparent)]
    Planner(#[from] veloflux_planner::Error),
    /// A kernel failed on the benchmark batch.
    #[error(transparent)]
    Kernels(#[from] veloflux_kernels::Error),
    /// The whole chain failed on the benchmark payloads.
    #[error(transparent)]
    Engine(#[from] veloflux_engine::Error),
    /// The baseline or a criterion estimate file could not be read as JSON.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    /// The workload is not what the benches expect (a plan without a filter, a bad payload,
    /// the chain and the baseline disagreeing).
    #[error("the benchmark workload is not as expected: {0}")]
    Workload(String),
    /// A criterion result file is missing or unreadable.
    #[error("cannot read {path}: {source} (run `make bench` first)")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why it could not be read.
        source: std::io::Error,
    },
    /// A criterion result file does not hold the expected estimate.
    #[error("{path} has neither a slope nor a mean point estimate")]
    Estimate {
        /// The file.
        path: PathBuf,
    },
    /// The chart could not be drawn or written.
    #[error("cannot draw the chart: {0}")]
    Chart(String),
    /// The load tool was given a topic it cannot publish to or subscribe to.
    #[error("cannot use topic '{topic}': {reason}")]
    Topic {
        /// The topic or filter as given.
        topic: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The broker refused, dropped or never answered one of the load tool's connections.
    #[error("{action} failed: {message}")]
    Mqtt {
        /// What the tool was doing, naming the topic or client.
        action: String,
        /// The MQTT client's error.
        message: String,
    },
    /// The server under test could not be launched or reached, refused a request, or did not
    /// get ready in time; or a broker address is unusable.
    #[error(transparent)]
    Testkit(#[from] veloflux_testkit::Error),
    /// A pipeline of the server under test did not do what a bench step needs of it (connect,
    /// consume its warm-up, run).
    #[error("veloFlux server: {0}")]
    Server(String),
    /// A sink under test did not take what it was sent.
    #[error("{count} messages were not sent: {error}")]
    Unsent {
        /// How many.
        count: usize,
        /// The sink's reason.
        error: veloflux_connectors::Error,
    },
    /// A local server or file a bench needs could not be set up.
    #[error("{action}: {source}")]
    Setup {
        /// What the bench was doing.
        action: String,
        /// Why it failed.
        source: std::io::Error,
    },
    /// A file of `/proc` (a process's CPU time or memory) could not be read or parsed.
    #[error("cannot read {path}: {reason}")]
    Proc {
        /// The file.
        path: PathBuf,
        /// Why it could not be read or what it lacked.
        reason: String,
    },
}

impl Error {
    /// An [`Error::Mqtt`] for `action` that failed with `error`.
    pub fn mqtt(action: impl Into<String>, error: impl std::fmt::Display) -> Self {
        Self::Mqtt {
            action: action.into(),
            message: error.to_string(),
        }
    }
}

/// The result of a benchmark support function.
pub type Result<T, E = Error> = std::result::Result<T, E>;
