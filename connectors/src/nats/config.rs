//! The `props` of a NATS stream or sink: the servers, the subject, credentials and JetStream.
//! One shape serves both roles; [`NatsSourceProps`] and [`NatsSinkProps`] check what only
//! makes sense in one of them, so a stream or pipeline is refused when it is created.

use std::time::Duration;

use async_nats::ServerAddr;
use serde::Deserialize;
use utoipa::openapi::{RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};

use crate::props::Props;
use crate::template::dynamic_template;
use crate::{Error, Result};

/// The server when none is configured.
const DEFAULT_URL: &str = "nats://127.0.0.1:4222";

/// Where and how to connect, as users write it in `props`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NatsConfig {
    /// The server: `nats://host:port`, `tls://host:port` for TLS; several separated by commas.
    #[serde(default = "default_url")]
    #[schema(default = "nats://127.0.0.1:4222")]
    pub url: String,
    /// Streams: the subject to subscribe to (wildcards `*` and `>` allowed). Sinks: the subject
    /// to publish to (`{{column}}` placeholders allowed).
    pub subject: String,
    /// Streams only: instances subscribed in the same queue group share the subject's
    /// messages, each message going to one of them.
    #[serde(default)]
    pub queue_group: Option<String>,
    /// Through JetStream instead of core NATS: streams consume a durable consumer and
    /// acknowledge each message once every sink confirmed it; sinks wait for the PubAck.
    #[serde(default)]
    #[schema(inline)]
    pub jetstream: Option<JetStreamConfig>,
    /// A token to authenticate with.
    #[serde(default)]
    pub token: Option<String>,
    /// The user name to authenticate with (with `password`).
    #[serde(default)]
    pub username: Option<String>,
    /// The password to authenticate with.
    #[serde(default)]
    pub password: Option<String>,
    /// The connection's name as the server shows it; derived from the stream or pipeline
    /// when absent.
    #[serde(default)]
    pub client_name: Option<String>,
}

/// JetStream settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JetStreamConfig {
    /// Streams (required): the JetStream stream to consume, created capturing `subject` if
    /// it does not exist. Sinks (optional): the stream that must store what is published.
    #[serde(default)]
    pub stream: Option<String>,
    /// Streams only: the durable consumer's name; derived from the client name when absent.
    #[serde(default)]
    pub durable: Option<String>,
    /// Streams only: how long the server waits for an acknowledgement before delivering a
    /// message again, in milliseconds (default 30 000).
    #[serde(default)]
    pub ack_wait_ms: Option<u64>,
}

/// The props of a `nats` stream.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct NatsSourceProps(pub NatsConfig);

/// The props of a `nats` sink.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct NatsSinkProps(pub NatsConfig);

/// A JetStream consumer as a stream reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ConsumerSettings {
    /// The JetStream stream.
    pub(super) stream: String,
    /// The durable consumer.
    pub(super) durable: String,
    /// How long the server waits for an acknowledgement.
    pub(super) ack_wait: Option<Duration>,
}

fn default_url() -> String {
    DEFAULT_URL.to_owned()
}

impl PartialSchema for NatsSourceProps {
    fn schema() -> RefOr<Schema> {
        NatsConfig::schema()
    }
}

impl PartialSchema for NatsSinkProps {
    fn schema() -> RefOr<Schema> {
        NatsConfig::schema()
    }
}

impl ToSchema for NatsSourceProps {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        NatsConfig::schemas(schemas);
    }
}

impl ToSchema for NatsSinkProps {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        NatsConfig::schemas(schemas);
    }
}

impl Props for NatsSourceProps {
    fn check(&self) -> Result<()> {
        self.0.check_connection()?;
        check_subject(&self.0.subject, true).map_err(|why| invalid("subject", &why))?;
        if let Some(group) = &self.0.queue_group {
            check_name(group, false).map_err(|why| invalid("queue_group", &why))?;
        }
        if self.0.jetstream.is_some() && self.0.queue_group.is_some() {
            return Err(invalid(
                "queue_group",
                "not with jetstream: instances share the durable consumer instead",
            ));
        }
        if let Some(jetstream) = &self.0.jetstream {
            jetstream.check_consumer()?;
        }
        Ok(())
    }
}

