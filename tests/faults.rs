//! Faults survived end to end: each test publishes a numbered stream at QoS 1 through the
//! real server, breaks something mid-stream, and reports how many messages were sent and how
//! many distinct ones arrived. None may be lost.

mod support;

use std::collections::BTreeSet;
use std::io::Write;
use std::time::Duration;

use serde_json::Value;
use support::{
    Server, Subscriber, broker_url, filtering_pipeline, publish, unique_topic, wait_until,
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
