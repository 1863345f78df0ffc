//! Publishing through JetStream: each message is sent at once and its PubAck awaited by a
//! task of its own, in publishing order, which counts the message confirmed once the stream
//! stored it. While JetStream is unreachable (no PubAck in time, no stream answering) the
//! message is published again with backoff, so a message may be stored twice: at-least-once.
//! A message the stream refuses (a limit, another stream than `jetstream.stream`) is lost and
//! counted.

use std::sync::Arc;

use async_nats::Subject;
use async_nats::jetstream;
use async_nats::jetstream::context::{PublishAckFuture, PublishError, PublishErrorKind};
use async_nats::jetstream::message::PublishMessage;
use bytes::Bytes;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::backoff::Backoff;
use crate::progress::Progress;
use crate::status::ConnectorStatus;
use crate::{Error, Result};

/// Messages whose PubAck may be awaited at once: bounded, so a slow stream slows the pipeline
/// down instead of filling memory (JetStream's own limit, 5000, is never reached).
const IN_FLIGHT: usize = 1024;

/// Publishes to JetStream; cloned by the sink for each send.
#[derive(Clone)]
pub(super) struct JetStreamPublisher {
    publisher: Arc<Publisher>,
    unconfirmed: mpsc::Sender<Unconfirmed>,
    progress: Arc<Progress>,
}

/// Sends messages, again while JetStream is unreachable.
struct Publisher {
    context: jetstream::Context,
    expected_stream: Option<String>,
    status: Arc<ConnectorStatus>,
    stop: CancellationToken,
}

/// A published message waiting for its PubAck.
struct Unconfirmed {
    subject: Subject,
    payload: Bytes,
    puback: PublishAckFuture,
}

impl JetStreamPublisher {
    /// Publishes through `context`, into `expected_stream` if named, counting in `progress`
    /// what the stream stored; confirming stops when `stop` is cancelled.
    pub(super) fn start(
        context: jetstream::Context,
        expected_stream: Option<String>,
        progress: Arc<Progress>,
        status: Arc<ConnectorStatus>,
        stop: CancellationToken,
    ) -> Self {
        let (unconfirmed, waiting) = mpsc::channel(IN_FLIGHT);
        let publisher = Arc::new(Publisher {
            context,
            expected_stream,
            status,
            stop: stop.clone(),
        });
        let confirming = confirm_in_order(publisher.clone(), waiting, progress.clone());
        tokio::spawn(stop.run_until_cancelled_owned(confirming));
        Self {
            publisher,
            unconfirmed,
            progress,
        }
    }

    /// Publishes `payload` to `subject`, waiting while JetStream is unreachable or too many
    /// PubAcks are awaited.
    ///
    /// # Errors
    /// A message JetStream cannot take (too large), or a sink that stopped.
    pub(super) async fn publish(&self, subject: &Subject, payload: Bytes) -> Result<()> {
        let puback = self
            .publisher
            .send(subject, payload.clone())
            .await
            .map_err(|error| Error::External(format!("publishing to '{subject}': {error}")))?;
        self.progress.publish_one();
        let unconfirmed = Unconfirmed {
            subject: subject.clone(),
            payload,
            puback,
        };
        self.unconfirmed
            .send(unconfirmed)
            .await
            .map_err(|_| Error::External("the NATS sink stopped".to_owned()))
    }
}

impl Publisher {
    /// Sends a message, trying again with backoff while JetStream is unreachable.
    async fn send(
        &self,
        subject: &Subject,
        payload: Bytes,
    ) -> Result<PublishAckFuture, PublishError> {
        let mut backoff = Backoff::default();
        loop {
            let mut message = PublishMessage::build().payload(payload.clone());
            if let Some(stream) = &self.expected_stream {
                message = message.expected_stream(stream);
            }
            match self.context.send_publish(subject.clone(), message).await {
                Err(error) if is_transient(&error) && !self.stop.is_cancelled() => {
                    self.unreachable(subject, &error);
                    self.pause(&mut backoff).await;
                }
                sent => return sent,
            }
        }
    }

    /// Whether the stream stored `message`, publishing it again while JetStream does not
    /// answer; false when the stream refused it.
    async fn stored(&self, message: Unconfirmed) -> Result<(), String> {
        let Unconfirmed {
            subject,
            payload,
            mut puback,
        } = message;
        let mut backoff = Backoff::default();
        loop {
            match puback.await {
                Ok(_) => {
                    self.status.set_connected();
                    return Ok(());
                }
                Err(error) if is_transient(&error) => {
                    self.unreachable(&subject, &error);
                    self.pause(&mut backoff).await;
                }
                Err(error) => return Err(refusal(&subject, &error)),
            }
            puback = match self.send(&subject, payload.clone()).await {
                Ok(puback) => puback,
                Err(error) => return Err(refusal(&subject, &error)),
            };
        }
    }

    fn unreachable(&self, subject: &Subject, error: &PublishError) {
        tracing::warn!(%subject, %error, "JetStream did not store a message: publishing it again");
        self.status.set_disconnected(format!(
            "JetStream did not store a message on '{subject}': {error}"
        ));
    }

    /// Waits the next backoff delay, or until the sink stops.
    async fn pause(&self, backoff: &mut Backoff) {
        let _ = self
            .stop
            .run_until_cancelled(tokio::time::sleep(backoff.next_delay()))
            .await;
    }
}

/// Awaits the PubAcks in publishing order, counting each message confirmed (or lost).
async fn confirm_in_order(
    publisher: Arc<Publisher>,
    mut waiting: mpsc::Receiver<Unconfirmed>,
    progress: Arc<Progress>,
) {
    while let Some(message) = waiting.recv().await {
        match publisher.stored(message).await {
            Ok(()) => progress.confirm_one(),
            Err(refusal) => progress.lose_one(refusal),
        }
    }
}

/// Why JetStream refused a message to `subject`, logged.
fn refusal(subject: &str, error: &impl std::fmt::Display) -> String {
    tracing::warn!(%subject, %error, "JetStream refused a message");
    format!("JetStream refused a message to '{subject}': {error}")
}

/// Failures that say JetStream did not answer, rather than that it refused the message.
fn is_transient(error: &PublishError) -> bool {
    matches!(
        error.kind(),
        PublishErrorKind::TimedOut
            | PublishErrorKind::BrokenPipe
            | PublishErrorKind::StreamNotFound
            | PublishErrorKind::MaxAckPending
    )
}