impl Props for NatsSinkProps {
    fn check(&self) -> Result<()> {
        self.0.check_connection()?;
        if dynamic_template("subject", &self.0.subject)?.is_none() {
            check_subject(&self.0.subject, false).map_err(|why| invalid("subject", &why))?;
        }
        if self.0.queue_group.is_some() {
            return Err(invalid(
                "queue_group",
                "only a stream subscribes in a group",
            ));
        }
        let Some(jetstream) = &self.0.jetstream else {
            return Ok(());
        };
        if let Some(stream) = &jetstream.stream {
            check_name(stream, true).map_err(|why| invalid("jetstream.stream", &why))?;
        }
        if jetstream.durable.is_some() || jetstream.ack_wait_ms.is_some() {
            return Err(invalid(
                "jetstream",
                "durable and ack_wait_ms are for streams; a sink takes only stream",
            ));
        }
        Ok(())
    }
}

impl NatsConfig {
    /// The servers to connect to.
    ///
    /// # Errors
    /// A URL that is not a `nats://` or `tls://` address.
    pub(super) fn servers(&self) -> Result<Vec<ServerAddr>> {
        self.url
            .split(',')
            .map(|url| {
                let server: ServerAddr = url
                    .trim()
                    .parse()
                    .map_err(|error| invalid("url", &format!("'{url}': {error}")))?;
                match server.scheme() {
                    "nats" | "tls" => Ok(server),
                    other => Err(invalid(
                        "url",
                        &format!("'{url}': scheme {other}:// is not nats:// or tls://"),
                    )),
                }
            })
            .collect()
    }

    /// The JetStream consumer a stream reads, if it reads one; its durable name is derived
    /// from `shared_name` unless configured.
    pub(super) fn consumer(&self, shared_name: &str) -> Option<ConsumerSettings> {
        let jetstream = self.jetstream.as_ref()?;
        Some(ConsumerSettings {
            stream: jetstream.stream.clone().unwrap_or_default(),
            durable: jetstream
                .durable
                .clone()
                .unwrap_or_else(|| durable_name(shared_name)),
            ack_wait: jetstream.ack_wait_ms.map(Duration::from_millis),
        })
    }

    fn check_connection(&self) -> Result<()> {
        self.servers()?;
        if self.token.is_some() && self.username.is_some() {
            return Err(invalid("token", "give a token or a username, not both"));
        }
        if self.username.is_some() != self.password.is_some() {
            return Err(invalid("password", "username and password go together"));
        }
        Ok(())
    }
}

impl JetStreamConfig {
    fn check_consumer(&self) -> Result<()> {
        let stream = self.stream.as_deref().ok_or_else(|| {
            invalid(
                "jetstream.stream",
                "a stream reads a JetStream stream: name it",
            )
        })?;
        check_name(stream, true).map_err(|why| invalid("jetstream.stream", &why))?;
        if let Some(durable) = &self.durable {
            check_name(durable, true).map_err(|why| invalid("jetstream.durable", &why))?;
        }
        if self.ack_wait_ms == Some(0) {
            return Err(invalid("jetstream.ack_wait_ms", "must be above 0"));
        }
        Ok(())
    }
}

/// Why `subject` is not one to subscribe to (`wildcards`) or publish to.
///
/// # Errors
/// What is wrong with it, to follow the field or subject it came from.
pub(super) fn check_subject(subject: &str, wildcards: bool) -> std::result::Result<(), String> {
    if subject.is_empty() {
        return Err("must not be empty".to_owned());
    }
    if subject.contains(char::is_whitespace) {
        return Err("must not contain whitespace".to_owned());
    }
    let tokens: Vec<&str> = subject.split('.').collect();
    if tokens.iter().any(|token| token.is_empty()) {
        return Err("has an empty token (a leading, trailing or doubled '.')".to_owned());
    }
    let wildcard = |token: &&str| *token == "*" || *token == ">";
    if !wildcards && tokens.iter().any(wildcard) {
        return Err("holds a wildcard ('*', '>'): a message is published to one subject".into());
    }
    if tokens[..tokens.len() - 1].contains(&">") {
        return Err("has '>' before its last token".to_owned());
    }
    Ok(())
}

/// Why `name` cannot name a queue group, or a stream or consumer (`strict`).
fn check_name(name: &str, strict: bool) -> std::result::Result<(), String> {
    let forbidden = |c: char| c.is_whitespace() || (strict && matches!(c, '.' | '*' | '>'));
    if name.is_empty() || name.contains(forbidden) {
        let what = if strict {
            "whitespace, '.', '*' or '>'"
        } else {
            "whitespace"
        };
        return Err(format!("'{name}' must be non-empty, without {what}"));
    }
    Ok(())
}

