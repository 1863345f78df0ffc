//! The MQTT clients of the load tool: options sized so that the client is not the
//! bottleneck, and the connect, subscribe and disconnect handshakes. Broker addresses are the
//! test kit's [`BrokerAddress`].

use std::time::Duration;

use rumqttc::{AsyncClient, Event, EventLoop, MqttOptions, NetworkOptions, Outgoing, Packet, QoS};
use rumqttc::{SubAck, SubscribeReasonCode};
use veloflux_testkit::BrokerAddress;

use crate::{Error, Result};

/// Requests a client may queue before `publish().await` waits. 1024 is 20 ms of messages at
/// 50k msg/s: enough to keep the event loop busy across scheduling hiccups on two cores, few
/// enough that a message's `sent_us` is not inflated much by waiting in the tool's own queue.
pub const REQUEST_CAPACITY: usize = 1024;

/// QoS 1 messages in flight before the client waits for an acknowledgement. rumqttc stops
/// reading requests when the window is full, so a small window (its default is 100) caps a
/// QoS 1 run at 100 messages per broker round trip.
pub const INFLIGHT: u16 = u16::MAX;

/// The largest packet either direction accepts: room for a large aggregate on the output
/// topic (rumqttc's default is 10 KiB).
pub const MAX_PACKET_BYTES: usize = 16 * 1024 * 1024;

/// How long a disconnect may take before the connection is just dropped.
const DISCONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// Client options for `broker`, with a client id unique to this process and `role`.
pub fn options(broker: &BrokerAddress, role: &str) -> MqttOptions {
    let mut options = MqttOptions::new(client_id(role), broker.host.clone(), broker.port);
    options
        .set_inflight(INFLIGHT)
        .set_max_packet_size(MAX_PACKET_BYTES, MAX_PACKET_BYTES)
        .set_keep_alive(Duration::from_secs(30));
    options
}

/// The client id of this process's client in `role`: unique per role within a process and
/// across processes, so that two runs never take over each other's session.
pub fn client_id(role: &str) -> String {
    format!("mqtt-load-{role}-{}", std::process::id())
}

/// Connects a client in `role` and returns it once the broker has accepted the connection.
///
/// # Errors
/// When the broker cannot be reached or refuses the connection.
pub async fn connect(broker: &BrokerAddress, role: &str) -> Result<(AsyncClient, EventLoop)> {
    let (client, mut events) = AsyncClient::new(options(broker, role), REQUEST_CAPACITY);
    events.set_network_options(network_options());
    let action = || format!("connecting {role} client to {broker}");
    match events.poll().await {
        Ok(Event::Incoming(Packet::ConnAck(_))) => Ok((client, events)),
        Ok(event) => Err(Error::mqtt(
            action(),
            format!("expected CONNACK, got {event:?}"),
        )),
        Err(error) => Err(Error::mqtt(action(), error)),
    }
}

/// Socket options of every client: Nagle's algorithm off, since rumqttc writes each packet
/// with its own flush and Nagle would hold a small publish back until the previous one is
/// acknowledged; with the peer's delayed ACKs that cost up to 40 ms on Linux.
fn network_options() -> NetworkOptions {
    let mut options = NetworkOptions::new();
    options.set_tcp_nodelay(true);
    options
}

/// Subscribes to `topic` and polls `events` until the broker grants the subscription. Messages
/// that arrive with the grant stay queued in `events` for the next poll.
///
/// # Errors
/// When the broker refuses the subscription or the connection drops.
pub async fn subscribe(
    client: &AsyncClient,
    events: &mut EventLoop,
    topic: &str,
    qos: QoS,
) -> Result<()> {
    let action = || format!("subscribing to '{topic}'");
    client
        .subscribe(topic, qos)
        .await
        .map_err(|error| Error::mqtt(action(), error))?;
    loop {
        match events.poll().await {
            Ok(Event::Incoming(Packet::SubAck(ack))) => return check_granted(&ack, action),
            Ok(_) => {}
            Err(error) => return Err(Error::mqtt(action(), error)),
        }
    }
}

/// Sends DISCONNECT and polls until it is written, so that the broker sees a clean goodbye
/// rather than a dropped socket; gives up after [`DISCONNECT_TIMEOUT`].
pub async fn disconnect(client: &AsyncClient, events: &mut EventLoop) {
    if client.try_disconnect().is_err() {
        return;
    }
    let written = async {
        while let Ok(event) = events.poll().await {
            if matches!(event, Event::Outgoing(Outgoing::Disconnect)) {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(DISCONNECT_TIMEOUT, written).await;
}

/// Checks that `topic` can be published to and `filter` subscribed to, before connecting: an
/// invalid topic would otherwise only show as a client whose requests fail.
///
/// # Errors
/// When `topic` is empty or has a wildcard, or `filter` is not a valid MQTT topic filter.
pub fn check_topics(topic: &str, filter: &str) -> Result<()> {
    let invalid = |topic: &str, reason| Error::Topic {
        topic: topic.to_owned(),
        reason,
    };
    if topic.is_empty() || !rumqttc::valid_topic(topic) {
        return Err(invalid(
            topic,
            "a topic to publish to must be non-empty, without + or #",
        ));
    }
    if !rumqttc::valid_filter(filter) {
        return Err(invalid(
            filter,
            "expected a topic filter (+ and # only as whole levels)",
        ));
    }
    Ok(())
}

/// The QoS a command-line level 0, 1 or 2 names.
///
/// # Errors
/// For any other level.
pub fn qos(level: u8) -> Result<QoS> {
    rumqttc::qos(level).map_err(|error| Error::mqtt(format!("using QoS {level}"), error))
}

fn check_granted(ack: &SubAck, action: impl Fn() -> String) -> Result<()> {
    if ack.return_codes.contains(&SubscribeReasonCode::Failure) {
        return Err(Error::mqtt(action(), "the broker refused the subscription"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_ids_differ_by_role_and_name_the_process() {
        let publisher = client_id("publish");
        assert_ne!(publisher, client_id("subscribe"));
        assert!(publisher.ends_with(&std::process::id().to_string()));
    }

    #[test]
    fn wildcards_are_refused_where_they_cannot_work() {
        assert!(check_topics("load/in", "load/#").is_ok());
        assert!(check_topics("load/in", "load/+/out").is_ok());
        let publish = check_topics("load/#", "load/out").unwrap_err().to_string();
        assert!(publish.contains("'load/#'"), "{publish}");
        assert!(check_topics("", "load/out").is_err());
        let filter = check_topics("load/in", "load/out#")
            .unwrap_err()
            .to_string();
        assert!(filter.contains("'load/out#'"), "{filter}");
    }

    #[test]
    fn qos_levels_above_two_are_refused() {
        assert_eq!(qos(1).unwrap(), QoS::AtLeastOnce);
        assert!(qos(3).is_err());
    }
}
