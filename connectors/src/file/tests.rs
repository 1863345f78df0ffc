//! The file sink and source against real files in temporary directories, built through the
//! registry as the server builds them.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow::array::{Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::codec::Encoder;
use crate::connector::{ConnectorContext, Sink, Subscription};
use crate::delivery::Delivery;
use crate::registry::registry;
use crate::template::Template;
use crate::topics::MemoryHub;

/// How long a test waits for something that should happen.
const DEADLINE: Duration = Duration::from_secs(10);

fn context(hub: &MemoryHub) -> ConnectorContext<'_> {
    ConnectorContext {
        name: "test",
        shared_name: "test",
        client_id: "test",
        hub,
        ingest: hub,
        read_interval: Duration::ZERO,
    }
}

// ---------------------------------------------------------------- sink

/// Rows `(device, seq)`, one per `seq` in `range`, the devices taking turns.
fn readings(devices: &[&str], range: std::ops::Range<i64>) -> RecordBatch {
    let schema = Schema::new(vec![
        Field::new("device", DataType::Utf8, true),
        Field::new("seq", DataType::Int64, false),
    ]);
    let seqs: Vec<i64> = range.collect();
    let names: Vec<&str> = seqs
        .iter()
        .map(|seq| devices[usize::try_from(*seq).unwrap() % devices.len()])
        .collect();
    RecordBatch::try_new(
        Arc::new(schema),
        vec![
            Arc::new(StringArray::from(names)),
            Arc::new(Int64Array::from(seqs)),
        ],
    )
    .unwrap()
}

/// The JSON line the encoder writes for a reading.
fn line(device: &str, seq: i64) -> String {
    format!(r#"{{"device":"{device}","seq":{seq}}}"#)
}

/// A file sink of `props` and a JSON encoder, sending batches as the runtime does: whole,
/// or split by the rendered path.
struct SinkUnderTest {
    sink: Box<dyn Sink>,
    template: Option<Template>,
    encoder: Box<dyn Encoder>,
}

impl SinkUnderTest {
    fn new(props: &Value) -> Self {
        let hub = MemoryHub::default();
        let kind = registry().sink("file").unwrap();
        Self {
            sink: kind.build(props, &context(&hub)).unwrap(),
            template: kind.template(props).unwrap(),
            encoder: registry()
                .encoder("json")
                .unwrap()
                .build(&json!({}))
                .unwrap(),
        }
    }

    /// Sends `batch`; the error of the first part that failed.
    async fn send(&mut self, batch: &RecordBatch) -> Result<(), String> {
        let Some(template) = &self.template else {
            let messages = self.encoder.encode(batch).unwrap();
            return self
                .sink
                .send(None, messages)
                .await
                .map_err(|u| u.error.to_string());
        };
        for (path, rows) in template.route(batch).unwrap().groups {
            let messages = self.encoder.encode(&rows).unwrap();
            let sent = self.sink.send(Some(&path), messages).await;
            sent.map_err(|unsent| unsent.error.to_string())?;
        }
        Ok(())
    }
}

fn read_lines(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.is_empty() || text.ends_with('\n'), "{text:?}");
    text.lines().map(str::to_owned).collect()
}

/// The files of `dir` by name: the rotated ones (their stamps sort in time order) before
/// the file being written, whose name has no stamp.
fn files_in_order(dir: &Path, current: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.file_name().unwrap() != current)
        .collect();
    files.sort();
    files.push(dir.join(current));
    files
}

#[tokio::test]
async fn the_sink_appends_each_message_as_a_json_line_creating_directories() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/deeper/out.jsonl");
    let mut sink = SinkUnderTest::new(&json!({"path": path}));
    sink.send(&readings(&["a", "b"], 0..3)).await.unwrap();
    sink.send(&readings(&["a", "b"], 3..5)).await.unwrap();
    let expected: Vec<String> = ["a", "b", "a", "b", "a"]
        .iter()
        .zip(0..)
        .map(|(device, seq)| line(device, seq))
        .collect();
    assert_eq!(read_lines(&path), expected);
}

