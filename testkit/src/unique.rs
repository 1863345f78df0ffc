//! What no other test or bench run uses at the same time: a free port, a name, a topic.
//!
//! Names carry the process id and a counter, so that test binaries running side by side on
//! one broker, and tests within one binary, never see each other's messages or sessions.

use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::{Error, Result};

/// The first level of every [`unique_topic`]: a broker's traffic from tests and benches is
/// under `veloflux-testkit/#`.
pub const TOPIC_ROOT: &str = "veloflux-testkit";

/// A loopback address whose port nobody listened on a moment ago.
///
/// # Errors
/// When no port can be bound on 127.0.0.1.
pub fn free_addr() -> Result<SocketAddr> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map_err(|error| Error::io("bind a free port on", "127.0.0.1", error))
}

/// `name-<pid>-<n>`: a name (a client id, a directory) no other caller uses.
pub fn unique_name(name: &str) -> String {
    format!("{name}-{}-{}", std::process::id(), next())
}

/// `veloflux-testkit/<pid>/<name>/<n>`: a topic no other caller uses.
pub fn unique_topic(name: &str) -> String {
    format!("{TOPIC_ROOT}/{}/{name}/{}", std::process::id(), next())
}

fn next() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_topics_never_repeat_and_name_the_process() {
        let pid = std::process::id().to_string();
        assert_ne!(unique_topic("in"), unique_topic("in"));
        assert_ne!(unique_name("sub"), unique_name("sub"));
        let topic = unique_topic("in");
        assert!(
            topic.starts_with(&format!("{TOPIC_ROOT}/{pid}/in/")),
            "{topic}"
        );
        assert!(unique_name("sub").starts_with(&format!("sub-{pid}-")));
    }

    #[test]
    fn a_free_port_can_be_bound() {
        let addr = free_addr().unwrap();
        assert!(addr.ip().is_loopback() && addr.port() != 0);
        TcpListener::bind(addr).unwrap();
    }
}
