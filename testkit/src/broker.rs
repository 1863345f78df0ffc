//! The MQTT broker tests and benches talk to: its address parsed from a URL, and the one
//! tests use by default, [`test_broker_url`]: the broker `VELOFLUX_TEST_MQTT` names, or an
//! in-process one started once per process.

mod address;

use std::net::SocketAddr;
use std::sync::OnceLock;

pub use address::{BrokerAddress, DEFAULT_PORT};

use crate::{Error, Result, free_addr};

/// The environment variable naming an external broker for the tests (`tcp://host:port`).
pub const TEST_BROKER_VARIABLE: &str = "VELOFLUX_TEST_MQTT";

/// The broker URL tests use: [`TEST_BROKER_VARIABLE`] when it is set, otherwise the URL of an
/// in-process broker started on a free port the first time this is called.
///
/// # Errors
/// When the variable holds an unusable URL, or the in-process broker does not start.
pub fn test_broker_url() -> Result<String> {
    if let Ok(url) = std::env::var(TEST_BROKER_VARIABLE) {
        BrokerAddress::parse(&url)?;
        return Ok(url);
    }
    // Kept as text, so that every caller reports the first one's failure.
    static IN_PROCESS: OnceLock<Result<String, (SocketAddr, String)>> = OnceLock::new();
    let started = IN_PROCESS.get_or_init(|| {
        let unbound = SocketAddr::from(([127, 0, 0, 1], 0));
        let addr = free_addr().map_err(|error| parts(error, unbound))?;
        veloflux_connectors::mqtt::start_embedded(addr)
            .map_err(|error| (addr, error.to_string()))?;
        Ok(BrokerAddress::from(addr).url())
    });
    started
        .clone()
        .map_err(|(addr, message)| Error::Broker { addr, message })
}

/// The address and message of an in-process broker's failure.
fn parts(error: Error, at: SocketAddr) -> (SocketAddr, String) {
    match error {
        Error::Broker { addr, message } => (addr, message),
        other => (at, other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_test_broker_is_started_once_and_listens() {
        let url = test_broker_url().unwrap();
        assert_eq!(test_broker_url().unwrap(), url);
        let broker = BrokerAddress::parse(&url).unwrap();
        std::net::TcpStream::connect((broker.host.as_str(), broker.port)).unwrap();
    }
}
