//! CPU profiling: `GET /debug/pprof/profile?seconds=N[&format=flamegraph]` samples every
//! thread for N seconds and answers with a pprof protobuf (what `go tool pprof` and `pprof`
//! read) or an SVG flame graph.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use pprof::protos::Message;

/// Samples per second: a prime, so sampling does not beat in step with periodic work.
const FREQUENCY: i32 = 99;
/// The longest profile accepted.
pub const MAX_SECONDS: u64 = 60;

/// What a profile is returned as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfileFormat {
    /// A gzip-less pprof protobuf (`application/octet-stream`).
    Pprof,
    /// An SVG flame graph.
    Flamegraph,
}

/// Why no profile was taken.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// Another profile is being taken: the sampler is process-wide.
    #[error("a profile is already being taken; try again when it is done")]
    Busy,
    /// The sampler failed.
    #[error("profiling failed: {0}")]
    Failed(String),
}

/// Only one profile at a time: the sampler is a process-wide signal handler.
static PROFILING: AtomicBool = AtomicBool::new(false);

/// Clears [`PROFILING`] however the profile ends.
struct Running;

impl Drop for Running {
    fn drop(&mut self) {
        PROFILING.store(false, Ordering::Release);
    }
}

/// Samples the process for `seconds` (capped at [`MAX_SECONDS`]) and returns the content type
/// and bytes of the profile.
///
/// # Errors
/// [`ProfileError::Busy`] while another profile runs; [`ProfileError::Failed`] when the
/// sampler cannot start or report.
pub async fn profile(
    seconds: u64,
    format: ProfileFormat,
) -> Result<(&'static str, Vec<u8>), ProfileError> {
    if PROFILING.swap(true, Ordering::AcqRel) {
        return Err(ProfileError::Busy);
    }
    let running = Running;
    let duration = Duration::from_secs(seconds.clamp(1, MAX_SECONDS));
    // The sampler's guard is not Send: it lives on a blocking thread for the whole profile.
    let profiled = tokio::task::spawn_blocking(move || sample(duration, format)).await;
    drop(running);
    profiled.map_err(|error| ProfileError::Failed(error.to_string()))?
}

fn sample(
    duration: Duration,
    format: ProfileFormat,
) -> Result<(&'static str, Vec<u8>), ProfileError> {
    let failed = |error: pprof::Error| ProfileError::Failed(error.to_string());
    let guard = pprof::ProfilerGuardBuilder::default()
        .frequency(FREQUENCY)
        .blocklist(&["libc", "libgcc", "pthread", "vdso"])
        .build()
        .map_err(failed)?;
    std::thread::sleep(duration);
    let report = guard.report().build().map_err(failed)?;
    let mut body = Vec::new();
    match format {
        ProfileFormat::Pprof => {
            let profile = report.pprof().map_err(failed)?;
            profile
                .encode(&mut body)
                .map_err(|error| ProfileError::Failed(error.to_string()))?;
            Ok(("application/octet-stream", body))
        }
        ProfileFormat::Flamegraph => {
            report.flamegraph(&mut body).map_err(failed)?;
            if body.is_empty() {
                body = idle_svg(duration).into_bytes();
            }
            Ok(("image/svg+xml", body))
        }
    }
}

/// The flame graph of a process that did not run once in `duration`: there is nothing to draw.
fn idle_svg(duration: Duration) -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"600\" height=\"40\">\
         <text x=\"10\" y=\"25\">No samples in {} s: the process was idle.</text></svg>",
        duration.as_secs()
    )
}
