//! The QoS 0 publisher over plain TCP: a pipeline's messages are framed as PUBLISH packets in
//! one buffer per micro-batch, and the connection writes everything queued with one system
//! call. (The general client flushes its socket after every packet: one write per message.)
//!
//! It keeps the connection alive (PINGREQ when nothing was written for the keep-alive, and a
//! connection that leaves a ping unanswered as long is dropped), and reconnects with backoff.
//! While it is away, batches wait in a bounded queue and then the pipeline waits: QoS 0 means
//! at most once, so a batch being written when the connection breaks may be lost. Dropped,
//! the publisher lets its connection write what is queued, say DISCONNECT and close; if the
//! connection is down by then, what is queued is dropped with it.

use std::sync::Arc;
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use rumqttc::{ConnectReturnCode, Login, Packet};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::{Instant, timeout};

use super::client::ClientSettings;
use crate::backoff::Backoff;
use crate::status::ConnectorStatus;
use crate::{Error, Result};

/// Micro-batches waiting for the connection before `publish_all` waits.
const QUEUED_BATCHES: usize = 8;
/// Batches gathered into one write at most.
const BATCHES_PER_WRITE: usize = 64;
/// How long connecting (TCP and CONNACK) may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// The largest packet accepted from the broker (only CONNACK and PINGRESP are expected).
const MAX_INCOMING_PACKET: usize = 64 * 1024;

/// The PINGREQ packet.
const PINGREQ: [u8; 2] = [0xC0, 0x00];
/// The DISCONNECT packet.
const DISCONNECT: [u8; 2] = [0xE0, 0x00];

/// A running QoS 0 publisher to its topic, or to one given with each batch.
pub(super) struct Publisher {
    batches: mpsc::Sender<Bytes>,
    topic: String,
    retain: bool,
}

impl Publisher {
    /// Connects (in the background) as `settings` say, reporting the connection in `status`.
    pub(super) fn start(
        settings: &ClientSettings,
        topic: &str,
        retain: bool,
        status: Arc<ConnectorStatus>,
    ) -> Self {
        let (batches, queued) = mpsc::channel(QUEUED_BATCHES);
        tokio::spawn(drive(Session::new(settings, topic), queued, status));
        Self {
            batches,
            topic: topic.to_owned(),
            retain,
        }
    }

    /// Queues `messages` for publishing, in order, waiting while the queue is full.
    ///
    /// # Errors
    /// When the connection task has ended.
    pub(super) async fn publish_all<'a>(
        &self,
        topic: Option<&str>,
        messages: impl Iterator<Item = &'a [u8]>,
    ) -> Result<()> {
        let topic = topic.unwrap_or(&self.topic);
        let mut frames = BytesMut::new();
        for payload in messages {
            frame_publish(&mut frames, topic, self.retain, payload)?;
        }
        if frames.is_empty() {
            return Ok(());
        }
        self.batches
            .send(frames.freeze())
            .await
            .map_err(|_| Error::External(format!("publishing to '{topic}': stopped")))
    }
}

/// Appends a QoS 0 PUBLISH packet of `payload` to `topic` to `frames`.
fn frame_publish(frames: &mut BytesMut, topic: &str, retain: bool, payload: &[u8]) -> Result<()> {
    let topic_len = u16::try_from(topic.len())
        .map_err(|_| Error::Config(format!("topic '{topic}' is longer than 65535 bytes")))?;
    let remaining = 2 + topic.len() + payload.len();
    frames.reserve(5 + remaining);
    frames.put_u8(0x30 | u8::from(retain));
    put_remaining_length(frames, remaining)?;
    frames.put_u16(topic_len);
    frames.put_slice(topic.as_bytes());
    frames.put_slice(payload);
    Ok(())
}

/// MQTT's variable-length encoding of a packet's remaining length (at most 256 MiB).
fn put_remaining_length(frames: &mut BytesMut, mut length: usize) -> Result<()> {
    if length >= 1 << 28 {
        return Err(Error::Config(format!(
            "a message of {length} bytes is over MQTT's 256 MiB packet limit"
        )));
    }
    loop {
        let digit = (length % 128) as u8;
        length /= 128;
        if length == 0 {
            frames.put_u8(digit);
            return Ok(());
        }
        frames.put_u8(digit | 0x80);
    }
}

/// What connecting takes: the broker's address and the CONNECT packet (and the topic, for
/// the log).
struct Session {
    topic: String,
    address: (String, u16),
    connect: Bytes,
    keep_alive: Duration,
}

