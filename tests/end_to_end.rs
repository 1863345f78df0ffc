//! End-to-end tests: the real server binary, real HTTP, real MQTT.

mod support;

use serde_json::{Value, json};
use support::{
    Server, Subscriber, broker_url, curls, filtering_pipeline, filtering_pipeline_at, free_addr,
    pipeline_spec, publish, run_curl_examples, run_to_exit, stream_spec, unique_topic, wait_until,
};

#[tokio::test]
async fn the_readme_quickstart_works_as_written() {
    let broker = broker_url();
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]).await;
    let (input, output) = (unique_topic("yisa-data"), unique_topic("yisa-data2"));
    let curls = curls(include_str!("../README.md"));
    assert!(curls.len() >= 4, "the README shows its curl examples");
    let subscriber = Subscriber::start(&broker, &output).await;
    for curl in curls.iter().filter(|curl| curl.method == "POST") {
        let body = curl.body.as_ref().map(|body| {
            let body = body
                .replace("tcp://127.0.0.1:1883", &broker)
                .replace("\"/yisa/data2\"", &format!("\"{output}\""))
                .replace("\"/yisa/data\"", &format!("\"{input}\""));
            serde_json::from_str::<Value>(&body).expect("the README's JSON parses")
        });
        let (status, answer) = server.post(&curl.path, body.as_ref()).await;
        assert!(
            status == 200 || status == 201,
            "{} {}: {status} {answer}",
            curl.method,
            curl.path
        );
    }
    wait_until("the pipeline's subscription is up", async || {
        server.get("/pipelines/demo-pipeline/status").await.1["state"] == "running"
    })
    .await;
    publish(
        &broker,
        &input,
        &[
            r#"{"user_id": 1, "score": 3.5}"#,
            r#"{"user_id": 2, "score": -1}"#,
        ],
    )
    .await;
    assert_eq!(
        subscriber.wait_for(1).await,
        [r#"{"user_id":1,"score":3.5}"#]
    );
    for curl in curls.iter().filter(|curl| curl.method == "GET") {
        assert_eq!(server.get(&curl.path).await.0, 200, "GET {}", curl.path);
    }
}

