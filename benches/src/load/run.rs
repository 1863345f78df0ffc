//! `mqtt-load run`: subscribes to the output topic, publishes the workload to the input topic
//! (paced or as fast as the broker takes it), then counts what comes out until the output has
//! been quiet for the drain time.
//!
//! Publishing and receiving use separate clients, each with its event loop in its own task, so
//! that neither side's backlog slows the other's.

use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rumqttc::{AsyncClient, Event, EventLoop, Outgoing, Packet, QoS};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};
use veloflux_testkit::BrokerAddress;

use super::broker;
use super::latency::{LatencySummary, latency_micros, sent_micros};
use super::pacing::{Pacer, TICK};
use super::report::{Published, Received, Report};
use super::unix_micros;
use crate::workload::timestamped_message;
use crate::{Error, Result};

/// What to publish where, and how to judge the output.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// The broker both clients connect to.
    pub broker: BrokerAddress,
    /// The topic the workload is published to.
    pub input: String,
    /// The topic the output is read from.
    pub output: String,
    /// How many messages to publish.
    pub messages: u64,
    /// Messages per second; 0 publishes as fast as the broker takes them.
    pub rate: u64,
    /// The QoS of publishing and of the subscription.
    pub qos: QoS,
    /// The fraction of published messages the output should carry.
    pub expect_ratio: f64,
    /// How many distinct `device` values the messages cycle through.
    pub devices: usize,
    /// Publish each message to its device's topic under the input topic
    /// ([`device_topic`]: `<input>/dev-0042/data`) instead of to the input topic itself, so
    /// that the pipeline's source subscribes to [`device_filter`] and sees one topic per
    /// device.
    pub device_topics: bool,
    /// How long the output must stay quiet after publishing ends before the run stops.
    pub drain: Duration,
}

/// Runs the load described by `config` and reports what came out.
///
/// # Errors
/// When a topic is invalid, a client cannot connect or subscribe, or a connection drops during
/// the run: a run with a reconnect in it would not measure anything meaningful.
pub async fn run(config: &RunConfig) -> Result<Report> {
    broker::check_topics(&config.input, &config.output)?;
    let progress = Arc::new(Progress::new());
    let subscriber = Subscriber::start(config, progress.clone()).await?;
    let (client, events) = broker::connect(&config.broker, "publish").await?;
    let started = Instant::now();
    let mut completion = tokio::spawn(complete(
        client.clone(),
        events,
        config.qos,
        config.messages,
    ));
    if let Err(error) = publish(&client, config).await {
        return Err(publish_failure(error, &mut completion).await);
    }
    let finished = join("publisher", completion).await?;
    drain(&progress, finished, config.drain).await;
    Ok(Report {
        target_rate: config.rate,
        qos: config.qos as u8,
        expect_ratio: config.expect_ratio,
        published: Published {
            count: config.messages,
            duration: finished - started,
        },
        received: subscriber.stop().await?,
    })
}

/// The instant after which the run stops: `quiet` after the later of the end of publishing
/// and the last message received.
pub fn quiet_deadline(
    published: Instant,
    last_receive: Option<Instant>,
    quiet: Duration,
) -> Instant {
    last_receive.map_or(published, |last| last.max(published)) + quiet
}

/// When the subscriber last received a message, shared with the drain wait.
struct Progress {
    origin: Instant,
    /// Nanoseconds from `origin` to the last receive, plus one so that 0 means never.
    last_receive: AtomicU64,
}

impl Progress {
    fn new() -> Self {
        Self {
            origin: Instant::now(),
            last_receive: AtomicU64::new(0),
        }
    }

    fn record(&self, at: Instant) {
        let nanos = u64::try_from((at - self.origin).as_nanos()).unwrap_or(u64::MAX - 1);
        self.last_receive.store(nanos + 1, Ordering::Relaxed);
    }

    fn last_receive(&self) -> Option<Instant> {
        match self.last_receive.load(Ordering::Relaxed) {
            0 => None,
            nanos => Some(self.origin + Duration::from_nanos(nanos - 1)),
        }
    }
}

async fn drain(progress: &Progress, published: Instant, quiet: Duration) {
    loop {
        let deadline = quiet_deadline(published, progress.last_receive(), quiet);
        if Instant::now() >= deadline {
            return;
        }
        tokio::time::sleep_until(deadline).await;
    }
}