#[tokio::test]
async fn rotation_by_size_splits_batches_into_files_that_hold_every_row_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.jsonl");
    let line_bytes = line("a", 10).len() as u64 + 1;
    let props = json!({"path": path, "rotate_bytes": line_bytes * 3, "fsync": "never"});
    let mut sink = SinkUnderTest::new(&props);
    for start in [10, 17, 20] {
        sink.send(&readings(&["a"], start..start + 7))
            .await
            .unwrap();
    }
    let files = files_in_order(dir.path(), "out.jsonl");
    assert_eq!(files.len(), 7, "21 lines, 3 a file: {files:?}");
    for file in &files {
        let size = std::fs::metadata(file).unwrap().len();
        assert!(
            size <= line_bytes * 3,
            "{} holds {size} bytes",
            file.display()
        );
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            name.starts_with("out.") && name.ends_with(".jsonl"),
            "{name}"
        );
    }
    let all: Vec<String> = files.iter().flat_map(|file| read_lines(file)).collect();
    let expected: Vec<String> = (10..24).chain(20..27).map(|seq| line("a", seq)).collect();
    assert_eq!(all, expected);
}

#[tokio::test]
async fn rotation_by_age_starts_a_new_file_once_the_old_one_is_older() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.jsonl");
    let mut sink = SinkUnderTest::new(&json!({"path": path, "rotate_secs": 1}));
    for start in [0, 2, 4] {
        sink.send(&readings(&["a"], start..start + 2))
            .await
            .unwrap();
        // Rotation is due once the file is a second old: let that second pass.
        tokio::time::sleep(Duration::from_millis(1100)).await;
    }
    let files = files_in_order(dir.path(), "out.jsonl");
    assert_eq!(files.len(), 3, "{files:?}");
    let all: Vec<String> = files.iter().flat_map(|file| read_lines(file)).collect();
    assert_eq!(all, (0..6).map(|seq| line("a", seq)).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_torn_last_line_is_cut_off_when_the_file_is_opened() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.jsonl");
    let whole = format!("{}\n{}\n", line("a", 0), line("a", 1));
    std::fs::write(&path, format!("{whole}{{\"device\":\"a\",\"se")).unwrap();
    let mut sink = SinkUnderTest::new(&json!({"path": path}));
    sink.send(&readings(&["a"], 2..3)).await.unwrap();
    let expected: Vec<String> = (0..3).map(|seq| line("a", seq)).collect();
    assert_eq!(read_lines(&path), expected);

    let torn_alone = dir.path().join("torn.jsonl");
    std::fs::write(&torn_alone, "no newline at all").unwrap();
    let mut sink = SinkUnderTest::new(&json!({"path": torn_alone}));
    sink.send(&readings(&["a"], 0..1)).await.unwrap();
    assert_eq!(read_lines(&torn_alone), [line("a", 0)]);
}

#[tokio::test]
async fn a_path_with_a_placeholder_splits_rows_per_device_with_few_files_open() {
    let dir = tempfile::tempdir().unwrap();
    let template = dir.path().join("archive/{{device}}.jsonl");
    // One open file at a time: every switch of device closes one and opens another.
    let mut sink = SinkUnderTest::new(&json!({"path": template, "max_open_files": 1}));
    let devices = ["d1", "d2", "d3"];
    sink.send(&readings(&devices, 0..6)).await.unwrap();
    sink.send(&readings(&devices, 6..12)).await.unwrap();
    for (index, device) in devices.iter().enumerate() {
        let file = dir.path().join(format!("archive/{device}.jsonl"));
        let expected: Vec<String> = (0..12)
            .filter(|seq| usize::try_from(*seq).unwrap() % 3 == index)
            .map(|seq| line(device, seq))
            .collect();
        assert_eq!(read_lines(&file), expected, "{device}");
    }
}

#[tokio::test]
async fn a_rendered_path_may_not_lead_out_of_its_directory() {
    let dir = tempfile::tempdir().unwrap();
    let template = dir.path().join("archive/{{device}}.jsonl");
    let mut sink = SinkUnderTest::new(&json!({"path": template}));
    let error = sink
        .send(&readings(&["../escaped"], 0..1))
        .await
        .unwrap_err();
    assert!(error.contains("leads out of the directory"), "{error}");
    assert!(!dir.path().join("escaped.jsonl").exists());
}