#[tokio::test]
async fn a_running_pipeline_resumes_after_the_server_is_killed_and_restarted() {
    let broker = broker_url();
    let data = tempfile::tempdir().unwrap();
    let (input, output) = (unique_topic("in"), unique_topic("out"));
    let server = Server::start(data.path(), &[]).await;
    filtering_pipeline(&server, "resumes", &broker, &input, &output).await;
    server.kill();

    let server = Server::start(data.path(), &[]).await;
    let subscriber = Subscriber::start(&broker, &output).await;
    wait_until("the restored pipeline runs", async || {
        server.get("/pipelines/resumes").await.1["status"] == "running"
    })
    .await;
    // The restored subscription may still be connecting: publish until a row gets through.
    wait_until("a row goes through the restored pipeline", async || {
        publish(&broker, &input, &[r#"{"user_id": 7, "score": 1}"#]).await;
        !subscriber.messages().is_empty()
    })
    .await;
    assert_eq!(subscriber.messages()[0], r#"{"user_id":7,"score":1.0}"#);
}

#[tokio::test]
async fn a_shared_stream_feeds_two_pipelines_from_one_subscription() {
    let broker = broker_url();
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]).await;
    let input = unique_topic("shared-in");
    let (high, all) = (unique_topic("high"), unique_topic("all"));
    let stream = stream_spec("shared_readings", &broker, &input, true);
    assert_eq!(server.post("/streams", Some(&stream)).await.0, 201);
    let pipelines = [
        (
            "high",
            "SELECT user_id FROM shared_readings WHERE score > 10",
            &high,
        ),
        ("all", "SELECT score FROM shared_readings", &all),
    ];
    for (id, sql, output) in pipelines {
        assert_eq!(
            server
                .post("/pipelines", Some(&pipeline_spec(id, sql, &broker, output)))
                .await
                .0,
            201
        );
        assert_eq!(
            server.post(&format!("/pipelines/{id}/start"), None).await.0,
            200
        );
    }
    let (high_out, all_out) = (
        Subscriber::start(&broker, &high).await,
        Subscriber::start(&broker, &all).await,
    );
    wait_until("both pipelines see the shared subscription", async || {
        publish(&broker, &input, &[r#"{"user_id": 1, "score": 20}"#]).await;
        !high_out.messages().is_empty() && !all_out.messages().is_empty()
    })
    .await;
    publish(&broker, &input, &[r#"{"user_id": 2, "score": 5}"#]).await;
    let low = r#"{"score":5.0}"#.to_owned();
    wait_until("the unfiltered pipeline gets the low score", async || {
        all_out.messages().contains(&low)
    })
    .await;
    assert!(
        high_out
            .messages()
            .iter()
            .all(|message| message == r#"{"user_id":1}"#)
    );
    // One subscription, one decode: both pipelines report the same source counters.
    assert_eq!(
        server.stage("high", "source").await,
        server.stage("all", "source").await
    );
}

#[tokio::test]
async fn a_qos_0_sink_delivers_every_row_in_order_and_stays_connected_while_idle() {
    let broker = broker_url();
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]).await;
    let (input, output) = (unique_topic("qos0-in"), unique_topic("qos0-out"));
    let stream = stream_spec("qos0_stream", &broker, &input, false);
    assert_eq!(server.post("/streams", Some(&stream)).await.0, 201);
    // The shortest keep-alive: a silent client is dropped by the broker after 7.5 s.
    let pipeline = json!({
        "id": "qos0",
        "sql": "SELECT user_id FROM qos0_stream WHERE score > 0",
        "sinks": [{"type": "mqtt", "props": {
            "broker_url": broker, "topic": output, "qos": 0, "keep_alive_secs": 5}}]
    });
    assert_eq!(server.post("/pipelines", Some(&pipeline)).await.0, 201);
    assert_eq!(server.post("/pipelines/qos0/start", None).await.0, 200);
    let subscriber = Subscriber::start(&broker, &output).await;
    wait_until("the sink connects", async || {
        server.get("/pipelines/qos0/status").await.1["connectors"][1]["connected"] == true
    })
    .await;

    let rows: Vec<String> = (0..2000)
        .map(|id| format!(r#"{{"user_id": {id}, "score": {}}}"#, id % 2))
        .collect();
    let rows: Vec<&str> = rows.iter().map(String::as_str).collect();
    // A chunk at a time, each out before the next: the stream reads at QoS 1, and Mosquitto
    // queues at most 1000 messages for a subscriber and drops the rest.
    for (index, chunk) in rows.chunks(400).enumerate() {
        publish(&broker, &input, chunk).await;
        subscriber.wait_for((index + 1) * 200).await;
    }
    let expected: Vec<String> = (0..2000)
        .filter(|id| id % 2 == 1)
        .map(|id| format!(r#"{{"user_id":{id}}}"#))
        .collect();
    subscriber.wait_for(expected.len()).await;
    assert_eq!(subscriber.messages(), expected, "every row, in order");

    tokio::time::sleep(std::time::Duration::from_secs(9)).await;
    let status = server.get("/pipelines/qos0/status").await.1;
    let sink = &status["connectors"][1];
    assert_eq!(sink["connected"], true, "{status}");
    assert_eq!(sink["reconnects"], 0, "pings kept it connected: {status}");
    publish(&broker, &input, &[r#"{"user_id": 9999, "score": 1}"#]).await;
    subscriber.wait_for(expected.len() + 1).await;
}

#[tokio::test]
async fn a_pipeline_recovers_by_itself_when_its_broker_restarts() {
    let broker_addr = free_addr();
    let broker = format!("tcp://{broker_addr}");
    let broker_data = tempfile::tempdir().unwrap();
    let broker_flags = ["--embedded-broker", &broker_addr.to_string()];
    let broker_process = Server::start(broker_data.path(), &broker_flags).await;
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]).await;
    let (input, output) = ("recover/in", "recover/out");
    // A QoS 0 sink, which has a connection of its own to restore (the fault tests cover
    // QoS 1 sinks).
    filtering_pipeline_at(&server, "recovers", (&broker, input, output), 0).await;
    let subscriber = Subscriber::start(&broker, output).await;
    publish(&broker, input, &[r#"{"user_id": 1, "score": 1}"#]).await;
    subscriber.wait_for(1).await;

    broker_process.kill();
    wait_until("the pipeline reports its lost connection", async || {
        let (_, status) = server.get("/pipelines/recovers/status").await;
        status["state"] == "failed" && status["last_error"].is_string()
    })
    .await;
    let _broker_process = Server::start(broker_data.path(), &broker_flags).await;
    wait_until("the pipeline reconnects", async || {
        server.get("/pipelines/recovers/status").await.1["state"] == "running"
    })
    .await;
    wait_until("rows flow again", async || {
        publish(&broker, input, &[r#"{"user_id": 2, "score": 2}"#]).await;
        subscriber
            .messages()
            .iter()
            .any(|message| message.contains("\"user_id\":2"))
    })
    .await;
}

#[tokio::test]
async fn sigterm_stops_gracefully_and_exits_zero() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]).await;
    let stream = json!({"name": "m", "type": "memory",
        "schema": {"type": "json", "props": {"columns": [{"name": "a", "data_type": "int64"}]}},
        "props": {"topic": "m-in"}});
    assert_eq!(server.post("/streams", Some(&stream)).await.0, 201);
    let pipeline = json!({"id": "p", "sql": "SELECT a FROM m", "sinks": [{"type": "nop"}]});
    assert_eq!(server.post("/pipelines", Some(&pipeline)).await.0, 201);
    assert_eq!(server.post("/pipelines/p/start", None).await.0, 200);
    assert!(server.terminate().await.success());
}

#[tokio::test]
async fn error_statuses_over_real_http() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]).await;
    let (status, body) = server.post("/pipelines", Some(&json!({"id": "p"}))).await;
    assert_eq!(status, 422);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("missing field `sql`"),
        "{body}"
    );
    assert_eq!(server.get("/pipelines/none").await.0, 404);
    let stream = stream_spec("dup", "tcp://127.0.0.1:1", "t", false);
    assert_eq!(server.post("/streams", Some(&stream)).await.0, 201);
    assert_eq!(server.post("/streams", Some(&stream)).await.0, 409);
}

#[tokio::test]
async fn every_curl_example_of_the_api_docs_works() {
    let documents = [
        include_str!("../README.md"),
        include_str!("../docs/api/connectors.md"),
        include_str!("../docs/api/debug.md"),
        include_str!("../docs/api/pipelines.md"),
        include_str!("../docs/api/streams.md"),
    ];
    run_curl_examples(documents.into_iter().map(str::to_owned)).await;
}

#[tokio::test]
async fn every_curl_example_of_the_connector_docs_works() {
    let directory = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/connectors");
    let mut pages: Vec<_> = std::fs::read_dir(directory)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "md"))
        .collect();
    pages.sort();
    assert!(!pages.is_empty());
    run_curl_examples(
        pages
            .iter()
            .map(|page| std::fs::read_to_string(page).unwrap()),
    )
    .await;
}

#[tokio::test]
async fn an_unreadable_metadata_file_stops_startup_and_is_left_as_it_was() {
    let data = tempfile::tempdir().unwrap();
    let file = data.path().join("veloflux.redb");
    std::fs::write(&file, b"not a database").unwrap();
    let (status, stderr) = run_to_exit(data.path());
    assert!(!status.success());
    assert!(
        stderr.contains(&format!("metadata file '{}'", file.display())),
        "{stderr}"
    );
    assert_eq!(std::fs::read(&file).unwrap(), b"not a database");
}

#[tokio::test]
async fn memory_topics_chain_one_pipelines_output_into_anothers_stream() {
    let broker = broker_url();
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]).await;
    let (input, output) = (unique_topic("chain-in"), unique_topic("chain-out"));
    assert_eq!(
        server
            .post(
                "/streams",
                Some(&stream_spec("raw", &broker, &input, false))
            )
            .await
            .0,
        201
    );
    let middle = json!({"name": "positive", "type": "memory", "props": {"topic": "positive"},
        "schema": {"type": "json", "props": {"columns": [{"name": "user_id", "data_type": "int64"}]}}});
    assert_eq!(server.post("/streams", Some(&middle)).await.0, 201);
    let first = json!({"id": "first", "sql": "SELECT user_id FROM raw WHERE score > 0",
        "sinks": [{"type": "memory", "props": {"topic": "positive"}}]});
    let second = pipeline_spec(
        "second",
        "SELECT user_id * 10 AS id FROM positive",
        &broker,
        &output,
    );
    for pipeline in [second, first] {
        assert_eq!(server.post("/pipelines", Some(&pipeline)).await.0, 201);
        let id = pipeline["id"].as_str().unwrap();
        assert_eq!(
            server.post(&format!("/pipelines/{id}/start"), None).await.0,
            200
        );
    }
    let subscriber = Subscriber::start(&broker, &output).await;
    wait_until("a row goes through both pipelines", async || {
        publish(
            &broker,
            &input,
            &[
                r#"{"user_id": 3, "score": 1}"#,
                r#"{"user_id": 4, "score": -1}"#,
            ],
        )
        .await;
        !subscriber.messages().is_empty()
    })
    .await;
    assert!(
        subscriber
            .messages()
            .iter()
            .all(|message| message == r#"{"id":30}"#)
    );
}
