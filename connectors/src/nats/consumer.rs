//! Reading a JetStream durable pull consumer with explicit acknowledgements: each message's
//! [`Ack`] acknowledges it to the server only once the pipeline settled it, that is once
//! every sink confirmed what it produced. An abandoned `Ack` sends nothing, and the server
//! delivers the message again when its `ack_wait` has passed: at-least-once.

use std::time::Duration;

use async_nats::jetstream::consumer::{AckPolicy, pull};
use async_nats::jetstream::message::Acker;
use async_nats::jetstream::{self, stream};
use futures_util::StreamExt;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::config::ConsumerSettings;
use crate::backoff::Backoff;
use crate::clock::wall_clock_ms;
use crate::delivery::{Ack, Delivery};
use crate::status::ConnectorStatus;

/// Settled messages waiting for their acknowledgement to be sent: room for many micro-batches
/// (the consumer's `max_ack_pending`, 1000 by default, bounds how many can be unsettled).
const ACK_CAPACITY: usize = 16 * 1024;

/// How long a stopped source waits for its pipeline to settle what it received.
const LAST_ACKNOWLEDGEMENTS: Duration = Duration::from_secs(10);

/// A durable consumer of a stream, as one source reads it.
pub(super) struct Consumer<'a> {
    context: &'a jetstream::Context,
    settings: &'a ConsumerSettings,
    subject: &'a str,
    status: &'a ConnectorStatus,
}

impl<'a> Consumer<'a> {
    /// The consumer `settings` name, of messages on `subject`, through `context`.
    pub(super) fn new(
        context: &'a jetstream::Context,
        settings: &'a ConsumerSettings,
        subject: &'a str,
        status: &'a ConnectorStatus,
    ) -> Self {
        Self {
            context,
            settings,
            subject,
            status,
        }
    }

    /// Delivers until `shutdown` is cancelled or `output` closes, setting the consumer up
    /// again with backoff whenever that fails or its messages end; then waits (a while) for
    /// the pipeline to settle what it received, so that its acknowledgements are sent.
    pub(super) async fn receive(
        &self,
        output: &mpsc::Sender<Delivery>,
        shutdown: &CancellationToken,
    ) {
        let (settled, to_acknowledge) = mpsc::channel(ACK_CAPACITY);
        let acknowledging = tokio::spawn(acknowledge(to_acknowledge));
        let mut backoff = Backoff::default();
        loop {
            match self.messages().await {
                Ok(messages) => {
                    backoff.reset();
                    if self.forward(messages, &settled, output, shutdown).await {
                        break;
                    }
                }
                Err(error) => {
                    tracing::warn!(stream = %self.settings.stream, %error, "cannot consume from JetStream");
                    self.status.set_disconnected(error);
                }
            }
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = tokio::time::sleep(backoff.next_delay()) => {}
            }
        }
        // Acknowledging ends once every delivery's `Ack` was settled or let go.
        drop(settled);
        let _ = tokio::time::timeout(LAST_ACKNOWLEDGEMENTS, acknowledging).await;
    }

    /// The consumer's messages: the stream is created (capturing the subject) if missing,
    /// the durable consumer created or updated to these settings.
    async fn messages(&self) -> Result<pull::Stream, String> {
        let name = &self.settings.stream;
        let stream = self
            .context
            .get_or_create_stream(stream::Config {
                name: name.clone(),
                subjects: vec![self.subject.to_owned()],
                ..stream::Config::default()
            })
            .await
            .map_err(|error| format!("JetStream stream '{name}': {error}"))?;
        let durable = &self.settings.durable;
        let consumer = stream
            .create_consumer(pull::Config {
                durable_name: Some(durable.clone()),
                ack_policy: AckPolicy::Explicit,
                ack_wait: self.settings.ack_wait.unwrap_or_default(),
                filter_subject: self.subject.to_owned(),
                ..pull::Config::default()
            })
            .await
            .map_err(|error| format!("JetStream consumer '{durable}' of '{name}': {error}"))?;
        consumer
            .messages()
            .await
            .map_err(|error| format!("JetStream consumer '{durable}' of '{name}': {error}"))
    }

    /// Forwards messages until they end (false) or the source stops (true).
    async fn forward(
        &self,
        mut messages: pull::Stream,
        settled: &mpsc::Sender<Acker>,
        output: &mpsc::Sender<Delivery>,
        shutdown: &CancellationToken,
    ) -> bool {
        loop {
            let message = tokio::select! {
                () = shutdown.cancelled() => return true,
                message = messages.next() => message,
            };
            match message {
                Some(Ok(message)) => {
                    self.status.set_connected();
                    if output
                        .send(delivery(message, settled.clone()))
                        .await
                        .is_err()
                    {
                        return true;
                    }
                }
                Some(Err(error)) => {
                    tracing::warn!(durable = %self.settings.durable, %error, "JetStream consumer");
                    let durable = &self.settings.durable;
                    self.status
                        .set_disconnected(format!("JetStream consumer '{durable}': {error}"));
                }
                None => return false,
            }
        }
    }
}

/// `message` for the pipeline, acknowledged through `settled` once settled.
fn delivery(message: jetstream::Message, settled: mpsc::Sender<Acker>) -> Delivery {
    let (message, acker) = message.split();
    let ack = Ack::new(move || {
        // A full queue leaves the message unacknowledged: the server delivers it again after
        // `ack_wait`, which at-least-once allows.
        let _ = settled.try_send(acker);
    });
    Delivery::unacknowledged(message.payload)
        .received(message.subject.as_str(), wall_clock_ms())
        .acknowledged_by(Some(ack))
}

/// Sends the acknowledgement of each settled message, in the order they were settled.
async fn acknowledge(mut settled: mpsc::Receiver<Acker>) {
    while let Some(acker) = settled.recv().await {
        if let Err(error) = acker.ack().await {
            tracing::warn!(%error, "cannot acknowledge a JetStream message: it comes again");
        }
    }
}
