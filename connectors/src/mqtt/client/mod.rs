//! The MQTT client in either protocol version, behind one face: the source and sink drive a
//! [`Connection`] and talk through a [`Client`] without knowing which version they speak.
//! Each version's rumqttc client lives in its own module ([`v4`]: MQTT 3.1.1, [`v5`]: MQTT 5)
//! and turns its packets into the [`Event`]s the source and sink act on.

mod v4;
mod v5;

use std::time::Duration;

use rumqttc::{QoS, Transport};

use crate::Result;
use crate::delivery::Delivery;

/// The largest packet accepted or sent. Payloads are limited further (and counted when they
/// are skipped) by the runtime; a packet past this breaks the connection.
const MAX_PACKET_BYTES: usize = 16 << 20;

/// The MQTT protocol version a connection speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Protocol {
    /// MQTT 3.1.1 (protocol level 4).
    V4,
    /// MQTT 5.
    V5,
}

/// Where and as whom a client connects, whatever the protocol version.
#[derive(Clone)]
pub(super) struct ClientSettings {
    /// The protocol version.
    pub(super) protocol: Protocol,
    /// The client id.
    pub(super) client_id: String,
    /// The broker's host.
    pub(super) host: String,
    /// The broker's port.
    pub(super) port: u16,
    /// The interval between keep-alive pings.
    pub(super) keep_alive: Duration,
    /// The user name and password.
    pub(super) credentials: Option<(String, String)>,
    /// Plain TCP, or TLS as configured.
    pub(super) transport: Transport,
}

/// What the broker keeps of the client between connections, and how received messages are
/// acknowledged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Session {
    /// The broker keeps the session (subscriptions, messages not yet acknowledged either
    /// way) while the client is away, and the client publishes again what the broker had not
    /// acknowledged.
    pub(super) persistent: bool,
    /// Received messages are acknowledged through [`Client::acknowledge`], not on arrival.
    pub(super) manual_acks: bool,
}

/// The handle that queues requests (subscribe, publish, acknowledge) for the connection.
#[derive(Clone)]
pub(super) enum Client {
    /// MQTT 3.1.1.
    V4(rumqttc::AsyncClient),
    /// MQTT 5.
    V5(rumqttc::v5::AsyncClient),
}

/// The connection, which does its work (connecting, sending, receiving, reconnecting) only
/// while it is polled. (Boxed: the event loops are large, and of different sizes.)
pub(super) enum Connection {
    /// MQTT 3.1.1.
    V4(Box<rumqttc::EventLoop>),
    /// MQTT 5.
    V5(Box<rumqttc::v5::EventLoop>),
}

/// What a poll of the connection brought, in either version.
#[derive(Debug)]
pub(super) enum Event {
    /// The broker accepted the connection; `session_present` when it kept the session.
    Connected {
        /// Whether the broker resumed the client's session.
        session_present: bool,
    },
    /// A message arrived on a subscription.
    Received(Received),
    /// The broker took the oldest message published at QoS 1 or 2 not yet settled.
    Acknowledged,
    /// The broker refused the oldest message published at QoS 1 or 2 not yet settled, and
    /// says why (MQTT 5 only).
    Refused(String),
    /// Anything else (subscription confirmed, ping answered, a packet sent).
    Other,
}

/// A message that arrived, and what acknowledges it at QoS 1 and 2.
#[derive(Debug)]
pub(super) struct Received {
    /// The message, with its topic, arrival time and properties; no acknowledgement yet.
    pub(super) delivery: Delivery,
    /// What acknowledges it with [`Client::acknowledge`]; `None` at QoS 0.
    pub(super) receipt: Option<Receipt>,
}

/// Which received message an acknowledgement is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Receipt {
    /// The quality of service it arrived at: PUBACK for 1, PUBREC for 2.
    qos: QoS,
    /// Its packet id.
    pkid: u16,
}

/// A client and its connection for `settings`, keeping `session`; up to `capacity`
/// requests wait to be sent before a request waits. Nothing connects until the connection
/// is polled.
pub(super) fn connect(
    settings: &ClientSettings,
    session: Session,
    capacity: usize,
) -> (Client, Connection) {
    match settings.protocol {
        Protocol::V4 => {
            let (client, connection) = v4::connect(settings, session, capacity);
            (Client::V4(client), Connection::V4(Box::new(connection)))
        }
        Protocol::V5 => {
            let (client, connection) = v5::connect(settings, session, capacity);
            (Client::V5(client), Connection::V5(Box::new(connection)))
        }
    }
}

impl Client {
    /// Queues a subscription to `topic` at `qos` without waiting.
    ///
    /// # Errors
    /// When the request queue is full or the connection is gone.
    pub(super) fn subscribe(&self, topic: &str, qos: QoS) -> Result<()> {
        match self {
            Self::V4(client) => v4::subscribe(client, topic, qos),
            Self::V5(client) => v5::subscribe(client, topic, qos),
        }
    }

    /// Queues `payload` for publishing to `topic`, waiting while the request queue is full.
    ///
    /// # Errors
    /// When the connection task has ended or the topic cannot be published to.
    pub(super) async fn publish(
        &self,
        topic: &str,
        qos: QoS,
        retain: bool,
        payload: &[u8],
    ) -> Result<()> {
        match self {
            Self::V4(client) => v4::publish(client, topic, qos, retain, payload).await,
            Self::V5(client) => v5::publish(client, topic, qos, retain, payload).await,
        }
    }

    /// Queues the acknowledgement of a received message without waiting. A full queue or a
    /// closed connection leaves it unacknowledged: the broker delivers it again, which
    /// at-least-once allows.
    pub(super) fn acknowledge(&self, receipt: Receipt) {
        match self {
            Self::V4(client) => v4::acknowledge(client, receipt),
            Self::V5(client) => v5::acknowledge(client, receipt),
        }
    }

    /// Queues a DISCONNECT without waiting. (When it cannot be queued the connection ends
    /// without one, which the broker handles as a lost connection.)
    pub(super) fn disconnect(&self) {
        match self {
            Self::V4(client) => {
                let _ = client.try_disconnect();
            }
            Self::V5(client) => {
                let _ = client.try_disconnect();
            }
        }
    }
}

impl Connection {
    /// Does the connection's next piece of work and says what happened. After an error the
    /// next poll connects again.
    ///
    /// # Errors
    /// The connection failed or broke (the message says how).
    pub(super) async fn poll(&mut self) -> Result<Event> {
        match self {
            Self::V4(connection) => v4::poll(connection).await,
            Self::V5(connection) => v5::poll(connection).await,
        }
    }
}

impl Receipt {
    /// The receipt of a message received at `qos` with packet id `pkid`; none at QoS 0.
    fn of(qos: QoS, pkid: u16) -> Option<Self> {
        (qos != QoS::AtMostOnce).then_some(Self { qos, pkid })
    }
}
