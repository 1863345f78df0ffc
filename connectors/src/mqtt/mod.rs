//! MQTT sources and sinks over rumqttc (MQTT 3.1.1 or 5, plain or TLS), reconnecting with
//! backoff after any failure.

#[cfg(feature = "embedded-broker")]
mod broker;
mod client;
mod config;
mod connector;
mod pacing;
mod publisher;
mod sink;
mod source;
mod tls;

#[cfg(feature = "embedded-broker")]
pub use broker::start_embedded;
pub use config::MqttConfig;
pub use sink::MqttSink;
pub use source::MqttSource;

use crate::kind::{BuildSink, BuildSource, Kind};

/// The `mqtt` source kind.
pub(crate) fn source() -> Kind<BuildSource> {
    Kind::new::<MqttConfig>(
        "mqtt",
        "Subscribes to an MQTT topic (wildcards and $share/<group>/... allowed).",
        connector::build_source,
    )
}

/// The `mqtt` sink kind.
pub(crate) fn sink() -> Kind<BuildSink> {
    Kind::<BuildSink>::new::<MqttConfig>(
        "mqtt",
        "Publishes to an MQTT topic, fixed or rendered from each row ({{column}}).",
        connector::build_sink,
    )
    .with_destination("topic")
}
