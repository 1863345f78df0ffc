//! Scale-out on the broker, with the example of `deploy/multi-instance/`: its three
//! configuration files and its specs, only the broker, the topics and (so that runs on one
//! broker never meet) the instance names being this run's. Three instances split the
//! messages of one shared input, lose none and repeat none; then one is killed mid-stream and
//! restarted over its data directory: still nothing is lost, and the repeats are counted and
//! printed.
//!
//! The input is shared three ways: an MQTT `$share` subscription (the example as written), a
//! NATS queue group on a core subject, and a JetStream durable consumer that every instance
//! names alike. A core NATS queue group delivers at most once, so it is run without a fault
//! only: a killed member loses what it held. An instance on the JetStream consumer is frozen
//! before it is killed, so that it dies holding messages it has not acknowledged, and the
//! test checks that the server delivered some again.

#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test: a failure is a failed test"
)]

mod support;

use std::collections::HashMap;
use std::ops::Range;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use async_nats::jetstream;
use serde_json::{Value, json};
use support::{
    NatsSubscriber, Server, Subscriber, broker_url, fresh_jetstream_stream, jetstream_publisher,
    nats_url, publish, publisher_ahead_of, unique_topic, wait_until,
};
use tokio::sync::Mutex;
use tokio::task::JoinHandle;
use veloflux_testkit::{Wait, unique_name};

/// The multi-instance example.
const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/multi-instance");
/// The configuration files of its instances.
const CONFIGS: [&str; 3] = ["gw-1.yaml", "gw-2.yaml", "gw-3.yaml"];
/// The pipeline its specs create.
const PIPELINE: &str = "fahrenheit";
/// The messages each run publishes.
const MESSAGES: i64 = 30_000;
/// How long a run's messages may take to come out: far more than they take (docs/SCALING.md).
const RUN_DEADLINE: Duration = Duration::from_secs(180);
/// How far the MQTT publisher may run ahead of the output: under the queue a broker keeps for
/// a client (Mosquitto: `max_queued_messages`, 1000 by default), which it overflows by
/// dropping.
const WINDOW: usize = 500;
/// How many messages the NATS publisher sends before it waits for their acknowledgements.
const ACK_WINDOW: usize = 1000;
/// How far the NATS publisher may run ahead of the output of a core queue group: about 1 700
/// per instance, well under the 8192 messages its client holds for its subscription, past
/// which core NATS drops.
const CORE_WINDOW: usize = 5000;
/// The JetStream consumer's acknowledgement wait, in milliseconds: what a killed instance
/// held comes again after it. Far above the time from delivery to acknowledgement (under a
/// second here: a few hundred messages in flight per instance), so nothing comes twice
/// without a fault.
const ACK_WAIT_MS: u64 = 10_000;

/// How many messages the others send on while the instance to kill is frozen: enough for
/// the server to hand it some of the messages that keep coming.
const FROZEN_FOR: usize = 300;

/// One cluster at a time: each is three servers on what may be a small machine, and the
/// counts and times it prints are its own.
static ONE_CLUSTER_AT_A_TIME: Mutex<()> = Mutex::const_new(());

/// One instance of the example: its configuration, its data directory, its process.
struct Instance {
    config: String,
    data: PathBuf,
    server: Server,
}

impl Instance {
    /// Starts instance `file` of the example over a fresh directory in `root`.
    async fn start(root: &tempfile::TempDir, file: &str) -> Self {
        let config = example_config(file);
        let data = root.path().join(file.trim_end_matches(".yaml"));
        let server = Server::start_configured(&data, &config).await;
        Self {
            config,
            data,
            server,
        }
    }

    /// Kills the process at once (SIGKILL) and starts it again over the same directory.
    async fn kill_and_restart(self) -> Self {
        let Self {
            config,
            data,
            server,
        } = self;
        server.kill();
        let server = Server::start_configured(&data, &config).await;
        Self {
            config,
            data,
            server,
        }
    }

    /// The messages its pipeline's source has taken since it started.
    async fn records_in(&self) -> u64 {
        let source = self.server.stage(PIPELINE, "source").await;
        source["records_in"].as_u64().unwrap_or(0)
    }
}

