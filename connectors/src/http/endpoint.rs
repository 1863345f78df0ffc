//! One attempt at one request, and what it came to: delivered (2xx), refused for good (a
//! 4xx other than 408 and 429, a 3xx), or failed for now (5xx, 408, 429, a timeout, no
//! connection), to be tried again.

use std::io::Write;
use std::time::Duration;

use bytes::Bytes;
use flate2::Compression;
use flate2::write::GzEncoder;
use reqwest::header::RETRY_AFTER;
use reqwest::{Client, Method, Response, StatusCode, Url};

use super::HttpSinkConfig;
use crate::Result;

/// How much of a response body an error quotes.
const QUOTED_BODY_BYTES: usize = 200;
/// How much of a response body is read (and dropped) so that its connection can serve the
/// next request; a longer body closes the connection instead.
const DRAINED_BODY_BYTES: usize = 64 << 10;
/// The longest `Retry-After` honoured: a larger one is taken as this, so that an absurd value
/// cannot hold the pipeline for days.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// How requests go: the client (whose connections every request reuses), the method, and
/// whether bodies are compressed.
pub(super) struct Endpoint {
    client: Client,
    method: Method,
    gzip: bool,
}

/// What one attempt came to.
#[derive(Debug)]
pub(super) enum Outcome {
    /// The endpoint took it (2xx).
    Delivered,
    /// The endpoint refused it, and would again: why.
    Refused(String),
    /// It did not get through this time: why, and how long the endpoint asked to wait.
    Failed {
        error: String,
        retry_after: Option<Duration>,
    },
}

impl Endpoint {
    /// The endpoint `config` describes.
    ///
    /// # Errors
    /// Props that do not hold up, or a client that cannot be built.
    pub(super) fn try_new(config: &HttpSinkConfig) -> Result<Self> {
        Ok(Self {
            client: config.client()?,
            method: config.method(),
            gzip: config.gzip,
        })
    }

    /// The body to send for `payload`: itself, or compressed.
    ///
    /// # Errors
    /// Only if compressing into memory fails.
    pub(super) fn body(&self, payload: Bytes) -> std::io::Result<Bytes> {
        if !self.gzip {
            return Ok(payload);
        }
        let mut encoder =
            GzEncoder::new(Vec::with_capacity(payload.len() / 4), Compression::fast());
        encoder.write_all(&payload)?;
        encoder.finish().map(Bytes::from)
    }

    /// Sends `body` once to `url`.
    pub(super) async fn attempt(&self, url: &Url, body: &Bytes) -> Outcome {
        let sent = self
            .client
            .request(self.method.clone(), url.clone())
            .body(body.clone())
            .send()
            .await;
        match sent {
            Ok(response) => outcome_of(response).await,
            Err(error) => Outcome::Failed {
                error: describe(error),
                retry_after: None,
            },
        }
    }
}

/// A failed attempt's error with its causes (`error sending request: operation timed out`),
/// without the URL, which may hold a secret (a webhook's path).
fn describe(error: reqwest::Error) -> String {
    let error = error.without_url();
    let mut text = error.to_string();
    let mut cause = std::error::Error::source(&error);
    while let Some(source) = cause {
        text.push_str(": ");
        text.push_str(&source.to_string());
        cause = source.source();
    }
    text
}

/// What a response says about its request.
async fn outcome_of(response: Response) -> Outcome {
    let status = response.status();
    let retry_after = retry_after(&response);
    let quoted = drain(response).await;
    if status.is_success() {
        return Outcome::Delivered;
    }
    let error = if quoted.is_empty() {
        format!("HTTP {status}")
    } else {
        format!("HTTP {status}: {quoted}")
    };
    if is_retryable(status) {
        Outcome::Failed { error, retry_after }
    } else {
        Outcome::Refused(error)
    }
}

/// Server errors, a request timeout and too many requests are worth another try; any other
/// answer would be the same again.
fn is_retryable(status: StatusCode) -> bool {
    status.is_server_error()
        || status == StatusCode::REQUEST_TIMEOUT
        || status == StatusCode::TOO_MANY_REQUESTS
}

/// The wait a `Retry-After` header asks for, in seconds (an HTTP date is not read: the
/// backoff applies then).
fn retry_after(response: &Response) -> Option<Duration> {
    let seconds = response.headers().get(RETRY_AFTER)?.to_str().ok()?;
    let seconds: u64 = seconds.trim().parse().ok()?;
    Some(Duration::from_secs(seconds).min(MAX_RETRY_AFTER))
}

/// Reads the body (up to [`DRAINED_BODY_BYTES`]) and returns its first
/// [`QUOTED_BODY_BYTES`] as text.
async fn drain(mut response: Response) -> String {
    let mut quoted = Vec::new();
    let mut read = 0;
    while read < DRAINED_BODY_BYTES {
        let Ok(Some(chunk)) = response.chunk().await else {
            break;
        };
        read += chunk.len();
        let room = QUOTED_BODY_BYTES.saturating_sub(quoted.len());
        quoted.extend_from_slice(&chunk[..room.min(chunk.len())]);
    }
    text_of(&quoted)
}

/// `bytes` as text: a character cut at the end is left out, other invalid UTF-8 replaced.
fn text_of(bytes: &[u8]) -> String {
    let whole = match std::str::from_utf8(bytes) {
        Err(error) if error.error_len().is_none() => &bytes[..error.valid_up_to()],
        _ => bytes,
    };
    String::from_utf8_lossy(whole).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retryable_statuses_are_server_errors_408_and_429() {
        let retried = [500, 502, 503, 504, 408, 429];
        let refused = [400, 401, 403, 404, 409, 413, 422, 301, 302];
        for code in retried {
            assert!(is_retryable(StatusCode::from_u16(code).unwrap()), "{code}");
        }
        for code in refused {
            assert!(!is_retryable(StatusCode::from_u16(code).unwrap()), "{code}");
        }
    }

    #[test]
    fn a_character_cut_at_the_end_is_left_out() {
        assert_eq!(text_of("né".as_bytes()), "né");
        assert_eq!(text_of(&"né".as_bytes()[..2]), "n");
        assert_eq!(text_of(b"a\xffb"), "a\u{fffd}b");
    }
}
