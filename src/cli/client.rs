//! The HTTP client of the REST API: the server's address and token, requests built from path
//! segments, and error answers (`{"error": {"code", "message"}}`) turned into [`CliError`]s.

use std::time::Duration;

use reqwest::{Method, RequestBuilder, Response, Url};
use serde_json::Value;

use super::error::CliError;
use super::output::Output;

/// The address the server listens on by default (`server.manager_addr`).
const DEFAULT_SERVER: &str = "http://127.0.0.1:8080";
/// The environment variable holding the API's token (`server.auth_token`).
const TOKEN_VARIABLE: &str = "VELOFLUX_TOKEN";
/// How long connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a request may take; a pipeline's creation plans SQL and commits to disk. Tails
/// last as long as they are read, and have no such limit.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// Which server to talk to and how to print its answers: the flags every client command
/// takes.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct Connection {
    /// The server's REST API; its token, if it needs one, is read from VELOFLUX_TOKEN.
    #[arg(
        long,
        env = "VELOFLUX_SERVER",
        default_value = DEFAULT_SERVER,
        global = true,
        help_heading = "Server"
    )]
    pub(crate) server: String,
    /// How answers are printed.
    #[arg(
        long,
        short = 'o',
        value_enum,
        default_value_t,
        global = true,
        help_heading = "Server"
    )]
    pub(crate) output: Output,
}

impl Connection {
    /// A client of the server these flags name.
    ///
    /// # Errors
    /// When the address is not a URL or the HTTP client cannot be built.
    pub(crate) fn client(&self) -> Result<Client, CliError> {
        Client::new(&self.server)
    }
}

/// A client of one server's REST API.
#[derive(Debug)]
pub(crate) struct Client {
    http: reqwest::Client,
    base: Url,
    token: Option<String>,
}

impl Client {
    /// A client of the server at `server`, e.g. `http://127.0.0.1:8080`, with the token of
    /// `VELOFLUX_TOKEN` if it is set.
    ///
    /// # Errors
    /// When `server` is not an http(s) URL or the HTTP client cannot be built.
    pub(crate) fn new(server: &str) -> Result<Self, CliError> {
        let base = Url::parse(server)
            .ok()
            .filter(|url| matches!(url.scheme(), "http" | "https") && !url.cannot_be_a_base())
            .ok_or_else(|| {
                CliError::Usage(format!(
                    "--server '{server}' is not an http(s) URL such as {DEFAULT_SERVER}"
                ))
            })?;
        // reqwest's TLS takes the process's rustls provider (ring), which must come first.
        veloflux_connectors::tls::install_crypto_provider();
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .build()
            .map_err(|error| CliError::Local(CliError::chain(&error)))?;
        let token = std::env::var(TOKEN_VARIABLE)
            .ok()
            .filter(|token| !token.is_empty());
        Ok(Self { http, base, token })
    }

    /// `GET` the JSON at `segments` (`["pipelines", id]`).
    ///
    /// # Errors
    /// As [`Client::send`], or when the answer is not JSON.
    pub(crate) async fn get(&self, segments: &[&str]) -> Result<Value, CliError> {
        self.json(Method::GET, segments, None).await
    }

    /// `POST` `body` (if any) to `segments` and return the JSON answer.
    ///
    /// # Errors
    /// As [`Client::get`].
    pub(crate) async fn post(
        &self,
        segments: &[&str],
        body: Option<&Value>,
    ) -> Result<Value, CliError> {
        self.json(Method::POST, segments, body).await
    }

    /// `DELETE` `segments` and return the JSON answer.
    ///
    /// # Errors
    /// As [`Client::get`].
    pub(crate) async fn delete(&self, segments: &[&str]) -> Result<Value, CliError> {
        self.json(Method::DELETE, segments, None).await
    }

    /// `GET` the text at `segments`.
    ///
    /// # Errors
    /// As [`Client::send`], or when the answer cannot be read.
    pub(crate) async fn get_text(&self, segments: &[&str]) -> Result<String, CliError> {
        let request = self.request(Method::GET, segments, &[])?;
        let response = self.send(request.timeout(REQUEST_TIMEOUT)).await?;
        response
            .text()
            .await
            .map_err(|error| self.unreadable(&error))
    }

    /// `GET` `segments` with `query`, with no time limit: the answer's body is read as it
    /// comes (a tail).
    ///
    /// # Errors
    /// As [`Client::send`].
    pub(crate) async fn open(
        &self,
        segments: &[&str],
        query: &[(&str, &str)],
    ) -> Result<Response, CliError> {
        self.send(self.request(Method::GET, segments, query)?).await
    }

    async fn json(
        &self,
        method: Method,
        segments: &[&str],
        body: Option<&Value>,
    ) -> Result<Value, CliError> {
        let mut request = self
            .request(method, segments, &[])?
            .timeout(REQUEST_TIMEOUT);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = self.send(request).await?;
        response
            .json()
            .await
            .map_err(|error| self.unreadable(&error))
    }

    fn request(
        &self,
        method: Method,
        segments: &[&str],
        query: &[(&str, &str)],
    ) -> Result<RequestBuilder, CliError> {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|()| CliError::Usage(format!("--server '{}' cannot hold a path", self.base)))?
            .pop_if_empty()
            .extend(segments);
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        let request = self.http.request(method, url);
        Ok(match &self.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        })
    }

    /// Sends `request`; an answer other than 2xx becomes the server's error message.
    ///
    /// # Errors
    /// [`CliError::Unreachable`] when there is no answer, [`CliError::Refused`] with the
    /// server's message for an error status.
    async fn send(&self, request: RequestBuilder) -> Result<Response, CliError> {
        let response = request
            .send()
            .await
            .map_err(|error| CliError::Unreachable {
                server: self.base.as_str().trim_end_matches('/').to_owned(),
                reason: CliError::chain(&error),
            })?;
        if response.status().is_success() {
            return Ok(response);
        }
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        let mut message = error_message(status, &text);
        if status == reqwest::StatusCode::UNAUTHORIZED {
            message.push_str(&format!(
                " (this client sends the token of {TOKEN_VARIABLE})"
            ));
        }
        Err(CliError::Refused(message))
    }

    fn unreadable(&self, error: &reqwest::Error) -> CliError {
        CliError::Local(format!(
            "the answer of {} could not be read: {}",
            self.base,
            CliError::chain(error)
        ))
    }
}

/// The message of an error answer: `error.message` of its JSON, or the status and the text.
fn error_message(status: reqwest::StatusCode, text: &str) -> String {
    let body: Option<Value> = serde_json::from_str(text).ok();
    let message = body
        .as_ref()
        .and_then(|body| body["error"]["message"].as_str())
        .map(str::to_owned);
    message.unwrap_or_else(|| format!("the server answered {status}: {}", text.trim()))
}
