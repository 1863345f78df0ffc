//! The JSON bodies the benches send to `POST /streams` and `POST /pipelines` (see
//! `docs/api/streams.md` and `docs/api/pipelines.md`): the workload's stream with its send
//! time, MQTT and `nop` sinks, and the batching options.

use serde_json::{Value, json};
use veloflux_connectors::codec::schema::{ColumnSpec, ColumnType};
use veloflux_testkit::BrokerAddress;

use crate::workload::{self, SENT_MICROS_FIELD};

/// The name of the stream every bench pipeline reads: the one its SQL names.
pub const STREAM: &str = workload::STREAM;

/// Where a stream reads from or a sink writes to.
#[derive(Debug, Clone, Copy)]
pub struct Endpoint<'a> {
    /// The broker.
    pub broker: &'a BrokerAddress,
    /// The topic.
    pub topic: &'a str,
    /// The QoS of the subscription or of the publishes.
    pub qos: u8,
    /// The MQTT client id: unique, so that runs never take over each other's sessions.
    pub client_id: &'a str,
}

impl Endpoint<'_> {
    fn props(&self) -> Value {
        json!({
            "broker_url": self.broker.url(),
            "topic": self.topic,
            "qos": self.qos,
            "client_id": self.client_id,
        })
    }
}

/// A pipeline's micro-batching options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Batching {
    /// The most messages per micro-batch.
    pub batch_size: usize,
    /// How long a batch waits for more messages once one has arrived.
    pub linger_ms: u64,
}

/// The workload's columns plus [`SENT_MICROS_FIELD`] as an `int64`, so that a pass-through
/// query carries the send time to its output.
pub fn columns() -> Vec<ColumnSpec> {
    let mut columns = workload::columns();
    columns.push(ColumnSpec::new(SENT_MICROS_FIELD, ColumnType::Int64));
    columns
}

/// An MQTT stream named [`STREAM`] of [`columns`] reading `source`; `shared` makes one
/// subscription feed every pipeline that reads it.
pub fn stream(source: &Endpoint<'_>, shared: bool) -> Value {
    json!({
        "name": STREAM,
        "type": "mqtt",
        "schema": {"type": "json", "props": {"columns": columns()}},
        "props": source.props(),
        "shared": shared,
        "decoder": {"type": "json", "props": {}},
    })
}

/// A sink publishing one JSON message per row to `target`.
pub fn mqtt_sink(target: &Endpoint<'_>) -> Value {
    json!({
        "type": "mqtt",
        "props": target.props(),
        "encoder": {"type": "json", "props": {"format": "row"}},
    })
}

/// A sink that discards the results.
pub fn nop_sink() -> Value {
    json!({"type": "nop", "props": {}})
}

/// A pipeline `id` running `sql` into `sink`, with `batching` when given (the server's
/// defaults otherwise).
pub fn pipeline(id: &str, sql: &str, sink: Value, batching: Option<Batching>) -> Value {
    let mut pipeline = json!({"id": id, "sql": sql, "sinks": [sink]});
    if let Some(batching) = batching {
        pipeline["options"] = json!({
            "batch_size": batching.batch_size,
            "linger_ms": batching.linger_ms,
        });
    }
    pipeline
}

#[cfg(test)]
mod tests {
    use super::*;

    fn broker() -> BrokerAddress {
        BrokerAddress::parse("tcp://127.0.0.1:1883").unwrap()
    }

    #[test]
    fn the_stream_declares_the_send_time_last() {
        let broker = broker();
        let source = Endpoint {
            broker: &broker,
            topic: "bench/in",
            qos: 1,
            client_id: "bench-source",
        };
        let stream = stream(&source, true);
        let columns = stream["schema"]["props"]["columns"].as_array().unwrap();
        assert_eq!(columns.len(), 11);
        assert_eq!(
            columns[10],
            json!({"name": "sent_us", "data_type": "int64"})
        );
        assert_eq!(stream["props"]["broker_url"], "tcp://127.0.0.1:1883");
        assert_eq!(stream["props"]["qos"], 1);
        assert_eq!(stream["shared"], true);
    }

    #[test]
    fn pipelines_carry_their_batching_only_when_given() {
        let plain = pipeline("p", "SELECT 1 FROM s", nop_sink(), None);
        assert!(plain.get("options").is_none());
        let batching = Batching {
            batch_size: 16,
            linger_ms: 5,
        };
        let tuned = pipeline("p", "SELECT 1 FROM s", nop_sink(), Some(batching));
        assert_eq!(tuned["options"], json!({"batch_size": 16, "linger_ms": 5}));
        assert_eq!(tuned["sinks"][0]["type"], "nop");
    }
}
