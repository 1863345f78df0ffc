//! The sink's sending task: takes queued requests one at a time, in order, and tries each
//! until the endpoint takes it or refuses it for good. While the endpoint fails, nothing
//! behind the request is sent (order is kept) and the queue fills, which holds the pipeline
//! back: backpressure, never loss.

use std::sync::Arc;

use bytes::Bytes;
use reqwest::Url;
use tokio::sync::mpsc;

use super::endpoint::{Endpoint, Outcome};
use crate::backoff::Backoff;
use crate::progress::Progress;
use crate::status::ConnectorStatus;

/// A request waiting to be sent.
#[derive(Debug)]
pub(super) struct Request {
    /// Where: the fixed URL or one rendered from the row.
    pub(super) url: Arc<Url>,
    /// The message, uncompressed.
    pub(super) payload: Bytes,
}

/// What the sending task works with.
pub(super) struct Sender {
    pub(super) endpoint: Endpoint,
    pub(super) backoff: Backoff,
    pub(super) progress: Arc<Progress>,
    pub(super) status: Arc<ConnectorStatus>,
}

impl Sender {
    /// Sends what `queue` holds until it closes.
    pub(super) async fn run(mut self, mut queue: mpsc::Receiver<Request>) {
        while let Some(request) = queue.recv().await {
            match self.deliver(request).await {
                Ok(()) => self.progress.confirm_one(),
                Err(refusal) => self.progress.lose_one(refusal),
            }
        }
    }

    /// Tries `request` until it is answered for good: delivered, or refused with the reason.
    async fn deliver(&mut self, request: Request) -> Result<(), String> {
        let body = match self.endpoint.body(request.payload) {
            Ok(body) => body,
            Err(error) => return self.refused(format!("compressing the body: {error}")),
        };
        loop {
            match self.endpoint.attempt(&request.url, &body).await {
                Outcome::Delivered => {
                    self.status.set_connected();
                    self.backoff.reset();
                    return Ok(());
                }
                Outcome::Refused(error) => return self.refused(error),
                Outcome::Failed { error, retry_after } => {
                    tracing::warn!(%error, "HTTP sink: a request failed; retrying");
                    self.status.set_disconnected(error);
                    let wait = retry_after.unwrap_or_else(|| self.backoff.next_delay());
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    /// Records a refusal (the endpoint answered, so the next attempt starts afresh).
    fn refused(&mut self, error: String) -> Result<(), String> {
        tracing::warn!(%error, "HTTP sink: a request was refused; it is not retried");
        self.status.set_disconnected(error.clone());
        self.backoff.reset();
        Err(error)
    }
}
