//! Faults survived end to end: each test publishes a numbered stream at QoS 1 through the
//! real server, breaks something mid-stream, and reports how many messages were sent and how
//! many distinct ones arrived. None may be lost. The pipelines holding state (windows, `lag`)
//! are interrupted mid-window and must come back with it: they report what they counted, and
//! how much of it twice.

#![expect(clippy::unwrap_used, reason = "a test: a failure is a failed test")]

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::time::Duration;

use serde_json::{Value, json};
use support::{
    DEVICES, Interruption, READINGS, READINGS_PER_DEVICE, Server, Stateful, Subscriber, broker_url,
    device, filtering_pipeline, publish, reading, unique_topic, value, wait_until,
};

/// How many messages each test sends.
const MESSAGES: usize = 600;

/// Publishes messages `0..MESSAGES` (all passing the filter) at QoS 1, 20 every 25 ms.
fn publish_numbered(broker: String, input: String) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let payloads: Vec<String> = (0..MESSAGES)
            .map(|id| format!(r#"{{"user_id": {id}, "score": 1}}"#))
            .collect();
        for chunk in payloads.chunks(20) {
            let chunk: Vec<&str> = chunk.iter().map(String::as_str).collect();
            publish(&broker, &input, &chunk).await;
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    })
}

/// The distinct ids among `messages`.
fn delivered_ids(messages: &[String]) -> BTreeSet<i64> {
    messages
        .iter()
        .filter_map(|message| serde_json::from_str::<Value>(message).ok())
        .filter_map(|row| row["user_id"].as_i64())
        .collect()
}

