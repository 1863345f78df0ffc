//! Observability end to end: metrics against what was sent, CPU profiles, and the debug taps
//! read over HTTP, Arrow Flight and from Python, on the real server binary.

mod support;

use std::io::Write;

use serde_json::{Value, json};
use support::{Filtering, Server, Subscriber, filtering, free_addr, publish, wait_until};

/// The value of the sample `name{labels}` in a Prometheus text exposition.
fn sample(exposition: &str, name_and_labels: &str) -> Option<f64> {
    exposition.lines().find_map(|line| {
        let (key, value) = line.rsplit_once(' ')?;
        (key == name_and_labels)
            .then(|| value.parse().ok())
            .flatten()
    })
}

#[tokio::test]
async fn metrics_count_what_was_actually_sent() {
    let Filtering {
        broker,
        input,
        output,
        server,
        _data,
    } = filtering("counted", &[]).await.unwrap();
    let subscriber = Subscriber::start(&broker, &output).await;
    let payloads = [
        r#"{"user_id": 1, "score": 1}"#,
        r#"{"user_id": 2, "score": -1}"#,
        r#"{"user_id": 3, "score": 3}"#,
        "broken",
    ];
    publish(&broker, &input, &payloads).await;
    subscriber.wait_for(2).await;
    let bytes: usize = payloads.iter().map(|payload| payload.len()).sum();
    let expected = [
        (
            r#"veloflux_source_messages_received_total{pipeline="counted"}"#,
            4.0,
        ),
        (
            r#"veloflux_source_bytes_received_total{pipeline="counted"}"#,
            bytes as f64,
        ),
        (r#"veloflux_decode_errors_total{pipeline="counted"}"#, 1.0),
        (
            r#"veloflux_operator_rows_in_total{pipeline="counted",operator="plan"}"#,
            3.0,
        ),
        (
            r#"veloflux_operator_rows_out_total{pipeline="counted",operator="plan"}"#,
            2.0,
        ),
        (
            r#"veloflux_sink_messages_sent_total{pipeline="counted",sink="sink_0"}"#,
            2.0,
        ),
        (
            r#"veloflux_connector_connected{pipeline="counted",connector="source"}"#,
            1.0,
        ),
        (r#"veloflux_pipeline_state{pipeline="counted"}"#, 1.0),
        ("veloflux_pipeline_count", 1.0),
    ];
    wait_until("the metrics count every message", async || {
        let (_, exposition) = server.get("/metrics").await;
        let exposition = exposition.as_str().unwrap_or_default().to_owned();
        expected
            .iter()
            .all(|(key, value)| sample(&exposition, key) == Some(*value))
    })
    .await;
    let (_, exposition) = server.get("/metrics").await;
    let exposition = exposition.as_str().unwrap().to_owned();
    assert!(sample(&exposition, "process_resident_memory_bytes").is_some_and(|rss| rss > 0.0));
    let batches = r#"veloflux_operator_batch_seconds_count{pipeline="counted",operator="source"}"#;
    assert!(sample(&exposition, batches).is_some_and(|count| count >= 1.0));
}

#[tokio::test]
async fn metrics_addr_serves_metrics_on_a_port_of_their_own() {
    let data = tempfile::tempdir().unwrap();
    let metrics_addr = free_addr();
    let config = data.path().join("config.yaml");
    std::fs::write(&config, format!("metrics:\n  addr: \"{metrics_addr}\"\n")).unwrap();
    let _server = Server::start(data.path(), &["--config", config.to_str().unwrap()]).await;
    let response = reqwest::get(format!("http://{metrics_addr}/metrics"))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("veloflux_pipeline_count 0")
    );
}

/// The batches of an Arrow IPC stream, and its field names.
type IpcContents = (Vec<String>, Vec<arrow::array::RecordBatch>);

fn read_ipc(bytes: &[u8]) -> Result<IpcContents, arrow::error::ArrowError> {
    let reader = arrow_ipc::reader::StreamReader::try_new(std::io::Cursor::new(bytes), None)?;
    let names = reader
        .schema()
        .fields()
        .iter()
        .map(|field| field.name().clone())
        .collect();
    Ok((names, reader.collect::<Result<_, _>>()?))
}

#[tokio::test]
async fn debug_taps_show_the_batches_at_each_point_as_arrow_and_json() {
    let Filtering {
        broker,
        input,
        output,
        server,
        _data,
    } = filtering("inspected", &[]).await.unwrap();
    let request = json!({"enabled": true, "max_batches": 16, "ttl_secs": 60});
    let (status, state) = server
        .post("/pipelines/inspected/debug", Some(&request))
        .await;
    assert_eq!(
        (status, state["enabled"].as_bool()),
        (200, Some(true)),
        "{state}"
    );
    let subscriber = Subscriber::start(&broker, &output).await;
    let payloads = [
        r#"{"user_id": 1, "score": 1.5}"#,
        r#"{"user_id": 2, "score": -1}"#,
        r#"{"user_id": 3, "score": 3}"#,
    ];
    publish(&broker, &input, &payloads).await;
    subscriber.wait_for(2).await;

    let url = format!(
        "http://{}/pipelines/inspected/debug/batches?point=filter",
        server.addr
    );
    let client = reqwest::Client::new();
    let response = client
        .get(&url)
        .header("accept", "application/vnd.apache.arrow.stream")
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers()["content-type"],
        "application/vnd.apache.arrow.stream"
    );
    let (names, batches) = read_ipc(&response.bytes().await.unwrap()).unwrap();
    assert_eq!(names, ["user_id", "score"]);
    assert_eq!(
        batches.iter().map(|batch| batch.num_rows()).sum::<usize>(),
        2
    );

    let (status, json) = server
        .get("/pipelines/inspected/debug/batches?point=source")
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        json["schema"][0],
        json!({"name": "user_id", "type": "Int64"})
    );
    let ids: Vec<i64> = json["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["user_id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [1, 2, 3]);

    let (status, body) = server
        .get("/pipelines/inspected/debug/batches?point=middle")
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(server.get("/pipelines/nobody/debug/batches").await.0, 404);
    let (_, state) = server
        .post(
            "/pipelines/inspected/debug",
            Some(&json!({"enabled": false})),
        )
        .await;
    assert_eq!(state["enabled"], false);
}