impl Session {
    fn new(settings: &ClientSettings, topic: &str) -> Self {
        let keep_alive = settings.keep_alive;
        let mut connect = rumqttc::Connect::new(&settings.client_id);
        connect.keep_alive = u16::try_from(keep_alive.as_secs()).unwrap_or(u16::MAX);
        let login = settings.credentials.as_ref();
        connect.login = login.map(|(username, password)| Login::new(username, password));
        let mut frame = BytesMut::new();
        // Writing a CONNECT packet into a growable buffer does not fail.
        let _ = Packet::Connect(connect).write(&mut frame, usize::MAX);
        Self {
            topic: topic.to_owned(),
            address: (settings.host.clone(), settings.port),
            connect: frame.freeze(),
            keep_alive,
        }
    }

    /// Connects and waits for the broker to accept.
    async fn open(&self) -> Result<Connection> {
        let (host, port) = &self.address;
        let stream = TcpStream::connect((host.as_str(), *port))
            .await
            .map_err(|error| Error::External(format!("connecting to {host}:{port}: {error}")))?;
        // Each batch is one write already: send it now, not when a packet fills.
        stream
            .set_nodelay(true)
            .map_err(|error| Error::External(error.to_string()))?;
        let mut connection = Connection {
            stream,
            incoming: BytesMut::with_capacity(64),
        };
        connection.write(&self.connect).await?;
        match connection.read_packet().await? {
            Packet::ConnAck(ack) if ack.code == ConnectReturnCode::Success => Ok(connection),
            Packet::ConnAck(ack) => Err(Error::External(format!(
                "the broker refused the connection: {:?}",
                ack.code
            ))),
            other => Err(Error::External(format!(
                "expected CONNACK from the broker, got {other:?}"
            ))),
        }
    }
}

/// Connects, publishes until the connection breaks, and again, until every sender is gone and
/// what they queued is written (or the connection is down once they are gone).
async fn drive(session: Session, mut queued: mpsc::Receiver<Bytes>, status: Arc<ConnectorStatus>) {
    let mut backoff = Backoff::default();
    loop {
        let ended = match timeout(CONNECT_TIMEOUT, session.open()).await {
            Ok(Ok(mut connection)) => {
                status.set_connected();
                backoff.reset();
                connection.serve(&mut queued, session.keep_alive).await
            }
            Ok(Err(error)) => Err(error),
            Err(_) => Err(Error::External(format!(
                "no CONNACK within {CONNECT_TIMEOUT:?}"
            ))),
        };
        match ended {
            Ok(()) => return,
            Err(error) => {
                tracing::warn!(topic = %session.topic, %error, "MQTT sink lost its connection");
                status.set_disconnected(error.to_string());
                if queued.is_closed() {
                    return;
                }
            }
        }
        tokio::time::sleep(backoff.next_delay()).await;
    }
}

/// A connected socket.
struct Connection {
    stream: TcpStream,
    incoming: BytesMut,
}

impl Connection {
    /// Writes what is queued as it comes, and pings when idle. Ok when every sender is gone
    /// (after a DISCONNECT); Err when the connection broke.
    async fn serve(
        &mut self,
        queued: &mut mpsc::Receiver<Bytes>,
        keep_alive: Duration,
    ) -> Result<()> {
        let mut batches = Vec::with_capacity(BATCHES_PER_WRITE);
        let mut gathered = BytesMut::new();
        let mut ping_due = Instant::now() + keep_alive;
        let mut ping_unanswered = false;
        loop {
            tokio::select! {
                received = queued.recv_many(&mut batches, BATCHES_PER_WRITE) => {
                    if received == 0 {
                        let _ = self.write(&DISCONNECT).await;
                        return Ok(());
                    }
                    self.write_batches(&mut batches, &mut gathered).await?;
                    if !ping_unanswered {
                        ping_due = Instant::now() + keep_alive;
                    }
                }
                packet = self.read_packet() => {
                    if matches!(packet?, Packet::PingResp) {
                        ping_unanswered = false;
                        ping_due = Instant::now() + keep_alive;
                    }
                }
                () = tokio::time::sleep_until(ping_due) => {
                    if ping_unanswered {
                        return Err(Error::External(format!(
                            "the broker did not answer a ping within {keep_alive:?}"
                        )));
                    }
                    self.write(&PINGREQ).await?;
                    ping_unanswered = true;
                    ping_due = Instant::now() + keep_alive;
                }
            }
        }
    }

    /// Writes `batches` (emptying it) with one system call where the socket takes it all.
    async fn write_batches(
        &mut self,
        batches: &mut Vec<Bytes>,
        gathered: &mut BytesMut,
    ) -> Result<()> {
        if batches.len() == 1
            && let Some(single) = batches.pop()
        {
            return self.write(&single).await;
        }
        gathered.clear();
        batches
            .drain(..)
            .for_each(|batch| gathered.put_slice(&batch));
        self.write(gathered).await
    }

