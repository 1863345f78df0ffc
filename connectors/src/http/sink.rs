//! The HTTP sink: queues a request per message for its sending task and reports how far the
//! endpoint has answered, so the pipeline acknowledges its source only for what a 2xx
//! confirmed (or what was refused for good, counted as lost).

use std::sync::Arc;

use bytes::Bytes;
use reqwest::Url;
use serde_json::Value;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::HttpSinkConfig;
use super::config::http_url;
use super::endpoint::Endpoint;
use super::sender::{Request, Sender};
use crate::codec::EncodedMessages;
use crate::connector::{BoxFuture, ConnectorContext, Sink, Unsent};
use crate::progress::Progress;
use crate::props::{Props, parse};
use crate::status::ConnectorStatus;
use crate::{Error, Result};

/// Sends each message as a request to one URL, or to the one given with each batch.
pub struct HttpSink {
    queue: mpsc::Sender<Request>,
    url: Option<Arc<Url>>,
    status: Arc<ConnectorStatus>,
    progress: Arc<Progress>,
    sender: JoinHandle<()>,
}

pub(super) fn build(props: &Value, _context: &ConnectorContext<'_>) -> Result<Box<dyn Sink>> {
    let config: HttpSinkConfig = parse(props)?;
    Ok(Box::new(HttpSink::try_new(&config)?))
}

impl HttpSink {
    /// The sink for `config`, its sending task started (inside a tokio runtime).
    ///
    /// # Errors
    /// Props that do not hold up, or an HTTP client that cannot be built.
    pub fn try_new(config: &HttpSinkConfig) -> Result<Self> {
        config.check()?;
        let (queue, requests) = mpsc::channel(config.max_pending_requests);
        let status = Arc::<ConnectorStatus>::default();
        // Nothing to connect before the first request: up until an attempt fails.
        status.set_connected();
        let progress = Arc::<Progress>::default();
        let sender = Sender {
            endpoint: Endpoint::try_new(config)?,
            backoff: config.backoff(),
            progress: progress.clone(),
            status: status.clone(),
        };
        Ok(Self {
            queue,
            url: config.fixed_url()?.map(Arc::new),
            status,
            progress,
            sender: tokio::spawn(sender.run(requests)),
        })
    }

    /// Queues a request per message to `destination` (the configured URL when `None`), in
    /// order, waiting while the queue is full.
    ///
    /// # Errors
    /// The messages not queued: the destination is not an `http(s)` URL, or the sending task
    /// has ended.
    pub async fn queue_all<'a>(
        &self,
        destination: Option<&str>,
        messages: impl ExactSizeIterator<Item = &'a [u8]>,
    ) -> std::result::Result<(), Unsent> {
        let count = messages.len();
        let url = self
            .url_for(destination)
            .map_err(|error| Unsent { count, error })?;
        for (queued, payload) in messages.enumerate() {
            let request = Request {
                url: url.clone(),
                payload: Bytes::copy_from_slice(payload),
            };
            if self.queue.send(request).await.is_err() {
                let error = Error::External("the HTTP sink's sending task has ended".into());
                let count = count - queued;
                return Err(Unsent { count, error });
            }
            self.progress.publish_one();
        }
        Ok(())
    }

    /// The URL to send to: the rendered `destination`, or the fixed one.
    fn url_for(&self, destination: Option<&str>) -> Result<Arc<Url>> {
        match (destination, &self.url) {
            (Some(rendered), _) => http_url("the rendered URL", rendered).map(Arc::new),
            (None, Some(url)) => Ok(url.clone()),
            (None, None) => Err(Error::Config(
                "props.url has placeholders: a destination rendered from the row is needed".into(),
            )),
        }
    }
}

impl Drop for HttpSink {
    fn drop(&mut self) {
        // What is still queued was not confirmed, so its source messages were not
        // acknowledged: they come again.
        self.sender.abort();
    }
}

impl Sink for HttpSink {
    fn send<'a>(
        &'a mut self,
        destination: Option<&'a str>,
        messages: EncodedMessages<'a>,
    ) -> BoxFuture<'a, std::result::Result<(), Unsent>> {
        Box::pin(self.queue_all(destination, messages.iter()))
    }

    fn status(&self) -> Option<Arc<ConnectorStatus>> {
        Some(self.status.clone())
    }

    fn progress(&self) -> Option<&Progress> {
        Some(&self.progress)
    }
}
