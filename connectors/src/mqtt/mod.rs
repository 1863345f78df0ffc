//! MQTT sources and sinks over rumqttc, reconnecting with backoff after any failure.

mod config;
mod sink;
mod source;

pub use config::MqttConfig;
pub use sink::MqttSink;
pub use source::MqttSource;
