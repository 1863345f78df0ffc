//! The `props` of an MQTT stream or sink, and the client settings they stand for.

use std::time::Duration;

use rumqttc::QoS;
use serde::{Deserialize, Serialize};

use super::client::{ClientSettings, Protocol};
use super::tls::{self, ClientIdentity};
use crate::props::Props;
use crate::{Error, Result};

/// The keep-alive interval when none is configured.
const DEFAULT_KEEP_ALIVE_SECS: u64 = 30;

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
    /// The MQTT protocol version: 4 (MQTT 3.1.1) or 5 (MQTT 5, whose user properties SQL
    /// reads as `meta(<name>)`).
    #[serde(default = "default_protocol_version")]
    #[schema(default = 4)]
    pub protocol_version: u8,
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
    /// A PEM file of the client certificate (and its chain) for brokers that require one
    /// (mutual TLS); with `key_file`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_file: Option<String>,
    /// A PEM file of the client certificate's private key; with `cert_file`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_file: Option<String>,
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

fn default_protocol_version() -> u8 {
    4
}

/// Host, port and whether to use TLS, from a broker URL.
#[derive(Debug, Clone, PartialEq, Eq)]
struct BrokerAddress {
    host: String,
    port: u16,
    tls: bool,
}

impl MqttConfig {
    /// Checks the configuration without connecting (nor reading files).
    ///
    /// # Errors
    /// A bad `broker_url`, an empty `topic`, a `qos` other than 0, 1 or 2, a
    /// `protocol_version` other than 4 or 5, or half a client certificate, named by field.
    pub fn validate(&self) -> Result<()> {
        let address = self.address()?;
        self.quality_of_service()?;
        self.protocol()?;
        if self.topic.is_empty() {
            return Err(Error::Config("props.topic must not be empty".into()));
        }
        if self.client_identity()?.is_some() && !address.tls {
            return Err(Error::Config(format!(
                "props.cert_file needs a TLS broker_url (ssl:// or mqtts://), not '{}'",
                self.broker_url
            )));
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

    /// The protocol version to speak.
    fn protocol(&self) -> Result<Protocol> {
        match self.protocol_version {
            4 => Ok(Protocol::V4),
            5 => Ok(Protocol::V5),
            other => Err(Error::Config(format!(
                "props.protocol_version must be 4 (MQTT 3.1.1) or 5 (MQTT 5), not {other}"
            ))),
        }
    }

    /// The client certificate and key files, when both are given.
    fn client_identity(&self) -> Result<Option<ClientIdentity<'_>>> {
        match (&self.cert_file, &self.key_file) {
            (Some(cert_file), Some(key_file)) => Ok(Some(ClientIdentity {
                cert_file,
                key_file,
            })),
            (None, None) => Ok(None),
            (Some(_), None) => Err(Error::Config(
                "props.key_file is required with props.cert_file: the client certificate's \
                 private key (PEM)"
                    .into(),
            )),
            (None, Some(_)) => Err(Error::Config(
                "props.cert_file is required with props.key_file: the client certificate \
                 (PEM) the key belongs to"
                    .into(),
            )),
        }
    }

    /// Where and as whom to connect, with `default_client_id` unless one is configured.
    ///
    /// # Errors
    /// An invalid configuration, or a CA, certificate or key file that cannot be read.
    pub(super) fn client_settings(&self, default_client_id: &str) -> Result<ClientSettings> {
        self.validate()?;
        let address = self.address()?;
        let keep_alive = self
            .keep_alive_secs
            .unwrap_or(DEFAULT_KEEP_ALIVE_SECS)
            .max(5);
        let credentials = self.username.as_ref().map(|username| {
            let password = self.password.clone().unwrap_or_default();
            (username.clone(), password)
        });
        let transport = if address.tls {
            tls::transport(self.ca_file.as_deref(), self.client_identity()?)?
        } else {
            rumqttc::Transport::Tcp
        };
        Ok(ClientSettings {
            protocol: self.protocol()?,
            client_id: self
                .client_id
                .clone()
                .unwrap_or_else(|| default_client_id.to_owned()),
            host: address.host,
            port: address.port,
            keep_alive: Duration::from_secs(keep_alive),
            credentials,
            transport,
        })
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
            cert_file: None,
            key_file: None,
            keep_alive_secs: None,
            protocol_version: 4,
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

    /// The first error of `props` (JSON), as the REST layer would report it.
    fn refusal(props: serde_json::Value) -> String {
        crate::props::parse::<MqttConfig>(&props)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn the_protocol_version_is_4_unless_5_is_asked_for() {
        let props = |extra: serde_json::Value| {
            let mut props = serde_json::json!({"broker_url": "tcp://localhost", "topic": "t"});
            props
                .as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            props
        };
        let default: MqttConfig = crate::props::parse(&props(serde_json::json!({}))).unwrap();
        assert_eq!(default.protocol().unwrap(), Protocol::V4);
        let five: MqttConfig =
            crate::props::parse(&props(serde_json::json!({"protocol_version": 5}))).unwrap();
        assert_eq!(five.protocol().unwrap(), Protocol::V5);
        let error = refusal(props(serde_json::json!({"protocol_version": 3})));
        assert!(
            error.contains("props.protocol_version must be 4 (MQTT 3.1.1) or 5"),
            "{error}"
        );
    }

    #[test]
    fn a_client_certificate_needs_its_key_and_a_tls_broker() {
        let cases = [
            (
                serde_json::json!({"broker_url": "ssl://b", "topic": "t", "cert_file": "c.pem"}),
                "props.key_file is required with props.cert_file",
            ),
            (
                serde_json::json!({"broker_url": "ssl://b", "topic": "t", "key_file": "k.pem"}),
                "props.cert_file is required with props.key_file",
            ),
            (
                serde_json::json!({"broker_url": "tcp://b", "topic": "t",
                    "cert_file": "c.pem", "key_file": "k.pem"}),
                "props.cert_file needs a TLS broker_url",
            ),
        ];
        for (props, expected) in cases {
            let error = refusal(props);
            assert!(error.contains(expected), "{error}");
        }
        let both = serde_json::json!({"broker_url": "mqtts://b", "topic": "t",
            "cert_file": "c.pem", "key_file": "k.pem"});
        assert!(crate::props::parse::<MqttConfig>(&both).is_ok());
    }

    #[test]
    fn an_unreadable_certificate_file_is_named_when_the_client_is_built() {
        let props = serde_json::json!({"broker_url": "ssl://127.0.0.1:8883", "topic": "t",
            "cert_file": "/nonexistent/client.pem", "key_file": "/nonexistent/client.key"});
        let config: MqttConfig = crate::props::parse(&props).unwrap();
        let error = config.client_settings("id").err().unwrap().to_string();
        assert!(
            error.contains("props.cert_file '/nonexistent/client.pem'"),
            "{error}"
        );
    }
}
