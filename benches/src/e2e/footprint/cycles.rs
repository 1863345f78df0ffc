//! Create/delete cycles: one pipeline created, started and deleted over and over on a shared
//! stream, with the server's resident set sampled at checkpoints. Anything a pipeline leaves
//! behind when it goes (a task, a subscription slot, a metrics series) shows as growth.

use veloflux_testkit::Api;

use crate::Result;
use crate::e2e::footprint::{Figure, pipelines, settled_rss};
use crate::e2e::specs;

/// The id of the cycled pipeline.
pub const CYCLED: &str = "cycled";

/// Runs `cycles` create/start/delete cycles, sampling the resident set before the first and
/// after every `cycles / checkpoints` of them.
///
/// # Errors
/// When a request is refused or the server's memory cannot be read.
pub async fn run(api: &Api, pid: u32, cycles: usize, checkpoints: usize) -> Result<Vec<Figure>> {
    let every = (cycles / checkpoints.max(1)).max(1);
    let mut figures = vec![Figure::rss(
        "RSS after 0 create/delete cycles",
        settled_rss(pid).await?,
    )];
    let spec = specs::pipeline(CYCLED, &pipelines::sql(0), specs::nop_sink(), None);
    for done in 1..=cycles {
        api.create_pipeline(&spec).await?;
        api.start_pipeline(CYCLED).await?;
        api.delete_pipeline(CYCLED).await?;
        if done % every == 0 || done == cycles {
            let name = format!("RSS after {done} create/delete cycles");
            figures.push(Figure::rss(name, settled_rss(pid).await?));
        }
    }
    Ok(figures)
}
