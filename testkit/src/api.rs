//! A client of the server's REST API: any request as a status and a JSON body, and the calls
//! tests and benches share (create a stream or a pipeline, start, replace, delete, read its
//! status and counters).

mod status;

use std::time::Duration;

use reqwest::{Certificate, Client, ClientBuilder, Method, StatusCode};
use serde_json::Value;

pub use status::{Listed, all_connected, stage_counter};

use crate::{Error, Result};

/// How long one request may take. Creating a pipeline plans its SQL and commits to disk, and
/// a profile request lasts as many seconds as it asks for.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// An answer: its status, and its body as JSON (a string when it is not JSON, such as the
/// Prometheus text of `/metrics`).
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// The HTTP status code.
    pub status: u16,
    /// The body: JSON, or the text as a JSON string.
    pub body: Value,
}

impl Reply {
    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// The REST API of one server, over connections kept alive between requests.
#[derive(Debug, Clone)]
pub struct Api {
    client: Client,
    base: String,
    /// Sent as `Authorization: Bearer <token>` with every request.
    token: Option<String>,
}

impl Api {
    /// A client of the server at `base`, e.g. `http://127.0.0.1:8080`.
    ///
    /// # Errors
    /// When the HTTP client cannot be built.
    pub fn new(base: &str) -> Result<Self> {
        Self::build(base, Client::builder())
    }

    /// A client of the HTTPS server at `base` (e.g. `https://127.0.0.1:8443`) that trusts only
    /// the certificate authority `root_pem`, as a test's self-signed one.
    ///
    /// # Errors
    /// When `root_pem` is not a PEM certificate or the HTTP client cannot be built.
    pub fn trusting(base: &str, root_pem: &[u8]) -> Result<Self> {
        let root = Certificate::from_pem(root_pem).map_err(|error| Error::Api {
            request: format!("trusting the certificate authority of {base}"),
            message: error.to_string(),
        })?;
        Self::build(base, Client::builder().tls_certs_only([root]))
    }

    fn build(base: &str, builder: ClientBuilder) -> Result<Self> {
        // reqwest's TLS takes the process's rustls provider (ring), which must come first.
        veloflux_connectors::tls::install_crypto_provider();
        let client = builder
            .timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(|error| Error::Api {
                request: format!("connecting to {base}"),
                message: error.to_string(),
            })?;
        Ok(Self {
            client,
            base: base.trim_end_matches('/').to_owned(),
            token: None,
        })
    }

    /// This client, sending `token` as a bearer token with every request (`None`: none).
    pub fn with_token(mut self, token: Option<&str>) -> Self {
        self.set_token(token);
        self
    }

    /// Sends `token` with every request from now on (`None`: no token).
    pub fn set_token(&mut self, token: Option<&str>) {
        self.token = token.map(str::to_owned);
    }

    /// The server's base URL, e.g. `http://127.0.0.1:8080`.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Sends `method path` with an optional JSON body and returns the answer, whatever its
    /// status.
    ///
    /// # Errors
    /// When the server cannot be reached or the answer cannot be read.
    pub async fn request(&self, method: Method, path: &str, body: Option<&Value>) -> Result<Reply> {
        let failed = |error: reqwest::Error| Error::Api {
            request: format!("{method} {path}"),
            message: error.to_string(),
        };
        let mut request = self
            .client
            .request(method.clone(), format!("{}{path}", self.base));
        if let Some(body) = body {
            request = request.json(body);
        }
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.map_err(failed)?;
        let status = response.status().as_u16();
        let text = response.text().await.map_err(failed)?;
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Ok(Reply { status, body })
    }

    /// `GET path`, whatever the status.
    ///
    /// # Errors
    /// As [`Api::request`].
    pub async fn get(&self, path: &str) -> Result<Reply> {
        self.request(Method::GET, path, None).await
    }

    /// `POST path` with an optional JSON body, whatever the status.
    ///
    /// # Errors
    /// As [`Api::request`].
    pub async fn post(&self, path: &str, body: Option<&Value>) -> Result<Reply> {
        self.request(Method::POST, path, body).await
    }