    async fn write(&mut self, bytes: &[u8]) -> Result<()> {
        self.stream
            .write_all(bytes)
            .await
            .map_err(|error| Error::External(format!("writing to the broker: {error}")))
    }

    /// The next packet from the broker. Cancel-safe: what was read stays buffered.
    async fn read_packet(&mut self) -> Result<Packet> {
        loop {
            match Packet::read(&mut self.incoming, MAX_INCOMING_PACKET) {
                Ok(packet) => return Ok(packet),
                Err(rumqttc::Error::InsufficientBytes(_)) => {}
                Err(error) => {
                    return Err(Error::External(format!("reading from the broker: {error}")));
                }
            }
            let read = self
                .stream
                .read_buf(&mut self.incoming)
                .await
                .map_err(|error| Error::External(format!("reading from the broker: {error}")))?;
            if read == 0 {
                return Err(Error::External(
                    "the broker closed the connection".to_owned(),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_back(frames: &mut BytesMut) -> rumqttc::Publish {
        match Packet::read(frames, usize::MAX) {
            Ok(Packet::Publish(publish)) => publish,
            other => panic!("expected a PUBLISH packet, got {other:?}"),
        }
    }

    #[test]
    fn frames_read_back_as_the_qos_0_publishes_they_stand_for() {
        let mut frames = BytesMut::new();
        // Payload sizes around every boundary of the remaining length's encoding.
        let sizes = [0, 116, 117, 16_372, 16_373, 2_097_140, 2_097_141];
        let payloads: Vec<Vec<u8>> = sizes.iter().map(|&size| vec![b'x'; size]).collect();
        for (index, payload) in payloads.iter().enumerate() {
            frame_publish(&mut frames, "out/topic", index % 2 == 1, payload).unwrap();
        }
        for (index, payload) in payloads.iter().enumerate() {
            let publish = read_back(&mut frames);
            assert_eq!(publish.topic, "out/topic");
            assert_eq!(publish.qos, rumqttc::QoS::AtMostOnce);
            assert_eq!(publish.retain, index % 2 == 1);
            assert_eq!(publish.payload.as_ref(), payload.as_slice());
        }
        assert!(frames.is_empty(), "nothing left over");
    }

    #[tokio::test]
    async fn queued_batches_are_written_whole_and_in_order() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let stream = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (mut peer, _) = listener.accept().await.unwrap();
        let mut connection = Connection {
            stream,
            incoming: BytesMut::new(),
        };
        let mut gathered = BytesMut::new();
        for sizes in [&[3][..], &[1, 2, 3]] {
            let mut batches: Vec<Bytes> = sizes
                .iter()
                .map(|&size| Bytes::from(vec![b'0' + size; usize::from(size)]))
                .collect();
            let expected: Vec<u8> = batches.iter().flat_map(|batch| batch.to_vec()).collect();
            connection
                .write_batches(&mut batches, &mut gathered)
                .await
                .unwrap();
            assert!(batches.is_empty());
            let mut received = vec![0; expected.len()];
            let read = timeout(Duration::from_secs(5), peer.read_exact(&mut received)).await;
            assert!(
                read.is_ok(),
                "{} bytes were not all written",
                expected.len()
            );
            assert_eq!(received, expected);
        }
    }

    #[test]
    fn a_topic_longer_than_mqtt_allows_is_refused() {
        let topic = "t".repeat(70_000);
        let error = frame_publish(&mut BytesMut::new(), &topic, false, b"{}").unwrap_err();
        assert!(
            error.to_string().contains("longer than 65535 bytes"),
            "{error}"
        );
    }

    #[test]
    fn the_connect_packet_carries_the_client_id_keep_alive_and_login() {
        let settings = ClientSettings {
            protocol: crate::mqtt::client::Protocol::V4,
            client_id: "sink-7".into(),
            host: "127.0.0.1".into(),
            port: 1883,
            keep_alive: Duration::from_secs(15),
            credentials: Some(("user".into(), "secret".into())),
            transport: rumqttc::Transport::Tcp,
        };
        let session = Session::new(&settings, "out");
        let mut frame = BytesMut::from(session.connect.as_ref());
        let Ok(Packet::Connect(connect)) = Packet::read(&mut frame, usize::MAX) else {
            panic!("expected a CONNECT packet");
        };
        assert_eq!(connect.client_id, "sink-7");
        assert_eq!(connect.keep_alive, 15);
        assert!(connect.clean_session);
        let login = connect.login.unwrap();
        assert_eq!(
            (login.username.as_str(), login.password.as_str()),
            ("user", "secret")
        );
    }
}
