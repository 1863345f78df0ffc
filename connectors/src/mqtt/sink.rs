//! The MQTT sink: publishes messages, keeping its connection alive and reconnecting with
//! backoff in a task of its own.

use std::sync::Arc;

use rumqttc::{AsyncClient, EventLoop, QoS};
use tokio::task::JoinHandle;

use super::MqttConfig;
use crate::backoff::Backoff;
use crate::status::ConnectorStatus;
use crate::{Error, Result};

/// Messages the client may hold before `publish` waits: bounded, so a broker that is gone or
/// slow slows the pipeline down instead of filling memory.
const REQUEST_CAPACITY: usize = 1024;

/// A connection that publishes to one topic.
pub struct MqttSink {
    client: AsyncClient,
    topic: String,
    qos: QoS,
    retain: bool,
    status: Arc<ConnectorStatus>,
    connection: JoinHandle<()>,
}

impl MqttSink {
    /// Connects (in the background) for `config`.
    ///
    /// # Errors
    /// When the configuration is invalid.
    pub fn try_new(config: &MqttConfig, default_client_id: &str) -> Result<Self> {
        config.validate()?;
        let options = config.client_options(default_client_id)?;
        let (client, events) = AsyncClient::new(options, REQUEST_CAPACITY);
        let status = Arc::<ConnectorStatus>::default();
        let connection = tokio::spawn(drive(events, status.clone(), config.topic.clone()));
        Ok(Self {
            client,
            topic: config.topic.clone(),
            qos: config.quality_of_service()?,
            retain: config.retain,
            status,
            connection,
        })
    }

    /// The connection state.
    pub fn status(&self) -> Arc<ConnectorStatus> {
        self.status.clone()
    }

    /// Queues one message for publishing, waiting while the queue is full.
    ///
    /// # Errors
    /// When the connection task has ended.
    pub async fn publish(&self, payload: Vec<u8>) -> Result<()> {
        self.client
            .publish(&self.topic, self.qos, self.retain, payload)
            .await
            .map_err(|error| Error::External(format!("publishing to '{}': {error}", self.topic)))
    }
}

impl Drop for MqttSink {
    fn drop(&mut self) {
        self.connection.abort();
    }
}

/// Polls the connection forever: that is what sends queued messages and reconnects.
async fn drive(mut events: EventLoop, status: Arc<ConnectorStatus>, topic: String) {
    let mut backoff = Backoff::default();
    loop {
        match events.poll().await {
            Ok(rumqttc::Event::Incoming(rumqttc::Packet::ConnAck(_))) => {
                status.set_connected();
                backoff.reset();
            }
            Ok(_) => {}
            Err(error) => {
                tracing::warn!(%topic, %error, "MQTT sink lost its connection");
                status.set_disconnected(error.to_string());
                tokio::time::sleep(backoff.next_delay()).await;
            }
        }
    }
}
