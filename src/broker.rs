//! An MQTT broker inside the server (rumqttd), for a machine with none installed.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rumqttd::{Broker, Config, ConnectionSettings, RouterConfig, ServerSettings};

/// How long the broker may take to start listening.
const START_TIMEOUT: Duration = Duration::from_secs(5);

/// The embedded broker could not start.
#[derive(Debug, thiserror::Error)]
#[error("embedded MQTT broker on {addr}: {message}")]
pub struct BrokerError {
    addr: SocketAddr,
    message: String,
}

/// Starts an MQTT 3.1.1 broker on `addr` in threads of its own and waits until it accepts
/// connections. It runs until the process ends.
///
/// # Errors
/// When the broker does not listen on `addr` in time (the port is taken, for example).
pub fn start(addr: SocketAddr) -> Result<(), BrokerError> {
    if std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
        return Err(BrokerError {
            addr,
            message: "the address is already in use".into(),
        });
    }
    let mut broker = Broker::new(config(addr));
    std::thread::Builder::new()
        .name("mqtt-broker".into())
        .spawn(move || {
            if let Err(error) = broker.start() {
                tracing::error!(%error, "embedded MQTT broker stopped");
            }
        })
        .map_err(|error| BrokerError {
            addr,
            message: error.to_string(),
        })?;
    let deadline = Instant::now() + START_TIMEOUT;
    while Instant::now() < deadline {
        if std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            tracing::info!(%addr, "embedded MQTT broker listening");
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Err(BrokerError {
        addr,
        message: "it did not start listening".into(),
    })
}

fn config(addr: SocketAddr) -> Config {
    let connections = ConnectionSettings {
        connection_timeout_ms: 60_000,
        max_payload_size: 16 << 20,
        max_inflight_count: 500,
        auth: None,
        external_auth: None,
        dynamic_filters: true,
    };
    let server = ServerSettings {
        name: "v4".into(),
        listen: addr,
        tls: None,
        next_connection_delay_ms: 1,
        connections,
    };
    let router = RouterConfig {
        max_connections: 10_000,
        max_outgoing_packet_count: 1_000,
        max_segment_size: 100 << 20,
        max_segment_count: 10,
        ..RouterConfig::default()
    };
    Config {
        router,
        v4: Some(HashMap::from([("v4".to_owned(), server)])),
        ..Config::default()
    }
}
