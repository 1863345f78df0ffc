//! MQTT 5 through rumqttc's `v5` client: options from the shared settings (a persistent
//! session is a clean start off with a session that never expires, as 3.1.1's is), and its
//! packets as the connector's [`Event`]s. A received message carries its user properties;
//! an acknowledgement whose reason code is a failure is a refusal.

use rumqttc::v5::mqttbytes::QoS as QoS5;
use rumqttc::v5::mqttbytes::v5::{Packet, PubAckReason, PubCompReason, PubRecReason, Publish};
use rumqttc::v5::{AsyncClient, EventLoop, MqttOptions};
use rumqttc::{NetworkOptions, QoS};

use super::{ClientSettings, Event, MAX_PACKET_BYTES, Receipt, Received, Session};
use crate::clock::wall_clock_ms;
use crate::delivery::Delivery;
use crate::{Error, Result};

/// The session expiry of a persistent session: 0xFFFFFFFF, which MQTT 5 defines as never.
const NEVER_EXPIRES: u32 = u32::MAX;

/// A client and its event loop for `settings` and `session`.
pub(super) fn connect(
    settings: &ClientSettings,
    session: Session,
    capacity: usize,
) -> (AsyncClient, EventLoop) {
    let mut options = MqttOptions::new(&settings.client_id, &settings.host, settings.port);
    options.set_keep_alive(settings.keep_alive);
    options.set_max_packet_size(u32::try_from(MAX_PACKET_BYTES).ok());
    options.set_transport(settings.transport.clone());
    if let Some((username, password)) = &settings.credentials {
        options.set_credentials(username, password);
    }
    options.set_clean_start(!session.persistent);
    if session.persistent {
        options.set_session_expiry_interval(Some(NEVER_EXPIRES));
    }
    options.set_manual_acks(session.manual_acks);
    let mut network = NetworkOptions::new();
    // Messages and acknowledgements are sent when they are ready, not when a packet fills.
    network.set_tcp_nodelay(true);
    options.set_network_options(network);
    AsyncClient::new(options, capacity)
}

/// The next event of `events`.
pub(super) async fn poll(events: &mut EventLoop) -> Result<Event> {
    let event = events.poll().await;
    event
        .map(translate)
        .map_err(|error| Error::External(error.to_string()))
}

/// What `event` means to a source or sink.
fn translate(event: rumqttc::v5::Event) -> Event {
    let rumqttc::v5::Event::Incoming(packet) = event else {
        return Event::Other;
    };
    match packet {
        Packet::ConnAck(connack) => Event::Connected {
            session_present: connack.session_present,
        },
        Packet::Publish(publish) => Event::Received(received(publish)),
        Packet::PubAck(ack) => match ack.reason {
            PubAckReason::Success | PubAckReason::NoMatchingSubscribers => Event::Acknowledged,
            refused => Event::Refused(format!("{refused:?}")),
        },
        Packet::PubRec(ack) => match ack.reason {
            // The PUBCOMP that follows settles it.
            PubRecReason::Success | PubRecReason::NoMatchingSubscribers => Event::Other,
            refused => Event::Refused(format!("{refused:?}")),
        },
        Packet::PubComp(ack) => match ack.reason {
            PubCompReason::Success => Event::Acknowledged,
            refused => Event::Refused(format!("{refused:?}")),
        },
        _ => Event::Other,
    }
}

/// The message of `publish`, with its user properties.
fn received(publish: Publish) -> Received {
    let topic = String::from_utf8_lossy(&publish.topic).into_owned();
    let properties = publish
        .properties
        .map(|properties| properties.user_properties)
        .unwrap_or_default();
    Received {
        receipt: Receipt::of(qos_of(publish.qos), publish.pkid),
        delivery: Delivery::unacknowledged(publish.payload)
            .received(topic, wall_clock_ms())
            .with_properties(properties),
    }
}

/// Queues a subscription to `topic` at `qos`.
pub(super) fn subscribe(client: &AsyncClient, topic: &str, qos: QoS) -> Result<()> {
    client
        .try_subscribe(topic, qos_5(qos))
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
        .publish(topic, qos_5(qos), retain, payload.to_vec())
        .await
        .map_err(|error| Error::External(format!("publishing to '{topic}': {error}")))
}

/// Queues the acknowledgement `receipt` stands for, if there is room.
pub(super) fn acknowledge(client: &AsyncClient, receipt: Receipt) {
    let mut acknowledged = Publish::new("", qos_5(receipt.qos), Vec::new(), None);
    acknowledged.pkid = receipt.pkid;
    let _ = client.try_ack(&acknowledged);
}

/// The same quality of service in the v5 client's type.
fn qos_5(qos: QoS) -> QoS5 {
    match qos {
        QoS::AtMostOnce => QoS5::AtMostOnce,
        QoS::AtLeastOnce => QoS5::AtLeastOnce,
        QoS::ExactlyOnce => QoS5::ExactlyOnce,
    }
}

/// The same quality of service in the shared (3.1.1 client's) type.
fn qos_of(qos: QoS5) -> QoS {
    match qos {
        QoS5::AtMostOnce => QoS::AtMostOnce,
        QoS5::AtLeastOnce => QoS::AtLeastOnce,
        QoS5::ExactlyOnce => QoS::ExactlyOnce,
    }
}

#[cfg(test)]
mod tests {
    use rumqttc::v5::mqttbytes::v5::{PubAck, PubRec, PublishProperties};

    use super::*;

    fn incoming(packet: Packet) -> Event {
        translate(rumqttc::v5::Event::Incoming(packet))
    }

    #[test]
    fn a_message_carries_its_user_properties_and_its_receipt() {
        let properties = PublishProperties {
            user_properties: vec![("device_id".into(), "d7".into())],
            ..PublishProperties::default()
        };
        let mut publish = Publish::new("in/t", QoS5::AtLeastOnce, "{}", Some(properties));
        publish.pkid = 9;
        let Event::Received(Received { delivery, receipt }) = incoming(Packet::Publish(publish))
        else {
            panic!("expected a received message");
        };
        assert_eq!(delivery.topic.as_deref(), Some("in/t"));
        assert_eq!(delivery.properties, [("device_id".into(), "d7".into())]);
        assert_eq!(receipt, Receipt::of(QoS::AtLeastOnce, 9));
        let at_most_once = Publish::new("in/t", QoS5::AtMostOnce, "{}", None);
        let Event::Received(Received { delivery, receipt }) =
            incoming(Packet::Publish(at_most_once))
        else {
            panic!("expected a received message");
        };
        assert!(delivery.properties.is_empty() && receipt.is_none());
    }

    #[test]
    fn acknowledgements_with_a_failure_reason_are_refusals() {
        let puback = |reason| {
            let mut ack = PubAck::new(1, None);
            ack.reason = reason;
            Packet::PubAck(ack)
        };
        assert!(matches!(
            incoming(puback(PubAckReason::NoMatchingSubscribers)),
            Event::Acknowledged
        ));
        let Event::Refused(reason) = incoming(puback(PubAckReason::NotAuthorized)) else {
            panic!("expected a refusal");
        };
        assert_eq!(reason, "NotAuthorized");
        let mut pubrec = PubRec::new(2, None);
        pubrec.reason = PubRecReason::QuotaExceeded;
        assert!(matches!(
            incoming(Packet::PubRec(pubrec)),
            Event::Refused(_)
        ));
        assert!(matches!(
            incoming(Packet::PubRec(PubRec::new(3, None))),
            Event::Other
        ));
    }
}
