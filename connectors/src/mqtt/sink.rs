//! The MQTT sink: publishes messages, keeping its connection alive and reconnecting with
//! backoff in a task of its own. At QoS 0 over plain TCP in MQTT 3.1.1 each micro-batch is
//! written whole (see [`super::publisher`]); otherwise the general client of the configured
//! protocol version publishes message by message, and at QoS 1 and 2 the sink counts what the
//! broker settled, so the pipeline can wait until everything it published is safe.

use std::sync::Arc;

use rumqttc::{QoS, Transport};
use tokio::task::JoinHandle;

use super::MqttConfig;
use super::client::{self, Client, Connection, Event, Protocol, Session};
use super::publisher::Publisher;
use crate::backoff::Backoff;
use crate::connector::Unsent;
use crate::progress::Progress;
use crate::status::ConnectorStatus;
use crate::{Error, Result};

/// Messages the client may hold before `publish` waits: bounded, so a broker that is gone or
/// slow slows the pipeline down instead of filling memory.
const REQUEST_CAPACITY: usize = 1024;

/// A connection that publishes to one topic, or to the one given with each batch.
pub struct MqttSink {
    link: Link,
    status: Arc<ConnectorStatus>,
    progress: Arc<Progress>,
}

/// How messages reach the broker.
enum Link {
    /// QoS 0 over plain TCP in MQTT 3.1.1: each micro-batch is written whole.
    Batched(Publisher),
    /// Everything else (QoS 1 and 2, TLS, MQTT 5): the general client, one message at a time.
    Client(ClientLink),
}

/// The general client, in either protocol version.
struct ClientLink {
    client: Client,
    topic: String,
    qos: QoS,
    retain: bool,
    connection: JoinHandle<()>,
}

impl MqttSink {
    /// Connects (in the background) for `config`.
    ///
    /// # Errors
    /// When the configuration is invalid, or a TLS file cannot be read.
    pub fn try_new(config: &MqttConfig, default_client_id: &str) -> Result<Self> {
        let qos = config.quality_of_service()?;
        let settings = config.client_settings(default_client_id)?;
        let status = Arc::<ConnectorStatus>::default();
        let progress = Arc::<Progress>::default();
        let batched = qos == QoS::AtMostOnce
            && settings.protocol == Protocol::V4
            && matches!(settings.transport, Transport::Tcp);
        if batched {
            let publisher =
                Publisher::start(&settings, &config.topic, config.retain, status.clone());
            return Ok(Self {
                link: Link::Batched(publisher),
                status,
                progress,
            });
        }
        // A persistent session makes the client publish again, after a reconnection, what
        // the broker had not acknowledged.
        let session = Session {
            persistent: qos != QoS::AtMostOnce,
            manual_acks: false,
        };
        let (client, connection) = client::connect(&settings, session, REQUEST_CAPACITY);
        let connection = tokio::spawn(drive(
            connection,
            status.clone(),
            progress.clone(),
            config.topic.clone(),
        ));
        Ok(Self {
            link: Link::Client(ClientLink {
                client,
                topic: config.topic.clone(),
                qos,
                retain: config.retain,
                connection,
            }),
            status,
            progress,
        })
    }

    /// The connection state.
    pub fn status(&self) -> Arc<ConnectorStatus> {
        self.status.clone()
    }

    /// Queues `messages` for publishing to `topic` (the configured one when `None`), in
    /// order, waiting while the queue is full.
    ///
    /// # Errors
    /// The messages that could not be queued because the connection task has ended, or the
    /// topic is not one to publish to.
    pub async fn publish_all<'a>(
        &self,
        topic: Option<&str>,
        messages: impl ExactSizeIterator<Item = &'a [u8]>,
    ) -> std::result::Result<(), Unsent> {
        if let Some(topic) = topic
            && let Err(error) = check_rendered_topic(topic)
        {
            let count = messages.len();
            return Err(Unsent { count, error });
        }
        match &self.link {
            Link::Batched(publisher) => {
                let count = messages.len();
                publisher
                    .publish_all(topic, messages)
                    .await
                    .map_err(|error| Unsent { count, error })
            }
            Link::Client(link) => {
                let mut unpublished: Option<Unsent> = None;
                for payload in messages {
                    match link.publish(topic, payload).await {
                        Ok(()) if link.qos != QoS::AtMostOnce => self.progress.publish_one(),
                        Ok(()) => {}
                        Err(error) => {
                            let count = unpublished.map_or(0, |u| u.count) + 1;
                            unpublished = Some(Unsent { count, error });
                        }
                    }
                }
                unpublished.map_or(Ok(()), Err)
            }
        }
    }

    /// What it published at QoS 1 or 2 and what the broker settled of it: acknowledged, or
    /// lost (refused by an MQTT 5 broker, or dropped with a session the broker lost). At
    /// QoS 0 nothing is counted, so everything is safe at once.
    pub fn progress(&self) -> &Progress {
        &self.progress
    }
}

impl ClientLink {
    async fn publish(&self, topic: Option<&str>, payload: &[u8]) -> Result<()> {
        let topic = topic.unwrap_or(&self.topic);
        self.client
            .publish(topic, self.qos, self.retain, payload)
            .await
    }
}

/// A topic rendered from a row must be one a message can be published to.
fn check_rendered_topic(topic: &str) -> Result<()> {
    if topic.is_empty() || topic.contains(['+', '#', '\0']) {
        return Err(Error::Config(format!(
            "the rendered topic '{topic}' is empty or holds a wildcard ('+', '#')"
        )));
    }
    Ok(())
}

impl Drop for ClientLink {
    fn drop(&mut self) {
        self.connection.abort();
    }
}

/// Why messages published at QoS 1 or 2 are lost when a broker forgets its session.
const SESSION_LOST: &str = "the broker lost its session before acknowledging these messages";

/// Polls the connection forever: that is what sends queued messages and reconnects.
async fn drive(
    mut connection: Connection,
    status: Arc<ConnectorStatus>,
    progress: Arc<Progress>,
    topic: String,
) {
    let mut backoff = Backoff::default();
    loop {
        match connection.poll().await {
            Ok(Event::Connected { session_present }) => {
                status.set_connected();
                backoff.reset();
                if !session_present {
                    // The broker has no session for the client, which then drops what was
                    // not acknowledged: counted as lost instead of waited for forever.
                    let lost = progress.lose_unconfirmed(SESSION_LOST);
                    if lost > 0 {
                        tracing::warn!(%topic, lost, "{SESSION_LOST}");
                    }
                }
            }
            Ok(Event::Acknowledged) => progress.confirm_one(),
            Ok(Event::Refused(reason)) => {
                tracing::warn!(%topic, %reason, "the broker refused a message");
                progress.lose_one(format!("the broker refused a message: {reason}"));
            }
            Ok(Event::Received(_) | Event::Other) => {}
            Err(error) => {
                tracing::warn!(%topic, %error, "MQTT sink lost its connection");
                status.set_disconnected(error.to_string());
                tokio::time::sleep(backoff.next_delay()).await;
            }
        }
    }
}
