//! The NATS source and sink against a real server. `VELOFLUX_TEST_NATS` names it, and then
//! the tests fail if it cannot be reached; unset, they use nats://127.0.0.1:4222 and are
//! skipped when nothing listens there. Every test uses subjects and streams of its own, so
//! they run in parallel and again.

use std::net::{TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_nats::jetstream::{self, stream};
use async_nats::{Client, ServerAddr};
use bytes::Bytes;
use serde_json::{Value, json};
use tokio::sync::mpsc::Receiver;
use tokio::time::timeout;
use tokio_util::sync::CancellationToken;

use super::{NatsSink, NatsSinkProps, NatsSource, NatsSourceProps};
use crate::codec::MessageBuffer;
use crate::connector::{ConnectorContext, Sink, Source, Subscription};
use crate::delivery::Delivery;
use crate::props::parse;
use crate::registry::registry;
use crate::topics::MemoryHub;

const DEFAULT_URL: &str = "nats://127.0.0.1:4222";
/// How long anything a test waits for may take.
const DEADLINE: Duration = Duration::from_secs(15);
/// What a test publishes until a subscription shows it is up; skipped when reading.
const PROBE: &str = "probe";

/// The server's URL, or `None` (and a note) when the test is skipped.
fn server_url() -> Option<String> {
    match std::env::var("VELOFLUX_TEST_NATS") {
        Ok(url) => {
            assert!(
                reachable(&url),
                "VELOFLUX_TEST_NATS={url}: nothing listens there"
            );
            Some(url)
        }
        Err(_) if reachable(DEFAULT_URL) => Some(DEFAULT_URL.to_owned()),
        Err(_) => {
            eprintln!("skipped: no NATS server at {DEFAULT_URL} (set VELOFLUX_TEST_NATS)");
            None
        }
    }
}

fn reachable(url: &str) -> bool {
    let server: ServerAddr = url.parse().unwrap();
    let mut addrs = (server.host(), server.port()).to_socket_addrs().unwrap();
    addrs.any(|addr| TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_ok())
}

/// A token no other test (of this run or another) uses.
fn unique() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let next = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("t{}n{nanos}i{next}", std::process::id())
}

fn start_source(props: Value) -> (Subscription, CancellationToken) {
    let props: NatsSourceProps = parse(&props).unwrap();
    let name = format!("veloflux-test-{}", unique());
    let source = NatsSource::try_new(&props, &name, &name).unwrap();
    let shutdown = CancellationToken::new();
    let subscription = Box::new(source).start(64, shutdown.clone());
    (subscription, shutdown)
}

fn sink(props: Value) -> NatsSink {
    let props: NatsSinkProps = parse(&props).unwrap();
    NatsSink::try_new(&props, "veloflux-test-sink").unwrap()
}

async fn client(url: &str) -> Client {
    async_nats::connect(url).await.unwrap()
}

async fn publish(client: &Client, subject: &str, payload: &'static str) {
    client
        .publish(subject.to_owned(), Bytes::from_static(payload.as_bytes()))
        .await
        .unwrap();
    client.flush().await.unwrap();
}

/// Publishes probes to `subject` until every one of `receivers` got one: their
/// subscriptions are up.
async fn until_subscribed(
    client: &Client,
    subject: &str,
    receivers: &mut [&mut Receiver<Delivery>],
) {
    let mut up = vec![false; receivers.len()];
    let waited = timeout(DEADLINE, async {
        while up.contains(&false) {
            publish(client, subject, PROBE).await;
            for (receiver, up) in receivers.iter_mut().zip(&mut up) {
                if let Ok(Some(_)) = timeout(Duration::from_millis(50), receiver.recv()).await {
                    *up = true;
                }
            }
        }
    })
    .await;
    waited.expect("the subscriptions come up");
}

/// The next delivery that is not a probe.
async fn next_message(deliveries: &mut Receiver<Delivery>) -> Delivery {
    timeout(DEADLINE, async {
        loop {
            let delivery = deliveries.recv().await.expect("the source runs");
            if delivery.payload != PROBE {
                return delivery;
            }
        }
    })
    .await
    .expect("a message arrives")
}

/// A batch of encoded messages holding `payloads`.
fn encoded(payloads: &[&str]) -> MessageBuffer {
    let mut buffer = MessageBuffer::default();
    for payload in payloads {
        buffer.bytes().extend_from_slice(payload.as_bytes());
        buffer.end_message();
    }
    buffer
}

async fn create_stream(client: &Client, name: &str, subject: &str) -> jetstream::Context {
    let context = jetstream::new(client.clone());
    context
        .create_stream(stream::Config {
            name: name.to_owned(),
            subjects: vec![subject.to_owned()],
            ..stream::Config::default()
        })
        .await
        .unwrap();
    context
}

