//! An MQTT 3.1.1 broker in this process (rumqttd): the server's `--embedded-broker` for a
//! machine with none installed, and the broker tests use when none is named.

use std::collections::HashMap;
use std::net::{SocketAddr, TcpStream};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rumqttd::{Broker, Config, ConnectionSettings, RouterConfig, ServerSettings};

use crate::{Error, Result};

/// How long the broker may take to start listening.
const START_TIMEOUT: Duration = Duration::from_secs(5);

/// How long one probe of the listening port may take.
const PROBE_TIMEOUT: Duration = Duration::from_millis(200);

/// How often the port is probed while the broker starts.
const PROBE_INTERVAL: Duration = Duration::from_millis(20);

/// Starts a broker on `addr` in threads of its own and returns once it accepts connections.
/// It runs until the process ends.
///
/// # Errors
/// When something already listens on `addr`, or the broker stops or does not listen in time.
pub fn start_embedded(addr: SocketAddr) -> Result<()> {
    let failed =
        |message: String| Error::External(format!("embedded MQTT broker on {addr}: {message}"));
    if TcpStream::connect_timeout(&addr, PROBE_TIMEOUT).is_ok() {
        return Err(failed("the address is already in use".to_owned()));
    }
    let mut broker = Broker::new(config(addr));
    let (stopped, stop_reason) = mpsc::channel();
    std::thread::Builder::new()
        .name("mqtt-broker".into())
        .spawn(move || {
            let reason = match broker.start() {
                Ok(()) => "it stopped".to_owned(),
                Err(error) => error.to_string(),
            };
            let _ = stopped.send(reason);
        })
        .map_err(|error| failed(format!("cannot spawn its thread: {error}")))?;
    let deadline = Instant::now() + START_TIMEOUT;
    while Instant::now() < deadline {
        if let Ok(reason) = stop_reason.try_recv() {
            return Err(failed(reason));
        }
        if TcpStream::connect_timeout(&addr, PROBE_TIMEOUT).is_ok() {
            tracing::info!(%addr, "embedded MQTT broker listening");
            return Ok(());
        }
        std::thread::sleep(PROBE_INTERVAL);
    }
    Err(failed(format!(
        "it did not listen within {START_TIMEOUT:?}"
    )))
}

/// Large payloads (up to the connectors' 16 MiB packets) and enough connections and queued
/// packets for many clients at once.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_broker_on_the_same_address_is_refused() {
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        start_embedded(addr).unwrap();
        let error = start_embedded(addr).unwrap_err().to_string();
        assert!(error.contains("already in use"), "{error}");
        assert!(error.contains(&addr.to_string()), "{error}");
    }
}
