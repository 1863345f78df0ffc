//! The tests' MQTT clients: a subscriber collecting what arrives on a topic in the
//! background, and publishers that wait for the broker's acknowledgements.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use tokio::time::Instant;
use veloflux_testkit::{BrokerAddress, DEADLINE, unique_name};

use super::wait_until;

/// Messages received on a topic, collected in the background by a client that reconnects
/// and resubscribes on its own.
pub(crate) struct Subscriber {
    /// Each message's topic and payload.
    received: Arc<Mutex<Vec<(String, String)>>>,
    subscribed: Arc<Mutex<bool>>,
    task: tokio::task::JoinHandle<()>,
}

impl Subscriber {
    /// Subscribes to `topic` on `broker_url` and waits until the broker confirmed.
    pub(crate) async fn start(broker_url: &str, topic: &str) -> Self {
        Self::start_with(options(broker_url, "sub"), topic).await
    }

    /// [`Self::start`] with a persistent session: the broker keeps what is published while
    /// the connection is down (and, if it persists, across its own restarts).
    pub(crate) async fn start_persistent(broker_url: &str, topic: &str) -> Self {
        let mut options = options(broker_url, "persistent-sub");
        options.set_clean_session(false);
        Self::start_with(options, topic).await
    }

    async fn start_with(options: MqttOptions, topic: &str) -> Self {
        let received = Arc::<Mutex<Vec<(String, String)>>>::default();
        let subscribed = Arc::<Mutex<bool>>::default();
        let (client, mut events) = AsyncClient::new(options, 64);
        let (sink, flag, topic) = (received.clone(), subscribed.clone(), topic.to_owned());
        let task = tokio::spawn(async move {
            loop {
                match events.poll().await {
                    Ok(Event::Incoming(Packet::ConnAck(_))) => {
                        let _ = client.try_subscribe(&topic, QoS::AtLeastOnce);
                    }
                    Ok(Event::Incoming(Packet::SubAck(_))) => *flag.lock().unwrap() = true,
                    Ok(Event::Incoming(Packet::Publish(publish))) => sink.lock().unwrap().push((
                        publish.topic,
                        String::from_utf8_lossy(&publish.payload).into_owned(),
                    )),
                    Ok(_) => {}
                    Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                }
            }
        });
        let subscriber = Self {
            received,
            subscribed,
            task,
        };
        let flag = subscriber.subscribed.clone();
        wait_until("the subscription is confirmed", async || {
            *flag.lock().unwrap()
        })
        .await;
        subscriber
    }

    /// Waits until at least `count` messages arrived and returns all of them.
    pub(crate) async fn wait_for(&self, count: usize) -> Vec<String> {
        let received = self.received.clone();
        wait_until(&format!("{count} messages arrive"), async || {
            received.lock().unwrap().len() >= count
        })
        .await;
        self.messages()
    }

    /// The messages received so far.
    pub(crate) fn messages(&self) -> Vec<String> {
        self.messages_after(0)
    }

    /// The messages received after the first `skip`, in the order they arrived.
    pub(crate) fn messages_after(&self, skip: usize) -> Vec<String> {
        let received = self.received.lock().unwrap();
        let after = received.get(skip..).unwrap_or_default();
        after.iter().map(|(_, payload)| payload.clone()).collect()
    }