#[test]
fn bad_sink_props_name_their_field() {
    let kind = registry().sink("file").unwrap();
    let cases = [
        (json!({}), "props: missing field `path`"),
        (json!({"path": ""}), "props.path"),
        (
            json!({"path": "x", "rotate_bytes": 0}),
            "props.rotate_bytes",
        ),
        (json!({"path": "x", "fsync": "always"}), "props.fsync"),
        (
            json!({"path": "x", "max_open_files": 0}),
            "props.max_open_files",
        ),
        (json!({"path": "x/{{device"}), "props.path"),
    ];
    for (props, field) in cases {
        let error = kind.check(&props).unwrap_err().to_string();
        assert!(error.contains(field), "{props}: {error}");
    }
}

// ---------------------------------------------------------------- source

/// A file source of `props`, started.
fn start_source(props: &Value, shutdown: &CancellationToken) -> mpsc::Receiver<Delivery> {
    let hub = MemoryHub::default();
    let source = registry().source("file").unwrap();
    let source = source.build(props, &context(&hub)).unwrap();
    let Subscription { deliveries, .. } = source.start(16, shutdown.clone());
    deliveries
}

async fn next(deliveries: &mut mpsc::Receiver<Delivery>) -> Delivery {
    let received = tokio::time::timeout(DEADLINE, deliveries.recv()).await;
    received.expect("a line in time").expect("the source runs")
}

/// The payloads of the next `count` deliveries, their acknowledgements settled.
async fn next_settled(deliveries: &mut mpsc::Receiver<Delivery>, count: usize) -> Vec<String> {
    let mut payloads = Vec::new();
    for _ in 0..count {
        let mut delivery = next(deliveries).await;
        delivery.ack.take().expect("acknowledged").settle();
        payloads.push(String::from_utf8(delivery.payload.to_vec()).unwrap());
    }
    payloads
}

fn append(path: &Path, text: &str) {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    file.write_all(text.as_bytes()).unwrap();
}

#[tokio::test]
async fn once_reads_every_line_then_delivers_nothing_more() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("in.jsonl");
    std::fs::write(&path, "one\n\ntwo\r\nthree\nlast without newline").unwrap();
    let shutdown = CancellationToken::new();
    let mut deliveries = start_source(&json!({"path": path}), &shutdown);
    let first = next(&mut deliveries).await;
    assert_eq!(first.topic.as_deref(), Some(path.to_str().unwrap()));
    assert!(first.received_at_ms.is_some());
    let rest = next_settled(&mut deliveries, 3).await;
    assert_eq!(rest, ["two", "three", "last without newline"]);
    let more = tokio::time::timeout(Duration::from_millis(300), deliveries.recv()).await;
    assert!(more.is_err(), "the stream stays open with nothing more");
    shutdown.cancel();
}

#[tokio::test]
async fn a_header_line_is_skipped_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("in.csv");
    std::fs::write(&path, "device,seq\na,1\nb,2\n").unwrap();
    let shutdown = CancellationToken::new();
    let mut deliveries = start_source(&json!({"path": path, "skip_header": true}), &shutdown);
    assert_eq!(next_settled(&mut deliveries, 2).await, ["a,1", "b,2"]);
    shutdown.cancel();
}

#[tokio::test]
async fn follow_sees_appended_lines_a_truncation_and_a_rotated_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("in.log");
    std::fs::write(&path, "1\n2\n").unwrap();
    let shutdown = CancellationToken::new();
    let mut deliveries = start_source(&json!({"path": path, "mode": "follow"}), &shutdown);
    assert_eq!(next_settled(&mut deliveries, 2).await, ["1", "2"]);

    append(&path, "3\npart");
    assert_eq!(next_settled(&mut deliveries, 1).await, ["3"]);
    append(&path, "ial 4\n");
    assert_eq!(next_settled(&mut deliveries, 1).await, ["partial 4"]);

    std::fs::rename(&path, dir.path().join("in.log.1")).unwrap();
    append(
        &dir.path().join("in.log.1"),
        "5 written before the new file\n",
    );
    append(&path, "6 in the new file\n");
    let after_rotation = next_settled(&mut deliveries, 2).await;
    assert_eq!(
        after_rotation,
        ["5 written before the new file", "6 in the new file"]
    );

    std::fs::write(&path, "").unwrap();
    append(&path, "7\n");
    assert_eq!(next_settled(&mut deliveries, 1).await, ["7"]);
    shutdown.cancel();
}

