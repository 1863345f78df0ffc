//! Scale-out on the broker's shared subscriptions, with the example of
//! `deploy/multi-instance/` as written: its three configuration files and its specs, only the
//! broker, the topics and (so that runs on one broker never meet) the instance names being
//! this run's. Three instances split the messages of one `$share` subscription, lose none and
//! repeat none; then one is killed mid-stream and restarted over its data directory: still
//! nothing is lost, and the repeats are counted and printed.

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

use serde_json::{Value, json};
use support::{
    Server, Subscriber, broker_url, publish, publisher_ahead_of, unique_topic, wait_until,
};
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
/// How far the publisher may run ahead of the output: under the queue a broker keeps for a
/// client (Mosquitto: `max_queued_messages`, 1000 by default), which it overflows by dropping.
const WINDOW: usize = 500;

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

/// The example's specs, reading `$share/<its group>/<input>` and writing `output` on `broker`.
fn example_specs(broker: &str, input: &str, output: &str) -> Value {
    let text = std::fs::read_to_string(format!("{EXAMPLE}/specs.json")).unwrap();
    let mut specs: Value = serde_json::from_str(&text).unwrap();
    let source = &mut specs["streams"][0]["props"];
    let topic = source["topic"].as_str().unwrap();
    let (group, _) = topic
        .strip_prefix("$share/")
        .and_then(|rest| rest.split_once('/'))
        .expect("the example's stream reads a shared subscription");
    source["topic"] = format!("$share/{group}/{input}").into();
    source["broker_url"] = broker.into();
    let sink = &mut specs["pipelines"][0]["sinks"][0]["props"];
    sink["topic"] = output.into();
    sink["broker_url"] = broker.into();
    specs
}

/// A reading the example's stream decodes, numbered `seq`.
fn reading(seq: i64) -> String {
    json!({"seq": seq, "device": format!("d{}", seq.rem_euclid(50)), "temp": 21.5}).to_string()
}

/// How often each sequence number came out.
#[derive(Default)]
struct Tally {
    seen: HashMap<i64, u64>,
    read: usize,
}

impl Tally {
    /// Counts what `output` received since the last call.
    fn update(&mut self, output: &Subscriber) {
        for message in output.messages_after(self.read) {
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

/// The three instances, their output and what came out of it.
struct Cluster {
    broker: String,
    input: String,
    output: Subscriber,
    tally: Tally,
    instances: Vec<Instance>,
    _root: tempfile::TempDir,
}

impl Cluster {
    /// Starts the example's instances, gives each its specs and waits until each takes its
    /// share of the subscription.
    async fn start() -> Self {
        let broker = broker_url();
        let (input, output) = (unique_topic("scale-out"), unique_topic("scale-out-out"));
        let root = tempfile::tempdir().unwrap();
        let mut instances = Vec::new();
        for file in CONFIGS {
            let instance = Instance::start(&root, file).await;
            let specs = example_specs(&broker, &input, &output);
            let (status, body) = instance.server.post("/import", Some(&specs)).await;
            assert_eq!(status, 200, "{body}");
            instances.push(instance);
        }
        let mut cluster = Self {
            output: Subscriber::start(&broker, &output).await,
            broker,
            input,
            tally: Tally::default(),
            instances,
            _root: root,
        };
        cluster.warm_up().await;
        cluster
    }

    /// Publishes probes (negative numbers) until every instance took one and all came out:
    /// every subscription of the group is in place.
    async fn warm_up(&mut self) {
        let mut probes = 0;
        wait_until(
            "every instance takes messages of the subscription",
            async || {
                probes += 1;
                publish(&self.broker, &self.input, &[&reading(-probes)]).await;
                for instance in &self.instances {
                    if instance.records_in().await == 0 {
                        return false;
                    }
                }
                true
            },
        )
        .await;
        wait_until("every probe comes out", async || {
            self.tally.update(&self.output);
            self.tally.delivered(&(-probes..0)) == probes.unsigned_abs()
        })
        .await;
    }

    /// Stops every instance as an operator would, each sending what it holds.
    async fn stop(self) {
        for instance in self.instances {
            assert!(instance.server.terminate().await.success());
        }
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
    fn publish(&self, run: &Range<i64>) -> tokio::task::JoinHandle<usize> {
        let payloads = run.clone().map(reading).collect();
        publisher_ahead_of(&self.broker, &self.input, payloads, &self.output, WINDOW)
    }

    /// Waits until `count` messages of `run` came out.
    async fn wait_delivered(&mut self, run: &Range<i64>, count: u64) {
        let what = format!("{count} messages of {run:?} come out");
        let waited = Wait::up_to(RUN_DEADLINE)
            .until(&what, async || {
                self.tally.update(&self.output);
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
async fn without_fault(cluster: &mut Cluster, run: Range<i64>) {
    let baseline = cluster.records_in().await;
    let started = Instant::now();
    let publisher = cluster.publish(&run);
    cluster.wait_delivered(&run, MESSAGES as u64).await;
    assert_eq!(publisher.await.unwrap(), MESSAGES as usize);
    let took = started.elapsed();
    let shares = since(&cluster.records_in().await, &baseline);
    let duplicates = cluster.tally.duplicates(&run);
    eprintln!(
        "no fault: sent {MESSAGES}, delivered {}, duplicates {duplicates}, per instance \
         {shares:?}, {took:.1?}",
        cluster.tally.delivered(&run)
    );
    assert_eq!(duplicates, 0, "no message comes out twice without a fault");
    assert_eq!(shares.iter().sum::<u64>(), MESSAGES as u64, "{shares:?}");
    for share in &shares {
        let fifth = MESSAGES as u64 / 5;
        assert!(*share >= fifth, "each took a fifth: {shares:?}");
    }
}

/// Publishes `run`, kills instance `victim` once a third came out and restarts it, and checks
/// that all of it comes out; prints the duplicates.
async fn with_one_killed(cluster: &mut Cluster, run: Range<i64>, victim: usize) {
    let baseline = cluster.records_in().await;
    let started = Instant::now();
    let publisher = cluster.publish(&run);
    cluster.wait_delivered(&run, MESSAGES as u64 / 3).await;
    // A lower bound: what it takes between this count and the kill is not in it.
    let before_kill = cluster.instances[victim].records_in().await - baseline[victim];
    let killed = cluster.instances.remove(victim);
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
        "instance {} killed (SIGKILL) after taking {before_kill} and restarted: sent {MESSAGES}, \
         delivered {}, duplicates {}, per instance {shares:?}, {took:.1?}",
        victim + 1,
        cluster.tally.delivered(&run),
        cluster.tally.duplicates(&run)
    );
}

#[tokio::test]
async fn three_instances_share_a_subscription_and_lose_nothing_when_one_is_killed() {
    let mut cluster = Cluster::start().await;
    without_fault(&mut cluster, 0..MESSAGES).await;
    with_one_killed(&mut cluster, MESSAGES..2 * MESSAGES, 1).await;
    cluster.stop().await;
}
