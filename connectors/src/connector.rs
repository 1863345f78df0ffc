//! The roles of a connector: a [`Source`] delivers messages, a [`Sink`] sends encoded ones on
//! and reports what is safe. The delivery contract of docs/RELIABILITY.md lives here: a
//! message's [`Ack`](crate::delivery::Ack) is settled only once every sink has confirmed
//! what the message produced, so a sink that must wait for its destination says so through
//! [`Sink::published`] and [`Sink::is_confirmed_through`].

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::Error;
use crate::codec::EncodedMessages;
use crate::delivery::Delivery;
use crate::progress::{Lost, Progress};
use crate::status::ConnectorStatus;
use crate::topics::MemoryHub;

/// A future a connector returns from a trait method.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What a connector is built with besides its props.
#[derive(Debug, Clone)]
pub struct ConnectorContext<'a> {
    /// The name of what is built: the stream's for a source, the sink's for a sink.
    pub name: &'a str,
    /// A name the same on every server instance running this spec
    /// (`veloflux-<pipeline>-<stream>`), for what instances share: a JetStream durable
    /// consumer.
    pub shared_name: &'a str,
    /// The client id to connect with unless the props name one: unique to this instance
    /// (`veloflux-<instance>-<pipeline>-<stream>`), so instances never take each other's
    /// broker sessions.
    pub client_id: &'a str,
    /// The in-process topics.
    pub hub: &'a MemoryHub,
    /// What `POST /streams/<name>/ingest` accepts, by stream name.
    pub ingest: &'a MemoryHub,
    /// How long a busy source waits between reads (`runtime.read_interval_ms`).
    pub read_interval: Duration,
}

/// Where messages come from.
pub trait Source: Send {
    /// Starts delivering messages into a channel holding `capacity`; delivery ends when
    /// `shutdown` is cancelled or the receiver is dropped.
    fn start(self: Box<Self>, capacity: usize, shutdown: CancellationToken) -> Subscription;
}

/// A started source: its messages, and the state of its connection if it has one.
pub struct Subscription {
    /// The messages, in the order they came.
    pub deliveries: mpsc::Receiver<Delivery>,
    /// The connection's state; `None` for a source that does not connect.
    pub status: Option<Arc<ConnectorStatus>>,
}

impl Subscription {
    /// A subscription fed by a task of its own: `run` gets the sending side of a channel
    /// holding `capacity` and delivers into it; `status` is its connection's state.
    pub fn spawned<F>(
        capacity: usize,
        status: Arc<ConnectorStatus>,
        run: impl FnOnce(mpsc::Sender<Delivery>) -> F,
    ) -> Self
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let (sender, deliveries) = mpsc::channel(capacity.max(1));
        tokio::spawn(run(sender));
        Self {
            deliveries,
            status: Some(status),
        }
    }
}

/// Where results go.
///
/// A sink that sends without waiting for its destination (in-process, discarding) keeps
/// the defaults: everything it sent is safe at once. One whose destination confirms later
/// counts in a [`Progress`] and returns it from [`Sink::progress`].
pub trait Sink: Send + Sync {
    /// Sends `messages` to `destination` (rendered from the rows by the runtime when the
    /// kind's destination prop holds placeholders), or to the sink's fixed destination when
    /// `None`, waiting while the destination is busy.
    ///
    /// # Errors
    /// The messages that could not be sent, and why.
    fn send<'a>(
        &'a mut self,
        destination: Option<&'a str>,
        messages: EncodedMessages<'a>,
    ) -> BoxFuture<'a, Result<(), Unsent>>;

    /// The state of the connection; `None` for a sink that does not connect.
    fn status(&self) -> Option<Arc<ConnectorStatus>> {
        None
    }

    /// The count of what the sink published and had confirmed, for a sink whose destination
    /// confirms later; `None` (the default) for one where what it sent is safe at once. The
    /// confirmation methods below read it.
    fn progress(&self) -> Option<&Progress> {
        None
    }

    /// A mark of what was sent so far, to wait on with [`Self::confirmed_through`].
    fn published(&self) -> u64 {
        self.progress().map_or(0, Progress::published)
    }

    /// Whether what was sent up to `mark` is safe at its destination.
    fn is_confirmed_through(&self, mark: u64) -> bool {
        self.progress()
            .is_none_or(|progress| progress.is_confirmed_through(mark))
    }

    /// Resolves once what was sent up to `mark` is safe.
    fn confirmed_through(&self, mark: u64) -> BoxFuture<'_, ()> {
        match self.progress() {
            Some(progress) => Box::pin(progress.confirmed_through(mark)),
            None => Box::pin(std::future::ready(())),
        }
    }

    /// Messages the destination will never confirm (refused for good, or forgotten by a
    /// broker that lost its session) since the last call: the pipeline reports them as errors.
    fn take_lost(&self) -> Option<Lost> {
        self.progress()?.take_lost()
    }
}

/// Messages of a batch that could not be sent, and why.
#[derive(Debug)]
pub struct Unsent {
    /// How many.
    pub count: usize,
    /// The last reason.
    pub error: Error,
}
