//! A client of the server's REST API, just the calls the benches make: create streams and
//! pipelines, start, replace and delete pipelines, and read their states and counters.

use std::time::Duration;

use reqwest::{Client, Method, StatusCode};
use serde_json::Value;

use crate::{Error, Result};

/// How long one request may take. Creating a pipeline plans its SQL and commits to disk.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A pipeline's state as `GET /pipelines` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// Its id.
    pub id: String,
    /// `running`, `stopped` or `failed`.
    pub status: String,
}

/// The REST API of one server, over a connection kept alive between requests.
#[derive(Debug, Clone)]
pub struct Api {
    client: Client,
    base: String,
}

impl Api {
    /// A client of the server at `base`, e.g. `http://127.0.0.1:8080`.
    ///
    /// # Errors
    /// When the HTTP client cannot be built.
    pub fn new(base: &str) -> Result<Self> {
        let client = Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(|error| Error::Api {
                request: format!("connecting to {base}"),
                message: error.to_string(),
            })?;
        Ok(Self {
            client,
            base: base.trim_end_matches('/').to_owned(),
        })
    }

    /// Whether `GET /healthz` answers 200.
    pub async fn healthy(&self) -> bool {
        let url = format!("{}/healthz", self.base);
        let answer = self.client.get(url).send().await;
        answer.is_ok_and(|response| response.status() == StatusCode::OK)
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

    /// `DELETE /pipelines/:id`.
    ///
    /// # Errors
    /// When the request fails or is refused.
    pub async fn delete_pipeline(&self, id: &str) -> Result<Value> {
        let path = format!("/pipelines/{id}");
        self.call(Method::DELETE, &path, None).await
    }

    /// `GET /pipelines/:id/status`.
    ///
    /// # Errors
    /// When the request fails or is refused.
    pub async fn status(&self, id: &str) -> Result<Value> {
        let path = format!("/pipelines/{id}/status");
        self.call(Method::GET, &path, None).await
    }

    /// `GET /pipelines`: every pipeline's id and state.
    ///
    /// # Errors
    /// When the request fails or is refused, or the answer is not a list of pipelines.
    pub async fn list_pipelines(&self) -> Result<Vec<Listed>> {
        let list = self.call(Method::GET, "/pipelines", None).await?;
        let items = list.as_array().ok_or_else(|| Error::Api {
            request: "GET /pipelines".to_owned(),
            message: format!("expected a list, got {list}"),
        })?;
        Ok(items
            .iter()
            .map(|item| Listed {
                id: text(&item["id"]),
                status: text(&item["status"]),
            })
            .collect())
    }

    async fn call(&self, method: Method, path: &str, body: Option<&Value>) -> Result<Value> {
        let request = format!("{method} {path}");
        let failed = |message: String| Error::Api {
            request: request.clone(),
            message,
        };
        let mut builder = self
            .client
            .request(method.clone(), format!("{}{path}", self.base));
        if let Some(body) = body {
            builder = builder.json(body);
        }
        let response = builder
            .send()
            .await
            .map_err(|error| failed(error.to_string()))?;
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|error| failed(error.to_string()))?;
        if !status.is_success() {
            return Err(failed(format!("{status}: {text}")));
        }
        serde_json::from_str(&text).map_err(|error| failed(format!("{error} in {text}")))
    }
}

/// A stage's counter from a pipeline status: `records_in` of the stage named `stage` (or of
/// the last stage, the sink, when `stage` is `None`).
pub fn stage_counter(status: &Value, stage: Option<&str>, counter: &str) -> Option<u64> {
    let stages = status["stages"].as_array()?;
    let found = match stage {
        Some(name) => stages.iter().find(|item| item["processor_id"] == name)?,
        None => stages.last()?,
    };
    found["stats"][counter].as_u64()
}

/// Whether every connection of a pipeline status is up (and there is at least one).
pub fn all_connected(status: &Value) -> bool {
    status["connectors"].as_array().is_some_and(|connectors| {
        !connectors.is_empty()
            && connectors
                .iter()
                .all(|connector| connector["connected"] == true)
    })
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn status() -> Value {
        json!({
            "state": "running",
            "stages": [
                {"processor_id": "source", "stats": {"records_in": 100, "records_out": 100}},
                {"processor_id": "plan", "stats": {"records_in": 100, "records_out": 50}},
                {"processor_id": "mqtt_0", "stats": {"records_in": 50, "records_out": 50}}
            ],
            "connectors": [
                {"name": "source", "connected": true, "reconnects": 0},
                {"name": "mqtt_0", "connected": false, "reconnects": 1}
            ]
        })
    }

    #[test]
    fn counters_are_read_by_stage() {
        let status = status();
        assert_eq!(
            stage_counter(&status, Some("source"), "records_in"),
            Some(100)
        );
        assert_eq!(
            stage_counter(&status, Some("plan"), "records_out"),
            Some(50)
        );
        assert_eq!(stage_counter(&status, None, "records_in"), Some(50));
        assert_eq!(stage_counter(&status, Some("nope"), "records_in"), None);
        assert_eq!(stage_counter(&json!({}), None, "records_in"), None);
    }

    #[test]
    fn a_pipeline_is_connected_when_every_connection_is() {
        let mut status = status();
        assert!(!all_connected(&status));
        status["connectors"][1]["connected"] = json!(true);
        assert!(all_connected(&status));
        assert!(!all_connected(&json!({"connectors": []})));
    }
}
