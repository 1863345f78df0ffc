//! The tests' NATS side: the server they use (or why they skip), a subscriber collecting a
//! subject's messages in the background, and a JetStream publisher that waits for the
//! stream's acknowledgements a window at a time.
//!
//! `VELOFLUX_TEST_NATS` names the NATS server (a test fails if it cannot be reached); unset,
//! nats://127.0.0.1:4222 is used and a test is skipped when nothing listens there.

use std::net::{TcpStream, ToSocketAddrs};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_nats::jetstream::{self, stream};
use async_nats::{Client, ServerAddr};
use futures_util::StreamExt;

/// The variable naming the NATS server the tests must use.
const URL_VARIABLE: &str = "VELOFLUX_TEST_NATS";
/// The server the tests use when [`URL_VARIABLE`] is unset, if one listens there.
const DEFAULT_URL: &str = "nats://127.0.0.1:4222";

/// The NATS server's URL, or `None` (and a note) when the test is skipped.
pub(crate) fn nats_url() -> Option<String> {
    match std::env::var(URL_VARIABLE) {
        Ok(url) => {
            assert!(
                reachable(&url),
                "{URL_VARIABLE}={url}: nothing listens there"
            );
            Some(url)
        }
        Err(_) if reachable(DEFAULT_URL) => Some(DEFAULT_URL.to_owned()),
        Err(_) => {
            eprintln!("skipped: no NATS server at {DEFAULT_URL} (set {URL_VARIABLE})");
            None
        }
    }
}

fn reachable(url: &str) -> bool {
    let server: ServerAddr = url.parse().unwrap();
    let mut addrs = (server.host(), server.port()).to_socket_addrs().unwrap();
    addrs.any(|addr| TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_ok())
}

/// Creates the JetStream stream `name` capturing `subject`, after deleting one of that name
/// an earlier run may have left with its messages.
pub(crate) async fn fresh_jetstream_stream(
    context: &jetstream::Context,
    name: &str,
    subject: &str,
) {
    let _ = context.delete_stream(name).await;
    let config = stream::Config {
        name: name.to_owned(),
        subjects: vec![subject.to_owned()],
        ..stream::Config::default()
    };
    context.create_stream(config).await.unwrap();
}

/// The payloads of the messages received on a subject, collected in the background.
pub(crate) struct NatsSubscriber {
    received: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl NatsSubscriber {
    /// Subscribes to `subject` and returns once the server has the subscription.
    pub(crate) async fn start(client: &Client, subject: &str) -> Self {
        let mut subscription = client.subscribe(subject.to_owned()).await.unwrap();
        client.flush().await.unwrap();
        let received = Arc::<Mutex<Vec<String>>>::default();
        let collected = received.clone();
        let task = tokio::spawn(async move {
            while let Some(message) = subscription.next().await {
                let payload = String::from_utf8_lossy(&message.payload).into_owned();
                collected.lock().unwrap().push(payload);
            }
        });
        Self { received, task }
    }

    /// How many messages arrived so far.
    pub(crate) fn count(&self) -> usize {
        self.received.lock().unwrap().len()
    }

    /// The messages received after the first `skip`, in the order they arrived.
    pub(crate) fn messages_after(&self, skip: usize) -> Vec<String> {
        let received = self.received.lock().unwrap();
        received.get(skip..).unwrap_or_default().to_vec()
    }
}

impl Drop for NatsSubscriber {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Publishes `payloads` to `subject` through JetStream, `window` at a time: each window is
/// sent at once, then its acknowledgements are awaited (the stream stored it). With `ahead`
/// (a subscriber and a count), a window waits until sending it keeps the publisher at most
/// that many messages ahead of what the subscriber received since this call. Resolves to how
/// many the stream acknowledged.
pub(crate) fn jetstream_publisher(
    context: jetstream::Context,
    subject: &str,
    payloads: Vec<String>,
    window: usize,
    ahead: Option<(&NatsSubscriber, usize)>,
) -> tokio::task::JoinHandle<usize> {
    let subject = subject.to_owned();
    let ahead = ahead.map(|(output, count)| (output.received.clone(), output.count(), count));
    tokio::spawn(async move {
        let mut acknowledged = 0;
        for chunk in payloads.chunks(window.max(1)) {
            if let Some((received, before, count)) = &ahead {
                let sent = acknowledged + chunk.len();
                while received.lock().unwrap().len() - before + count < sent {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }
            let mut pending = Vec::with_capacity(chunk.len());
            for payload in chunk {
                let sent = context
                    .publish(subject.clone(), payload.clone().into())
                    .await;
                pending.push(sent.unwrap());
            }
            for stored in pending {
                stored.await.unwrap();
                acknowledged += 1;
            }
        }
        acknowledged
    })
}
