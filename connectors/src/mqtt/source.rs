//! The MQTT source: subscribes, hands every payload to the pipeline, and reconnects and
//! resubscribes with backoff whenever the connection drops.
//!
//! At QoS 1 and 2 the session is persistent (clean session off, or in MQTT 5 clean start off
//! with a session that does not expire; the client id stable), so the broker keeps what is
//! published while the source is away, and messages are acknowledged by hand: only when the
//! pipeline has handled them (see [`crate::delivery`]). In MQTT 5 each message carries its
//! user properties, which SQL reads as `meta(<name>)`.

use std::sync::Arc;
use std::time::Duration;

use rumqttc::QoS;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::MqttConfig;
use super::client::{self, Client, Connection, Event, Receipt, Received, Session};
use super::pacing::ReadPacer;
use crate::Result;
use crate::backoff::Backoff;
use crate::delivery::{Ack, Delivery};
use crate::status::ConnectorStatus;

/// Requests (subscribe, acknowledgements, disconnect) the client may queue before they are
/// sent: room for the acknowledgements of a whole micro-batch.
const REQUEST_CAPACITY: usize = 16 * 1024;

/// How long a stopped source waits for its pipeline's last acknowledgements.
const LAST_ACKNOWLEDGEMENTS: Duration = Duration::from_secs(10);
/// How long the connection must be idle for the last acknowledgements to count as sent.
const QUIET: Duration = Duration::from_millis(50);

/// A subscription delivering payloads into a bounded channel.
pub struct MqttSource {
    client: Client,
    events: Connection,
    topic: String,
    qos: QoS,
    status: Arc<ConnectorStatus>,
    read_interval: Duration,
}

impl MqttSource {
    /// A source for `config`; connecting starts with [`Self::run`].
    ///
    /// # Errors
    /// When the configuration is invalid, or a TLS file cannot be read.
    pub fn try_new(config: &MqttConfig, default_client_id: &str) -> Result<Self> {
        let qos = config.quality_of_service()?;
        let settings = config.client_settings(default_client_id)?;
        let acknowledged_by_hand = qos != QoS::AtMostOnce;
        let session = Session {
            persistent: acknowledged_by_hand,
            manual_acks: acknowledged_by_hand,
        };
        let (client, events) = client::connect(&settings, session, REQUEST_CAPACITY);
        Ok(Self {
            client,
            events,
            topic: config.topic.clone(),
            qos,
            status: Arc::default(),
            read_interval: Duration::ZERO,
        })
    }

    /// Reads a busy QoS 0 connection at most once per `interval`: messages arriving within it
    /// are read together, for one wakeup, at the cost of up to `interval` of latency under
    /// load (`mqtt::pacing`). Zero (the default) reads whatever arrives at once, as do QoS 1
    /// and 2 subscriptions, whose broker waits for acknowledgements.
    #[must_use]
    pub fn with_read_interval(mut self, interval: Duration) -> Self {
        self.read_interval = interval;
        self
    }

    /// The connection state, updated while the source runs.
    pub fn status(&self) -> Arc<ConnectorStatus> {
        self.status.clone()
    }

    /// Receives until `shutdown` is cancelled or `output` closes, sending each message to
    /// `output`. A full channel stops reading from the broker: backpressure, not loss.
    pub async fn run(mut self, output: mpsc::Sender<Delivery>, shutdown: CancellationToken) {
        let mut backoff = Backoff::default();
        // At QoS 1 and 2 the broker sends only so many messages before they are acknowledged:
        // pausing would hold the acknowledgements back and stall that window.
        let interval = match self.qos {
            QoS::AtMostOnce => self.read_interval,
            QoS::AtLeastOnce | QoS::ExactlyOnce => Duration::ZERO,
        };
        let mut pacer = ReadPacer::new(interval);
        loop {
            let event = tokio::select! {
                () = shutdown.cancelled() => break,
                event = pacer.read(self.events.poll()) => event,
            };
            match event {
                Ok(Event::Connected { .. }) => {
                    self.status.set_connected();
                    backoff.reset();
                    // Even with a session present: subscribing again is harmless, and some
                    // brokers keep the session but not its subscriptions.
                    self.subscribe();
                }
                Ok(Event::Received(Received { delivery, receipt })) => {
                    let ack = receipt.map(|receipt| acknowledgement(self.client.clone(), receipt));
                    if output.send(delivery.acknowledged_by(ack)).await.is_err() {
                        break;
                    }
                }
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!(topic = %self.topic, %error, "MQTT source lost its connection");
                    self.status.set_disconnected(error.to_string());
                    tokio::select! {
                        () = shutdown.cancelled() => break,
                        () = tokio::time::sleep(backoff.next_delay()) => {}
                    }
                }
            }
        }
        self.send_last_acknowledgements(&output).await;
        self.client.disconnect();
    }

    /// After a stop, keeps the connection until the pipeline has finished with what it
    /// received, so that its acknowledgements reach the broker. Messages arriving meanwhile
    /// are not taken, nor acknowledged: the broker delivers them again.
    async fn send_last_acknowledgements(&mut self, output: &mpsc::Sender<Delivery>) {
        if self.qos == QoS::AtMostOnce {
            return;
        }
        let events = &mut self.events;
        let _ = tokio::time::timeout(LAST_ACKNOWLEDGEMENTS, async {
            loop {
                tokio::select! {
                    () = output.closed() => break,
                    event = events.poll() => if event.is_err() { return },
                }
            }
            // The pipeline queued its last acknowledgements as it let go: send them.
            while let Ok(Ok(_)) = tokio::time::timeout(QUIET, events.poll()).await {}
        })
        .await;
    }

    fn subscribe(&self) {
        if let Err(error) = self.client.subscribe(&self.topic, self.qos) {
            self.status.set_disconnected(error.to_string());
        }
    }
}

/// The acknowledgement of the message `receipt` is for, sent on `client` once the pipeline
/// has handled it.
fn acknowledgement(client: Client, receipt: Receipt) -> Ack {
    Ack::new(move || client.acknowledge(receipt))
}
