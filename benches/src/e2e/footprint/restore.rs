//! Restore at start: a server holding running pipelines is stopped with SIGTERM and started
//! again over the same data directory, and timed from the spawn until `GET /pipelines` lists
//! them all as running again.

use std::path::Path;
use std::time::Duration;

use crate::Result;
use crate::e2e::footprint::pipelines;
use crate::e2e::server::{Server, ServerOptions};

/// How long the restored pipelines may take to all run.
const RESTORE_TIMEOUT: Duration = Duration::from_secs(120);

/// How a restart went.
#[derive(Debug)]
pub struct Restored {
    /// The restarted server.
    pub server: Server,
    /// From SIGTERM to the old process's exit.
    pub shutdown: Duration,
    /// From the spawn until `/healthz` answered.
    pub ready: Duration,
    /// From the spawn until every pipeline was listed as running.
    pub all_running: Duration,
}

/// Stops `server` with SIGTERM and starts it again over `data_dir`, waiting for `count`
/// running pipelines.
///
/// # Errors
/// When the server does not stop or start, or the pipelines do not all run in time.
pub async fn restart(
    server: Server,
    options: &ServerOptions,
    data_dir: &Path,
    log: &Path,
    count: usize,
) -> Result<Restored> {
    let shutdown = server.terminate().await?;
    let mut server = Server::spawn(options, data_dir, log)?;
    let api = server.api()?;
    server.wait_ready(&api).await?;
    let ready = server.spawned().elapsed();
    let running = pipelines::wait_all_running(&api, count, RESTORE_TIMEOUT).await?;
    let all_running = running - server.spawned();
    Ok(Restored {
        server,
        shutdown,
        ready,
        all_running,
    })
}
