//! MQTT sources and sinks over rumqttc, reconnecting with backoff after any failure.

mod config;
mod pacing;
mod publisher;
mod sink;
mod source;

pub use config::MqttConfig;
pub use sink::{MqttSink, Unpublished};
pub use source::MqttSource;