async fn publish(client: &AsyncClient, config: &RunConfig) -> Result<()> {
    if config.rate == 0 {
        return publish_range(client, config, 0..config.messages).await;
    }
    let pacer = Pacer::new(config.rate, config.messages);
    let mut ticker = tokio::time::interval(TICK);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let start = Instant::now();
    let mut sent = 0;
    while sent < config.messages {
        ticker.tick().await;
        let due = pacer.due_by(start.elapsed());
        publish_range(client, config, sent..due).await?;
        sent = due;
    }
    Ok(())
}

async fn publish_range(client: &AsyncClient, config: &RunConfig, range: Range<u64>) -> Result<()> {
    let topics = publish_topics(config);
    for index in range {
        let payload = timestamped_message(index as usize, config.devices, unix_micros());
        let topic = &topics[index as usize % topics.len()];
        client
            .publish(topic.as_str(), config.qos, false, payload)
            .await
            .map_err(|error| Error::mqtt(format!("publishing to '{topic}'"), error))?;
    }
    Ok(())
}

/// The topics messages are published to, message `i` to topic `i % len`: one per device, or
/// the input topic alone.
fn publish_topics(config: &RunConfig) -> Vec<String> {
    if !config.device_topics {
        return vec![config.input.clone()];
    }
    (0..config.devices.max(1))
        .map(|device| device_topic(&config.input, device))
        .collect()
}

/// The topic of device number `device` under `input`: `<input>/dev-0042/data`, its `device`
/// field's value as a level of its own.
pub fn device_topic(input: &str, device: usize) -> String {
    format!("{input}/dev-{device:04}/data")
}

/// The filter matching every [`device_topic`] under `input`.
pub fn device_filter(input: &str) -> String {
    format!("{input}/+/data")
}

/// Polls the publisher's event loop until `total` messages are written (QoS 0) or
/// acknowledged (QoS 1 and 2), returning when that happened.
async fn complete(
    client: AsyncClient,
    mut events: EventLoop,
    qos: QoS,
    total: u64,
) -> Result<Instant> {
    let mut done = 0;
    while done < total {
        match events.poll().await {
            Ok(event) => done += u64::from(completes_a_publish(&event, qos)),
            Err(error) => return Err(Error::mqtt("publishing", error)),
        }
    }
    let finished = Instant::now();
    broker::disconnect(&client, &mut events).await;
    Ok(finished)
}

/// The error to report for a failed publish: a publish fails when the publisher's event loop
/// has stopped, so that loop's own error, if it ends promptly, says why.
async fn publish_failure(error: Error, completion: &mut JoinHandle<Result<Instant>>) -> Error {
    match tokio::time::timeout(Duration::from_secs(1), &mut *completion).await {
        Ok(Ok(Err(cause))) => cause,
        Ok(_) => error,
        Err(_) => {
            completion.abort();
            error
        }
    }
}

fn completes_a_publish(event: &Event, qos: QoS) -> bool {
    match qos {
        QoS::AtMostOnce => matches!(event, Event::Outgoing(Outgoing::Publish(_))),
        QoS::AtLeastOnce => matches!(event, Event::Incoming(Packet::PubAck(_))),
        QoS::ExactlyOnce => matches!(event, Event::Incoming(Packet::PubComp(_))),
    }
}

/// The receiving client, counting in its own task until stopped.
struct Subscriber {
    stop: oneshot::Sender<()>,
    task: JoinHandle<Result<Received>>,
}

impl Subscriber {
    /// Connects and subscribes to the output topic; returns once the broker granted it.
    async fn start(config: &RunConfig, progress: Arc<Progress>) -> Result<Self> {
        let (client, mut events) = broker::connect(&config.broker, "subscribe").await?;
        broker::subscribe(&client, &mut events, &config.output, config.qos).await?;
        let (stop, stopped) = oneshot::channel();
        let topic = config.output.clone();
        let task = tokio::spawn(receive(client, events, topic, stopped, progress));
        Ok(Self { stop, task })
    }

    async fn stop(self) -> Result<Received> {
        let _ = self.stop.send(());
        join("subscriber", self.task).await
    }
}

