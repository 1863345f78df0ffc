//! The NATS sink: publishes each message to the subject, or to the one rendered from its row.
//! It connects in the background from the start (with backoff until it can); a send waits
//! for the connection. Core NATS: a batch is confirmed once flushed to the server, which is
//! all core NATS promises (at most once). JetStream: a message is confirmed once the stream
//! stored it (`super::pubacks`).

use std::sync::Arc;

use async_nats::{Client, Subject};
use bytes::Bytes;
use serde_json::Value;
use tokio::sync::watch;
use tokio_util::sync::{CancellationToken, DropGuard};

use super::config::{JetStreamConfig, NatsSinkProps, check_subject};
use super::connection::Connection;
use super::pubacks::JetStreamPublisher;
use crate::codec::EncodedMessages;
use crate::connector::{BoxFuture, ConnectorContext, Sink, Unsent};
use crate::progress::Progress;
use crate::props::{Props, parse};
use crate::status::ConnectorStatus;
use crate::{Error, Result};

/// A connection publishing to one subject, or to one rendered from each row.
pub struct NatsSink {
    subject: Subject,
    link: watch::Receiver<Option<Link>>,
    status: Arc<ConnectorStatus>,
    progress: Arc<Progress>,
    /// Stops connecting and confirming once the sink is dropped.
    _stop: DropGuard,
}

/// How messages reach the server, once connected.
#[derive(Clone)]
enum Link {
    /// Core NATS.
    Core(Client),
    /// Through JetStream, confirmed by PubAcks.
    JetStream(JetStreamPublisher),
}

pub(super) fn build(props: &Value, context: &ConnectorContext<'_>) -> Result<Box<dyn Sink>> {
    let props: NatsSinkProps = parse(props)?;
    Ok(Box::new(NatsSink::try_new(&props, context.client_id)?))
}

impl NatsSink {
    /// Connects (in the background) for `props`, the connection named `default_client_name`
    /// unless they name one.
    ///
    /// # Errors
    /// Props that do not hold up.
    pub fn try_new(props: &NatsSinkProps, default_client_name: &str) -> Result<Self> {
        props.check()?;
        let config = &props.0;
        let connection = Connection::try_new(config, default_client_name)?;
        let status = connection.status();
        let progress = Arc::<Progress>::default();
        let stop = CancellationToken::new();
        let link = connect_in_background(
            connection,
            config.jetstream.as_ref(),
            progress.clone(),
            stop.clone(),
        );
        Ok(Self {
            subject: Subject::from(config.subject.as_str()),
            link,
            status,
            progress,
            _stop: stop.drop_guard(),
        })
    }

    /// The connection state.
    pub fn status(&self) -> Arc<ConnectorStatus> {
        self.status.clone()
    }

    /// Publishes `messages` to `subject` (the configured one when `None`), in order, waiting
    /// for the connection and while the server is busy.
    ///
    /// # Errors
    /// The messages that could not be published, and why.
    pub async fn publish_all(
        &mut self,
        subject: Option<&str>,
        messages: EncodedMessages<'_>,
    ) -> std::result::Result<(), Unsent> {
        if messages.is_empty() {
            return Ok(());
        }
        let count = messages.len();
        let unsent = |error| Unsent { count, error };
        let subject = match subject {
            Some(rendered) => rendered_subject(rendered).map_err(unsent)?,
            None => self.subject.clone(),
        };
        match self.link().await.map_err(unsent)? {
            Link::Core(client) => self.publish_core(&client, &subject, messages).await,
            Link::JetStream(publisher) => {
                let mut failures = Failures::default();
                for payload in messages.iter() {
                    let payload = Bytes::copy_from_slice(payload);
                    failures.record(publisher.publish(&subject, payload).await);
                }
                failures.into_result()
            }
        }
    }

    /// Publishes to core NATS and flushes: what was published is then confirmed.
    async fn publish_core(
        &self,
        client: &Client,
        subject: &Subject,
        messages: EncodedMessages<'_>,
    ) -> std::result::Result<(), Unsent> {
        let mut failures = Failures::default();
        for payload in messages.iter() {
            let payload = Bytes::copy_from_slice(payload);
            let published = client.publish(subject.clone(), payload).await;
            if published.is_ok() {
                self.progress.publish_one();
            }
            failures.record(
                published.map_err(|error| {
                    Error::External(format!("publishing to '{subject}': {error}"))
                }),
            );
        }
        let flushed = client.flush().await;
        // Confirmed even when the flush failed: the client is closed and nothing more will
        // come of these messages, which are reported unsent.
        self.progress.confirm_through(self.progress.published());
        flushed.map_err(|error| Unsent {
            count: messages.len(),
            error: Error::External(format!("flushing to '{subject}': {error}")),
        })?;
        failures.into_result()
    }

    /// The connection, once made.
    async fn link(&mut self) -> Result<Link> {
        let link = self.link.wait_for(Option::is_some).await;
        link.ok()
            .and_then(|link| link.clone())
            .ok_or_else(|| Error::External("the NATS sink stopped before it connected".into()))
    }
}

/// Connects in a task of its own (with backoff until it can), then offers the link to
/// publish through: core NATS, or JetStream when `jetstream` is configured.
fn connect_in_background(
    connection: Connection,
    jetstream: Option<&JetStreamConfig>,
    progress: Arc<Progress>,
    stop: CancellationToken,
) -> watch::Receiver<Option<Link>> {
    let (linked, link) = watch::channel(None);
    let expected_stream = jetstream.map(|jetstream| jetstream.stream.clone());
    tokio::spawn(async move {
        let Some(client) = connection.establish(&stop).await else {
            return;
        };
        let link = match expected_stream {
            None => Link::Core(client),
            Some(expected_stream) => Link::JetStream(JetStreamPublisher::start(
                async_nats::jetstream::new(client),
                expected_stream,
                progress,
                connection.status(),
                stop,
            )),
        };
        let _ = linked.send(Some(link));
    });
    link
}

/// The messages of a send that could not be published, and the last reason.
#[derive(Debug, Default)]
struct Failures(Option<Unsent>);

impl Failures {
    /// Counts `published` if it failed.
    fn record(&mut self, published: Result<()>) {
        if let Err(error) = published {
            let count = self.0.take().map_or(0, |unsent| unsent.count) + 1;
            self.0 = Some(Unsent { count, error });
        }
    }

    fn into_result(self) -> std::result::Result<(), Unsent> {
        self.0.map_or(Ok(()), Err)
    }
}

/// A subject rendered from a row, if a message can be published to it.
fn rendered_subject(subject: &str) -> Result<Subject> {
    check_subject(subject, false)
        .map(|()| Subject::from(subject))
        .map_err(|why| Error::Config(format!("the rendered subject '{subject}' {why}")))
}

impl Sink for NatsSink {
    fn send<'a>(
        &'a mut self,
        destination: Option<&'a str>,
        messages: EncodedMessages<'a>,
    ) -> BoxFuture<'a, Result<(), Unsent>> {
        Box::pin(self.publish_all(destination, messages))
    }

    fn status(&self) -> Option<Arc<ConnectorStatus>> {
        Some(self.status.clone())
    }

    fn progress(&self) -> Option<&Progress> {
        Some(&self.progress)
    }
}