#[tokio::test]
async fn a_tail_streams_batches_as_they_pass_until_its_time_is_up() {
    let Filtering {
        broker,
        input,
        server,
        _data,
        ..
    } = filtering("tailed", &[]).await.unwrap();
    let url = format!(
        "http://{}/pipelines/tailed/debug/tail?point=sink&seconds=2",
        server.addr
    );
    let tail = tokio::spawn(async move { reqwest::get(url).await.unwrap().bytes().await.unwrap() });
    while !tail.is_finished() {
        publish(&broker, &input, &[r#"{"user_id": 9, "score": 9}"#]).await;
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let (names, batches) = read_ipc(&tail.await.unwrap()).unwrap();
    assert_eq!(names, ["user_id", "score"]);
    assert!(batches.iter().map(|batch| batch.num_rows()).sum::<usize>() >= 1);
}

#[cfg(feature = "profiling")]
#[tokio::test]
async fn the_profile_endpoint_returns_a_pprof_profile_and_refuses_a_second_at_once() {
    use pprof::protos::Message;

    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]).await;
    let url = format!("http://{}/debug/pprof/profile?seconds=2", server.addr);
    let (first, second) = tokio::join!(reqwest::get(&url), reqwest::get(&url));
    let (first, second) = (first.unwrap(), second.unwrap());
    let mut statuses = [first.status().as_u16(), second.status().as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409], "one profile at a time");
    let taken = if first.status() == 200 { first } else { second };
    let profile = pprof::protos::Profile::decode(taken.bytes().await.unwrap()).unwrap();
    assert!(!profile.string_table.is_empty() && !profile.sample_type.is_empty());

    let (status, svg) = server
        .get("/debug/pprof/profile?seconds=1&format=flamegraph")
        .await;
    assert_eq!(status, 200);
    assert!(svg.as_str().unwrap().contains("<svg"));
    assert_eq!(server.get("/debug/pprof/profile?seconds=999").await.0, 400);
}

