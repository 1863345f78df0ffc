//! The `props` of an HTTP sink, checked, and the client they stand for: one per sink, its
//! connections kept alive and reused by every request.

use std::collections::BTreeMap;
use std::time::Duration;

use reqwest::header::{self, HeaderMap, HeaderName, HeaderValue};
use reqwest::{Client, Url, redirect};
use serde::{Deserialize, Serialize};

use crate::backoff::Backoff;
use crate::props::Props;
use crate::template::dynamic_template;
use crate::{Error, Result};

/// How long one attempt may take by default, the response included.
const DEFAULT_TIMEOUT_MS: u64 = 5_000;
/// The first wait before a retry by default, as for broker reconnections.
const DEFAULT_RETRY_INITIAL_MS: u64 = 100;
/// The longest wait between two attempts by default: an endpoint back after an outage is
/// found within this long.
const DEFAULT_RETRY_MAX_MS: u64 = 5_000;
/// Requests queued before the pipeline waits by default: a micro-batch of up to 1024 rows at
/// a request per row fits whole.
const DEFAULT_MAX_PENDING_REQUESTS: usize = 1024;

/// Where and how to send, as users write it in `props`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HttpSinkConfig {
    /// `http://…` or `https://…`; `{{column}}` placeholders are filled from each row.
    pub url: String,
    /// `POST` (default) or `PUT`.
    #[serde(default)]
    pub method: HttpMethod,
    /// Headers sent with every request; `Content-Type` is `application/json` unless given.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// A bearer token, sent as `Authorization: Bearer <token>` (never shown back).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// Whether bodies are gzip-compressed (`Content-Encoding: gzip`).
    #[serde(default)]
    pub gzip: bool,
    /// How long one attempt may take, response included, in milliseconds (default 5000).
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// The wait before the first retry of a failed request, in milliseconds (default 100);
    /// it doubles at each failure.
    #[serde(default = "default_retry_initial_ms")]
    pub retry_initial_ms: u64,
    /// The longest wait between two attempts, in milliseconds (default 5000). A request is
    /// retried for as long as the pipeline runs.
    #[serde(default = "default_retry_max_ms")]
    pub retry_max_ms: u64,
    /// Requests queued and not yet answered before the pipeline waits (default 1024).
    #[serde(default = "default_max_pending_requests")]
    pub max_pending_requests: usize,
}

/// The request method.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum HttpMethod {
    /// `POST`.
    #[default]
    Post,
    /// `PUT`.
    Put,
}

fn default_timeout_ms() -> u64 {
    DEFAULT_TIMEOUT_MS
}

fn default_retry_initial_ms() -> u64 {
    DEFAULT_RETRY_INITIAL_MS
}

fn default_retry_max_ms() -> u64 {
    DEFAULT_RETRY_MAX_MS
}

fn default_max_pending_requests() -> usize {
    DEFAULT_MAX_PENDING_REQUESTS
}

impl Props for HttpSinkConfig {
    fn check(&self) -> Result<()> {
        if dynamic_template("url", &self.url)?.is_some() {
            check_scheme("props.url", &self.url)?;
        } else {
            http_url("props.url", &self.url)?;
        }
        for (field, value) in [
            ("timeout_ms", self.timeout_ms),
            ("retry_initial_ms", self.retry_initial_ms),
            ("max_pending_requests", self.max_pending_requests as u64),
        ] {
            if value == 0 {
                return Err(Error::Config(format!("props.{field} must be at least 1")));
            }
        }
        if self.retry_max_ms < self.retry_initial_ms {
            return Err(Error::Config(format!(
                "props.retry_max_ms must be at least props.retry_initial_ms ({})",
                self.retry_initial_ms
            )));
        }
        self.headers().map(drop)
    }
}

impl HttpSinkConfig {
    /// The client every request of the sink goes through: the configured headers on each,
    /// the timeout, no redirect followed (a `POST` redirected would become a `GET`).
    ///
    /// # Errors
    /// A header that is not valid, or a client that cannot be built.
    pub fn client(&self) -> Result<Client> {
        crate::tls::install_crypto_provider();
        let timeout = Duration::from_millis(self.timeout_ms);
        Client::builder()
            .default_headers(self.headers()?)
            .user_agent(concat!("veloFlux/", env!("CARGO_PKG_VERSION")))
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(redirect::Policy::none())
            .build()
            .map_err(|error| Error::External(format!("building the HTTP client: {error}")))
    }

    /// The fixed URL, or `None` when it has placeholders (every request then goes to its
    /// rendering for the row).
    ///
    /// # Errors
    /// A URL that is not `http://` or `https://`.
    pub fn fixed_url(&self) -> Result<Option<Url>> {
        match dynamic_template("url", &self.url)? {
            Some(_) => Ok(None),
            None => http_url("props.url", &self.url).map(Some),
        }
    }