#[tokio::test]
async fn a_subscription_delivers_each_message_with_its_subject_as_topic() {
    let Some(url) = server_url() else { return };
    let base = format!("veloflux.test.{}", unique());
    let (mut subscription, shutdown) =
        start_source(json!({"url": url, "subject": format!("{base}.>")}));
    let client = client(&url).await;
    until_subscribed(
        &client,
        &format!("{base}.probe"),
        &mut [&mut subscription.deliveries],
    )
    .await;

    publish(&client, &format!("{base}.a.b"), r#"{"n": 1}"#).await;
    let delivery = next_message(&mut subscription.deliveries).await;
    assert_eq!(delivery.payload, r#"{"n": 1}"#);
    assert_eq!(delivery.topic, Some(format!("{base}.a.b")));
    assert!(delivery.received_at_ms.is_some());
    assert!(delivery.ack.is_none(), "core NATS acknowledges nothing");
    assert!(subscription.status.unwrap().is_connected());

    shutdown.cancel();
    let ended = timeout(DEADLINE, async {
        while subscription.deliveries.recv().await.is_some() {}
    });
    ended.await.expect("a stopped source ends its deliveries");
}

#[tokio::test]
async fn a_queue_group_gives_each_message_to_one_of_its_members() {
    let Some(url) = server_url() else { return };
    let subject = format!("veloflux.test.{}", unique());
    let props = json!({"url": url, "subject": subject, "queue_group": "workers"});
    let (mut first, _first_shutdown) = start_source(props.clone());
    let (mut second, _second_shutdown) = start_source(props);
    let client = client(&url).await;
    until_subscribed(
        &client,
        &subject,
        &mut [&mut first.deliveries, &mut second.deliveries],
    )
    .await;

    const COUNT: usize = 40;
    for n in 0..COUNT {
        let payload = Bytes::from(n.to_string());
        client.publish(subject.clone(), payload).await.unwrap();
    }
    client.flush().await.unwrap();
    let mut received = Vec::new();
    let gathered = timeout(DEADLINE, async {
        while received.len() < COUNT {
            let delivery = tokio::select! {
                delivery = first.deliveries.recv() => delivery,
                delivery = second.deliveries.recv() => delivery,
            };
            let payload = delivery.expect("both sources run").payload;
            if payload != PROBE {
                received.push(String::from_utf8(payload.to_vec()).unwrap());
            }
        }
    });
    gathered.await.expect("every message reaches one member");
    received.sort_by_key(|n| n.parse::<usize>().unwrap());
    let expected: Vec<String> = (0..COUNT).map(|n| n.to_string()).collect();
    assert_eq!(received, expected, "each message once, to one member");
}

#[tokio::test]
async fn a_jetstream_message_comes_again_until_it_is_settled() {
    let Some(url) = server_url() else { return };
    let token = unique();
    let (subject, name, durable) = (
        format!("veloflux.test.{token}"),
        format!("S{token}"),
        format!("D{token}"),
    );
    let client = client(&url).await;
    let context = create_stream(&client, &name, &subject).await;
    let jetstream = json!({"stream": name, "durable": durable, "ack_wait_ms": 500});
    let (mut subscription, shutdown) =
        start_source(json!({"url": url, "subject": subject, "jetstream": jetstream}));

    context
        .publish(subject.clone(), "first".into())
        .await
        .unwrap()
        .await
        .unwrap();
    let abandoned = next_message(&mut subscription.deliveries).await;
    assert_eq!(abandoned.payload, "first");
    assert_eq!(abandoned.topic.as_deref(), Some(subject.as_str()));
    drop(abandoned);
    let again = next_message(&mut subscription.deliveries).await;
    assert_eq!(
        again.payload, "first",
        "an abandoned message comes again after ack_wait"
    );
    again
        .ack
        .expect("JetStream messages are acknowledged")
        .settle();

    let consumer = context.get_stream(&name).await.unwrap();
    let settled = timeout(DEADLINE, async {
        loop {
            let info = consumer.consumer_info(&durable).await.unwrap();
            if info.num_ack_pending == 0 {
                return info;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    let info = settled.await.expect("the settled message is acknowledged");
    assert_eq!(info.delivered.stream_sequence, 1);
    let redelivered = timeout(Duration::from_millis(1500), subscription.deliveries.recv()).await;
    assert!(
        redelivered.is_err(),
        "a settled message does not come again"
    );

    shutdown.cancel();
    context.delete_stream(&name).await.unwrap();
}

#[tokio::test]
async fn the_sink_publishes_to_its_subject_and_counts_it_confirmed_once_flushed() {
    let Some(url) = server_url() else { return };
    let subject = format!("veloflux.test.{}", unique());
    let client = client(&url).await;
    let mut subscriber = client.subscribe(subject.clone()).await.unwrap();
    client.flush().await.unwrap();
    let mut sink = sink(json!({"url": url, "subject": subject}));

    let messages = encoded(&[r#"{"n":1}"#, r#"{"n":2}"#]);
    sink.send(None, messages.messages()).await.unwrap();
    assert_eq!(sink.published(), 2);
    assert!(sink.is_confirmed_through(2));
    for expected in [r#"{"n":1}"#, r#"{"n":2}"#] {
        let message = timeout(DEADLINE, futures_util::StreamExt::next(&mut subscriber));
        let message = message.await.unwrap().unwrap();
        assert_eq!(message.payload, expected);
    }
    assert!(sink.status().is_connected());
}

#[tokio::test]
async fn a_dynamic_subject_is_rendered_per_row_and_must_name_one_subject() {
    let Some(url) = server_url() else { return };
    let base = format!("veloflux.test.{}", unique());
    let client = client(&url).await;
    let mut subscriber = client.subscribe(format!("{base}.>")).await.unwrap();
    client.flush().await.unwrap();
    let props = json!({"url": url, "subject": format!("{base}.{{{{device}}}}")});
    let template = registry().sink("nats").unwrap().template(&props).unwrap();
    assert_eq!(template.unwrap().columns().collect::<Vec<_>>(), ["device"]);
    let mut sink = sink(props);

    let messages = encoded(&["hot"]);
    let rendered = format!("{base}.d1");
    sink.send(Some(&rendered), messages.messages())
        .await
        .unwrap();
    let message = timeout(DEADLINE, futures_util::StreamExt::next(&mut subscriber));
    let message = message.await.unwrap().unwrap();
    assert_eq!(
        (message.subject.as_str(), &message.payload[..]),
        (rendered.as_str(), &b"hot"[..])
    );

    let wildcard = format!("{base}.*");
    let unsent = sink
        .send(Some(&wildcard), messages.messages())
        .await
        .unwrap_err();
    assert_eq!(unsent.count, 1);
    assert!(
        unsent.error.to_string().contains("wildcard"),
        "{}",
        unsent.error
    );
}

#[tokio::test]
async fn a_jetstream_sink_is_confirmed_once_the_stream_stored_its_messages() {
    let Some(url) = server_url() else { return };
    let token = unique();
    let (subject, name) = (format!("veloflux.test.{token}"), format!("S{token}"));
    let client = client(&url).await;
    let jetstream = json!({"stream": name});
    let mut sink = sink(json!({"url": url, "subject": subject, "jetstream": jetstream}));

    // No stream stores the subject yet: the message waits, and is published again.
    sink.send(None, encoded(&["one"]).messages()).await.unwrap();
    assert_eq!(sink.published(), 1);
    assert!(!sink.is_confirmed_through(1));
    let context = create_stream(&client, &name, &subject).await;
    sink.send(None, encoded(&["two", "three"]).messages())
        .await
        .unwrap();
    let confirmed = timeout(DEADLINE, sink.confirmed_through(3)).await;
    confirmed.expect("the stream stores every message");
    assert_eq!(sink.take_lost(), None);
    let info = context
        .get_stream(&name)
        .await
        .unwrap()
        .get_info()
        .await
        .unwrap();
    assert_eq!(info.state.messages, 3);

    context.delete_stream(&name).await.unwrap();
}

#[tokio::test]
async fn a_source_that_cannot_connect_says_why_and_stops_when_told() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (mut subscription, shutdown) =
        start_source(json!({"url": format!("nats://127.0.0.1:{port}"), "subject": "a"}));
    let status = subscription.status.clone().unwrap();
    let failed = timeout(DEADLINE, async {
        while status.last_error().is_none() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });
    failed.await.expect("the failure is recorded");
    assert!(!status.is_connected());
    shutdown.cancel();
    let ended = timeout(DEADLINE, subscription.deliveries.recv()).await;
    assert!(
        ended.unwrap().is_none(),
        "a stopped source ends its deliveries"
    );
}

#[tokio::test]
async fn the_registry_knows_nats_in_both_roles_and_checks_each_role() {
    let hub = MemoryHub::default();
    let context = ConnectorContext {
        name: "registry-test",
        shared_name: "veloflux-registry-test",
        client_id: "veloflux-registry-test",
        hub: &hub,
        ingest: &hub,
        read_interval: Duration::ZERO,
    };
    let source = registry().source("nats").unwrap();
    assert!(source.build(&json!({"subject": "a.>"}), &context).is_ok());
    let error = source
        .check(&json!({"subject": "a", "jetstream": {}}))
        .unwrap_err();
    assert!(
        error.to_string().contains("props.jetstream.stream"),
        "{error}"
    );
    let sink = registry().sink("nats").unwrap();
    assert!(
        sink.build(&json!({"subject": "a.{{device}}"}), &context)
            .is_ok()
    );
    let error = sink.check(&json!({"subject": "a.>"})).unwrap_err();
    assert!(error.to_string().contains("props.subject"), "{error}");
}
