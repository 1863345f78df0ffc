//! The file connectors in the real server: a stream reading a JSON-lines file once, a
//! pipeline filtering it into one file per device, and a restart that reads only the lines
//! written since.

mod support;

use std::path::Path;

use serde_json::json;
use support::{Server, wait_until};

/// The JSON line the pipeline writes for a reading.
fn line(device: &str, temp: f64) -> String {
    format!(r#"{{"device":"{device}","temp":{temp:?}}}"#)
}

/// The readings of the input file: `(device, temp)`, the cold ones filtered out.
const READINGS: [(&str, f64); 6] = [
    ("d1", 21.5),
    ("d2", 19.5),
    ("d1", 25.5),
    ("d2", 30.5),
    ("d3", 10.5),
    ("d2", 22.5),
];

/// The input lines for `readings`, with an empty line among them.
fn input(readings: &[(&str, f64)]) -> String {
    let lines: Vec<String> = readings
        .iter()
        .map(|(device, temp)| format!(r#"{{"device": "{device}", "temp": {temp}}}"#))
        .collect();
    lines.join("\n\n") + "\n"
}

/// The lines of `path`; none while it does not exist.
fn lines_of(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines().map(str::to_owned).collect()
}

/// The warm readings of `device`, as the sink writes them.
fn expected(readings: &[(&str, f64)], device: &str) -> Vec<String> {
    readings
        .iter()
        .filter(|(name, temp)| *name == device && *temp > 20.0)
        .map(|(name, temp)| line(name, *temp))
        .collect()
}

async fn create_and_start(server: &Server, input: &Path, output: &Path) {
    let stream = json!({
        "name": "file_readings",
        "type": "file",
        "schema": {"type": "json", "props": {"columns": [
            {"name": "device", "data_type": "string"},
            {"name": "temp", "data_type": "float64"}
        ]}},
        "props": {"path": input, "mode": "once"}
    });
    assert_eq!(server.post("/streams", Some(&stream)).await.0, 201);
    let pipeline = json!({
        "id": "file-warm",
        "sql": "SELECT device, temp FROM file_readings WHERE temp > 20",
        "sinks": [{"type": "file", "props": {"path": output.join("{{device}}.jsonl")}}]
    });
    let (status, body) = server.post("/pipelines", Some(&pipeline)).await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = server.post("/pipelines/file-warm/start", None).await;
    assert_eq!(status, 200, "{body}");
}

/// Waits until every device's file holds what `readings` give it.
async fn wait_for_output(output: &Path, readings: &[(&str, f64)]) {
    wait_until("every warm reading is written", async || {
        ["d1", "d2"].iter().all(|device| {
            lines_of(&output.join(format!("{device}.jsonl"))).len()
                >= expected(readings, device).len()
        })
    })
    .await;
    for device in ["d1", "d2"] {
        let written = lines_of(&output.join(format!("{device}.jsonl")));
        assert_eq!(written, expected(readings, device), "{device}");
    }
    assert!(!output.join("d3.jsonl").exists(), "d3 has no warm reading");
}

#[tokio::test]
async fn a_file_stream_filtered_into_a_file_per_device_resumes_after_a_restart() {
    let data = tempfile::tempdir().unwrap();
    let files = tempfile::tempdir().unwrap();
    let input_path = files.path().join("in/readings.jsonl");
    let output = files.path().join("out");
    std::fs::create_dir_all(input_path.parent().unwrap()).unwrap();
    std::fs::write(&input_path, input(&READINGS[..4])).unwrap();

    let server = Server::start(data.path(), &[]).await;
    create_and_start(&server, &input_path, &output).await;
    wait_for_output(&output, &READINGS[..4]).await;
    // A graceful stop saves the position after the last settled line.
    assert!(server.terminate().await.success());

    let mut appended = std::fs::OpenOptions::new()
        .append(true)
        .open(&input_path)
        .unwrap();
    std::io::Write::write_all(&mut appended, input(&READINGS[4..]).as_bytes()).unwrap();
    let server = Server::start(data.path(), &[]).await;
    wait_for_output(&output, &READINGS).await;
    drop(server);
}