/// A Python with pyarrow: `VELOFLUX_TEST_PYTHON`, else `python3` if it has pyarrow.
fn python_with_pyarrow() -> Result<String, String> {
    let python = std::env::var("VELOFLUX_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let probe = std::process::Command::new(&python)
        .args(["-c", "import pyarrow"])
        .output();
    match probe {
        Ok(output) if output.status.success() => Ok(python),
        Ok(_) => Err(format!(
            "{python} has no pyarrow (pip install pyarrow, or set VELOFLUX_TEST_PYTHON)"
        )),
        Err(error) => Err(format!("no {python}: {error}")),
    }
}

#[tokio::test]
async fn pyarrow_reads_the_debug_taps() {
    let python = match python_with_pyarrow() {
        Ok(python) => python,
        Err(reason) => {
            // Written past the test harness's capture, so that the skip is never silent.
            let _ = writeln!(
                std::io::stderr(),
                "pyarrow_reads_the_debug_taps skipped: {reason}"
            );
            return;
        }
    };
    let flight_addr = free_addr();
    let Filtering {
        broker,
        input,
        output,
        server,
        _data,
    } = filtering("from_python", &["--flight-addr", &flight_addr.to_string()])
        .await
        .unwrap();
    server
        .post(
            "/pipelines/from_python/debug",
            Some(&json!({"enabled": true})),
        )
        .await;
    let subscriber = Subscriber::start(&broker, &output).await;
    publish(
        &broker,
        &input,
        &[
            r#"{"user_id": 1, "score": 2}"#,
            r#"{"user_id": 2, "score": -2}"#,
        ],
    )
    .await;
    subscriber.wait_for(1).await;
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/python/read_debug_batches.py"
    );
    let base = format!("http://{}", server.addr);
    let reader = tokio::process::Command::new(python)
        .args([script, &base, "from_python", &flight_addr.to_string()])
        .output();
    let reader = tokio::spawn(reader);
    while !reader.is_finished() {
        publish(&broker, &input, &[r#"{"user_id": 3, "score": 3}"#]).await;
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let output = reader.await.unwrap().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(summary["retained"]["columns"], json!(["user_id", "score"]));
    assert!(
        summary["retained"]["rows"].as_u64().unwrap() >= 1,
        "{summary}"
    );
    assert!(summary["tail"]["rows"].as_u64().unwrap() >= 1, "{summary}");
    assert_eq!(summary["flight"]["columns"], json!(["user_id", "score"]));
    assert!(
        summary["flight"]["rows"].as_u64().unwrap() >= 1,
        "{summary}"
    );
}

#[cfg(feature = "flight")]
#[tokio::test]
async fn arrow_flight_streams_a_running_pipelines_batches() {
    use arrow_flight::{FlightClient, FlightDescriptor, Ticket};
    use futures_util::StreamExt;

    let flight_addr = free_addr();
    let Filtering {
        broker,
        input,
        server: _server,
        _data,
        ..
    } = filtering("flown", &["--flight-addr", &flight_addr.to_string()])
        .await
        .unwrap();
    let channel = tonic::transport::Channel::from_shared(format!("http://{flight_addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut client = FlightClient::new(channel);

    let infos: Vec<_> = client
        .list_flights("")
        .await
        .unwrap()
        .collect::<Vec<_>>()
        .await;
    let tickets: Vec<Vec<u8>> = infos
        .into_iter()
        .map(|info| {
            info.unwrap().endpoint[0]
                .ticket
                .clone()
                .unwrap()
                .ticket
                .to_vec()
        })
        .collect();
    assert!(tickets.contains(&b"flown/filter".to_vec()), "{tickets:?}");
    let path = FlightDescriptor::new_path(vec!["flown".into(), "filter".into()]);
    let schema = client.get_schema(path).await.unwrap();
    let names: Vec<_> = schema
        .fields()
        .iter()
        .map(|field| field.name().as_str())
        .collect();
    assert_eq!(names, ["user_id", "score"]);

    let mut batches = client.do_get(Ticket::new("flown/filter")).await.unwrap();
    let reader = tokio::spawn(async move { batches.next().await.unwrap().unwrap() });
    while !reader.is_finished() {
        let payloads = [
            r#"{"user_id": 4, "score": -4}"#,
            r#"{"user_id": 5, "score": 5}"#,
        ];
        publish(&broker, &input, &payloads).await;
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let batch = reader.await.unwrap();
    let scores = arrow::array::AsArray::as_primitive::<arrow::datatypes::Float64Type>(
        batch.column_by_name("score").unwrap(),
    );
    assert!(
        scores.values().iter().all(|score| *score > 0.0),
        "{batch:?}"
    );

    let refused = client
        .do_get(Ticket::new("flown/middle"))
        .await
        .unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("source, filter, project or sink"),
        "{refused}"
    );
    let missing = client.do_get(Ticket::new("nobody/sink")).await.unwrap_err();
    assert!(missing.to_string().contains("nobody"), "{missing}");
}
