//! The `props` of an MQTT stream or sink, and the client options they stand for.

use std::time::Duration;

use rumqttc::{MqttOptions, QoS, TlsConfiguration, Transport};
use serde::{Deserialize, Serialize};

use crate::props::Props;
use crate::{Error, Result};

/// The keep-alive interval when none is configured.
const DEFAULT_KEEP_ALIVE_SECS: u64 = 30;
/// The largest packet accepted or sent. Payloads are limited further (and counted when they
/// are skipped) by the runtime; a packet past this breaks the connection.
const MAX_PACKET_BYTES: usize = 16 << 20;

/// Where and how to connect, as users write it in `props`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MqttConfig {
    /// `tcp://host:port` or `mqtt://…`; `ssl://` or `mqtts://` for TLS.
    pub broker_url: String,
    /// The topic to subscribe to (wildcards and `$share/<group>/…` allowed) or publish to.
    pub topic: String,
    /// The quality of service: 0, 1 or 2.
    #[serde(default)]
    pub qos: u8,
    /// The client id; one is derived from the stream or pipeline when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// The user name to authenticate with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// The password to authenticate with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// A PEM file of the certificate authorities to trust for TLS, instead of the system's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<String>,
    /// Seconds between keep-alive pings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_alive_secs: Option<u64>,
    /// Whether published messages are retained by the broker (sinks only).
    #[serde(default)]
    pub retain: bool,
}

impl Props for MqttConfig {
    fn check(&self) -> Result<()> {
        self.validate()
    }
}

/// Host, port and whether to use TLS, from a broker URL.
#[derive(Debug, Clone, PartialEq, Eq)]
struct BrokerAddress {
    host: String,
    port: u16,
    tls: bool,
}

impl MqttConfig {
    /// Checks the configuration without connecting.
    ///
    /// # Errors
    /// A bad `broker_url`, an empty `topic` or a `qos` other than 0, 1 or 2, named by field.
    pub fn validate(&self) -> Result<()> {
        self.address()?;
        self.quality_of_service()?;
        if self.topic.is_empty() {
            return Err(Error::Config("props.topic must not be empty".into()));
        }
        Ok(())
    }

    /// The rumqttc quality of service.
    ///
    /// # Errors
    /// When `qos` is not 0, 1 or 2.
    pub fn quality_of_service(&self) -> Result<QoS> {
        match self.qos {
            0 => Ok(QoS::AtMostOnce),
            1 => Ok(QoS::AtLeastOnce),
            2 => Ok(QoS::ExactlyOnce),
            other => Err(Error::Config(format!(
                "props.qos must be 0, 1 or 2, not {other}"
            ))),
        }
    }

    /// Client options for a connection, with `default_client_id` unless one is configured.
    ///
    /// # Errors
    /// A bad broker URL, or a CA file that cannot be read.
    pub fn client_options(&self, default_client_id: &str) -> Result<MqttOptions> {
        let address = self.address()?;
        let client_id = self
            .client_id
            .clone()
            .unwrap_or_else(|| default_client_id.to_owned());
        let mut options = MqttOptions::new(client_id, address.host, address.port);
        let keep_alive = self
            .keep_alive_secs
            .unwrap_or(DEFAULT_KEEP_ALIVE_SECS)
            .max(5);
        options.set_keep_alive(Duration::from_secs(keep_alive));
        options.set_max_packet_size(MAX_PACKET_BYTES, MAX_PACKET_BYTES);
        if let (Some(username), password) = (&self.username, &self.password) {
            options.set_credentials(username, password.clone().unwrap_or_default());
        }
        if address.tls {
            options.set_transport(self.tls_transport()?);
        }
        Ok(options)
    }

    fn tls_transport(&self) -> Result<Transport> {
        crate::tls::install_crypto_provider();
        let Some(ca_file) = &self.ca_file else {
            return Ok(Transport::tls_with_default_config());
        };
        let ca = std::fs::read(ca_file)
            .map_err(|error| Error::Config(format!("props.ca_file '{ca_file}': {error}")))?;
        Ok(Transport::tls_with_config(TlsConfiguration::Simple {
            ca,
            alpn: None,
            client_auth: None,
        }))
    }

    fn address(&self) -> Result<BrokerAddress> {
        parse_broker_url(&self.broker_url)
    }
}

fn parse_broker_url(url: &str) -> Result<BrokerAddress> {
    let invalid = |why: &str| Error::Config(format!("props.broker_url '{url}' {why}"));
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| invalid("needs a scheme: tcp://, mqtt://, ssl:// or mqtts://"))?;
    let (tls, default_port) = match scheme {
        "tcp" | "mqtt" => (false, 1883),
        "ssl" | "mqtts" => (true, 8883),
        _ => {
            return Err(invalid(
                "has an unknown scheme; use tcp://, mqtt://, ssl:// or mqtts://",
            ));
        }
    };
    let authority = rest.trim_end_matches('/');
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) => (
            host,
            port.parse()
                .map_err(|_| invalid("has a port that is not a number"))?,
        ),
        None => (authority, default_port),
    };
    if host.is_empty() || host.contains('/') {
        return Err(invalid("needs a host"));
    }
    Ok(BrokerAddress {
        host: host.trim_matches(['[', ']']).to_owned(),
        port,
        tls,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address(url: &str) -> Result<BrokerAddress> {
        parse_broker_url(url)
    }

    #[test]
    fn broker_urls_give_host_port_and_tls() {
        let cases = [
            ("tcp://127.0.0.1:1883", "127.0.0.1", 1883, false),
            ("mqtt://broker.local", "broker.local", 1883, false),
            ("ssl://broker:9999", "broker", 9999, true),
            ("mqtts://broker", "broker", 8883, true),
            ("tcp://[::1]:1884", "::1", 1884, false),
        ];
        for (url, host, port, tls) in cases {
            let expected = BrokerAddress {
                host: host.into(),
                port,
                tls,
            };
            assert_eq!(address(url).unwrap(), expected, "{url}");
        }
    }

    #[test]
    fn bad_broker_urls_name_the_field() {
        let cases = [
            ("127.0.0.1:1883", "needs a scheme"),
            ("http://x", "unknown scheme"),
            ("tcp://x:port", "port that is not a number"),
            ("tcp://:1883", "needs a host"),
        ];
        for (url, why) in cases {
            let message = address(url).unwrap_err().to_string();
            assert!(
                message.contains("props.broker_url") && message.contains(why),
                "{message}"
            );
        }
    }

    #[test]
    fn qos_and_topic_are_checked() {
        let config = |qos, topic: &str| MqttConfig {
            broker_url: "tcp://localhost".into(),
            topic: topic.into(),
            qos,
            client_id: None,
            username: None,
            password: None,
            ca_file: None,
            keep_alive_secs: None,
            retain: false,
        };
        assert!(config(1, "a/b").validate().is_ok());
        assert!(
            config(3, "a")
                .validate()
                .unwrap_err()
                .to_string()
                .contains("props.qos")
        );
        assert!(
            config(0, "")
                .validate()
                .unwrap_err()
                .to_string()
                .contains("props.topic")
        );
    }
}
