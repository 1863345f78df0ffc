//! The CSV codec through the real server: CSV payloads in over MQTT, SQL over them, CSV
//! messages out, and a bad payload counted as a source error while the others pass.

mod support;

use serde_json::json;
use support::{Server, Subscriber, broker_url, publish, unique_topic, wait_until};

#[tokio::test]
async fn csv_in_sql_csv_out_and_a_bad_payload_costs_only_itself() {
    let broker = broker_url();
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]).await;
    let (input, output) = (unique_topic("csv-in"), unique_topic("csv-out"));
    // Each record is `device,site,temp`; the stream declares two of the three fields.
    let stream = json!({
        "name": "csv_readings",
        "type": "mqtt",
        "schema": {"type": "json", "props": {"columns": [
            {"name": "device", "data_type": "string"},
            {"name": "temp", "data_type": "float64"}
        ]}},
        "decoder": {"type": "csv", "props": {"columns": ["device", "site", "temp"]}},
        "props": {"broker_url": broker, "topic": input, "qos": 1}
    });
    assert_eq!(server.post("/streams", Some(&stream)).await.0, 201);
    let pipeline = json!({
        "id": "csv",
        "sql": "SELECT device, temp * 2 AS doubled FROM csv_readings WHERE temp > 0",
        "sinks": [{"type": "mqtt", "props": {"broker_url": broker, "topic": output, "qos": 1},
                   "encoder": {"type": "csv", "props": {"header": true}}}]
    });
    assert_eq!(server.post("/pipelines", Some(&pipeline)).await.0, 201);
    assert_eq!(server.post("/pipelines/csv/start", None).await.0, 200);
    wait_until("the pipeline subscribes", async || {
        server.stage("csv", "source").await.is_object()
            && server.get("/pipelines/csv/status").await.1["state"] == "running"
    })
    .await;
    let subscriber = Subscriber::start(&broker, &output).await;
    publish(
        &broker,
        &input,
        &[
            "a,north,1.5",
            "b,south,\"unclosed",
            "c,east,2\nd,west,-1\n\"e, the fifth\",x,4\n",
            "f,north,hot",
        ],
    )
    .await;
    assert_eq!(
        subscriber.wait_for(3).await,
        [
            "device,doubled\na,3.0",
            "device,doubled\nc,4.0",
            "device,doubled\n\"e, the fifth\",8.0",
        ]
    );
    wait_until("both bad payloads are counted", async || {
        server.stage("csv", "source").await["error_count"] == 2
    })
    .await;
    let source = server.stage("csv", "source").await;
    assert_eq!(
        (
            source["records_in"].as_u64(),
            source["records_out"].as_u64()
        ),
        (Some(4), Some(4)),
        "messages in, rows out: {source}"
    );
    let last_error = source["last_error"].as_str().unwrap_or_default();
    assert!(
        last_error.contains("CSV record 1: column 'temp': \"hot\" is not a valid float64"),
        "{source}"
    );
}
