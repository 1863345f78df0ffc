//! The relay ceiling: the load tool's [`Relay`] run in this process between the input and the
//! output topic while a load run goes through it, so that the same broker and clients that
//! carry a pipeline's traffic are measured without a pipeline.

use rumqttc::QoS;
use tokio::sync::oneshot;
use veloflux_testkit::BrokerAddress;

use super::deploy::Topics;
use crate::load::relay::{Relay, RelayConfig};
use crate::load::report::Report;
use crate::load::run::{self, RunConfig};
use crate::{Error, Result};

/// A relay copying `topics.input` to `topics.output` until dropped or [`Running::stop`]ped.
pub struct Running {
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<u64>>,
}

impl Running {
    /// Connects and subscribes the relay, then runs it in a task of its own.
    ///
    /// # Errors
    /// When either client cannot connect or subscribe.
    pub async fn start(broker: &BrokerAddress, topics: &Topics, qos: QoS) -> Result<Self> {
        let relay = Relay::start(RelayConfig {
            broker: broker.clone(),
            input: topics.source_filter(),
            output: topics.output.clone(),
            qos,
        })
        .await?;
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(relay.run(async {
            let _ = stopped.await;
        }));
        Ok(Self { stop, task })
    }

    /// Stops the relay and returns how many messages it copied.
    ///
    /// # Errors
    /// When a connection dropped while it ran.
    pub async fn stop(self) -> Result<u64> {
        let _ = self.stop.send(());
        self.task
            .await
            .map_err(|error| Error::mqtt("running the relay task", error))?
    }
}

/// Runs `config` through a relay between its topics.
///
/// # Errors
/// When the relay or the run fails.
pub async fn run_through(config: &RunConfig, topics: &Topics) -> Result<Report> {
    let relay = Running::start(&config.broker, topics, config.qos).await?;
    let report = run::run(config).await;
    let relayed = relay.stop().await;
    let report = report?;
    relayed?;
    Ok(report)
}
