//! A broker's host and port, parsed from the URLs veloFlux's configuration uses
//! (`tcp://host:port`, `mqtt://host:port`) and written back as one.

use std::fmt;
use std::net::SocketAddr;

use crate::{Error, Result};

/// The port of a broker URL that names none: the MQTT port registered with IANA.
pub const DEFAULT_PORT: u16 = 1883;

/// A broker's host and port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerAddress {
    /// Host name or IP address (an IPv6 address without its brackets).
    pub host: String,
    /// TCP port.
    pub port: u16,
}

impl BrokerAddress {
    /// Parses `tcp://host:port` or `mqtt://host:port`; the port defaults to [`DEFAULT_PORT`],
    /// an IPv6 host is written in brackets (`tcp://[::1]:1883`).
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

    /// The address as `tcp://host:port`, with an IPv6 host in brackets.
    pub fn url(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for BrokerAddress {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(formatter, "tcp://[{}]:{}", self.host, self.port)
        } else {
            write!(formatter, "tcp://{}:{}", self.host, self.port)
        }
    }
}

impl From<SocketAddr> for BrokerAddress {
    fn from(addr: SocketAddr) -> Self {
        Self {
            host: addr.ip().to_string(),
            port: addr.port(),
        }
    }
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
    fn urls_round_trip_and_ipv6_hosts_keep_their_brackets() {
        for url in ["tcp://127.0.0.1:1883", "tcp://[::1]:1884", "tcp://broker:1"] {
            assert_eq!(BrokerAddress::parse(url).unwrap().url(), url);
        }
        let addr: SocketAddr = "[::1]:1885".parse().unwrap();
        assert_eq!(BrokerAddress::from(addr).url(), "tcp://[::1]:1885");
    }
}
