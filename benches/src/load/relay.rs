//! `mqtt-load relay`: a bare client pair that copies every message from one topic to another,
//! unchanged and at the QoS it arrived with. A load run through it measures what the broker
//! and the MQTT clients allow on this machine, the ceiling for any pipeline in between.

use std::future::Future;

use rumqttc::{AsyncClient, Event, EventLoop, Outgoing, Packet, QoS};
use tokio::task::JoinHandle;
use veloflux_testkit::BrokerAddress;

use super::broker;
use crate::{Error, Result};

/// Where the relay reads and writes.
#[derive(Debug, Clone)]
pub struct RelayConfig {
    /// The broker both clients connect to.
    pub broker: BrokerAddress,
    /// The topic copied from.
    pub input: String,
    /// The topic copied to.
    pub output: String,
    /// The highest QoS the relay subscribes with; each message is republished with the QoS
    /// it was delivered with.
    pub qos: QoS,
}

/// A connected, subscribed relay, ready to [`Relay::run`].
pub struct Relay {
    config: RelayConfig,
    subscriber: AsyncClient,
    incoming: EventLoop,
    publisher: AsyncClient,
    publishing: JoinHandle<Result<()>>,
}

impl Relay {
    /// Connects the publishing client, then the subscribing one, and subscribes to the input.
    ///
    /// # Errors
    /// When a topic is invalid, either client cannot connect or the broker refuses the
    /// subscription.
    pub async fn start(config: RelayConfig) -> Result<Self> {
        broker::check_topics(&config.output, &config.input)?;
        let (publisher, outgoing) = broker::connect(&config.broker, "relay-publish").await?;
        let publishing = tokio::spawn(drive(outgoing));
        let (subscriber, mut incoming) = broker::connect(&config.broker, "relay-subscribe").await?;
        broker::subscribe(&subscriber, &mut incoming, &config.input, config.qos).await?;
        Ok(Self {
            config,
            subscriber,
            incoming,
            publisher,
            publishing,
        })
    }

    /// Copies messages until `shutdown` completes, then disconnects both clients; returns how
    /// many messages were relayed.
    ///
    /// # Errors
    /// When either connection drops.
    pub async fn run(mut self, shutdown: impl Future<Output = ()>) -> Result<u64> {
        let forwarded = self.forward(shutdown).await;
        broker::disconnect(&self.subscriber, &mut self.incoming).await;
        // Queued after every republished message, so those are written before it.
        let _ = self.publisher.disconnect().await;
        let published = self
            .publishing
            .await
            .map_err(|error| Error::mqtt("running the relay publisher task", error))?;
        // A failed republish means the publisher's loop stopped: its error says why.
        published.and(forwarded)
    }

    async fn forward(&mut self, shutdown: impl Future<Output = ()>) -> Result<u64> {
        let mut shutdown = std::pin::pin!(shutdown);
        let mut relayed = 0;
        loop {
            let event = tokio::select! {
                () = &mut shutdown => return Ok(relayed),
                event = self.incoming.poll() => event,
            };
            match event {
                Ok(Event::Incoming(Packet::Publish(publish))) => {
                    let output = self.config.output.as_str();
                    self.publisher
                        .publish_bytes(output, publish.qos, false, publish.payload)
                        .await
                        .map_err(|error| Error::mqtt(format!("publishing to '{output}'"), error))?;
                    relayed += 1;
                }
                Ok(_) => {}
                Err(error) => {
                    let action = format!("receiving from '{}'", self.config.input);
                    return Err(Error::mqtt(action, error));
                }
            }
        }
    }
}

/// Polls the publishing client's event loop until it has written its DISCONNECT.
async fn drive(mut events: EventLoop) -> Result<()> {
    loop {
        match events.poll().await {
            Ok(Event::Outgoing(Outgoing::Disconnect)) => return Ok(()),
            Ok(_) => {}
            Err(error) => return Err(Error::mqtt("republishing", error)),
        }
    }
}