    /// The request method.
    pub fn method(&self) -> reqwest::Method {
        match self.method {
            HttpMethod::Post => reqwest::Method::POST,
            HttpMethod::Put => reqwest::Method::PUT,
        }
    }

    /// The waits between attempts.
    pub(crate) fn backoff(&self) -> Backoff {
        Backoff::between(
            Duration::from_millis(self.retry_initial_ms),
            Duration::from_millis(self.retry_max_ms),
        )
    }

    /// The headers of every request: `Content-Type` (JSON unless given), the configured
    /// ones, the bearer token and the body's encoding.
    fn headers(&self) -> Result<HeaderMap> {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        for (name, value) in &self.headers {
            let invalid = |what: &str| Error::Config(format!("props.headers.{name}: {what}"));
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| invalid("not a valid header name"))?;
            let value = HeaderValue::from_str(value)
                .map_err(|_| invalid("not a valid header value (visible ASCII expected)"))?;
            headers.insert(name, value);
        }
        if let Some(token) = &self.token {
            if headers.contains_key(header::AUTHORIZATION) {
                return Err(Error::Config(
                    "props.token: props.headers has an Authorization header too; give one".into(),
                ));
            }
            let mut value = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
                Error::Config("props.token: not a valid header value (visible ASCII)".into())
            })?;
            value.set_sensitive(true);
            headers.insert(header::AUTHORIZATION, value);
        }
        if self.gzip {
            headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
        Ok(headers)
    }
}

/// `text` as a URL to send to: `http://` or `https://` with a host. `field` names it in the
/// error: `props.url`, or the URL rendered from a row.
pub(super) fn http_url(field: &str, text: &str) -> Result<Url> {
    check_scheme(field, text)?;
    let url = Url::parse(text)
        .map_err(|error| Error::Config(format!("{field} '{text}' is not a URL: {error}")))?;
    if !url.has_host() {
        return Err(Error::Config(format!("{field} '{text}' needs a host")));
    }
    Ok(url)
}

/// A URL must start with `http://` or `https://`, placeholders or not.
fn check_scheme(field: &str, text: &str) -> Result<()> {
    let lower = text.get(..8).unwrap_or(text).to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        return Ok(());
    }
    Err(Error::Config(format!(
        "{field} '{text}' must start with http:// or https://"
    )))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::props::parse;

    fn error_of(props: serde_json::Value) -> String {
        parse::<HttpSinkConfig>(&props).unwrap_err().to_string()
    }

    #[test]
    fn defaults_fill_what_is_not_given() {
        let config: HttpSinkConfig = parse(&json!({"url": "https://example.com/hook"})).unwrap();
        assert_eq!(config.method, HttpMethod::Post);
        assert_eq!(
            (
                config.timeout_ms,
                config.retry_initial_ms,
                config.retry_max_ms
            ),
            (5000, 100, 5000)
        );
        assert_eq!(config.max_pending_requests, 1024);
        assert!(!config.gzip && config.token.is_none() && config.headers.is_empty());
    }

    #[test]
    fn bad_props_name_their_field() {
        let cases = [
            (json!({"url": "ftp://x/y"}), "props.url"),
            (json!({"url": "http://"}), "props.url"),
            (json!({"url": "{{host}}/x"}), "props.url"),
            (json!({"url": "http://x/{{device"}), "props.url"),
            (json!({"url": "http://x", "method": "GET"}), "props.method"),
            (
                json!({"url": "http://x", "timeout_ms": 0}),
                "props.timeout_ms",
            ),
            (
                json!({"url": "http://x", "retry_initial_ms": 500, "retry_max_ms": 100}),
                "props.retry_max_ms",
            ),
            (
                json!({"url": "http://x", "max_pending_requests": 0}),
                "props.max_pending_requests",
            ),
            (
                json!({"url": "http://x", "headers": {"bad name": "v"}}),
                "props.headers.bad name",
            ),
            (
                json!({"url": "http://x", "headers": {"X-A": "line\nbreak"}}),
                "props.headers.X-A",
            ),
            (
                json!({"url": "http://x", "token": "t", "headers": {"authorization": "x"}}),
                "props.token",
            ),
            (
                json!({"url": "http://x", "body": "row"}),
                "unknown field `body`",
            ),
        ];
        for (props, field) in cases {
            let message = error_of(props.clone());
            assert!(message.contains(field), "{props}: {message}");
        }
    }

    #[test]
    fn a_url_with_placeholders_is_checked_for_its_scheme_only() {
        let config: HttpSinkConfig =
            parse(&json!({"url": "HTTPS://{{host}}/devices/{{device}}"})).unwrap();
        assert_eq!(config.fixed_url().unwrap(), None);
        let config: HttpSinkConfig = parse(&json!({"url": "http://h:8080/a"})).unwrap();
        assert_eq!(
            config.fixed_url().unwrap().unwrap().as_str(),
            "http://h:8080/a"
        );
    }
}
