//! What the end-to-end tests stand on: the real server binary on a free port, a broker
//! (in-process by default, the one `VELOFLUX_TEST_MQTT` names otherwise, or a separate
//! broker process that a test may kill), an HTTP client and an MQTT subscriber.
//!
//! Every test binary includes it and uses part of it; a failure here is a failed test.

#![allow(
    dead_code,
    unused_imports,
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "shared by several test binaries, each using part of it; a failure is a failed test"
)]

mod fixture;
mod mosquitto;
mod throttle;

use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use serde_json::Value;

pub(crate) use fixture::{Filtering, filtering, filtering_pipeline, filtering_pipeline_at};
pub(crate) use mosquitto::Mosquitto;
pub(crate) use throttle::throttled_proxy;

/// How long a test waits for something that should happen.
pub(crate) const DEADLINE: Duration = Duration::from_secs(20);

/// A port nobody listens on right now.
pub(crate) fn free_addr() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("its address")
}

/// A topic no other test uses.
pub(crate) fn unique_topic(name: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!(
        "veloflux-test/{}/{name}/{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// The broker URL tests use: `VELOFLUX_TEST_MQTT`, or an in-process broker started once.
pub(crate) fn broker_url() -> String {
    static IN_PROCESS: OnceLock<String> = OnceLock::new();
    if let Ok(url) = std::env::var("VELOFLUX_TEST_MQTT") {
        return url;
    }
    IN_PROCESS
        .get_or_init(|| {
            let addr = free_addr();
            veloflux::broker::start(addr).expect("an in-process broker");
            format!("tcp://{addr}")
        })
        .clone()
}

/// Waits until `condition` holds, polling; panics with `what` after [`DEADLINE`].
pub(crate) async fn wait_until(what: &str, mut condition: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + DEADLINE;
    while Instant::now() < deadline {
        if condition().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting until {what}");
}

/// Runs the server until it exits by itself (as it does when it cannot start) and returns
/// how it exited and what it wrote to stderr.
pub(crate) fn run_to_exit(data_dir: &Path) -> (ExitStatus, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_veloFlux"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(["--manager-addr", &free_addr().to_string()])
        .output()
        .expect("the server runs");
    (
        output.status,
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The veloFlux binary, running.
pub(crate) struct Server {
    child: Child,
    pub(crate) addr: SocketAddr,
    http: reqwest::Client,
    /// Sent as `Authorization: Bearer <token>` with every request.
    token: Option<String>,
}

impl Server {
    /// Starts the server over `data_dir` with `extra` arguments and waits until it serves.
    pub(crate) async fn start(data_dir: &Path, extra: &[&str]) -> Self {
        let addr = free_addr();
        let child = Command::new(env!("CARGO_BIN_EXE_veloFlux"))
            .arg("--data-dir")
            .arg(data_dir)
            .args(["--manager-addr", &addr.to_string(), "--log-level", "warn"])
            .args(extra)
            .env_remove("VELOFLUX_SERVER__MANAGER_ADDR")
            .stdout(Stdio::null())
            .spawn()
            .expect("the server starts");
        let server = Self {
            child,
            addr,
            http: reqwest::Client::new(),
            token: None,
        };
        wait_until("the server answers /healthz", async || {
            server.get("/healthz").await.0 == 200
        })
        .await;
        server
    }

    /// Sends `token` with every request from now on (`None`: no token).
    pub(crate) fn with_token(&mut self, token: Option<&str>) {
        self.token = token.map(str::to_owned);
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
        let mut request = self
            .http
            .request(method, format!("http://{}{path}", self.addr));
        if let Some(body) = body {
            request = request.json(body);
        }
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        let Ok(response) = request.send().await else {
            return (0, Value::Null);
        };
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// A pipeline's counters for one stage (`source`, `plan`, or a sink's name).
    pub(crate) async fn stage(&self, pipeline: &str, stage: &str) -> Value {
        let (_, stages) = self.get(&format!("/pipelines/{pipeline}/stats")).await;
        let stages = stages.as_array().cloned().unwrap_or_default();
        stages
            .into_iter()
            .find(|entry| entry["processor_id"] == stage)
            .map(|entry| entry["stats"].clone())
            .unwrap_or(Value::Null)
    }

    /// Kills the process at once, as a power cut would.
    pub(crate) fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Sends SIGTERM and waits for the process to exit.
    pub(crate) fn terminate(mut self) -> ExitStatus {
        let pid = self.child.id().to_string();
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill runs");
        self.child.wait().expect("the server exits")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Messages received on a topic, collected in the background by a client that reconnects
/// and resubscribes on its own.
pub(crate) struct Subscriber {
    received: Arc<Mutex<Vec<String>>>,
    subscribed: Arc<Mutex<bool>>,
    task: tokio::task::JoinHandle<()>,
}

impl Subscriber {
    /// Subscribes to `topic` on `broker_url` and waits until the broker confirmed.
    pub(crate) async fn start(broker_url: &str, topic: &str) -> Self {
        Self::start_with(options(broker_url, "sub"), topic).await
    }

    /// [`Self::start`] with a persistent session: the broker keeps what is published while
    /// the connection is down (and, if it persists, across its own restarts).
    pub(crate) async fn start_persistent(broker_url: &str, topic: &str) -> Self {
        let mut options = options(broker_url, "persistent-sub");
        options.set_clean_session(false);
        Self::start_with(options, topic).await
    }

    async fn start_with(options: MqttOptions, topic: &str) -> Self {
        let received = Arc::<Mutex<Vec<String>>>::default();
        let subscribed = Arc::<Mutex<bool>>::default();
        let (client, mut events) = AsyncClient::new(options, 64);
        let (sink, flag, topic) = (received.clone(), subscribed.clone(), topic.to_owned());
        let task = tokio::spawn(async move {
            loop {
                match events.poll().await {
                    Ok(Event::Incoming(Packet::ConnAck(_))) => {
                        let _ = client.try_subscribe(&topic, QoS::AtLeastOnce);
                    }
                    Ok(Event::Incoming(Packet::SubAck(_))) => *flag.lock().unwrap() = true,
                    Ok(Event::Incoming(Packet::Publish(publish))) => sink
                        .lock()
                        .unwrap()
                        .push(String::from_utf8_lossy(&publish.payload).into_owned()),
                    Ok(_) => {}
                    Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                }
            }
        });
        let subscriber = Self {
            received,
            subscribed,
            task,
        };
        let flag = subscriber.subscribed.clone();
        wait_until("the subscription is confirmed", async || {
            *flag.lock().unwrap()
        })
        .await;
        subscriber
    }

    /// Waits until at least `count` messages arrived and returns all of them.
    pub(crate) async fn wait_for(&self, count: usize) -> Vec<String> {
        let received = self.received.clone();
        wait_until(&format!("{count} messages arrive"), async || {
            received.lock().unwrap().len() >= count
        })
        .await;
        self.messages()
    }

    /// The messages received so far.
    pub(crate) fn messages(&self) -> Vec<String> {
        self.received.lock().unwrap().clone()
    }
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Publishes `payloads` to `topic` at QoS 1 and waits until the broker acknowledged each.
pub(crate) async fn publish(broker_url: &str, topic: &str, payloads: &[&str]) {
    let payloads: Vec<Vec<u8>> = payloads
        .iter()
        .map(|payload| payload.as_bytes().to_vec())
        .collect();
    publish_bytes(broker_url, topic, &payloads).await;
}

/// [`publish`] for payloads that need not be text.
pub(crate) async fn publish_bytes(broker_url: &str, topic: &str, payloads: &[Vec<u8>]) {
    let (client, mut events) = AsyncClient::new(options(broker_url, "pub"), 64);
    let (topic, to_send) = (topic.to_owned(), payloads.to_vec());
    // Sending waits for room in the client's queue, which only polling the events empties.
    let sender = tokio::spawn(async move {
        for payload in to_send {
            client
                .publish(&topic, QoS::AtLeastOnce, false, payload)
                .await
                .unwrap();
        }
        client
    });
    let mut acknowledged = 0;
    let deadline = Instant::now() + DEADLINE;
    while acknowledged < payloads.len() && Instant::now() < deadline {
        match tokio::time::timeout(DEADLINE, events.poll()).await {
            Ok(Ok(Event::Incoming(Packet::PubAck(_)))) => acknowledged += 1,
            Ok(Ok(_)) => {}
            Ok(Err(_)) => tokio::time::sleep(Duration::from_millis(100)).await,
            Err(_) => break,
        }
    }
    drop(sender.await);
    assert_eq!(
        acknowledged,
        payloads.len(),
        "the broker acknowledged every message"
    );
}

fn options(broker_url: &str, role: &str) -> MqttOptions {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let address = broker_url
        .split_once("://")
        .map_or(broker_url, |(_, rest)| rest);
    let (host, port) = address.rsplit_once(':').expect("host:port");
    let id = format!(
        "test-{role}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let mut options = MqttOptions::new(id, host, port.parse().expect("a port"));
    options.set_keep_alive(Duration::from_secs(5));
    options.set_max_packet_size(32 << 20, 32 << 20);
    options
}

/// Publishes `payloads` at QoS 1 from one client, `per_tick` every `tick`, riding out broker
/// restarts (the client sends again what was not acknowledged); resolves to how many the
/// broker acknowledged once all were.
pub(crate) fn steady_publisher(
    broker_url: &str,
    topic: &str,
    payloads: Vec<String>,
    (per_tick, tick): (usize, Duration),
) -> tokio::task::JoinHandle<usize> {
    let (client, mut events) = AsyncClient::new(options(broker_url, "steady-pub"), 1024);
    let topic = topic.to_owned();
    let total = payloads.len();
    tokio::spawn(async move {
        let sender = tokio::spawn(async move {
            for chunk in payloads.chunks(per_tick.max(1)) {
                for payload in chunk {
                    let _ = client
                        .publish(
                            &topic,
                            QoS::AtLeastOnce,
                            false,
                            payload.clone().into_bytes(),
                        )
                        .await;
                }
                tokio::time::sleep(tick).await;
            }
            client
        });
        let mut acknowledged = 0;
        while acknowledged < total {
            match events.poll().await {
                Ok(Event::Incoming(Packet::PubAck(_))) => acknowledged += 1,
                Ok(_) => {}
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
        drop(sender.await);
        acknowledged
    })
}

/// The JSON body of a stream reading `topic` with the reference columns.
pub(crate) fn stream_spec(name: &str, broker_url: &str, topic: &str, shared: bool) -> Value {
    serde_json::json!({
        "name": name,
        "type": "mqtt",
        "shared": shared,
        "schema": {"type": "json", "props": {"columns": [
            {"name": "user_id", "data_type": "int64"},
            {"name": "score", "data_type": "float64"}
        ]}},
        "props": {"broker_url": broker_url, "topic": topic, "qos": 1}
    })
}

/// The JSON body of a pipeline running `sql` into an MQTT sink on `topic`.
pub(crate) fn pipeline_spec(id: &str, sql: &str, broker_url: &str, topic: &str) -> Value {
    serde_json::json!({
        "id": id,
        "sql": sql,
        "sinks": [{"type": "mqtt", "props": {"broker_url": broker_url, "topic": topic, "qos": 1}}]
    })
}
