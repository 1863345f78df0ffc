//! Restore at start: a server holding running pipelines is stopped with SIGTERM and started
//! again over the same data directory, and timed from the spawn until `GET /pipelines` lists
//! them all as running again.

use std::time::Duration;

use veloflux_testkit::Server;

use crate::Result;
use crate::e2e::footprint::pipelines;

/// How long the restored pipelines may take to all run.
const RESTORE_TIMEOUT: Duration = Duration::from_secs(120);

/// How a restart went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Restored {
    /// From SIGTERM to the old process's exit.
    pub shutdown: Duration,
    /// From the spawn until `/healthz` answered.
    pub ready: Duration,
    /// From the spawn until every pipeline was listed as running.
    pub all_running: Duration,
}

/// Stops `server` with SIGTERM and starts it again over the same data directory, waiting
/// for `count` running pipelines.
///
/// # Errors
/// When the server does not stop or start, or the pipelines do not all run in time.
pub async fn restart(server: &mut Server, count: usize) -> Result<Restored> {
    let shutdown = server.terminate().await?.took;
    server.respawn()?;
    server.wait_ready().await?;
    let ready = server.spawned().elapsed();
    let running = pipelines::wait_all_running(server.api(), count, RESTORE_TIMEOUT).await?;
    let all_running = running - server.spawned();
    Ok(Restored {
        shutdown,
        ready,
        all_running,
    })
}
