//! The fixture of the tests of state that outlives an interruption: a checkpointing server
//! over a data directory it keeps, one stateful pipeline over a stream of numbered readings
//! from many devices, a paced feed that interrupts the pipeline halfway, and the rows it
//! emitted.

use std::time::Duration;

use serde_json::Value;

use super::{Server, Subscriber, broker_url, pipeline_spec, publish, unique_topic, wait_until};

/// Devices sending readings, and readings each device sends.
pub(crate) const DEVICES: usize = 1000;
pub(crate) const READINGS_PER_DEVICE: usize = 3;
/// Readings fed, one a message: so that the 20 messages Mosquitto keeps in flight per client,
/// which a crash may deliver twice, stay under 1 % of them.
pub(crate) const READINGS: usize = DEVICES * READINGS_PER_DEVICE;

/// The configuration of the server: a checkpoint every 100 ms, so that several are committed
/// while a test feeds its readings.
const CHECKPOINTED: &str = "runtime:\n  checkpoint_interval_ms: 100\n";

/// The pipeline's id (each test has a server of its own).
const PIPELINE: &str = "stateful";

/// Readings are published this many at a time...
const CHUNK: usize = 100;
/// ...never more than this many beyond what the pipeline took in, so that the broker's queue
/// for it (Mosquitto's `max_queued_messages`, 1000 by default) never overflows.
const AHEAD: usize = 300;
/// As a kill approaches, readings are published this many at a time, each step waiting for a
/// checkpoint: few readings then wait for each checkpoint whatever the broker's in-flight
/// window (Mosquitto's is 20, the in-process broker's 100), and few come twice after the kill.
const STEP: usize = 5;

/// How a test interrupts the pipeline halfway through the readings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Interruption {
    /// SIGKILL once two checkpoints were committed after half the readings were sent, with a
    /// few readings since the last, then a new server over the same data.
    Kill,
    /// SIGTERM, then a new server over the same data.
    Terminate,
    /// `POST /pipelines/{id}/stop`, then `start`.
    StopStart,
}

/// A stateful pipeline reading `input`, its output collected, on a server over `data`.
pub(crate) struct Stateful {
    broker: String,
    input: String,
    output: Subscriber,
    data: tempfile::TempDir,
}

impl Stateful {
    /// Starts a checkpointing server and the pipeline running `sql` with `options` over a
    /// stream of readings (`device`, `id`, `v`, event time `ts`) subscribed at `qos`.
    pub(crate) async fn start(name: &str, sql: &str, qos: u8, options: Value) -> (Self, Server) {
        let broker = broker_url();
        let data = tempfile::tempdir().unwrap();
        let server = Server::start_configured(data.path(), CHECKPOINTED).await;
        let (input, output) = (
            unique_topic(&format!("{name}-in")),
            unique_topic(&format!("{name}-out")),
        );
        let stream = readings_stream(&broker, &input, qos);
        assert_eq!(server.post("/streams", Some(&stream)).await.0, 201);
        let mut pipeline = pipeline_spec(PIPELINE, sql, &broker, &output);
        pipeline["options"] = options;
        let (status, body) = server.post("/pipelines", Some(&pipeline)).await;
        assert_eq!(status, 201, "{body}");
        let start = format!("/pipelines/{PIPELINE}/start");
        assert_eq!(server.post(&start, None).await.0, 200);
        wait_until_running(&server).await;
        let output = Subscriber::start(&broker, &output).await;
        let stateful = Self {
            broker,
            input,
            output,
            data,
        };
        (stateful, server)
    }

    /// Publishes `payloads`, interrupting the pipeline as `interruption` says once half are
    /// sent; returns the server running it afterwards.
    pub(crate) async fn feed(
        &self,
        server: Server,
        payloads: &[String],
        interruption: Interruption,
    ) -> Server {
        let (before, after) = payloads.split_at(payloads.len() / 2);
        self.publish_paced(&server, before).await;
        let (server, used) = self
            .interrupt(server, interruption, (before.len(), after))
            .await;
        self.publish_paced(&server, &after[used..]).await;
        server
    }

    /// Publishes `payloads` [`CHUNK`] at a time, at most [`AHEAD`] beyond what the pipeline
    /// took in since it started.
    async fn publish_paced(&self, server: &Server, payloads: &[String]) {
        let mut sent = 0;
        for chunk in payloads.chunks(CHUNK) {
            self.publish(chunk).await;
            sent += chunk.len();
            wait_until("the pipeline keeps up", async || {
                taken_in(server).await + AHEAD >= sent
            })
            .await;
        }
    }

    /// Publishes `payloads` to the pipeline's input at QoS 1.
    pub(crate) async fn publish(&self, payloads: &[String]) {
        let payloads: Vec<&str> = payloads.iter().map(String::as_str).collect();
        publish(&self.broker, &self.input, &payloads).await;
    }

