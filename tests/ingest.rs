//! Streams of type `http`: messages posted to `POST /streams/<name>/ingest` over real HTTP,
//! with backpressure (429 and `Retry-After`) when a pipeline's queue is full.

mod support;

use serde_json::json;
use support::{Server, Subscriber, broker_url, options, unique_topic, wait_until};

fn http_stream(name: &str) -> serde_json::Value {
    json!({"name": name, "type": "http",
        "schema": {"type": "json", "props": {"columns": [
            {"name": "device", "data_type": "string"}, {"name": "temp", "data_type": "float64"}]}}})
}

/// Posts `body` to stream `stream` as `content_type`.
async fn post(
    server: &Server,
    stream: &str,
    content_type: &str,
    body: &str,
) -> (u16, Option<String>, serde_json::Value) {
    let path = format!("/streams/{stream}/ingest");
    server.post_body(&path, content_type, body).await
}

#[tokio::test]
async fn posted_objects_arrays_and_json_lines_reach_the_pipeline_and_bad_rows_are_counted() {
    let broker = broker_url();
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]).await;
    assert_eq!(
        server
            .post("/streams", Some(&http_stream("posted")))
            .await
            .0,
        201
    );
    let (status, _, body) = post(&server, "posted", "application/json", r#"{"temp": 1}"#).await;
    assert_eq!(status, 409, "no pipeline reads it yet: {body}");
    let output = unique_topic("ingest-out");
    let pipeline = json!({"id": "warm", "sql": "SELECT device, temp FROM posted WHERE temp > 20",
        "sinks": [{"type": "mqtt", "props": {"broker_url": broker, "topic": output, "qos": 1}}]});
    assert_eq!(server.post("/pipelines", Some(&pipeline)).await.0, 201);
    assert_eq!(server.post("/pipelines/warm/start", None).await.0, 200);
    let subscriber = Subscriber::start(&broker, &output).await;
    let object = post(
        &server,
        "posted",
        "application/json",
        r#"{"device": "a", "temp": 21}"#,
    )
    .await;
    assert_eq!((object.0, object.2["accepted"].as_u64()), (202, Some(1)));
    let array = r#"[{"device": "b", "temp": 22}, {"device": "c", "temp": "hot"}, {"device": "d", "temp": 5}]"#;
    let array = post(&server, "posted", "application/json", array).await;
    assert_eq!((array.0, array.2["accepted"].as_u64()), (202, Some(3)));
    let lines =
        "{\"device\": \"e\", \"temp\": 23}\n{not json\n\n{\"device\": \"f\", \"temp\": 24}\n";
    let lines = post(&server, "posted", "application/x-ndjson", lines).await;
    assert_eq!((lines.0, lines.2["accepted"].as_u64()), (202, Some(3)));
    let received = subscriber.wait_for(4).await;
    assert_eq!(
        received,
        [
            r#"{"device":"a","temp":21.0}"#,
            r#"{"device":"b","temp":22.0}"#,
            r#"{"device":"e","temp":23.0}"#,
            r#"{"device":"f","temp":24.0}"#,
        ]
    );
    wait_until("the two bad messages are counted", async || {
        server.stage("warm", "source").await["error_count"] == 2
    })
    .await;
    let broken = post(&server, "posted", "application/json", r#"[{"temp": 1},"#).await;
    assert_eq!(broken.0, 400, "{}", broken.2);
    assert!(
        broken.2["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("body: ")
    );
    assert_eq!(post(&server, "posted", "text/csv", "a,b").await.0, 415);
    assert_eq!(
        post(&server, "nowhere", "application/json", "{}").await.0,
        404
    );
}

#[tokio::test]
async fn a_full_queue_answers_429_with_retry_after_and_takes_nothing() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_configured(data.path(), "runtime:\n  channel_capacity: 4\n").await;
    assert_eq!(
        server.post("/streams", Some(&http_stream("slow"))).await.0,
        201
    );
    // A sink whose broker never answers: the pipeline stops taking messages once its sink's
    // queue is full.
    let pipeline = json!({"id": "stuck", "sql": "SELECT device FROM slow",
        "sinks": [{"type": "mqtt", "props": {"broker_url": "tcp://127.0.0.1:1", "topic": "t", "qos": 1}}]});
    assert_eq!(server.post("/pipelines", Some(&pipeline)).await.0, 201);
    assert_eq!(server.post("/pipelines/stuck/start", None).await.0, 200);
    let too_many = format!("[{}]", [r#"{"device": "x"}"#; 5].join(","));
    let (status, _, body) = post(&server, "slow", "application/json", &too_many).await;
    assert_eq!(status, 413, "more than the queue can ever hold: {body}");
    let mut refused = None;
    for _ in 0..100_000 {
        let (status, retry_after, body) =
            post(&server, "slow", "application/json", r#"{"device": "x"}"#).await;
        if status == 429 {
            refused = Some((retry_after, body));
            break;
        }
        assert_eq!(status, 202, "{body}");
    }
    let (retry_after, body) = refused.expect("the queue fills up and says so");
    assert_eq!(retry_after.as_deref(), Some("1"));
    assert!(
        body["error"]["message"].as_str().unwrap().contains("full"),
        "{body}"
    );
}

#[tokio::test]
async fn a_log_sink_writes_each_row_to_the_servers_log() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_with(data.path(), &options(&[]).with_log_level("info")).await;
    assert_eq!(
        server.post("/streams", Some(&http_stream("tried"))).await.0,
        201
    );
    let pipeline = json!({"id": "try_out", "sql": "SELECT device, temp * 2 AS double FROM tried",
        "sinks": [{"id": "shown", "type": "log"}]});
    assert_eq!(server.post("/pipelines", Some(&pipeline)).await.0, 201);
    assert_eq!(server.post("/pipelines/try_out/start", None).await.0, 200);
    let body = r#"[{"device": "d7", "temp": 1.25}, {"device": "d8"}]"#;
    assert_eq!(
        post(&server, "tried", "application/json", body).await.0,
        202
    );
    wait_until("both rows are in the log", async || {
        let log = server.log();
        log.contains(r#"{"device":"d7","double":2.5}"#)
            && log.contains(r#"{"device":"d8","double":null}"#)
    })
    .await;
    let instance = server.get("/healthz").await.1["instance_id"].clone();
    let sink = format!(
        "veloflux-{}-try_out-shown",
        instance.as_str().unwrap_or_default()
    );
    assert!(server.log().contains(&sink), "the sink is named {sink}");
}