/// Waits until every id arrived, then reports and checks the counts.
async fn expect_everything(test: &str, subscriber: &Subscriber) {
    let complete = async || delivered_ids(&subscriber.messages()).len() == MESSAGES;
    let _ = tokio::time::timeout(Duration::from_secs(30), async {
        while !complete().await {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    let messages = subscriber.messages();
    let delivered = delivered_ids(&messages);
    let _ = writeln!(
        std::io::stderr(),
        "{test}: sent {MESSAGES}, delivered {} distinct ({} with duplicates), lost {}",
        delivered.len(),
        messages.len(),
        MESSAGES - delivered.len()
    );
    let missing: Vec<_> = (0..MESSAGES as i64)
        .filter(|id| !delivered.contains(id))
        .take(20)
        .collect();
    assert!(missing.is_empty(), "{test}: lost {missing:?}...");
}

#[tokio::test]
async fn a_server_killed_mid_stream_at_qos_1_loses_nothing() {
    let broker = broker_url();
    let data = tempfile::tempdir().unwrap();
    let (input, output) = (unique_topic("kill-in"), unique_topic("kill-out"));
    let server = Server::start(data.path(), &[]).await;
    filtering_pipeline(&server, "survivor", &broker, &input, &output).await;
    let subscriber = Subscriber::start(&broker, &output).await;
    let publisher = publish_numbered(broker.clone(), input.clone());
    tokio::time::sleep(Duration::from_millis(300)).await;
    server.kill();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let server = Server::start(data.path(), &[]).await;
    publisher.await.unwrap();
    expect_everything("SIGKILL mid-stream", &subscriber).await;
    drop(server);
}

#[tokio::test]
async fn a_broker_stopped_for_seconds_mid_stream_loses_nothing_at_qos_1() {
    let dir = tempfile::tempdir().unwrap();
    let mut broker = match support::Mosquitto::start(dir.path()).await {
        Ok(broker) => broker,
        Err(reason) => {
            let _ = writeln!(std::io::stderr(), "broker restart test skipped: {reason}");
            return;
        }
    };
    let url = broker.url();
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]).await;
    let (input, output) = ("restart/in", "restart/out");
    filtering_pipeline(&server, "outlives", &url, input, output).await;
    let subscriber = Subscriber::start_persistent(&url, output).await;
    let payloads = (0..MESSAGES)
        .map(|id| format!(r#"{{"user_id": {id}, "score": 1}}"#))
        .collect();
    let publisher =
        support::steady_publisher(&url, input, payloads, (20, Duration::from_millis(25)));
    tokio::time::sleep(Duration::from_millis(300)).await;
    broker.stop();
    wait_until("the pipeline reports its lost connection", async || {
        server.get("/pipelines/outlives/status").await.1["state"] == "failed"
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    broker.restart().await;
    assert_eq!(publisher.await.unwrap(), MESSAGES);
    expect_everything("broker stopped mid-stream", &subscriber).await;
}

/// The value of the unlabelled sample `name` in a Prometheus text exposition.
fn sample(exposition: &str, name: &str) -> Option<f64> {
    exposition.lines().find_map(|line| {
        line.strip_prefix(name)?
            .strip_prefix(' ')?
            .trim()
            .parse()
            .ok()
    })
}

#[tokio::test]
async fn a_sink_far_slower_than_its_source_drops_nothing_and_memory_stays_bounded() {
    let broker = broker_url();
    // 4 KB/s towards the broker for the sink: about 60 output messages a second, while
    // the source is offered 600 in a burst.
    let slow = support::throttled_proxy(&broker, 4_000).await;
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]).await;
    let (input, output) = (unique_topic("slow-in"), unique_topic("slow-out"));
    let stream = support::stream_spec("slow_stream", &broker, &input, false);
    assert_eq!(server.post("/streams", Some(&stream)).await.0, 201);
    let sql = "SELECT user_id, score FROM slow_stream WHERE score > 0";
    let pipeline = support::pipeline_spec("slowpoke", sql, &format!("tcp://{slow}"), &output);
    assert_eq!(server.post("/pipelines", Some(&pipeline)).await.0, 201);
    assert_eq!(server.post("/pipelines/slowpoke/start", None).await.0, 200);
    let subscriber = Subscriber::start(&broker, &output).await;
    let (_, before) = server.get("/metrics").await;
    let resident_before =
        sample(before.as_str().unwrap(), "process_resident_memory_bytes").unwrap();
    let payloads: Vec<String> = (0..MESSAGES)
        .map(|id| format!(r#"{{"user_id": {id}, "score": 1}}"#))
        .collect();
    let payloads: Vec<&str> = payloads.iter().map(String::as_str).collect();
    publish(&broker, &input, &payloads).await;
    let mut peak = resident_before;
    let memory = async {
        loop {
            let (_, metrics) = server.get("/metrics").await;
            if let Some(resident) = sample(
                metrics.as_str().unwrap_or_default(),
                "process_resident_memory_bytes",
            ) {
                peak = peak.max(resident);
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    };
    tokio::select! {
        () = expect_everything("slow sink", &subscriber) => {}
        () = memory => {}
    }
    let growth = peak - resident_before;
    let _ = writeln!(
        std::io::stderr(),
        "slow sink: resident memory grew by {:.1} MiB at most",
        growth / f64::from(1 << 20)
    );
    // The channels hold at most channel_capacity (8192) messages of this size, and the
    // sink's client 1024 requests: far below 32 MiB.
    assert!(growth < f64::from(32 << 20), "grew by {growth} bytes");
}

#[tokio::test]
async fn sigterm_mid_stream_flushes_and_acknowledges_what_was_received() {
    let broker = broker_url();
    let data = tempfile::tempdir().unwrap();
    let (input, output) = (unique_topic("term-in"), unique_topic("term-out"));
    let server = Server::start(data.path(), &[]).await;
    filtering_pipeline(&server, "graceful", &broker, &input, &output).await;
    let subscriber = Subscriber::start(&broker, &output).await;
    let publisher = publish_numbered(broker.clone(), input.clone());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(server.terminate().await.success(), "the server exits 0");
    let stopped_at = subscriber.messages().len();
    let server = Server::start(data.path(), &[]).await;
    publisher.await.unwrap();
    expect_everything("SIGTERM mid-stream", &subscriber).await;
    // What was received before the stop was processed and acknowledged: nothing comes twice.
    let messages = subscriber.messages();
    assert_eq!(
        messages.len(),
        delivered_ids(&messages).len(),
        "duplicates after a graceful stop ({stopped_at} delivered before it)"
    );
    drop(server);
}

/// Event-time windows tolerate rows a minute late: more than any test lasts, so that the idle
/// rule (event time follows the clock once no row came for the tolerance) cannot close a
/// window before the closing reading does.
const LATE_TOLERANCE_MS: i64 = 60_000;
/// The tumbling window's length.
const WINDOW_MS: i64 = 10_000;

/// The start of the tumbling window holding the present moment: event times follow the clock.
fn current_window_start() -> i64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    let now = i64::try_from(now.unwrap().as_millis()).unwrap();
    now - now % WINDOW_MS
}

/// Feeds [`READINGS`] readings, subscribed at `qos`, into one event-time tumbling window per
/// device, interrupted as `interruption` says; closes the window with a reading past its end
/// and the tolerance, and returns the rows it emitted.
async fn tumbling_window_across(interruption: Interruption, qos: u8) -> Vec<Value> {
    let sql = format!(
        "SELECT device, count(*) AS n, sum(v) AS total, min(id) AS first FROM readings \
         GROUP BY device, TUMBLINGWINDOW(ss, {})",
        WINDOW_MS / 1000
    );
    let options = json!({"eventtime": {"enabled": true, "late_tolerance_ms": LATE_TOLERANCE_MS}});
    let (stateful, server) = Stateful::start("tumbling", &sql, qos, options).await;
    let start = current_window_start();
    // In order over the first 9 s of the window.
    let payloads: Vec<String> = (0..READINGS)
        .map(|id| reading(id, start + 3 * id as i64))
        .collect();
    let server = stateful.feed(server, &payloads, interruption).await;
    let closing = reading(READINGS, start + WINDOW_MS + LATE_TOLERANCE_MS + 1);
    stateful.publish(&[closing]).await;
    let rows = stateful
        .rows_once(|rows| tallies(rows).len() >= DEVICES)
        .await;
    drop(server);
    rows
}

/// What a per-device window counted: readings and their sum.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Tally {
    n: u64,
    total: u64,
}

/// The tallies `rows` hold per device, summed over the rows of a device.
fn tallies(rows: &[Value]) -> BTreeMap<String, Tally> {
    let mut tallies = BTreeMap::<String, Tally>::new();
    for row in rows {
        let tally = tallies
            .entry(row["device"].as_str().unwrap().to_owned())
            .or_default();
        tally.n += row["n"].as_u64().unwrap();
        tally.total += row["total"].as_u64().unwrap();
    }
    tallies
}

/// The tally of every device over all the readings.
fn true_tallies() -> BTreeMap<String, Tally> {
    let mut tallies = BTreeMap::<String, Tally>::new();
    for id in 0..READINGS {
        let tally = tallies.entry(device(id)).or_default();
        tally.n += 1;
        tally.total += value(id);
    }
    tallies
}

/// How what a window emitted compares with the truth: the devices that counted less (or
/// summed less), the devices that counted more, and the readings counted.
struct Comparison {
    short: Vec<(String, Tally)>,
    over: Vec<(String, Tally)>,
    counted: u64,
}

impl Comparison {
    /// Compares `rows` with the truth and reports it on stderr as `test`.
    fn of(test: &str, rows: &[Value]) -> Self {
        let emitted = tallies(rows);
        let (mut short, mut over) = (Vec::new(), Vec::new());
        for (device, truth) in true_tallies() {
            let tally = emitted.get(&device).copied().unwrap_or_default();
            if tally.n < truth.n || tally.total < truth.total {
                short.push((device, tally));
            } else if tally != truth {
                over.push((device, tally));
            }
        }
        let counted: u64 = emitted.values().map(|tally| tally.n).sum();
        let excess = counted.saturating_sub(READINGS as u64);
        let _ = writeln!(
            std::io::stderr(),
            "{test}: sent {READINGS} readings from {DEVICES} devices ({READINGS_PER_DEVICE} \
             each); {} devices emitted, {} short, {} over; {counted} readings counted, \
             {excess} in excess ({:.2} %)",
            emitted.len(),
            short.len(),
            over.len(),
            excess as f64 * 100.0 / READINGS as f64
        );
        Self {
            short,
            over,
            counted,
        }
    }

    /// Checks that no device counted less than it sent.
    fn assert_none_short(&self, test: &str) {
        let first = &self.short[..self.short.len().min(20)];
        assert!(self.short.is_empty(), "{test}: short, the first: {first:?}");
    }

    /// The readings counted twice.
    fn excess(&self) -> u64 {
        self.counted.saturating_sub(READINGS as u64)
    }
}

#[tokio::test]
async fn a_server_killed_mid_window_at_qos_1_restores_its_window_state() {
    let test = "SIGKILL mid tumbling window, QoS 1";
    let rows = tumbling_window_across(Interruption::Kill, 1).await;
    let comparison = Comparison::of(test, &rows);
    comparison.assert_none_short(test);
    let excess = comparison.excess();
    assert!(
        excess * 100 < READINGS as u64,
        "{test}: {excess} duplicates"
    );
}

/// A graceful interruption mid-window at QoS 1 leaves every device's count exact.
async fn expect_exact_counts_across(test: &str, interruption: Interruption) {
    let comparison = Comparison::of(test, &tumbling_window_across(interruption, 1).await);
    comparison.assert_none_short(test);
    assert!(
        comparison.over.is_empty(),
        "{test}: over: {:?}",
        comparison.over
    );
}

#[tokio::test]
async fn sigterm_mid_window_keeps_exact_counts() {
    expect_exact_counts_across("SIGTERM mid tumbling window", Interruption::Terminate).await;
}

#[tokio::test]
async fn a_pipeline_stopped_and_started_mid_window_keeps_exact_counts() {
    expect_exact_counts_across(
        "stop and start mid tumbling window",
        Interruption::StopStart,
    )
    .await;
}

#[tokio::test]
async fn a_server_killed_mid_window_at_qos_0_comes_back_with_its_last_checkpoint() {
    let test = "SIGKILL mid tumbling window, QoS 0";
    let rows = tumbling_window_across(Interruption::Kill, 0).await;
    let comparison = Comparison::of(test, &rows);
    // Every device's first reading came long before the checkpoint the kill waited for.
    let forgotten: Vec<&Value> = rows
        .iter()
        .filter(|row| {
            let first = row["first"].as_u64().unwrap();
            device(usize::try_from(first).unwrap()) != row["device"] || first >= DEVICES as u64
        })
        .collect();
    let _ = writeln!(
        std::io::stderr(),
        "{test}: {} readings lost (in flight at the kill), {} devices without their first \
         reading",
        READINGS as u64 - comparison.counted.min(READINGS as u64),
        forgotten.len()
    );
    assert!(
        forgotten.is_empty(),
        "{test}: {:?}",
        &forgotten[..forgotten.len().min(20)]
    );
    // Nothing is delivered again at QoS 0.
    assert!(
        comparison.over.is_empty(),
        "{test}: over: {:?}",
        comparison.over
    );
}

#[tokio::test]
async fn a_server_killed_mid_count_window_at_qos_1_restores_the_rows_it_held() {
    let test = "SIGKILL mid count window";
    // 7 rows a window: a window emitted after the last checkpoint is emitted again after the
    // kill, whole, so it must be small for the excess to stay under 1 %; and the readings
    // come 5 at a time near the kill, so that the window open then holds some.
    let sql = "SELECT count(*) AS n, array_agg(id) AS ids FROM readings GROUP BY COUNTWINDOW(7)";
    let (stateful, server) = Stateful::start("counted", sql, 1, json!({})).await;
    let payloads: Vec<String> = (0..READINGS).map(|id| reading(id, 0)).collect();
    let server = stateful.feed(server, &payloads, Interruption::Kill).await;
    // Fills the window the last readings are in, whatever duplicates shifted it by.
    let fillers: Vec<String> = (READINGS..READINGS + 7).map(|id| reading(id, 0)).collect();
    stateful.publish(&fillers).await;
    let windowed = |rows: &[Value]| -> Vec<i64> {
        let ids = rows.iter().flat_map(|row| row["ids"].as_array().unwrap());
        let ids = ids.map(|id| id.as_i64().unwrap());
        ids.filter(|id| *id < READINGS as i64).collect()
    };
    let rows = stateful
        .rows_once(|rows| windowed(rows).iter().collect::<BTreeSet<_>>().len() == READINGS)
        .await;
    drop(server);
    let ids = windowed(&rows);
    let distinct: BTreeSet<i64> = ids.iter().copied().collect();
    let missing: Vec<i64> = (0..READINGS as i64)
        .filter(|id| !distinct.contains(id))
        .collect();
    let excess = ids.len() - distinct.len();
    let _ = writeln!(
        std::io::stderr(),
        "{test}: sent {READINGS} readings; {} windows emitted, {} readings in them, {} missing, \
         {excess} in excess ({:.2} %)",
        rows.len(),
        ids.len(),
        missing.len(),
        excess as f64 * 100.0 / READINGS as f64
    );
    assert!(
        missing.is_empty(),
        "{test}: lost {:?}",
        &missing[..missing.len().min(20)]
    );
    assert!(excess * 100 < READINGS, "{test}: {excess} duplicates");
}

#[tokio::test]
async fn a_server_killed_mid_stream_at_qos_1_remembers_lag_per_device() {
    let test = "SIGKILL under lag";
    let sql = "SELECT device, id, lag(id) OVER (PARTITION BY device) AS prev FROM readings";
    let (stateful, server) = Stateful::start("lagging", sql, 1, json!({})).await;
    let payloads: Vec<String> = (0..READINGS).map(|id| reading(id, 0)).collect();
    let server = stateful.feed(server, &payloads, Interruption::Kill).await;
    let distinct_ids = |rows: &[Value]| {
        let ids = rows.iter().map(|row| row["id"].as_i64().unwrap());
        ids.collect::<BTreeSet<_>>().len()
    };
    let rows = stateful
        .rows_once(|rows| distinct_ids(rows) == READINGS)
        .await;
    drop(server);
    // Every copy of each reading's row, by id: a duplicate may have been computed over state
    // that already held it, so one right copy is enough.
    let mut copies = BTreeMap::<i64, Vec<Value>>::new();
    for row in &rows {
        let id = row["id"].as_i64().unwrap();
        copies.entry(id).or_default().push(row["prev"].clone());
    }
    let previous = |id: i64| match id - DEVICES as i64 {
        before if before >= 0 => Value::from(before),
        _ => Value::Null,
    };
    let mismatched: Vec<_> = copies
        .iter()
        .filter(|(id, prevs)| !prevs.contains(&previous(**id)))
        .collect();
    let forgotten = mismatched
        .iter()
        .filter(|(_, prevs)| prevs.iter().all(Value::is_null))
        .count();
    let _ = writeln!(
        std::io::stderr(),
        "{test}: sent {READINGS} readings from {DEVICES} devices; {} rows, {} distinct, {} lost, \
         {} with a wrong prev ({forgotten} of them null: memory lost)",
        rows.len(),
        copies.len(),
        READINGS - copies.len(),
        mismatched.len()
    );
    assert_eq!(copies.len(), READINGS, "{test}: readings lost");
    assert!(
        mismatched.is_empty(),
        "{test}: wrong prev: {:?}",
        &mismatched[..mismatched.len().min(20)]
    );
}