    /// The messages received so far with the topic each came on.
    pub(crate) fn messages_with_topics(&self) -> Vec<(String, String)> {
        self.received.lock().unwrap().clone()
    }
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Publishes `payloads` to `topic` at QoS 1 and waits until the broker acknowledged each.
pub(crate) async fn publish(broker_url: &str, topic: &str, payloads: &[&str]) {
    let payloads: Vec<Vec<u8>> = payloads
        .iter()
        .map(|payload| payload.as_bytes().to_vec())
        .collect();
    publish_bytes(broker_url, topic, &payloads).await;
}

/// [`publish`] for payloads that need not be text.
pub(crate) async fn publish_bytes(broker_url: &str, topic: &str, payloads: &[Vec<u8>]) {
    let (client, mut events) = AsyncClient::new(options(broker_url, "pub"), 64);
    let (topic, to_send) = (topic.to_owned(), payloads.to_vec());
    // Sending waits for room in the client's queue, which only polling the events empties.
    let sender = tokio::spawn(async move {
        for payload in to_send {
            client
                .publish(&topic, QoS::AtLeastOnce, false, payload)
                .await
                .unwrap();
        }
        client
    });
    let mut acknowledged = 0;
    let deadline = Instant::now() + DEADLINE;
    while acknowledged < payloads.len() && Instant::now() < deadline {
        match tokio::time::timeout(DEADLINE, events.poll()).await {
            Ok(Ok(Event::Incoming(Packet::PubAck(_)))) => acknowledged += 1,
            Ok(Ok(_)) => {}
            Ok(Err(_)) => tokio::time::sleep(Duration::from_millis(100)).await,
            Err(_) => break,
        }
    }
    drop(sender.await);
    assert_eq!(
        acknowledged,
        payloads.len(),
        "the broker acknowledged every message"
    );
}

/// Publishes `payload` to `topic` over MQTT 5 at QoS 1 with `user_properties` (name, value),
/// and waits until the broker acknowledged it.
pub(crate) async fn publish_v5(
    broker_url: &str,
    topic: &str,
    payload: &str,
    user_properties: &[(&str, &str)],
) {
    use rumqttc::v5::mqttbytes::QoS;
    use rumqttc::v5::mqttbytes::v5::{Packet, PublishProperties};
    use rumqttc::v5::{AsyncClient, Event, MqttOptions};

    let broker = BrokerAddress::parse(broker_url).unwrap_or_else(|error| panic!("{error}"));
    let mut options = MqttOptions::new(unique_name("test-pub5"), broker.host, broker.port);
    options.set_keep_alive(Duration::from_secs(5));
    let (client, mut events) = AsyncClient::new(options, 8);
    let properties = PublishProperties {
        user_properties: user_properties
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect(),
        ..PublishProperties::default()
    };
    let payload = payload.as_bytes().to_vec();
    client
        .publish_with_properties(topic, QoS::AtLeastOnce, false, payload, properties)
        .await
        .unwrap();
    let acknowledged = tokio::time::timeout(DEADLINE, async {
        loop {
            match events.poll().await {
                Ok(Event::Incoming(Packet::PubAck(_))) => return,
                Ok(_) => {}
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    })
    .await;
    assert!(
        acknowledged.is_ok(),
        "the broker acknowledged the MQTT 5 message"
    );
}

/// Publishes `payloads` at QoS 1 from one client, `per_tick` every `tick`, riding out broker
/// restarts (the client sends again what was not acknowledged); resolves to how many the
/// broker acknowledged once all were.
pub(crate) fn steady_publisher(
    broker_url: &str,
    topic: &str,
    payloads: Vec<String>,
    (per_tick, tick): (usize, Duration),
) -> tokio::task::JoinHandle<usize> {
    paced_publisher(broker_url, topic, payloads, per_tick, move |_| {
        tokio::time::sleep(tick)
    })
}

/// [`steady_publisher`] that stays at most `window` messages ahead of what `output` has
/// received since this call: a load the pipelines keep up with whatever their speed, so that
/// no broker queue limit (Mosquitto's `max_queued_messages`, 1000 by default) drops messages.
pub(crate) fn publisher_ahead_of(
    broker_url: &str,
    topic: &str,
    payloads: Vec<String>,
    output: &Subscriber,
    window: usize,
) -> tokio::task::JoinHandle<usize> {
    let received = output.received.clone();
    let before = received.lock().unwrap().len();
    let chunk = (window / 4).max(1);
    paced_publisher(broker_url, topic, payloads, chunk, move |sent| {
        let received = received.clone();
        async move {
            while received.lock().unwrap().len() - before + window < sent {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    })
}

/// Publishes `payloads` at QoS 1 from one client, `chunk` at a time, awaiting `pace(sent so
/// far)` after each chunk; resolves to how many the broker acknowledged once all were.
fn paced_publisher<Pace, Paced>(
    broker_url: &str,
    topic: &str,
    payloads: Vec<String>,
    chunk: usize,
    mut pace: Pace,
) -> tokio::task::JoinHandle<usize>
where
    Pace: FnMut(usize) -> Paced + Send + 'static,
    Paced: Future<Output = ()> + Send,
{
    let (client, mut events) = AsyncClient::new(options(broker_url, "steady-pub"), 1024);
    let topic = topic.to_owned();
    let total = payloads.len();
    tokio::spawn(async move {
        let sender = tokio::spawn(async move {
            let mut sent = 0;
            for chunk in payloads.chunks(chunk.max(1)) {
                for payload in chunk {
                    let _ = client
                        .publish(
                            &topic,
                            QoS::AtLeastOnce,
                            false,
                            payload.clone().into_bytes(),
                        )
                        .await;
                }
                sent += chunk.len();
                pace(sent).await;
            }
            client
        });
        let mut acknowledged = 0;
        while acknowledged < total {
            match events.poll().await {
                Ok(Event::Incoming(Packet::PubAck(_))) => acknowledged += 1,
                Ok(_) => {}
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
        drop(sender.await);
        acknowledged
    })
}

/// Whether a client can connect to the broker at `broker_url` now (its CONNACK arrives
/// within a second).
pub(crate) async fn connects(broker_url: &str) -> bool {
    let (_client, mut events) = AsyncClient::new(options(broker_url, "probe"), 1);
    let connack = tokio::time::timeout(Duration::from_secs(1), events.poll()).await;
    matches!(connack, Ok(Ok(Event::Incoming(Packet::ConnAck(_)))))
}

/// Client options for `broker_url` with an id of its own for `role`.
fn options(broker_url: &str, role: &str) -> MqttOptions {
    let broker = BrokerAddress::parse(broker_url).unwrap_or_else(|error| panic!("{error}"));
    let id = unique_name(&format!("test-{role}"));
    let mut options = MqttOptions::new(id, broker.host, broker.port);
    options.set_keep_alive(Duration::from_secs(5));
    options.set_max_packet_size(32 << 20, 32 << 20);
    options
}
