//! MQTT features end to end: MQTT 5 (user properties read as `meta(<name>)`, acknowledgement
//! only after the sink confirmed) and retained messages.
//!
//! The in-process broker of the other tests (rumqttd) listens for MQTT 3.1.1 only, so the
//! MQTT 5 tests start a Mosquitto of their own; they skip, saying so, where it is not
//! installed (and fail instead with `VELOFLUX_REQUIRE_MOSQUITTO=1`).

#![expect(clippy::unwrap_used, reason = "a test: a failure is a failed test")]

mod support;

use serde_json::{Value, json};
use support::{
    Server, Subscriber, broker_url, mosquitto_or_skip, publish, publish_v5, unique_topic,
    wait_until,
};

/// The body of stream `name` on `topic` of `broker` at QoS 1 in `protocol_version`, of JSON
/// rows with a `temp`.
fn stream(name: &str, broker: &str, topic: &str, protocol_version: u8) -> Value {
    json!({
        "name": name,
        "type": "mqtt",
        "schema": {"type": "json", "props": {"columns": [{"name": "temp", "data_type": "float64"}]}},
        "props": {"broker_url": broker, "topic": topic, "qos": 1, "protocol_version": protocol_version},
    })
}

/// The props of an MQTT sink publishing to `topic` of `broker` in `protocol_version`.
fn sink(broker: &str, topic: &str, protocol_version: u8) -> Value {
    json!({"broker_url": broker, "topic": topic, "protocol_version": protocol_version})
}

/// Creates `stream`, then pipeline `id` running `sql` into MQTT sinks of `sinks` props, and
/// starts it; returns once every connection is up.
async fn run_pipeline(server: &Server, stream: &Value, id: &str, sql: &str, sinks: &[Value]) {
    let (status, answer) = server.post("/streams", Some(stream)).await;
    assert_eq!(status, 201, "{answer}");
    let sinks: Vec<Value> = sinks
        .iter()
        .map(|props| json!({"type": "mqtt", "props": props}))
        .collect();
    let pipeline = json!({"id": id, "sql": sql, "sinks": sinks});
    let (status, answer) = server.post("/pipelines", Some(&pipeline)).await;
    assert_eq!(status, 201, "{answer}");
    let (status, answer) = server.post(&format!("/pipelines/{id}/start"), None).await;
    assert_eq!(status, 200, "{answer}");
    wait_until("every connection of the pipeline is up", async || {
        server.all_connected(id).await
    })
    .await;
}

#[tokio::test]
async fn mqtt_5_user_properties_are_read_as_meta_and_rendered_topics_published() {
    let dir = tempfile::tempdir().unwrap();
    let Some(broker) = mosquitto_or_skip(dir.path(), "").await else {
        return;
    };
    let url = broker.url();
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]).await;
    let (input, output) = (unique_topic("v5-in"), unique_topic("v5-out"));
    let mut props = sink(&url, &format!("{output}/{{{{device}}}}"), 5);
    props["qos"] = json!(1);
    let sql = "SELECT temp, meta(device_id) AS device FROM v5_telemetry";
    let telemetry = stream("v5_telemetry", &url, &input, 5);
    run_pipeline(&server, &telemetry, "v5_properties", sql, &[props]).await;
    let subscriber = Subscriber::start(&url, &format!("{output}/#")).await;
    publish_v5(&url, &input, r#"{"temp": 21.5}"#, &[("device_id", "d7")]).await;
    subscriber.wait_for(1).await;
    assert_eq!(
        subscriber.messages_with_topics(),
        [(
            format!("{output}/d7"),
            r#"{"temp":21.5,"device":"d7"}"#.to_owned()
        )]
    );
}