/// The offset file of the test consumer reading `path`.
fn offset_file(path: &Path) -> PathBuf {
    let name = path.file_name().unwrap().to_string_lossy();
    path.with_file_name(format!("{name}.test.offset"))
}

/// Waits until the offset file next to `path` says `offset`.
async fn wait_for_saved_offset(path: &Path, offset: usize) {
    let started = Instant::now();
    let file = offset_file(path);
    loop {
        let saved = std::fs::read_to_string(&file).unwrap_or_default();
        if saved.contains(&format!("\"offset\":{offset}")) {
            return;
        }
        assert!(
            started.elapsed() < DEADLINE,
            "offset {offset} not saved: {saved:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_restart_resumes_after_the_lines_settled_in_order_and_reads_the_rest_again() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("in.jsonl");
    let lines: Vec<String> = (1..=6).map(|n| format!("line {n}")).collect();
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();

    let shutdown = CancellationToken::new();
    let mut deliveries = start_source(&json!({"path": path, "mode": "follow"}), &shutdown);
    assert_eq!(next_settled(&mut deliveries, 3).await, lines[..3]);
    let fourth = next(&mut deliveries).await;
    // The fifth is settled, but the fourth never is: the position stays after the third.
    next_settled(&mut deliveries, 1).await;
    drop(fourth);
    shutdown.cancel();
    drop(deliveries);
    wait_for_saved_offset(&path, "line 1\nline 2\nline 3\n".len()).await;

    let shutdown = CancellationToken::new();
    let mut deliveries = start_source(&json!({"path": path, "mode": "follow"}), &shutdown);
    assert_eq!(next_settled(&mut deliveries, 3).await, lines[3..]);
    wait_for_saved_offset(&path, lines.join("\n").len() + 1).await;
    shutdown.cancel();
}

#[tokio::test]
async fn a_file_that_is_not_there_yet_is_waited_for() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("later.jsonl");
    let shutdown = CancellationToken::new();
    let mut deliveries = start_source(&json!({"path": path}), &shutdown);
    std::fs::write(&path, "here now\n").unwrap();
    assert_eq!(next_settled(&mut deliveries, 1).await, ["here now"]);
    shutdown.cancel();
}

#[tokio::test]
async fn a_rate_spreads_the_lines_out() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("in.jsonl");
    std::fs::write(&path, "1\n2\n3\n4\n5\n6\n7\n8\n").unwrap();
    let shutdown = CancellationToken::new();
    let mut deliveries = start_source(&json!({"path": path, "rate_per_sec": 40}), &shutdown);
    next_settled(&mut deliveries, 1).await;
    let started = Instant::now();
    assert_eq!(next_settled(&mut deliveries, 7).await.len(), 7);
    // Seven lines at 40 a second take 175 ms; all at once would take none.
    assert!(
        started.elapsed() >= Duration::from_millis(100),
        "{:?}",
        started.elapsed()
    );
    shutdown.cancel();
}

#[test]
fn bad_source_props_name_their_field() {
    let kind = registry().source("file").unwrap();
    let cases = [
        (json!({"mode": "once"}), "props: missing field `path`"),
        (json!({"path": "x", "mode": "tail"}), "props.mode"),
        (
            json!({"path": "x", "rate_per_sec": 0}),
            "props.rate_per_sec",
        ),
        (json!({"path": "x", "offset_dir": ""}), "props.offset_dir"),
    ];
    for (props, field) in cases {
        let error = kind.check(&props).unwrap_err().to_string();
        assert!(error.contains(field), "{props}: {error}");
    }
}
