//! The HTTP sink in the real server: a pipeline from an MQTT stream (QoS 1) to a webhook in
//! the test that fails for its first seconds, then recovers. Nothing is lost meanwhile.

#![expect(clippy::unwrap_used, reason = "a test: a failure is a failed test")]

mod support;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};
use support::{Server, broker_url, publish, stream_spec, unique_topic, wait_until};

/// How long the webhook fails after the first request it gets.
const OUTAGE: Duration = Duration::from_secs(2);

/// A webhook that answers 500 until told to recover, keeping the bodies it answered 200.
#[derive(Clone, Default)]
struct Webhook {
    healthy: Arc<AtomicBool>,
    failures: Arc<Mutex<Vec<Instant>>>,
    delivered: Arc<Mutex<Vec<Value>>>,
}

impl Webhook {
    async fn start(&self) -> SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = Router::new().fallback(answer).with_state(self.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        addr
    }

    /// The `user_id` of every row delivered, in order.
    fn user_ids(&self) -> Vec<i64> {
        let batches = self.delivered.lock().unwrap().clone();
        let rows = batches.into_iter().flat_map(|batch| match batch {
            Value::Array(rows) => rows,
            row => vec![row],
        });
        rows.map(|row| row["user_id"].as_i64().unwrap()).collect()
    }

    fn first_failure(&self) -> Option<Instant> {
        self.failures.lock().unwrap().first().copied()
    }
}

async fn answer(State(webhook): State<Webhook>, body: Bytes) -> StatusCode {
    if !webhook.healthy.load(Ordering::Relaxed) {
        webhook.failures.lock().unwrap().push(Instant::now());
        return StatusCode::INTERNAL_SERVER_ERROR;
    }
    let batch = serde_json::from_slice(&body).unwrap();
    webhook.delivered.lock().unwrap().push(batch);
    StatusCode::OK
}

#[tokio::test]
async fn a_webhook_down_for_seconds_gets_every_row_in_order_once_it_recovers() {
    let broker = broker_url();
    let webhook = Webhook::default();
    let addr = webhook.start().await;
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]).await;
    let input = unique_topic("http-in");
    let stream = stream_spec("http_readings", &broker, &input, false);
    assert_eq!(server.post("/streams", Some(&stream)).await.0, 201);
    let pipeline = json!({
        "id": "to-webhook",
        "sql": "SELECT user_id, score FROM http_readings",
        "sinks": [{
            "type": "http",
            "props": {"url": format!("http://{addr}/hook"), "retry_max_ms": 200},
            "encoder": {"type": "json", "props": {"format": "array"}}
        }]
    });
    assert_eq!(server.post("/pipelines", Some(&pipeline)).await.0, 201);
    assert_eq!(
        server.post("/pipelines/to-webhook/start", None).await.0,
        200
    );
    wait_until("the pipeline subscribes", async || {
        server.stage("to-webhook", "source").await.is_object()
    })
    .await;

    let rows: Vec<String> = (0..50)
        .map(|id| format!(r#"{{"user_id": {id}, "score": {id}}}"#))
        .collect();
    let rows: Vec<&str> = rows.iter().map(String::as_str).collect();
    publish(&broker, &input, &rows).await;
    wait_until("the status shows the webhook failing", async || {
        let status = server.get("/pipelines/to-webhook/status").await.1;
        status["last_error"]
            .as_str()
            .unwrap_or_default()
            .contains("HTTP 500")
    })
    .await;
    let first_failure = webhook.first_failure().unwrap();
    tokio::time::sleep_until((first_failure + OUTAGE).into()).await;
    assert!(webhook.user_ids().is_empty(), "nothing got through yet");
    webhook.healthy.store(true, Ordering::Relaxed);

    wait_until("every row reaches the webhook", async || {
        webhook.user_ids().len() >= rows.len()
    })
    .await;
    assert_eq!(webhook.user_ids(), (0..50).collect::<Vec<_>>());
    let failures = webhook.failures.lock().unwrap().len();
    eprintln!("{failures} requests failed during the outage; all 50 rows arrived once, in order");
    wait_until("the status clears", async || {
        server.get("/pipelines/to-webhook/status").await.1["state"] == "running"
    })
    .await;
}