#[tokio::test]
async fn an_mqtt_5_message_is_acknowledged_only_once_the_sink_confirmed_it() {
    let (source_dir, sink_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let Some(source_broker) = mosquitto_or_skip(source_dir.path(), "").await else {
        return;
    };
    let Some(mut sink_broker) = mosquitto_or_skip(sink_dir.path(), "").await else {
        return;
    };
    let (source_url, sink_url) = (source_broker.url(), sink_broker.url());
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]).await;
    let mut props = sink(&sink_url, "acked/out", 5);
    props["qos"] = json!(2);
    let sql = "SELECT temp, meta(device_id) AS device FROM v5_acked";
    let acked = stream("v5_acked", &source_url, "acked/in", 5);
    run_pipeline(&server, &acked, "v5_acked", sql, &[props]).await;
    let subscriber = Subscriber::start_persistent(&sink_url, "acked/out").await;

    // The sink's broker is away: what the pipeline receives cannot be confirmed, so it is not
    // acknowledged, and a server killed meanwhile gets it again once back.
    sink_broker.stop();
    wait_until(
        "the pipeline reports its sink's lost connection",
        async || server.get("/pipelines/v5_acked/status").await.1["state"] == "failed",
    )
    .await;
    publish_v5(
        &source_url,
        "acked/in",
        r#"{"temp": 1}"#,
        &[("device_id", "d1")],
    )
    .await;
    wait_until("the pipeline received the message", async || {
        server.stage("v5_acked", "source").await["records_in"] == 1
    })
    .await;
    server.kill();
    sink_broker.restart().await;
    let server = Server::start(data.path(), &[]).await;
    let first = r#"{"temp":1.0,"device":"d1"}"#;
    assert_eq!(subscriber.wait_for(1).await, [first]);

    // Confirmed, it was acknowledged: after a stop and a start, only new messages come.
    let _server = restart_gracefully(server, data.path()).await;
    publish_v5(
        &source_url,
        "acked/in",
        r#"{"temp": 2}"#,
        &[("device_id", "d2")],
    )
    .await;
    let second = r#"{"temp":2.0,"device":"d2"}"#;
    assert_eq!(subscriber.wait_for(2).await, [first, second]);
}

/// Stops `server` with SIGTERM (which waits for the last acknowledgements) and starts it
/// again over `data`, returning once its pipelines' connections are up.
async fn restart_gracefully(server: Server, data: &std::path::Path) -> Server {
    assert!(server.terminate().await.success(), "the server exits 0");
    let server = Server::start(data, &[]).await;
    wait_until("the restored pipeline connects", async || {
        server.all_connected("v5_acked").await
    })
    .await;
    server
}

/// A message published by a sink with `"retain": true` reaches a subscriber that came after
/// it; one published with `"retain": false` does not, over `protocol_version`.
async fn retained_only_when_asked(url: &str, protocol_version: u8) {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]).await;
    let name = format!("retain_v{protocol_version}");
    let (input, output) = (unique_topic(&format!("{name}-in")), unique_topic(&name));
    let (kept, dropped) = (format!("{output}/kept"), format!("{output}/dropped"));
    let mut retained = sink(url, &kept, protocol_version);
    retained["retain"] = json!(true);
    let plain = sink(url, &dropped, protocol_version);
    let sql = format!("SELECT temp FROM {name}");
    let source = stream(&name, url, &input, protocol_version);
    run_pipeline(&server, &source, &name, &sql, &[retained, plain]).await;
    let early = Subscriber::start(url, &format!("{output}/#")).await;
    publish(url, &input, &[r#"{"temp": 3}"#]).await;
    early.wait_for(2).await;

    // A broker sends what it retained for a topic right after the subscription: a marker
    // published after it comes later, so whatever was retained has arrived before it.
    for (topic, expected) in [
        (&kept, &[r#"{"temp":3.0}"#, "marker"][..]),
        (&dropped, &["marker"]),
    ] {
        let late = Subscriber::start(url, topic).await;
        publish(url, topic, &["marker"]).await;
        wait_until("the marker arrives", async || {
            late.messages().contains(&"marker".to_owned())
        })
        .await;
        assert_eq!(late.messages(), expected, "{topic}");
    }
}

#[tokio::test]
async fn retained_messages_reach_later_subscribers_only_when_asked_for() {
    retained_only_when_asked(&broker_url(), 4).await;
}

#[tokio::test]
async fn retained_messages_reach_later_subscribers_only_when_asked_for_over_mqtt_5() {
    let dir = tempfile::tempdir().unwrap();
    let Some(broker) = mosquitto_or_skip(dir.path(), "").await else {
        return;
    };
    retained_only_when_asked(&broker.url(), 5).await;
}
