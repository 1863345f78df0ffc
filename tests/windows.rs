//! Windowed pipelines end to end: the real server binary over real MQTT, in processing time;
//! and windows across instances, each reading the topic of its own key range.

#![expect(clippy::unwrap_used, reason = "a test: a failure is a failed test")]

mod support;

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use support::{Server, Subscriber, broker_url, pipeline_spec, publish, unique_topic, wait_until};

/// A stream of `{"device", "temp"}` readings on `topic`.
fn readings(name: &str, broker: &str, topic: &str) -> Value {
    json!({
        "name": name,
        "type": "mqtt",
        "schema": {"type": "json", "props": {"columns": [
            {"name": "device", "data_type": "string"},
            {"name": "temp", "data_type": "float64"}
        ]}},
        "props": {"broker_url": broker, "topic": topic, "qos": 1}
    })
}

/// Creates `stream` and pipeline `id` running `sql` from `input` to `output`, and starts it.
async fn windowed(server: &Server, id: &str, sql: &str, broker: &str, topics: [&str; 2]) {
    let [input, output] = topics;
    let (status, body) = server
        .post("/streams", Some(&readings("readings", broker, input)))
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = server
        .post("/pipelines", Some(&pipeline_spec(id, sql, broker, output)))
        .await;
    assert_eq!(status, 201, "{body}");
    let path = format!("/pipelines/{id}/start");
    assert_eq!(server.post(&path, None).await.0, 200);
    wait_until("the pipeline runs", async || {
        server.stage(id, "source").await.is_object()
            && server.get(&format!("/pipelines/{id}/status")).await.1["state"] == "running"
    })
    .await;
}

/// Sleeps until the clock is just past a multiple of `period_ms`, so that what is sent next
/// falls in one window.
async fn just_after_a_window_starts(period_ms: u64) {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let into = u64::try_from(now.as_millis()).unwrap_or_default() % period_ms;
    tokio::time::sleep(Duration::from_millis(period_ms - into + 20)).await;
}

#[tokio::test]
async fn a_tumbling_window_emits_one_row_per_device_per_window() {
    let broker = broker_url();
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]).await;
    let (input, output) = (unique_topic("window-in"), unique_topic("window-out"));
    let sql = "SELECT device, count(*) AS n, avg(temp) AS mean, window_start(), window_end() \
               FROM readings GROUP BY device, TUMBLINGWINDOW(ss, 2)";
    windowed(&server, "per_device", sql, &broker, [&input, &output]).await;
    let subscriber = Subscriber::start(&broker, &output).await;
    just_after_a_window_starts(2000).await;
    let payloads = [
        r#"{"device": "a", "temp": 20}"#,
        r#"{"device": "b", "temp": 30}"#,
        r#"{"device": "a", "temp": 22}"#,
        r#"[{"device": "c", "temp": 1}, {"device": "b", "temp": 34}]"#,
        r#"{"device": "a", "temp": 24}"#,
    ];
    publish(&broker, &input, &payloads).await;
    let mut rows: Vec<Value> = subscriber
        .wait_for(3)
        .await
        .iter()
        .map(|message| serde_json::from_str(message).unwrap())
        .collect();
    rows.sort_by_key(|row| row["device"].as_str().unwrap().to_owned());
    let start = rows[0]["window_start"].as_i64().unwrap();
    assert_eq!(
        start % 2000,
        0,
        "windows are aligned to the epoch: {rows:?}"
    );
    for row in &mut rows {
        assert_eq!(row["window_start"], start, "one window: {row}");
        assert_eq!(row["window_end"], start + 2000);
        row.as_object_mut()
            .unwrap()
            .retain(|key, _| !key.starts_with("window"));
    }
    assert_eq!(
        rows,
        [
            json!({"device": "a", "n": 3, "mean": 22.0}),
            json!({"device": "b", "n": 2, "mean": 32.0}),
            json!({"device": "c", "n": 1, "mean": 1.0}),
        ]
    );
    let (_, status) = server.get("/pipelines/per_device/status").await;
    assert_eq!(status["window"]["late_rows"], 0, "{status}");
    let (_, metrics) = server.get("/metrics").await;
    assert!(
        metrics
            .as_str()
            .unwrap()
            .contains("veloflux_window_state_bytes{pipeline=\"per_device\"}"),
        "{metrics}"
    );
}