async fn receive(
    client: AsyncClient,
    mut events: EventLoop,
    topic: String,
    mut stopped: oneshot::Receiver<()>,
    progress: Arc<Progress>,
) -> Result<Received> {
    let mut tally = Tally::default();
    loop {
        let event = tokio::select! {
            _ = &mut stopped => break,
            event = events.poll() => event,
        };
        match event {
            Ok(Event::Incoming(Packet::Publish(publish))) => {
                let now = Instant::now();
                tally.record(&publish.payload, now, unix_micros());
                progress.record(now);
            }
            Ok(_) => {}
            Err(error) => return Err(Error::mqtt(format!("receiving from '{topic}'"), error)),
        }
    }
    broker::disconnect(&client, &mut events).await;
    Ok(tally.finish())
}

/// The running count of the output.
#[derive(Debug, Default)]
struct Tally {
    count: u64,
    first: Option<Instant>,
    last: Option<Instant>,
    latencies: Vec<u64>,
}

impl Tally {
    fn record(&mut self, payload: &[u8], at: Instant, at_micros: u64) {
        self.count += 1;
        self.first.get_or_insert(at);
        self.last = Some(at);
        if let Some(sent) = sent_micros(payload) {
            self.latencies.push(latency_micros(sent, at_micros));
        }
    }

    fn finish(self) -> Received {
        Received {
            count: self.count,
            span: self.first.zip(self.last).map(|(first, last)| last - first),
            latency: LatencySummary::of(self.latencies),
        }
    }
}

async fn join<T>(task: &str, handle: JoinHandle<Result<T>>) -> Result<T> {
    handle
        .await
        .map_err(|error| Error::mqtt(format!("running the {task} task"), error))?
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::timestamped_message;

    #[test]
    fn device_topics_name_the_device_of_the_message_and_match_the_filter() {
        let topic = device_topic("bench/in", 42);
        assert_eq!(topic, "bench/in/dev-0042/data");
        assert!(rumqttc::matches(&topic, &device_filter("bench/in")));
        let payload = timestamped_message(1042, 1000, 0);
        let row: serde_json::Value = serde_json::from_slice(&payload).unwrap();
        assert_eq!(row["device"], "dev-0042");
    }

    #[test]
    fn the_run_stops_a_quiet_time_after_the_last_activity() {
        let published = Instant::now();
        let quiet = Duration::from_secs(2);
        let later = published + Duration::from_secs(5);
        let earlier = published - Duration::from_secs(1);
        assert_eq!(quiet_deadline(published, None, quiet), published + quiet);
        assert_eq!(quiet_deadline(published, Some(later), quiet), later + quiet);
        assert_eq!(
            quiet_deadline(published, Some(earlier), quiet),
            published + quiet
        );
    }

    #[test]
    fn progress_remembers_the_last_receive() {
        let progress = Progress::new();
        assert_eq!(progress.last_receive(), None);
        let at = progress.origin + Duration::from_millis(3);
        progress.record(at);
        assert_eq!(progress.last_receive(), Some(at));
        progress.record(progress.origin);
        assert_eq!(progress.last_receive(), Some(progress.origin));
    }

    #[test]
    fn the_tally_times_timestamped_messages_and_counts_the_rest() {
        let start = Instant::now();
        let mut tally = Tally::default();
        tally.record(&timestamped_message(1, 10, 1_000_000), start, 1_002_000);
        tally.record(
            br#"{"device":"dev-0001","count":3}"#,
            start + Duration::from_secs(1),
            0,
        );
        tally.record(
            &timestamped_message(2, 10, 1_000_000),
            start + Duration::from_secs(2),
            1_004_000,
        );
        let received = tally.finish();
        assert_eq!(received.count, 3);
        assert_eq!(received.span, Some(Duration::from_secs(2)));
        let latency = received.latency.unwrap();
        assert_eq!(latency.samples, 2);
        assert_eq!(latency.p50, Duration::from_millis(2));
        assert_eq!(latency.max, Duration::from_millis(4));
    }

    #[test]
    fn publishes_complete_on_the_write_at_qos_0_and_the_ack_above() {
        let written = Event::Outgoing(Outgoing::Publish(0));
        let acked = Event::Incoming(Packet::PubAck(rumqttc::PubAck::new(7)));
        assert!(completes_a_publish(&written, QoS::AtMostOnce));
        assert!(!completes_a_publish(&acked, QoS::AtMostOnce));
        assert!(completes_a_publish(&acked, QoS::AtLeastOnce));
        assert!(!completes_a_publish(&written, QoS::AtLeastOnce));
    }
}
