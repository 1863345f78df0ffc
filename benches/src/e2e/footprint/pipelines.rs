//! Pipelines on one shared stream: each `SELECT ... WHERE ...` into a `nop` sink, created and
//! started over REST, so that only what a pipeline costs is measured: at rest here, under a
//! steady load in the many-pipelines bench (`bench-e2e --pipelines`).

use std::time::Duration;

use tokio::time::Instant;
use veloflux_testkit::{Api, BrokerAddress, Wait};

use crate::e2e::deploy::Topics;
use crate::e2e::specs::{self, Endpoint};
use crate::{Error, Result};

/// How often the pipeline list is polled while waiting for pipelines to run.
const POLL: Duration = Duration::from_millis(10);

/// The id of idle pipeline number `index`.
pub fn id(index: usize) -> String {
    format!("idle-{index:05}")
}

/// The SQL of pipeline number `index`: a filter and a projection, each of the first 1000
/// pipelines with a threshold of its own (-50.0, -49.9, ... 49.9, over scores from -49.5 to
/// 49.5: each keeps a share of the messages between none and all).
pub fn sql(index: usize) -> String {
    let threshold = (index % 1000) as f64 / 10.0 - 50.0;
    format!(
        "SELECT user_id, score FROM {} WHERE score > {threshold:.1}",
        specs::STREAM
    )
}

/// Creates the shared MQTT stream all idle pipelines read, on `topics.input`.
///
/// # Errors
/// When the request is refused.
pub async fn create_stream(api: &Api, broker: &BrokerAddress, topics: &Topics) -> Result<()> {
    let client_id = topics.client_id("shared");
    let source = Endpoint {
        broker,
        topic: &topics.input,
        qos: 0,
        client_id: &client_id,
    };
    api.create_stream(&specs::stream(&source, true)).await?;
    Ok(())
}

/// Creates and starts idle pipelines `range`.
///
/// # Errors
/// When a request is refused.
pub async fn create_and_start(api: &Api, range: std::ops::Range<usize>) -> Result<()> {
    for index in range {
        let id = id(index);
        let spec = specs::pipeline(&id, &sql(index), specs::nop_sink(), None);
        api.create_pipeline(&spec).await?;
        api.start_pipeline(&id).await?;
    }
    Ok(())
}

/// Waits until `GET /pipelines` lists `count` pipelines, all running; returns when that was.
///
/// # Errors
/// When a request fails, or `timeout` passes first.
pub async fn wait_all_running(api: &Api, count: usize, timeout: Duration) -> Result<Instant> {
    let mut running = 0;
    let all = Wait::up_to(timeout)
        .every(POLL)
        .until_some("every pipeline runs", async || {
            let listed = api.list_pipelines().await.unwrap_or_default();
            running = listed
                .iter()
                .filter(|pipeline| pipeline.status == "running")
                .count();
            Ok::<_, Error>((running >= count).then(Instant::now))
        })
        .await;
    all.map_err(|error| match error {
        Error::Testkit(veloflux_testkit::Error::Timeout { .. }) => Error::Server(format!(
            "{running} of {count} pipelines running after {timeout:?}"
        )),
        other => other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_sort_in_creation_order_and_sql_varies() {
        assert_eq!(id(7), "idle-00007");
        assert!(id(999) < id(1000));
        assert_eq!(sql(51), "SELECT user_id, score FROM s WHERE score > -44.9");
        assert!(sql(0).ends_with("> -50.0") && sql(999).ends_with("> 49.9"));
        let distinct: std::collections::BTreeSet<String> = (0..1000).map(sql).collect();
        assert_eq!(distinct.len(), 1000);
    }
}
