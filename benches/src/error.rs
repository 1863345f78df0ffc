//! The error of the benchmark support code: a failed setup step, named by the layer it came
//! from, or a criterion result that cannot be read back.

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
    Runtime(#[from] veloflux::Error),
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
}

/// The result of a benchmark support function.
pub type Result<T, E = Error> = std::result::Result<T, E>;