    /// Interrupts the pipeline, which was sent `sent` readings, as `interruption` says, a kill
    /// publishing some of `next` first; returns the server running the pipeline again and how
    /// many of `next` were published.
    async fn interrupt(
        &self,
        server: Server,
        interruption: Interruption,
        (sent, next): (usize, &[String]),
    ) -> (Server, usize) {
        let (server, used) = match interruption {
            Interruption::Kill => {
                let used = self.approach_a_kill(&server, sent, next).await;
                server.kill();
                let server = Server::start_configured(self.data.path(), CHECKPOINTED).await;
                (server, used)
            }
            Interruption::Terminate => {
                assert!(server.terminate().await.success(), "the server exits 0");
                let server = Server::start_configured(self.data.path(), CHECKPOINTED).await;
                (server, 0)
            }
            Interruption::StopStart => {
                for action in ["stop", "start"] {
                    let path = format!("/pipelines/{PIPELINE}/{action}");
                    assert_eq!(server.post(&path, None).await.0, 200, "{action}");
                }
                (server, 0)
            }
        };
        wait_until_running(&server).await;
        (server, used)
    }

    /// Once the pipeline took in the `sent` readings before `next`, publishes `next` [`STEP`]
    /// at a time, each step taken in and followed by a checkpoint, until two were committed
    /// since this began; then one step more, which the kill finds on its way. So restoring
    /// has a checkpoint to find, and few readings came since it: those come again. Returns
    /// how many of `next` were published.
    async fn approach_a_kill(&self, server: &Server, sent: usize, next: &[String]) -> usize {
        let mut sent = sent;
        let taken = async |sent: usize| {
            wait_until("the pipeline takes in what was sent", async || {
                taken_in(server).await >= sent
            })
            .await;
        };
        taken(sent).await;
        let at_start = checkpoint_count(server).await;
        let mut used = 0;
        for step in next.chunks(STEP) {
            let committed = checkpoint_count(server).await;
            self.publish(step).await;
            (sent, used) = (sent + step.len(), used + step.len());
            if committed >= at_start + 2 {
                break;
            }
            taken(sent).await;
            // The step changed the state: a checkpoint after it will come.
            wait_until("a checkpoint is committed", async || {
                checkpoint_count(server).await > committed
            })
            .await;
        }
        used
    }

    /// Waits up to a minute for `complete` to hold over the rows emitted, and returns them.
    pub(crate) async fn rows_once(&self, complete: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let _ = tokio::time::timeout(Duration::from_secs(60), async {
            while !complete(&self.rows()) {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
        .await;
        self.rows()
    }

    /// The rows the pipeline emitted so far.
    fn rows(&self) -> Vec<Value> {
        let messages = self.output.messages();
        let rows = messages.iter().map(|message| serde_json::from_str(message));
        rows.collect::<Result<_, _>>().unwrap()
    }
}

/// Reading `id`: from [`device`]`(id)`, worth [`value`]`(id)`, at `ts` milliseconds.
pub(crate) fn reading(id: usize, ts: i64) -> String {
    format!(
        r#"{{"device": "{}", "id": {id}, "v": {}, "ts": {ts}}}"#,
        device(id),
        value(id)
    )
}

/// The device sending reading `id`: every device sends one before any sends its second.
pub(crate) fn device(id: usize) -> String {
    format!("d{:04}", id % DEVICES)
}

/// The value of reading `id`: small and positive, so that a duplicate shows in a sum.
pub(crate) fn value(id: usize) -> u64 {
    id as u64 % 7 + 1
}

/// A stream of readings on `topic`, subscribed at `qos`, whose event time is `ts`.
fn readings_stream(broker: &str, topic: &str, qos: u8) -> Value {
    serde_json::json!({
        "name": "readings",
        "type": "mqtt",
        "schema": {"type": "json", "props": {"columns": [
            {"name": "device", "data_type": "string"},
            {"name": "id", "data_type": "int64"},
            {"name": "v", "data_type": "int64"},
            {"name": "ts", "data_type": "int64"}
        ]}},
        "eventtime": {"column": "ts", "type": "unixtimestamp_ms"},
        "props": {"broker_url": broker, "topic": topic, "qos": qos}
    })
}

/// Waits until the pipeline runs with its source connected.
async fn wait_until_running(server: &Server) {
    wait_until("the pipeline runs", async || {
        server.stage(PIPELINE, "source").await.is_object()
            && server.get(&format!("/pipelines/{PIPELINE}/status")).await.1["state"] == "running"
    })
    .await;
}

/// How many messages the pipeline's source took in since it started.
async fn taken_in(server: &Server) -> usize {
    let source = server.stage(PIPELINE, "source").await;
    usize::try_from(source["records_in"].as_u64().unwrap_or(0)).unwrap()
}

/// How many checkpoints the pipeline's status counts.
async fn checkpoint_count(server: &Server) -> u64 {
    let (_, status) = server.get(&format!("/pipelines/{PIPELINE}/status")).await;
    status["checkpoint"]["count"].as_u64().unwrap_or(0)
}