    /// Sends `method path` and returns the body of a 2xx answer.
    ///
    /// # Errors
    /// When the request fails, or is answered with another status (the error holds it and
    /// the body).
    pub async fn call(&self, method: Method, path: &str, body: Option<&Value>) -> Result<Value> {
        let request = format!("{method} {path}");
        let reply = self.request(method, path, body).await?;
        if !reply.is_success() {
            let status = StatusCode::from_u16(reply.status)
                .map_or_else(|_| reply.status.to_string(), |status| status.to_string());
            return Err(Error::Api {
                request,
                message: format!("{status}: {}", reply.body),
            });
        }
        Ok(reply.body)
    }

    /// Whether `GET /healthz` answers 200.
    pub async fn healthy(&self) -> bool {
        let reply = self.get("/healthz").await;
        reply.is_ok_and(|reply| reply.status == 200)
    }

    /// `POST /streams`.
    ///
    /// # Errors
    /// When the request fails or is refused.
    pub async fn create_stream(&self, stream: &Value) -> Result<Value> {
        self.call(Method::POST, "/streams", Some(stream)).await
    }

    /// `POST /pipelines`.
    ///
    /// # Errors
    /// When the request fails or is refused.
    pub async fn create_pipeline(&self, pipeline: &Value) -> Result<Value> {
        self.call(Method::POST, "/pipelines", Some(pipeline)).await
    }

    /// `PUT /pipelines/:id`: replaces the spec (`pipeline` without its `id`); a running
    /// pipeline restarts with it.
    ///
    /// # Errors
    /// When the request fails or is refused.
    pub async fn replace_pipeline(&self, id: &str, pipeline: &Value) -> Result<Value> {
        let path = format!("/pipelines/{id}");
        self.call(Method::PUT, &path, Some(pipeline)).await
    }

    /// `POST /pipelines/:id/start`.
    ///
    /// # Errors
    /// When the request fails or is refused.
    pub async fn start_pipeline(&self, id: &str) -> Result<Value> {
        let path = format!("/pipelines/{id}/start");
        self.call(Method::POST, &path, None).await
    }

    /// `POST /pipelines/:id/stop`.
    ///
    /// # Errors
    /// When the request fails or is refused.
    pub async fn stop_pipeline(&self, id: &str) -> Result<Value> {
        let path = format!("/pipelines/{id}/stop");
        self.call(Method::POST, &path, None).await
    }

    /// `DELETE /pipelines/:id`.
    ///
    /// # Errors
    /// When the request fails or is refused.
    pub async fn delete_pipeline(&self, id: &str) -> Result<Value> {
        let path = format!("/pipelines/{id}");
        self.call(Method::DELETE, &path, None).await
    }

    /// `GET /pipelines/:id/status`: its state, last error, stages and connections.
    ///
    /// # Errors
    /// When the request fails or is refused.
    pub async fn status(&self, id: &str) -> Result<Value> {
        let path = format!("/pipelines/{id}/status");
        self.call(Method::GET, &path, None).await
    }

    /// One stage's counters from `GET /pipelines/:id/stats` (`source`, `plan`, or a sink's
    /// name); `None` while the pipeline has no such stage.
    ///
    /// # Errors
    /// When the request fails or is refused.
    pub async fn stage_stats(&self, id: &str, stage: &str) -> Result<Option<Value>> {
        let path = format!("/pipelines/{id}/stats");
        let stages = self.call(Method::GET, &path, None).await?;
        let found = stages
            .as_array()
            .and_then(|stages| stages.iter().find(|entry| entry["processor_id"] == stage));
        Ok(found.map(|entry| entry["stats"].clone()))
    }

    /// `GET /pipelines`: every pipeline's id and state.
    ///
    /// # Errors
    /// When the request fails or is refused, or the answer is not a list of pipelines.
    pub async fn list_pipelines(&self) -> Result<Vec<Listed>> {
        let list = self.call(Method::GET, "/pipelines", None).await?;
        Listed::all(&list).ok_or_else(|| Error::Api {
            request: "GET /pipelines".to_owned(),
            message: format!("expected a list, got {list}"),
        })
    }
}