#[tokio::test]
async fn window_state_over_its_cap_stops_the_pipeline_with_the_reason() {
    let broker = broker_url();
    let data = tempfile::tempdir().unwrap();
    let config = data.path().join("config.yaml");
    std::fs::write(&config, "runtime:\n  max_window_state_bytes: 100000\n").unwrap();
    let config = config.to_str().unwrap().to_owned();
    let server = Server::start(data.path(), &["--config", &config]).await;
    let (input, output) = (unique_topic("cap-in"), unique_topic("cap-out"));
    let sql = "SELECT device, count(*) AS n FROM readings GROUP BY device, TUMBLINGWINDOW(hh, 1)";
    windowed(&server, "capped", sql, &broker, [&input, &output]).await;
    // 5000 devices, 200 to a payload (an array of readings).
    let payloads: Vec<String> = (0..25)
        .map(|payload| {
            let devices =
                (0..200).map(|index| json!({"device": format!("d{payload}-{index}"), "temp": 1.0}));
            Value::from(devices.collect::<Vec<_>>()).to_string()
        })
        .collect();
    let payloads: Vec<&str> = payloads.iter().map(String::as_str).collect();
    publish(&broker, &input, &payloads).await;
    wait_until("the pipeline stops", async || {
        server.get("/pipelines/capped/status").await.1["state"] == "failed"
    })
    .await;
    let (_, status) = server.get("/pipelines/capped/status").await;
    let reason = status["last_error"].as_str().unwrap();
    assert!(
        reason.contains("runtime.max_window_state_bytes"),
        "{status}"
    );
    assert!(
        status["window"]["state_bytes"].as_u64().unwrap() > 100_000,
        "{status}"
    );
}

/// What the rows of `output` count per device, over all windows.
fn counts_per_device(output: &Subscriber) -> HashMap<String, u64> {
    let mut counts = HashMap::new();
    for message in output.messages() {
        let row: Value = serde_json::from_str(&message).unwrap();
        let device = row["device"].as_str().unwrap().to_owned();
        *counts.entry(device).or_default() += row["n"].as_u64().unwrap();
    }
    counts
}

#[tokio::test]
async fn a_topic_per_key_range_gives_each_device_whole_to_one_instance() {
    let broker = broker_url();
    let prefix = unique_topic("keyed");
    let sql = "SELECT device, count(*) AS n FROM readings GROUP BY device, TUMBLINGWINDOW(ss, 1)";
    let ranges = ["a-m", "n-z"];
    let range_of = |device: &str| usize::from(device.starts_with(|first: char| first > 'm'));
    let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let (mut servers, mut outputs) = (Vec::new(), Vec::new());
    for (range, dir) in ranges.iter().zip(&dirs) {
        let server = Server::start(dir.path(), &[]).await;
        let (input, output) = (
            format!("{prefix}/{range}/#"),
            format!("{prefix}/out/{range}"),
        );
        windowed(&server, "per_device", sql, &broker, [&input, &output]).await;
        outputs.push(Subscriber::start(&broker, &output).await);
        servers.push(server);
    }
    // Each device publishes to the topic of its range, as many readings as its place here.
    let devices = ["alpha", "kilo", "mike", "november", "oscar", "zulu"];
    for (count, device) in (1..).zip(devices) {
        let topic = format!("{prefix}/{}/{device}", ranges[range_of(device)]);
        let payload = json!({"device": device, "temp": 20.0}).to_string();
        publish(&broker, &topic, &vec![payload.as_str(); count]).await;
    }
    let sent = (1..=devices.len() as u64).sum::<u64>();
    wait_until("every reading is counted", async || {
        let counted = outputs
            .iter()
            .map(|output| counts_per_device(output).values().sum::<u64>());
        counted.sum::<u64>() == sent
    })
    .await;
    let counts: Vec<_> = outputs.iter().map(counts_per_device).collect();
    for (count, device) in (1..).zip(devices) {
        let per_instance: Vec<u64> = counts
            .iter()
            .map(|counted| counted.get(device).copied().unwrap_or(0))
            .collect();
        let mut whole = vec![0, 0];
        whole[range_of(device)] = count;
        assert_eq!(
            per_instance, whole,
            "{device}: counted whole by its range's instance"
        );
    }
}
