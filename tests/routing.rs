//! Topics in and out: a wildcard subscription's device id read from the topic in SQL
//! (`meta(topic)`), and each row published to a topic rendered from its columns.

mod support;

use serde_json::json;
use support::{Server, Subscriber, broker_url, publish, unique_topic, wait_until};

#[tokio::test]
async fn each_devices_alerts_go_to_its_own_topic_named_from_the_topic_it_came_on() {
    let broker = broker_url();
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]).await;
    let (input, output) = (unique_topic("sensors"), unique_topic("alerts"));
    let stream = json!({"name": "sensors", "type": "mqtt",
        "schema": {"type": "json", "props": {"columns": [{"name": "temp", "data_type": "float64"}]}},
        "props": {"broker_url": broker, "topic": format!("{input}/+/data"), "qos": 1}});
    assert_eq!(server.post("/streams", Some(&stream)).await.0, 201);
    let pipeline = json!({"id": "alerts",
        "sql": "SELECT split_part(meta(topic), '/', -2) AS device, temp FROM sensors WHERE temp > 30",
        "sinks": [{"type": "mqtt",
                   "props": {"broker_url": broker, "topic": format!("{output}/{{{{device}}}}"), "qos": 1}}]});
    let (status, body) = server.post("/pipelines", Some(&pipeline)).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(server.post("/pipelines/alerts/start", None).await.0, 200);
    let subscriber = Subscriber::start(&broker, &format!("{output}/#")).await;
    wait_until("the first alert comes out", async || {
        publish(
            &broker,
            &format!("{input}/warmup/data"),
            &[r#"{"temp": 99}"#],
        )
        .await;
        !subscriber.messages().is_empty()
    })
    .await;
    publish(
        &broker,
        &format!("{input}/d1/data"),
        &[r#"{"temp": 31}"#, r#"{"temp": 5}"#],
    )
    .await;
    publish(&broker, &format!("{input}/d2/data"), &[r#"{"temp": 40}"#]).await;
    publish(&broker, &format!("{input}/d1/other"), &[r#"{"temp": 50}"#]).await;
    let d1 = (
        format!("{output}/d1"),
        r#"{"device":"d1","temp":31.0}"#.to_owned(),
    );
    let d2 = (
        format!("{output}/d2"),
        r#"{"device":"d2","temp":40.0}"#.to_owned(),
    );
    let arrived = async || {
        let received = subscriber.messages_with_topics();
        received.contains(&d1) && received.contains(&d2)
    };
    if tokio::time::timeout(std::time::Duration::from_secs(20), async {
        while !arrived().await {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    })
    .await
    .is_err()
    {
        panic!(
            "both devices' alerts arrive: {:?}",
            subscriber.messages_with_topics()
        );
    }
    let received = subscriber.messages_with_topics();
    assert!(
        received
            .iter()
            .all(|(topic, _)| topic.ends_with("/warmup") || *topic == d1.0 || *topic == d2.0),
        "{received:?}"
    );
}

#[tokio::test]
async fn a_placeholder_naming_no_output_column_is_refused_and_a_null_one_is_a_sink_error() {
    let broker = broker_url();
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]).await;
    let input = unique_topic("routing-null");
    let stream = json!({"name": "s", "type": "mqtt",
        "schema": {"type": "json", "props": {"columns": [
            {"name": "device", "data_type": "string"}, {"name": "temp", "data_type": "float64"}]}},
        "props": {"broker_url": broker, "topic": input, "qos": 1}});
    assert_eq!(server.post("/streams", Some(&stream)).await.0, 201);
    let sink =
        |topic: &str| json!([{"type": "mqtt", "props": {"broker_url": broker, "topic": topic}}]);
    let bad = json!({"id": "bad", "sql": "SELECT temp FROM s", "sinks": sink("out/{{device}}")});
    let (status, body) = server.post("/pipelines", Some(&bad)).await;
    assert_eq!(status, 400, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert_eq!(
        message,
        "sinks[0].props.topic: the placeholder {{device}} names no column of the output; \
         the statement outputs: temp"
    );
    let output = unique_topic("routing-null-out");
    let good = json!({"id": "good", "sql": "SELECT device, temp FROM s",
        "sinks": sink(&format!("{output}/{{{{device}}}}"))});
    assert_eq!(server.post("/pipelines", Some(&good)).await.0, 201);
    assert_eq!(server.post("/pipelines/good/start", None).await.0, 200);
    let subscriber = Subscriber::start(&broker, &format!("{output}/#")).await;
    wait_until("a row with a device comes out", async || {
        publish(
            &broker,
            &input,
            &[r#"{"temp": 1}"#, r#"{"device": "d9", "temp": 2}"#],
        )
        .await;
        !subscriber.messages().is_empty()
    })
    .await;
    let sink = server.stage("good", "sink_0").await;
    assert!(sink["error_count"].as_u64().unwrap() >= 1, "{sink}");
    let error = sink["last_error"].as_str().unwrap_or_default();
    assert!(error.contains("placeholder {{device}} is null"), "{sink}");
    assert!(
        subscriber
            .messages_with_topics()
            .iter()
            .all(|(topic, _)| *topic == format!("{output}/d9")),
        "no row went to a half-rendered topic"
    );
}
