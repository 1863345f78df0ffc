//! Sink batching (`common_sink_props`): rows are held until `batch_count` of them are, or the
//! first has waited `batch_duration` ms, then sent together: with the json encoder's array
//! format, one message (here one line of a file) per batch.

mod support;

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};
use support::{Server, wait_until};

/// The lines of `path` so far, parsed; none when it does not exist yet.
fn lines(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .map(|line| serde_json::from_str(line).unwrap_or(Value::Null))
        .collect()
}

async fn pipeline_into_file(server: &Server, id: &str, file: &Path, batching: Value) {
    let stream = json!({"name": id, "type": "http",
        "schema": {"type": "json", "props": {"columns": [{"name": "n", "data_type": "int64"}]}}});
    assert_eq!(server.post("/streams", Some(&stream)).await.0, 201);
    let pipeline = json!({"id": id, "sql": format!("SELECT n FROM {id}"),
        "sinks": [{"type": "file", "props": {"path": file},
                   "encoder": {"type": "json", "props": {"format": "array"}},
                   "common_sink_props": batching}]});
    let (status, body) = server.post("/pipelines", Some(&pipeline)).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        server.post(&format!("/pipelines/{id}/start"), None).await.0,
        200
    );
}

async fn post(server: &Server, stream: &str, n: i64) {
    let path = format!("/streams/{stream}/ingest");
    let body = json!({"n": n}).to_string();
    assert_eq!(
        server.post_body(&path, "application/json", &body).await.0,
        202
    );
}

#[tokio::test]
async fn rows_wait_for_the_batch_duration_and_leave_as_one_write() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]).await;
    let file = data.path().join("lingered.jsonl");
    pipeline_into_file(&server, "lingered", &file, json!({"batch_duration": 1500})).await;
    for n in 1..=5 {
        post(&server, "lingered", n).await;
    }
    assert!(
        lines(&file).is_empty(),
        "nothing is written before the batch is due"
    );
    wait_until("the batch is written", async || !lines(&file).is_empty()).await;
    assert_eq!(
        lines(&file),
        [json!([{"n": 1}, {"n": 2}, {"n": 3}, {"n": 4}, {"n": 5}])]
    );
}

#[tokio::test]
async fn a_full_batch_leaves_at_once_and_a_stop_sends_what_is_held() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]).await;
    let file = data.path().join("counted.jsonl");
    let batching = json!({"batch_count": 2, "batch_duration": 60_000});
    pipeline_into_file(&server, "counted", &file, batching).await;
    post(&server, "counted", 1).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(lines(&file).is_empty(), "one row of two is held");
    post(&server, "counted", 2).await;
    wait_until("the full batch is written", async || {
        !lines(&file).is_empty()
    })
    .await;
    assert_eq!(lines(&file), [json!([{"n": 1}, {"n": 2}])]);
    post(&server, "counted", 3).await;
    assert_eq!(server.post("/pipelines/counted/stop", None).await.0, 200);
    assert_eq!(
        lines(&file),
        [json!([{"n": 1}, {"n": 2}]), json!([{"n": 3}])]
    );
}
