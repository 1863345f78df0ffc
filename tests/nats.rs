//! End-to-end over NATS: the real server reads a `nats` stream and writes a `nats` sink, with
//! the subject a message came on in SQL (`meta(topic)`), over core NATS and over JetStream.
//! `VELOFLUX_TEST_NATS` names the NATS server (the tests fail if it cannot be reached);
//! unset, nats://127.0.0.1:4222 is used and the tests are skipped when nothing listens there.
#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests and their helpers: a failure is a failed test"
)]

mod support;

use std::time::Duration;

use async_nats::jetstream;
use async_nats::{Client, Subscriber};
use futures_util::StreamExt;
use serde_json::{Value, json};
use support::{DEADLINE, Server, fresh_jetstream_stream, nats_url, wait_until};
use veloflux_testkit::unique_name;

/// Creates a `nats` stream `name` of sensor readings with `props`, and a pipeline `id` that
/// keeps the hot ones with the subject they came on, into a `nats` sink with `sink_props`;
/// then starts it.
async fn hot_devices(server: &Server, (name, props): (&str, Value), id: &str, sink_props: Value) {
    let stream = json!({
        "name": name,
        "type": "nats",
        "schema": {"type": "json", "props": {"columns": [
            {"name": "device", "data_type": "string"},
            {"name": "temp", "data_type": "float64"}
        ]}},
        "props": props
    });
    let (status, answer) = server.post("/streams", Some(&stream)).await;
    assert_eq!(status, 201, "{answer}");
    let pipeline = json!({
        "id": id,
        "sql": format!("SELECT device, meta(topic) AS subject FROM {name} WHERE temp > 20"),
        "sinks": [{"type": "nats", "props": sink_props}]
    });
    let (status, answer) = server.post("/pipelines", Some(&pipeline)).await;
    assert_eq!(status, 201, "{answer}");
    assert_eq!(
        server.post(&format!("/pipelines/{id}/start"), None).await.0,
        200
    );
    wait_until("the pipeline runs", async || {
        server.get(&format!("/pipelines/{id}/status")).await.1["state"] == "running"
    })
    .await;
}

async fn publish(client: &Client, subject: String, payload: &'static str) {
    client.publish(subject, payload.into()).await.unwrap();
    client.flush().await.unwrap();
}

/// The next `count` messages of `subscriber` whose subject does not end in `.probe`, as
/// (subject, JSON payload).
async fn rows(subscriber: &mut Subscriber, count: usize) -> Vec<(String, Value)> {
    let mut rows = Vec::new();
    let gathered = tokio::time::timeout(DEADLINE, async {
        while rows.len() < count {
            let message = subscriber.next().await.expect("the subscription lasts");
            if !message.subject.ends_with(".probe") {
                let row = serde_json::from_slice(&message.payload).unwrap();
                rows.push((message.subject.to_string(), row));
            }
        }
    });
    gathered.await.expect("the rows arrive");
    rows
}

#[tokio::test]
async fn rows_from_nats_subjects_reach_a_nats_sink_with_the_subject_they_came_on() {
    let Some(url) = nats_url() else { return };
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]).await;
    let token = unique_name("core");
    let (input, output) = (
        format!("veloflux.test.{token}"),
        format!("veloflux.out.{token}"),
    );
    let client = async_nats::connect(&url).await.unwrap();
    let mut subscriber = client.subscribe(format!("{output}.>")).await.unwrap();
    client.flush().await.unwrap();
    let source = json!({"url": url, "subject": format!("{input}.>")});
    let sink = json!({"url": url, "subject": format!("{output}.{{{{device}}}}")});
    hot_devices(&server, (&token.replace('-', "_"), source), &token, sink).await;

    // The stream's subscription may still be coming up: probe until a row gets through.
    wait_until("a row goes through the pipeline", async || {
        publish(
            &client,
            format!("{input}.probe"),
            r#"{"device": "probe", "temp": 99}"#,
        )
        .await;
        let next = tokio::time::timeout(Duration::from_millis(100), subscriber.next()).await;
        matches!(next, Ok(Some(_)))
    })
    .await;
    publish(
        &client,
        format!("{input}.room1"),
        r#"{"device": "d1", "temp": 25}"#,
    )
    .await;
    publish(
        &client,
        format!("{input}.room1"),
        r#"{"device": "d2", "temp": 10}"#,
    )
    .await;
    publish(
        &client,
        format!("{input}.room2"),
        r#"{"device": "d3", "temp": 30}"#,
    )
    .await;

    let expected = [
        (
            format!("{output}.d1"),
            json!({"device": "d1", "subject": format!("{input}.room1")}),
        ),
        (
            format!("{output}.d3"),
            json!({"device": "d3", "subject": format!("{input}.room2")}),
        ),
    ];
    assert_eq!(rows(&mut subscriber, 2).await, expected);
}

#[tokio::test]
async fn jetstream_in_and_out_acknowledges_every_message_once_stored_downstream() {
    let Some(url) = nats_url() else { return };
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]).await;
    let token = unique_name("js");
    let (input, output) = (
        format!("veloflux.test.{token}"),
        format!("veloflux.out.{token}"),
    );
    let (inbox, outbox, durable) = (
        format!("IN-{token}"),
        format!("OUT-{token}"),
        format!("D-{token}"),
    );
    let client = async_nats::connect(&url).await.unwrap();
    let context = jetstream::new(client);
    for (name, subject) in [(&inbox, &input), (&outbox, &output)] {
        fresh_jetstream_stream(&context, name, &format!("{subject}.>")).await;
    }
    let readings = [
        ("room1", r#"{"device": "d1", "temp": 25}"#),
        ("room1", r#"{"device": "d2", "temp": 10}"#),
        ("room2", r#"{"device": "d3", "temp": 30}"#),
    ];
    for (room, reading) in readings {
        let stored = context
            .publish(format!("{input}.{room}"), reading.into())
            .await;
        stored.unwrap().await.unwrap();
    }

    let source = json!({"url": url, "subject": format!("{input}.>"),
        "jetstream": {"stream": inbox, "durable": durable}});
    let sink = json!({"url": url, "subject": format!("{output}.{{{{device}}}}"),
        "jetstream": {"stream": outbox}});
    hot_devices(&server, (&token.replace('-', "_"), source), &token, sink).await;

    let consumed = context.get_stream(&inbox).await.unwrap();
    wait_until("every reading is acknowledged", async || {
        let info = consumed.consumer_info(&durable).await;
        info.is_ok_and(|info| info.delivered.stream_sequence == 3 && info.num_ack_pending == 0)
    })
    .await;
    let stored = context.get_stream(&outbox).await.unwrap();
    let mut rows = Vec::new();
    for sequence in [1, 2] {
        let message = stored.get_raw_message(sequence).await.unwrap();
        let row: Value = serde_json::from_slice(&message.payload).unwrap();
        rows.push((message.subject.to_string(), row));
    }
    let expected = [
        (
            format!("{output}.d1"),
            json!({"device": "d1", "subject": format!("{input}.room1")}),
        ),
        (
            format!("{output}.d3"),
            json!({"device": "d3", "subject": format!("{input}.room2")}),
        ),
    ];
    assert_eq!(rows, expected);
    assert_eq!(stored.get_info().await.unwrap().state.messages, 2);

    for name in [&inbox, &outbox] {
        context.delete_stream(name).await.unwrap();
    }
}
