//! Broker addresses and the MQTT clients of the load tool: parsing `tcp://host:port`,
//! options sized so that the client is not the bottleneck, and the connect, subscribe and
//! disconnect handshakes.

use std::time::Duration;

use rumqttc::{AsyncClient, Event, EventLoop, MqttOptions, NetworkOptions, Outgoing, Packet, QoS};
use rumqttc::{SubAck, SubscribeReasonCode};

use crate::{Error, Result};

/// The port of a broker address that names none: the MQTT port registered with IANA.
pub const DEFAULT_PORT: u16 = 1883;

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

/// A broker's host and port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerAddress {
    /// Host name or IP address (an IPv6 address without its brackets).
    pub host: String,
    /// TCP port.
    pub port: u16,
}

impl BrokerAddress {
    /// Parses `tcp://host:port` or `mqtt://host:port`; the port defaults to [`DEFAULT_PORT`].
    ///
    /// # Errors
    /// When the scheme is missing or another one, or the host or port is invalid.
    pub fn parse(url: &str) -> Result<Self> {
        let invalid = |reason| Error::BrokerUrl {
            url: url.to_owned(),
            reason,
        };
        let rest = url
            .strip_prefix("tcp://")
            .or_else(|| url.strip_prefix("mqtt://"))
            .ok_or_else(|| invalid("expected tcp://host:port or mqtt://host:port"))?;
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        let (host, port) = split_host_port(authority).ok_or_else(|| invalid("bad port"))?;
        if host.is_empty() || host.contains(['/', '@', '?', '#']) {
            return Err(invalid(
                "expected a host name or IP address before the port",
            ));
        }
        Ok(Self {
            host: host.to_owned(),
            port,
        })
    }

    /// Client options for this broker, with a client id unique to this process and `role`.
    pub fn options(&self, role: &str) -> MqttOptions {
        let mut options = MqttOptions::new(client_id(role), self.host.clone(), self.port);
        options
            .set_inflight(INFLIGHT)
            .set_max_packet_size(MAX_PACKET_BYTES, MAX_PACKET_BYTES)
            .set_keep_alive(Duration::from_secs(30));
        options
    }
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
    let (client, mut events) = AsyncClient::new(broker.options(role), REQUEST_CAPACITY);
    events.set_network_options(network_options());
    let action = || {
        format!(
            "connecting {role} client to {}:{}",
            broker.host, broker.port
        )
    };
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

fn split_host_port(authority: &str) -> Option<(&str, u16)> {
    if let Some(bracketed) = authority.strip_prefix('[') {
        let (host, rest) = bracketed.split_once(']')?;
        return match rest {
            "" => Some((host, DEFAULT_PORT)),
            _ => Some((host, rest.strip_prefix(':')?.parse().ok()?)),
        };
    }
    match authority.split_once(':') {
        None => Some((authority, DEFAULT_PORT)),
        Some((host, port)) => Some((host, port.parse().ok()?)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address(host: &str, port: u16) -> BrokerAddress {
        BrokerAddress {
            host: host.to_owned(),
            port,
        }
    }

    #[test]
    fn broker_urls_parse() {
        let cases = [
            ("tcp://127.0.0.1:1883", address("127.0.0.1", 1883)),
            ("mqtt://broker.local:11883", address("broker.local", 11883)),
            ("mqtt://broker.local", address("broker.local", 1883)),
            ("tcp://localhost:1884/", address("localhost", 1884)),
            ("tcp://[::1]:1885", address("::1", 1885)),
            ("tcp://[::1]", address("::1", 1883)),
        ];
        for (url, expected) in cases {
            assert_eq!(BrokerAddress::parse(url).unwrap(), expected, "{url}");
        }
    }

    #[test]
    fn bad_broker_urls_say_what_is_wrong() {
        let cases = [
            ("127.0.0.1:1883", "expected tcp://host:port"),
            ("ssl://127.0.0.1:8883", "expected tcp://host:port"),
            ("tcp://127.0.0.1:port", "bad port"),
            ("tcp://127.0.0.1:70000", "bad port"),
            ("tcp://:1883", "expected a host name"),
            ("tcp://host/path", "expected a host name"),
            ("tcp://[::1]1883", "bad port"),
        ];
        for (url, message) in cases {
            let error = BrokerAddress::parse(url).unwrap_err().to_string();
            assert!(error.contains(message), "{url}: {error}");
            assert!(error.contains(url), "{url}: {error}");
        }
    }

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
