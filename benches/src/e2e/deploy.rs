//! Putting a workload on a server: unique topics and client ids, the stream and the pipeline
//! created and started over REST, and a warm-up that returns only once the pipeline has
//! been seen to consume input and gone quiet, so that a measured run starts on a live
//! subscription and its output holds nothing from before.

use std::time::Duration;

use rumqttc::QoS;
use tokio::time::Instant;
use veloflux_testkit::api::{all_connected, stage_counter};
use veloflux_testkit::{Api, BrokerAddress, Wait, unique_name, unique_topic};

use super::specs::{self, Batching, Endpoint};
use super::workloads::{Kind, Workload};
use crate::load::run::{self, RunConfig};
use crate::{Error, Result};

/// The id of the measured pipeline.
pub const PIPELINE: &str = "bench";

/// Messages of one warm-up round.
const WARM_UP_MESSAGES: u64 = 100;

/// Warm-up rounds before giving up on a pipeline that consumes nothing.
const WARM_UP_ROUNDS: usize = 5;

/// How long a pipeline may take to connect, or to show the warm-up in its counters.
const DEADLINE: Duration = Duration::from_secs(10);

/// How often a pipeline's status is polled.
const POLL: Duration = Duration::from_millis(50);

/// The input and output topics of one run, and the prefix of its client ids: unique per
/// process and run ([`unique_topic`], [`unique_name`]), so that nothing else on the broker
/// mixes in.
#[derive(Debug, Clone)]
pub struct Topics {
    /// Where the load tool publishes.
    pub input: String,
    /// Where the output appears.
    pub output: String,
    /// Whether the load tool publishes each message to its device's topic under `input`
    /// ([`run::device_topic`]) rather than to `input` itself.
    pub device_topics: bool,
    prefix: String,
}

impl Topics {
    /// The topics of the run named `run`.
    pub fn new(run: &str) -> Self {
        let topic = unique_topic(&format!("bench-e2e/{run}"));
        Self {
            input: format!("{topic}/in"),
            output: format!("{topic}/out"),
            device_topics: false,
            prefix: unique_name(&format!("bench-e2e-{run}")),
        }
    }

    /// The same topics, published to per device when `device_topics` is true.
    pub fn with_device_topics(mut self, device_topics: bool) -> Self {
        self.device_topics = device_topics;
        self
    }

    /// What the pipeline's source (or the relay) subscribes to: the input topic, or the
    /// filter matching every device's topic under it.
    pub fn source_filter(&self) -> String {
        if self.device_topics {
            run::device_filter(&self.input)
        } else {
            self.input.clone()
        }
    }

    /// The MQTT client id of the server's connection in `role` (`source`, `sink`).
    pub fn client_id(&self, role: &str) -> String {
        format!("{}-{role}", self.prefix)
    }
}

/// A load-tool run of `messages` at `rate` (0: unthrottled) through `topics`.
pub fn run_config(
    broker: &BrokerAddress,
    workload: Workload,
    topics: &Topics,
    messages: u64,
    rate: u64,
    drain: Duration,
) -> RunConfig {
    RunConfig {
        broker: broker.clone(),
        input: topics.input.clone(),
        output: topics.output.clone(),
        messages,
        rate,
        qos: qos(workload.qos),
        expect_ratio: workload.expect_ratio().unwrap_or(0.0),
        devices: workload.devices(),
        drain,
        device_topics: topics.device_topics,
    }
}

/// The body of the pipeline that runs `workload` from `topics.input` to `topics.output`.
///
/// # Errors
/// When `workload` is the relay, which has no pipeline.
pub fn pipeline_spec(
    broker: &BrokerAddress,
    workload: Workload,
    topics: &Topics,
    batching: Option<Batching>,
) -> Result<serde_json::Value> {
    let sql = workload
        .sql()
        .ok_or_else(|| Error::Workload(format!("{} runs no pipeline", workload.name())))?;
    let sink_id = topics.client_id("sink");
    let sink = specs::mqtt_sink(&Endpoint {
        broker,
        topic: &topics.output,
        qos: workload.qos,
        client_id: &sink_id,
    });
    Ok(specs::pipeline(PIPELINE, sql, sink, batching))
}

