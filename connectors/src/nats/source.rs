//! The NATS source: subscribes to a subject (in a queue group if configured) and hands every
//! message to the pipeline with its subject as `meta(topic)`, or consumes a JetStream durable
//! consumer (`super::consumer`). Core NATS delivers at most once: nothing is acknowledged.

use std::sync::Arc;
use std::time::Duration;

use async_nats::{Client, Subscriber};
use futures_util::StreamExt;
use serde_json::Value;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::config::{ConsumerSettings, NatsSourceProps};
use super::connection::Connection;
use super::consumer;
use crate::Result;
use crate::backoff::Backoff;
use crate::clock::wall_clock_ms;
use crate::connector::{ConnectorContext, Source, Subscription};
use crate::delivery::Delivery;
use crate::props::{Props, parse};
use crate::status::ConnectorStatus;

/// How long a stopped source waits for what it queued (acknowledgements) to be written.
const LAST_FLUSH: Duration = Duration::from_secs(5);

/// A subscription, or a JetStream consumer, delivering into a bounded channel.
pub struct NatsSource {
    connection: Connection,
    subject: String,
    reading: Reading,
}

/// Where the messages come from.
enum Reading {
    /// A core NATS subscription, in a queue group if one is named.
    Subscription { queue_group: Option<String> },
    /// A JetStream durable consumer.
    Consumer(ConsumerSettings),
}

pub(super) fn build(props: &Value, context: &ConnectorContext<'_>) -> Result<Box<dyn Source>> {
    let props: NatsSourceProps = parse(props)?;
    Ok(Box::new(NatsSource::try_new(
        &props,
        context.client_id,
        context.shared_name,
    )?))
}

impl NatsSource {
    /// A source for `props`, its connection named `default_client_name` unless they name
    /// one, and a JetStream durable consumer named after `shared_name` (the same on every
    /// instance, so that instances share it) unless they name one; connecting starts with
    /// [`Self::run`].
    ///
    /// # Errors
    /// Props that do not hold up.
    pub fn try_new(
        props: &NatsSourceProps,
        default_client_name: &str,
        shared_name: &str,
    ) -> Result<Self> {
        props.check()?;
        let config = &props.0;
        let connection = Connection::try_new(config, default_client_name)?;
        let reading = match config.consumer(shared_name) {
            Some(consumer) => Reading::Consumer(consumer),
            None => Reading::Subscription {
                queue_group: config.queue_group.clone(),
            },
        };
        Ok(Self {
            connection,
            subject: config.subject.clone(),
            reading,
        })
    }

    /// The connection state, updated while the source runs.
    pub fn status(&self) -> Arc<ConnectorStatus> {
        self.connection.status()
    }

    /// Connects (again and again, with backoff, until it can) and receives until `shutdown`
    /// is cancelled or `output` closes. A full channel stops reading: for a subscription the
    /// client then holds what comes (and drops it past its capacity, as core NATS may), for
    /// a JetStream consumer the server holds it.
    pub async fn run(self, output: mpsc::Sender<Delivery>, shutdown: CancellationToken) {
        let Some(client) = self.connection.establish(&shutdown).await else {
            return;
        };
        let status = self.connection.status();
        match &self.reading {
            Reading::Subscription { queue_group } => {
                let subscription = CoreSubscription {
                    client: &client,
                    subject: &self.subject,
                    queue_group: queue_group.as_deref(),
                    status: &status,
                };
                subscription.receive(&output, &shutdown).await;
            }
            Reading::Consumer(settings) => {
                let context = async_nats::jetstream::new(client.clone());
                let consumer = consumer::Consumer::new(&context, settings, &self.subject, &status);
                consumer.receive(&output, &shutdown).await;
            }
        }
        let _ = tokio::time::timeout(LAST_FLUSH, client.flush()).await;
    }
}

impl Source for NatsSource {
    fn start(self: Box<Self>, capacity: usize, shutdown: CancellationToken) -> Subscription {
        let status = self.status();
        Subscription::spawned(capacity, status, |sender| self.run(sender, shutdown))
    }
}

/// A core NATS subscription of a connected client.
struct CoreSubscription<'a> {
    client: &'a Client,
    subject: &'a str,
    queue_group: Option<&'a str>,
    status: &'a ConnectorStatus,
}

impl CoreSubscription<'_> {
    /// Subscribes and forwards messages until stopped, subscribing again with backoff if the
    /// subscription cannot be made or ends.
    async fn receive(&self, output: &mpsc::Sender<Delivery>, shutdown: &CancellationToken) {
        let mut backoff = Backoff::default();
        loop {
            match self.subscribe().await {
                Ok(subscriber) => {
                    backoff.reset();
                    if forward(subscriber, output, shutdown).await == Ended::Stopped {
                        return;
                    }
                }
                Err(error) => {
                    tracing::warn!(subject = %self.subject, %error, "cannot subscribe to NATS");
                    self.status
                        .set_disconnected(format!("subscribing to '{}': {error}", self.subject));
                }
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(backoff.next_delay()) => {}
            }
        }
    }

    async fn subscribe(&self) -> Result<Subscriber, async_nats::SubscribeError> {
        let subject = self.subject.to_owned();
        match self.queue_group {
            Some(group) => self.client.queue_subscribe(subject, group.to_owned()).await,
            None => self.client.subscribe(subject).await,
        }
    }
}

/// Why forwarding ended.
#[derive(Debug, PartialEq, Eq)]
enum Ended {
    /// The source was stopped or its pipeline let go of it.
    Stopped,
    /// The subscription ended (its client closed).
    Closed,
}

async fn forward(
    mut subscriber: Subscriber,
    output: &mpsc::Sender<Delivery>,
    shutdown: &CancellationToken,
) -> Ended {
    loop {
        let message = tokio::select! {
            () = shutdown.cancelled() => return Ended::Stopped,
            message = subscriber.next() => message,
        };
        let Some(message) = message else {
            return Ended::Closed;
        };
        let delivery = Delivery::unacknowledged(message.payload)
            .received(message.subject.as_str(), wall_clock_ms());
        if output.send(delivery).await.is_err() {
            return Ended::Stopped;
        }
    }
}
