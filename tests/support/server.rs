//! The server binary of this crate, launched by the test kit, with requests answered as a
//! status and a JSON body so that a test can assert on both.

use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitStatus;

use serde_json::Value;
use veloflux_testkit::ServerOptions;

/// The launch options of this crate's binary with `extra` arguments.
pub(crate) fn options(extra: &[&str]) -> ServerOptions {
    ServerOptions::new(env!("CARGO_BIN_EXE_veloFlux")).with_args(extra)
}

/// The veloFlux binary, running.
pub(crate) struct Server {
    inner: veloflux_testkit::Server,
    pub(crate) addr: SocketAddr,
}

impl Server {
    /// Starts the server over `data_dir` with `extra` arguments and waits until it serves.
    pub(crate) async fn start(data_dir: &Path, extra: &[&str]) -> Self {
        Self::start_with(data_dir, &options(extra)).await
    }

    /// Starts the server over `data_dir` with the configuration file `yaml` (written beside
    /// it) and waits until it serves.
    pub(crate) async fn start_configured(data_dir: &Path, yaml: &str) -> Self {
        std::fs::create_dir_all(data_dir).unwrap();
        let config = data_dir.join("config.yaml");
        std::fs::write(&config, yaml).unwrap();
        Self::start(data_dir, &["--config", config.to_str().unwrap()]).await
    }

    /// Starts the server over `data_dir` as `options` say and waits until it serves.
    pub(crate) async fn start_with(data_dir: &Path, options: &ServerOptions) -> Self {
        let inner = veloflux_testkit::Server::start_in(options, data_dir)
            .await
            .unwrap_or_else(|error| panic!("{error}"));
        let addr = inner.addr();
        Self { inner, addr }
    }

    /// Sends `token` with every request from now on (`None`: no token).
    pub(crate) fn with_token(&mut self, token: Option<&str>) {
        self.inner.api_mut().set_token(token);
    }

    /// `GET path`: the status and the JSON (or text) answer.
    pub(crate) async fn get(&self, path: &str) -> (u16, Value) {
        self.send(reqwest::Method::GET, path, None).await
    }

    /// `POST path` with an optional JSON body.
    pub(crate) async fn post(&self, path: &str, body: Option<&Value>) -> (u16, Value) {
        self.send(reqwest::Method::POST, path, body).await
    }

    /// Any request with an optional JSON body; status 0 when the server cannot be reached.
    pub(crate) async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> (u16, Value) {
        match self.inner.api().request(method, path, body).await {
            Ok(reply) => (reply.status, reply.body),
            Err(_) => (0, Value::Null),
        }
    }

    /// `POST path` with `body` as `content_type`: the status, the `Retry-After` header and
    /// the JSON answer.
    pub(crate) async fn post_body(
        &self,
        path: &str,
        content_type: &str,
        body: &str,
    ) -> (u16, Option<String>, Value) {
        let response = reqwest::Client::new()
            .post(format!("http://{}{path}", self.addr))
            .header("Content-Type", content_type)
            .body(body.to_owned())
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .map(|value| value.to_str().unwrap().to_owned());
        (
            status,
            retry_after,
            response.json().await.unwrap_or_default(),
        )
    }

    /// A pipeline's counters for one stage (`source`, `plan`, or a sink's name); null while
    /// there are none.
    pub(crate) async fn stage(&self, pipeline: &str, stage: &str) -> Value {
        let stats = self.inner.api().stage_stats(pipeline, stage).await;
        stats.ok().flatten().unwrap_or(Value::Null)
    }

    /// Whether every connection of pipeline `id` is up.
    pub(crate) async fn all_connected(&self, id: &str) -> bool {
        let (_, status) = self.get(&format!("/pipelines/{id}/status")).await;
        let connectors = status["connectors"].as_array().cloned().unwrap_or_default();
        !connectors.is_empty()
            && connectors
                .iter()
                .all(|connector| connector["connected"] == true)
    }

    /// What the server has logged so far.
    pub(crate) fn log(&self) -> String {
        self.inner.stderr().unwrap()
    }

    /// Freezes the process (SIGSTOP), as a hung process or a paused machine is: it reads
    /// nothing and its connections stay open.
    pub(crate) fn freeze(&mut self) {
        let frozen = self.inner.signal(veloflux_testkit::Signal::Stop);
        frozen.unwrap_or_else(|error| panic!("{error}"));
    }

    /// Kills the process at once, as a power cut would.
    pub(crate) fn kill(mut self) {
        self.inner.kill().unwrap_or_else(|error| panic!("{error}"));
    }

    /// Sends SIGTERM and waits for the process to exit.
    pub(crate) async fn terminate(mut self) -> ExitStatus {
        let stopped = self.inner.terminate().await;
        stopped.unwrap_or_else(|error| panic!("{error}")).status
    }
}
