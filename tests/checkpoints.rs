//! The life of a pipeline's state through the REST API, on the real server over real MQTT:
//! a count window half filled survives a stop and start and a server restart; a PUT that
//! changes the statement discards it and says so; a deleted pipeline's state is gone with it.
//! Status and metrics show the checkpoints.

#![expect(clippy::unwrap_used, reason = "a test: a failure is a failed test")]

mod support;

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};
use support::{Server, Subscriber, broker_url, pipeline_spec, publish, unique_topic, wait_until};

const CONFIG: &str = "runtime:\n  checkpoint_interval_ms: 100\n";
const ID: &str = "counts";

fn readings(broker: &str, topic: &str) -> Value {
    json!({
        "name": "readings",
        "type": "mqtt",
        "schema": {"type": "json", "props": {"columns": [
            {"name": "device", "data_type": "string"},
            {"name": "temp", "data_type": "int64"}
        ]}},
        "props": {"broker_url": broker, "topic": topic, "qos": 1}
    })
}

fn counting(every: usize, broker: &str, output: &str) -> Value {
    let sql = format!(
        "SELECT count(*) AS n, sum(temp) AS total FROM readings GROUP BY COUNTWINDOW({every})"
    );
    pipeline_spec(ID, &sql, broker, output)
}

async fn start(data: &Path) -> Server {
    Server::start_configured(data, CONFIG).await
}

/// Publishes readings of `temps`, one message each.
async fn send(broker: &str, input: &str, temps: &[i64]) {
    let payloads: Vec<String> = temps
        .iter()
        .map(|temp| format!(r#"{{"device": "a", "temp": {temp}}}"#))
        .collect();
    let payloads: Vec<&str> = payloads.iter().map(String::as_str).collect();
    publish(broker, input, &payloads).await;
}

async fn status(server: &Server) -> Value {
    server.get(&format!("/pipelines/{ID}/status")).await.1
}

async fn checkpoints(server: &Server) -> u64 {
    status(server).await["checkpoint"]["count"]
        .as_u64()
        .unwrap_or(0)
}

/// Sends readings of `temps` and waits until a checkpoint holds them.
async fn send_checkpointed(server: &Server, broker: &str, input: &str, temps: &[i64]) {
    let before = checkpoints(server).await;
    send(broker, input, temps).await;
    wait_until("a checkpoint of what was sent", async || {
        checkpoints(server).await > before
    })
    .await;
}

async fn start_pipeline(server: &Server) {
    let path = format!("/pipelines/{ID}/start");
    let (code, body) = server.post(&path, None).await;
    assert_eq!(code, 200, "{body}");
    wait_until("the pipeline runs", async || server.all_connected(ID).await).await;
}

/// The windows that came out, as `(n, total)`.
fn windows(subscriber: &Subscriber) -> Vec<(i64, i64)> {
    subscriber
        .messages()
        .iter()
        .map(|message| serde_json::from_str::<Value>(message).unwrap())
        .map(|row| (row["n"].as_i64().unwrap(), row["total"].as_i64().unwrap()))
        .collect()
}

async fn expect_windows(subscriber: &Subscriber, expected: &[(i64, i64)]) {
    subscriber.wait_for(expected.len()).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(windows(subscriber), expected);
}

#[tokio::test]
async fn a_half_filled_window_survives_stop_start_and_restart_and_goes_with_a_new_statement() {
    let broker = broker_url();
    let data = tempfile::tempdir().unwrap();
    let (input, output) = (unique_topic("ckpt-in"), unique_topic("ckpt-out"));
    let mut server = start(data.path()).await;
    assert_eq!(
        server
            .post("/streams", Some(&readings(&broker, &input)))
            .await
            .0,
        201
    );
    let (code, body) = server
        .post("/pipelines", Some(&counting(4, &broker, &output)))
        .await;
    assert_eq!(code, 201, "{body}");
    start_pipeline(&server).await;
    let subscriber = Subscriber::start(&broker, &output).await;

    // Stop and start mid-window: the three rows taken before count in the window.
    send_checkpointed(&server, &broker, &input, &[1, 2, 3]).await;
    let stopped = server.post(&format!("/pipelines/{ID}/stop"), None).await;
    assert_eq!(stopped.0, 200, "{}", stopped.1);
    start_pipeline(&server).await;
    send(&broker, &input, &[4]).await;
    expect_windows(&subscriber, &[(4, 10)]).await;

    // A server restart (SIGTERM) mid-window: the same.
    send_checkpointed(&server, &broker, &input, &[10, 20]).await;
    let exit = server.terminate().await;
    assert!(exit.success(), "{exit:?}");
    server = start(data.path()).await;
    wait_until("the pipeline is back", async || {
        server.all_connected(ID).await
    })
    .await;
    send(&broker, &input, &[30, 40]).await;
    expect_windows(&subscriber, &[(4, 10), (4, 100)]).await;
    let metrics = server.get("/metrics").await.1;
    let metrics = metrics.as_str().unwrap_or_default();
    assert!(
        metrics.contains(&format!("veloflux_checkpoints_total{{pipeline=\"{ID}\"}}")),
        "{metrics}"
    );
    let checkpoint = &status(&server).await["checkpoint"];
    assert!(checkpoint["bytes"].as_u64().unwrap() > 0, "{checkpoint}");
    assert!(checkpoint["age_ms"].as_u64().is_some(), "{checkpoint}");

    // A PUT that changes the statement discards the state, and status says so.
    send_checkpointed(&server, &broker, &input, &[100]).await;
    let (code, body) = server
        .send(
            reqwest::Method::PUT,
            &format!("/pipelines/{ID}"),
            Some(&counting(2, &broker, &output)),
        )
        .await;
    assert_eq!(code, 200, "{body}");
    let warnings = status(&server).await["warnings"].to_string();
    assert!(warnings.contains("statement changed"), "{warnings}");
    send(&broker, &input, &[1000, 2000]).await;
    expect_windows(&subscriber, &[(4, 10), (4, 100), (2, 3000)]).await;

    // A deleted pipeline's state goes with it: the same pipeline created again starts empty.
    send_checkpointed(&server, &broker, &input, &[5]).await;
    let deleted = server
        .send(reqwest::Method::DELETE, &format!("/pipelines/{ID}"), None)
        .await;
    assert_eq!(deleted.0, 200, "{}", deleted.1);
    let (code, body) = server
        .post("/pipelines", Some(&counting(2, &broker, &output)))
        .await;
    assert_eq!(code, 201, "{body}");
    start_pipeline(&server).await;
    send(&broker, &input, &[7, 8]).await;
    expect_windows(&subscriber, &[(4, 10), (4, 100), (2, 3000), (2, 15)]).await;
}