/// The example's configuration file `file`, its instance name made unique to this run.
fn example_config(file: &str) -> String {
    let text = std::fs::read_to_string(format!("{EXAMPLE}/{file}")).unwrap();
    let mut config: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text).unwrap();
    let name = config["server"]["instance_id"].as_str().unwrap();
    config["server"]["instance_id"] = unique_name(name).into();
    serde_yaml_ng::to_string(&config).unwrap()
}

/// The example's specs as written.
fn example_specs() -> Value {
    let text = std::fs::read_to_string(format!("{EXAMPLE}/specs.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The shared subscription group of the example's stream: `$share/<group>/...`.
fn example_group(specs: &Value) -> String {
    let topic = specs["streams"][0]["props"]["topic"].as_str().unwrap();
    let (group, _) = topic
        .strip_prefix("$share/")
        .and_then(|rest| rest.split_once('/'))
        .expect("the example's stream reads a shared subscription");
    group.to_owned()
}

/// A reading the example's stream decodes, numbered `seq`.
fn reading(seq: i64) -> String {
    json!({"seq": seq, "device": format!("d{}", seq.rem_euclid(50)), "temp": 21.5}).to_string()
}

/// Where a cluster's readings go in and its results come out.
trait Bus {
    /// How the input is shared, as the printed counts name it.
    fn name(&self) -> &'static str;

    /// The example's specs, reading this bus's input and writing its output.
    fn specs(&self) -> Value;

    /// Publishes `payload` and waits until the broker accepted it.
    async fn publish_one(&self, payload: String);

    /// Starts publishing `payloads`; resolves to how many the broker accepted.
    fn publish(&self, payloads: Vec<String>) -> JoinHandle<usize>;

    /// What came out after the first `skip` messages, in the order it arrived.
    fn output_after(&self, skip: usize) -> Vec<String>;

    /// Readies `victim` for its kill: by default, nothing to do.
    async fn before_kill(&self, _victim: &mut Instance) {}
}

/// The example as written: an MQTT `$share` subscription in, an MQTT topic out.
struct MqttBus {
    broker: String,
    input: String,
    output_topic: String,
    output: Subscriber,
}

impl MqttBus {
    /// Topics of this run on the test broker, the output subscribed to.
    async fn start() -> Self {
        let broker = broker_url();
        let (input, output_topic) = (unique_topic("scale-out"), unique_topic("scale-out-out"));
        Self {
            output: Subscriber::start(&broker, &output_topic).await,
            broker,
            input,
            output_topic,
        }
    }
}

impl Bus for MqttBus {
    fn name(&self) -> &'static str {
        "MQTT $share subscription"
    }

    fn specs(&self) -> Value {
        let mut specs = example_specs();
        let group = example_group(&specs);
        let source = &mut specs["streams"][0]["props"];
        source["topic"] = format!("$share/{group}/{}", self.input).into();
        source["broker_url"] = self.broker.clone().into();
        let sink = &mut specs["pipelines"][0]["sinks"][0]["props"];
        sink["topic"] = self.output_topic.clone().into();
        sink["broker_url"] = self.broker.clone().into();
        specs
    }

    async fn publish_one(&self, payload: String) {
        publish(&self.broker, &self.input, &[&payload]).await;
    }

    fn publish(&self, payloads: Vec<String>) -> JoinHandle<usize> {
        publisher_ahead_of(&self.broker, &self.input, payloads, &self.output, WINDOW)
    }

    fn output_after(&self, skip: usize) -> Vec<String> {
        self.output.messages_after(skip)
    }
}

/// How NATS instances share the input.
#[derive(Clone, Copy, PartialEq, Eq)]
enum NatsShare {
    /// A core subject read in the example's group as a queue group, written to a core subject:
    /// at most once.
    QueueGroup,
    /// A JetStream stream read through one durable consumer (the name every instance derives
    /// alike), written through JetStream: at least once.
    Durable,
}

/// The example over NATS: its stream and pipeline with `nats` connectors in place of MQTT.
/// The input subject is captured by a JetStream stream whatever the sharing, so that the
/// publisher is told what the server took.
struct NatsBus {
    url: String,
    share: NatsShare,
    input: String,
    output_subject: String,
    /// The JetStream stream capturing the input.
    input_stream: String,
    /// The JetStream stream the output is stored in, with [`NatsShare::Durable`].
    output_stream: String,
    jetstream: jetstream::Context,
    output: NatsSubscriber,
}

impl NatsBus {
    /// Subjects and JetStream streams of this run on the server at `url`, the output
    /// subscribed to.
    async fn start(url: String, share: NatsShare) -> Self {
        let token = unique_name("scale-out");
        let (input, output_subject) = (
            format!("veloflux.test.{token}"),
            format!("veloflux.out.{token}"),
        );
        let (input_stream, output_stream) = (format!("IN-{token}"), format!("OUT-{token}"));
        let client = async_nats::connect(&url).await.unwrap();
        let output = NatsSubscriber::start(&client, &output_subject).await;
        let jetstream = jetstream::new(client);
        fresh_jetstream_stream(&jetstream, &input_stream, &input).await;
        if share == NatsShare::Durable {
            fresh_jetstream_stream(&jetstream, &output_stream, &output_subject).await;
        }
        Self {
            url,
            share,
            input,
            output_subject,
            input_stream,
            output_stream,
            jetstream,
            output,
        }
    }

    /// How many messages the durable consumer the instances share (its default name, the
    /// same on each) delivered again, unacknowledged in time.
    async fn redelivered(&self) -> u64 {
        let specs = example_specs();
        let stream_name = specs["streams"][0]["name"].as_str().unwrap();
        let durable = format!("veloflux-{PIPELINE}-{stream_name}");
        let stream = self.jetstream.get_stream(&self.input_stream).await.unwrap();
        let consumer = stream.consumer_info(&durable).await.unwrap();
        // Every delivery, first or again, takes a consumer sequence number.
        let delivered = consumer.delivered;
        delivered.consumer_sequence - delivered.stream_sequence
    }

    /// Deletes the JetStream streams of this run.
    async fn delete_streams(&self) {
        for name in [&self.input_stream, &self.output_stream] {
            let _ = self.jetstream.delete_stream(name).await;
        }
    }
}

impl Bus for NatsBus {
    fn name(&self) -> &'static str {
        match self.share {
            NatsShare::QueueGroup => "NATS queue group",
            NatsShare::Durable => "JetStream durable consumer",
        }
    }

    fn specs(&self) -> Value {
        let mut specs = example_specs();
        let (url, input) = (&self.url, &self.input);
        let (source, sink) = match self.share {
            NatsShare::QueueGroup => (
                json!({"url": url, "subject": input, "queue_group": example_group(&specs)}),
                json!({"url": url, "subject": self.output_subject}),
            ),
            NatsShare::Durable => (
                json!({"url": url, "subject": input,
                    "jetstream": {"stream": self.input_stream, "ack_wait_ms": ACK_WAIT_MS}}),
                json!({"url": url, "subject": self.output_subject,
                    "jetstream": {"stream": self.output_stream}}),
            ),
        };
        let stream = &mut specs["streams"][0];
        stream["type"] = "nats".into();
        stream["props"] = source;
        let output = &mut specs["pipelines"][0]["sinks"][0];
        output["type"] = "nats".into();
        output["props"] = sink;
        specs
    }

    async fn publish_one(&self, payload: String) {
        let sent = self.jetstream.publish(self.input.clone(), payload.into());
        sent.await.unwrap().await.unwrap();
    }

    fn publish(&self, payloads: Vec<String>) -> JoinHandle<usize> {
        // A JetStream consumer holds what the instances have not taken; core NATS does not.
        let ahead = (self.share == NatsShare::QueueGroup).then_some((&self.output, CORE_WINDOW));
        let context = self.jetstream.clone();
        jetstream_publisher(context, &self.input, payloads, ACK_WINDOW, ahead)
    }

    fn output_after(&self, skip: usize) -> Vec<String> {
        self.output.messages_after(skip)
    }

    /// With a JetStream durable consumer an instance pulls in batches and, faster than the
    /// publisher, is often idle between them: killed then, it holds nothing and the kill
    /// tests nothing. So it is frozen first, and killed once the others sent on
    /// [`FROZEN_FOR`] more messages: by then the server has handed it some as well (its pull
    /// request stays open), which it holds unacknowledged.
    async fn before_kill(&self, victim: &mut Instance) {
        let seen = self.output.count();
        victim.server.freeze();
        wait_until(
            "the others go on while one instance is frozen",
            async || self.output.count() >= seen + FROZEN_FOR,
        )
        .await;
    }
}

/// How often each sequence number came out.
#[derive(Default)]
struct Tally {
    seen: HashMap<i64, u64>,
    read: usize,
}

impl Tally {
    /// Counts what came out of `bus` since the last call.
    fn update(&mut self, bus: &impl Bus) {
        for message in bus.output_after(self.read) {
            self.read += 1;
            let row: Value = serde_json::from_str(&message).unwrap();
            *self.seen.entry(row["seq"].as_i64().unwrap()).or_default() += 1;
        }
    }

    /// How many numbers of `run` came out at least once.
    fn delivered(&self, run: &Range<i64>) -> u64 {
        let delivered = run.clone().filter(|seq| self.seen.contains_key(seq));
        delivered.count() as u64
    }

    /// How many messages of `run` came out again after their first time.
    fn duplicates(&self, run: &Range<i64>) -> u64 {
        let repeats = run.clone().filter_map(|seq| self.seen.get(&seq));
        repeats.map(|times| times - 1).sum()
    }
}

/// The three instances, the bus they share and what came out of it.
struct Cluster<B: Bus> {
    bus: B,
    tally: Tally,
    instances: Vec<Instance>,
    _root: tempfile::TempDir,
}

impl<B: Bus> Cluster<B> {
    /// Starts the example's instances, gives each the specs of `bus` and waits until each
    /// takes its share of the input.
    async fn start(bus: B) -> Self {
        let root = tempfile::tempdir().unwrap();
        let mut instances = Vec::new();
        for file in CONFIGS {
            let instance = Instance::start(&root, file).await;
            let (status, body) = instance.server.post("/import", Some(&bus.specs())).await;
            assert_eq!(status, 200, "{body}");
            instances.push(instance);
        }
        let mut cluster = Self {
            bus,
            tally: Tally::default(),
            instances,
            _root: root,
        };
        cluster.warm_up().await;
        cluster
    }

    /// Publishes probes (negative numbers) until every instance took one and all came out:
    /// every member of the group is in place.
    async fn warm_up(&mut self) {
        let mut probes = 0;
        wait_until("every instance takes messages of the input", async || {
            probes += 1;
            self.bus.publish_one(reading(-probes)).await;
            for instance in &self.instances {
                if instance.records_in().await == 0 {
                    return false;
                }
            }
            true
        })
        .await;
        wait_until("every probe comes out", async || {
            self.tally.update(&self.bus);
            self.tally.delivered(&(-probes..0)) == probes.unsigned_abs()
        })
        .await;
    }

    /// Stops every instance as an operator would, each sending what it holds; returns the bus.
    async fn stop(self) -> B {
        for instance in self.instances {
            assert!(instance.server.terminate().await.success());
        }
        self.bus
    }

    /// Each instance's count of messages taken.
    async fn records_in(&self) -> Vec<u64> {
        let mut counts = Vec::new();
        for instance in &self.instances {
            counts.push(instance.records_in().await);
        }
        counts
    }

    /// Starts publishing the readings of `run`.
    fn publish(&self, run: &Range<i64>) -> JoinHandle<usize> {
        self.bus.publish(run.clone().map(reading).collect())
    }

    /// Waits until `count` messages of `run` came out.
    async fn wait_delivered(&mut self, run: &Range<i64>, count: u64) {
        let what = format!("{count} messages of {run:?} come out");
        let waited = Wait::up_to(RUN_DEADLINE)
            .until(&what, async || {
                self.tally.update(&self.bus);
                self.tally.delivered(run) >= count
            })
            .await;
        if let Err(error) = waited {
            let delivered = self.tally.delivered(run);
            panic!("{error}: {delivered} did");
        }
    }
}

/// Each instance's count since `baseline`.
fn since(counts: &[u64], baseline: &[u64]) -> Vec<u64> {
    counts
        .iter()
        .zip(baseline)
        .map(|(now, then)| now - then)
        .collect()
}

/// Publishes `run` and checks that all of it comes out once, each instance taking a fifth or
/// more.
async fn without_fault(cluster: &mut Cluster<impl Bus>, run: Range<i64>) {
    let baseline = cluster.records_in().await;
    let started = Instant::now();
    let publisher = cluster.publish(&run);
    cluster.wait_delivered(&run, MESSAGES as u64).await;
    assert_eq!(publisher.await.unwrap(), MESSAGES as usize);
    let took = started.elapsed();
    let shares = since(&cluster.records_in().await, &baseline);
    let duplicates = cluster.tally.duplicates(&run);
    eprintln!(
        "{}, no fault: sent {MESSAGES}, delivered {}, duplicates {duplicates}, per instance \
         {shares:?}, {took:.1?}",
        cluster.bus.name(),
        cluster.tally.delivered(&run)
    );
    assert_eq!(duplicates, 0, "no message comes out twice without a fault");
    assert_eq!(shares.iter().sum::<u64>(), MESSAGES as u64, "{shares:?}");
    for share in &shares {
        let fifth = MESSAGES as u64 / 5;
        assert!(*share >= fifth, "each took a fifth: {shares:?}");
    }
}

/// Publishes `run`, kills instance `victim` once a third came out (readied by the bus) and
/// restarts it, and checks that all of it comes out; prints the duplicates.
async fn with_one_killed(cluster: &mut Cluster<impl Bus>, run: Range<i64>, victim: usize) {
    let baseline = cluster.records_in().await;
    let started = Instant::now();
    let publisher = cluster.publish(&run);
    cluster.wait_delivered(&run, MESSAGES as u64 / 3).await;
    // A lower bound: what it takes between this count and the kill is not in it.
    let before_kill = cluster.instances[victim].records_in().await - baseline[victim];
    let mut killed = cluster.instances.remove(victim);
    cluster.bus.before_kill(&mut killed).await;
    let restarted = killed.kill_and_restart().await;
    cluster.instances.insert(victim, restarted);
    cluster.wait_delivered(&run, MESSAGES as u64).await;
    assert_eq!(publisher.await.unwrap(), MESSAGES as usize);
    let took = started.elapsed();
    let mut counts = cluster.records_in().await;
    // The restarted process counts from zero.
    counts[victim] += baseline[victim] + before_kill;
    let shares = since(&counts, &baseline);
    eprintln!(
        "{}, instance {} killed (SIGKILL) after taking {before_kill} and restarted: sent \
         {MESSAGES}, delivered {}, duplicates {}, per instance {shares:?}, {took:.1?}",
        cluster.bus.name(),
        victim + 1,
        cluster.tally.delivered(&run),
        cluster.tally.duplicates(&run)
    );
}

#[tokio::test]
async fn three_instances_share_a_subscription_and_lose_nothing_when_one_is_killed() {
    let _alone = ONE_CLUSTER_AT_A_TIME.lock().await;
    let mut cluster = Cluster::start(MqttBus::start().await).await;
    without_fault(&mut cluster, 0..MESSAGES).await;
    with_one_killed(&mut cluster, MESSAGES..2 * MESSAGES, 1).await;
    cluster.stop().await;
}

#[tokio::test]
async fn three_instances_share_a_nats_queue_group_and_repeat_nothing() {
    let Some(url) = nats_url() else { return };
    let _alone = ONE_CLUSTER_AT_A_TIME.lock().await;
    let mut cluster = Cluster::start(NatsBus::start(url, NatsShare::QueueGroup).await).await;
    without_fault(&mut cluster, 0..MESSAGES).await;
    cluster.stop().await.delete_streams().await;
}

#[tokio::test]
async fn three_instances_share_a_jetstream_consumer_and_lose_nothing_when_one_is_killed() {
    let Some(url) = nats_url() else { return };
    let _alone = ONE_CLUSTER_AT_A_TIME.lock().await;
    let mut cluster = Cluster::start(NatsBus::start(url, NatsShare::Durable).await).await;
    without_fault(&mut cluster, 0..MESSAGES).await;
    with_one_killed(&mut cluster, MESSAGES..2 * MESSAGES, 1).await;
    let redelivered = cluster.bus.redelivered().await;
    eprintln!("JetStream delivered again {redelivered} messages the killed instance held");
    assert!(
        redelivered > 0,
        "the killed instance held unacknowledged messages"
    );
    cluster.stop().await.delete_streams().await;
}