/// A durable consumer name from a client name: the characters JetStream refuses in a name
/// replaced by `_`.
fn durable_name(client_name: &str) -> String {
    client_name
        .chars()
        .map(|c| match c {
            '.' | '*' | '>' => '_',
            c if c.is_whitespace() => '_',
            c => c,
        })
        .collect()
}

fn invalid(field: &str, why: &str) -> Error {
    Error::Config(format!("props.{field}: {why}"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::props::parse;

    fn source(props: serde_json::Value) -> Result<NatsSourceProps> {
        parse(&props)
    }

    fn sink(props: serde_json::Value) -> Result<NatsSinkProps> {
        parse(&props)
    }

    fn message<T: std::fmt::Debug>(result: Result<T>) -> String {
        result.unwrap_err().to_string()
    }

    #[test]
    fn defaults_fill_the_url_and_derive_the_durable_name() {
        let NatsSourceProps(config) =
            source(json!({"subject": "a.>", "jetstream": {"stream": "S"}})).unwrap();
        assert_eq!(config.url, DEFAULT_URL);
        let consumer = config.consumer("veloflux-p.1-s").unwrap();
        assert_eq!(consumer.durable, "veloflux-p_1-s");
        assert_eq!(consumer.stream, "S");
        assert_eq!(consumer.ack_wait, None);
    }

    #[test]
    fn subjects_are_checked_for_their_role() {
        assert!(source(json!({"subject": "a.*.c.>"})).is_ok());
        assert!(sink(json!({"subject": "alerts.{{device}}"})).is_ok());
        let cases = [
            (
                message(sink(json!({"subject": "a.*"}))),
                "props.subject",
                "wildcard",
            ),
            (
                message(source(json!({"subject": "a..b"}))),
                "props.subject",
                "empty token",
            ),
            (
                message(source(json!({"subject": "a.>.b"}))),
                "props.subject",
                "'>' before",
            ),
            (
                message(source(json!({"subject": ""}))),
                "props.subject",
                "empty",
            ),
            (
                message(sink(json!({"subject": "a.{{x"}))),
                "props.subject",
                "not closed",
            ),
        ];
        for (message, field, why) in cases {
            assert!(
                message.contains(field) && message.contains(why),
                "{message}"
            );
        }
    }

    #[test]
    fn role_specific_props_are_refused_in_the_other_role() {
        let cases = [
            (
                message(sink(json!({"subject": "a", "queue_group": "g"}))),
                "props.queue_group",
            ),
            (
                message(sink(json!({"subject": "a", "jetstream": {"durable": "d"}}))),
                "props.jetstream",
            ),
            (
                message(source(json!({"subject": "a", "jetstream": {}}))),
                "props.jetstream.stream",
            ),
            (
                message(source(
                    json!({"subject": "a", "queue_group": "g", "jetstream": {"stream": "S"}}),
                )),
                "props.queue_group",
            ),
            (
                message(source(
                    json!({"subject": "a", "jetstream": {"stream": "a.b"}}),
                )),
                "props.jetstream.stream",
            ),
        ];
        for (message, field) in cases {
            assert!(message.contains(field), "{message}");
        }
    }

    #[test]
    fn the_props_schema_holds_the_jetstream_object_itself() {
        let schema = crate::props::schema_of::<NatsSinkProps>().to_string();
        assert!(
            !schema.contains("$ref"),
            "GET /connectors resolves no reference: {schema}"
        );
        assert!(schema.contains("ack_wait_ms"), "{schema}");
    }

    #[test]
    fn urls_and_credentials_are_checked() {
        let servers = source(json!({"subject": "a", "url": "nats://a:1, tls://b"}))
            .unwrap()
            .0
            .servers()
            .unwrap();
        let hosts: Vec<_> = servers.iter().map(|s| (s.host(), s.port())).collect();
        assert_eq!(hosts, [("a", 1), ("b", 4222)]);
        let cases = [
            (json!({"subject": "a", "url": "http://x"}), "props.url"),
            (json!({"subject": "a", "url": "nats://x:port"}), "props.url"),
            (
                json!({"subject": "a", "token": "t", "username": "u", "password": "p"}),
                "props.token",
            ),
            (json!({"subject": "a", "username": "u"}), "props.password"),
            (json!({"subject": "a", "colour": "red"}), "colour"),
        ];
        for (props, field) in cases {
            let message = message(source(props));
            assert!(message.contains(field), "{message}");
        }
    }
}
