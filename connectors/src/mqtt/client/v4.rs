//! MQTT 3.1.1 through rumqttc's client: options from the shared settings, and its packets as
//! the connector's [`Event`]s.

use rumqttc::{AsyncClient, EventLoop, MqttOptions, Packet, Publish, QoS};

use super::{ClientSettings, Event, MAX_PACKET_BYTES, Receipt, Received, Session};
use crate::clock::wall_clock_ms;
use crate::delivery::Delivery;
use crate::{Error, Result};

/// A client and its event loop for `settings` and `session`.
pub(super) fn connect(
    settings: &ClientSettings,
    session: Session,
    capacity: usize,
) -> (AsyncClient, EventLoop) {
    let mut options = MqttOptions::new(&settings.client_id, &settings.host, settings.port);
    options.set_keep_alive(settings.keep_alive);
    options.set_max_packet_size(MAX_PACKET_BYTES, MAX_PACKET_BYTES);
    options.set_transport(settings.transport.clone());
    if let Some((username, password)) = &settings.credentials {
        options.set_credentials(username, password);
    }
    options.set_clean_session(!session.persistent);
    options.set_manual_acks(session.manual_acks);
    let (client, mut events) = AsyncClient::new(options, capacity);
    // Messages and acknowledgements are sent when they are ready, not when a packet fills
    // (Nagle's algorithm would hold small ones back by tens of milliseconds).
    events.network_options.set_tcp_nodelay(true);
    (client, events)
}

/// The next event of `events`.
pub(super) async fn poll(events: &mut EventLoop) -> Result<Event> {
    let event = events.poll().await;
    event
        .map(translate)
        .map_err(|error| Error::External(error.to_string()))
}

/// What `event` means to a source or sink.
fn translate(event: rumqttc::Event) -> Event {
    let rumqttc::Event::Incoming(packet) = event else {
        return Event::Other;
    };
    match packet {
        Packet::ConnAck(connack) => Event::Connected {
            session_present: connack.session_present,
        },
        Packet::Publish(publish) => Event::Received(received(publish)),
        Packet::PubAck(_) | Packet::PubComp(_) => Event::Acknowledged,
        _ => Event::Other,
    }
}

/// The message of `publish`.
fn received(publish: Publish) -> Received {
    Received {
        receipt: Receipt::of(publish.qos, publish.pkid),
        delivery: Delivery::unacknowledged(publish.payload)
            .received(publish.topic, wall_clock_ms()),
    }
}

/// Queues a subscription to `topic` at `qos`.
pub(super) fn subscribe(client: &AsyncClient, topic: &str, qos: QoS) -> Result<()> {
    client
        .try_subscribe(topic, qos)
        .map_err(|error| Error::External(format!("subscribing to '{topic}': {error}")))
}

/// Queues `payload` for `topic`, waiting while the request queue is full.
pub(super) async fn publish(
    client: &AsyncClient,
    topic: &str,
    qos: QoS,
    retain: bool,
    payload: &[u8],
) -> Result<()> {
    client
        .publish(topic, qos, retain, payload.to_vec())
        .await
        .map_err(|error| Error::External(format!("publishing to '{topic}': {error}")))
}

/// Queues the acknowledgement `receipt` stands for, if there is room.
pub(super) fn acknowledge(client: &AsyncClient, receipt: Receipt) {
    let mut acknowledged = Publish::new("", receipt.qos, Vec::new());
    acknowledged.pkid = receipt.pkid;
    let _ = client.try_ack(&acknowledged);
}