/// Creates the stream and the pipeline of `workload`, starts it, and warms it up.
///
/// # Errors
/// When a request is refused, or the pipeline does not connect or consume in time.
pub async fn deploy(
    api: &Api,
    broker: &BrokerAddress,
    workload: Workload,
    topics: &Topics,
    batching: Option<Batching>,
) -> Result<()> {
    let source_id = topics.client_id("source");
    let filter = topics.source_filter();
    let source = Endpoint {
        broker,
        topic: &filter,
        qos: workload.qos,
        client_id: &source_id,
    };
    api.create_stream(&specs::stream(&source, false)).await?;
    let pipeline = pipeline_spec(broker, workload, topics, batching)?;
    api.create_pipeline(&pipeline).await?;
    api.start_pipeline(PIPELINE).await?;
    warm_up(api, broker, workload, topics).await
}

/// Waits until the pipeline is connected, then publishes warm-up rounds until its source has
/// counted input and its sink has been quiet for a while (longer than a window for W2, whose
/// warm-up rows come out only when the window closes).
///
/// # Errors
/// When the pipeline does not connect, or consumes nothing after [`WARM_UP_ROUNDS`] rounds.
pub async fn warm_up(
    api: &Api,
    broker: &BrokerAddress,
    workload: Workload,
    topics: &Topics,
) -> Result<()> {
    wait_connected(api).await?;
    let config = run_config(
        broker,
        workload,
        topics,
        WARM_UP_MESSAGES,
        0,
        Duration::from_millis(200),
    );
    let settle = match workload.kind {
        Kind::Window => Duration::from_millis(1500),
        Kind::Relay | Kind::Filter | Kind::FilterMeta => Duration::from_millis(300),
    };
    for _ in 0..WARM_UP_ROUNDS {
        run::run(&config).await?;
        if settled(api, settle).await? {
            return Ok(());
        }
    }
    Err(Error::Server(format!(
        "pipeline '{PIPELINE}' consumed none of {WARM_UP_ROUNDS} warm-up rounds on '{}'",
        topics.input
    )))
}

/// The rows the pipeline's source has counted so far.
///
/// # Errors
/// When the status cannot be read.
pub async fn source_rows(api: &Api) -> Result<u64> {
    let status = api.status(PIPELINE).await?;
    Ok(stage_counter(&status, Some("source"), "records_in").unwrap_or(0))
}

async fn wait_connected(api: &Api) -> Result<()> {
    let mut last = serde_json::Value::Null;
    let connected = Wait::up_to(DEADLINE)
        .every(POLL)
        .until_some("the pipeline connects", async || {
            last = api.status(PIPELINE).await?;
            Ok::<_, Error>(all_connected(&last).then_some(()))
        })
        .await;
    connected.map_err(|error| match error {
        Error::Testkit(veloflux_testkit::Error::Timeout { .. }) => Error::Server(format!(
            "pipeline '{PIPELINE}' did not connect in time: {last}"
        )),
        other => other,
    })
}

/// Whether the source has counted input and the sink's count stayed the same for `quiet`;
/// false when the source counted nothing by the deadline.
async fn settled(api: &Api, quiet: Duration) -> Result<bool> {
    let deadline = Instant::now() + DEADLINE;
    let mut last = (0, 0);
    let mut since = Instant::now();
    while Instant::now() < deadline {
        let status = api.status(PIPELINE).await?;
        let source = stage_counter(&status, Some("source"), "records_in").unwrap_or(0);
        let sink = stage_counter(&status, None, "records_in").unwrap_or(0);
        if (source, sink) != last {
            last = (source, sink);
            since = Instant::now();
        } else if source > 0 && since.elapsed() >= quiet {
            return Ok(true);
        }
        tokio::time::sleep(POLL).await;
    }
    Ok(false)
}

fn qos(level: u8) -> QoS {
    match level {
        0 => QoS::AtMostOnce,
        1 => QoS::AtLeastOnce,
        _ => QoS::ExactlyOnce,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn with_device_topics_the_source_subscribes_to_every_device_under_the_input() {
        let topics = Topics::new("w1m-q0");
        assert_eq!(topics.source_filter(), topics.input);
        let topics = topics.with_device_topics(true);
        assert_eq!(topics.source_filter(), format!("{}/+/data", topics.input));
        assert!(rumqttc::matches(
            &run::device_topic(&topics.input, 7),
            &topics.source_filter()
        ));
    }
}
