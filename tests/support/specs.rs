//! The JSON bodies most tests create: a stream of the reference columns and a pipeline into
//! an MQTT sink.

use serde_json::Value;

/// The JSON body of a stream reading `topic` with the reference columns.
pub(crate) fn stream_spec(name: &str, broker_url: &str, topic: &str, shared: bool) -> Value {
    serde_json::json!({
        "name": name,
        "type": "mqtt",
        "shared": shared,
        "schema": {"type": "json", "props": {"columns": [
            {"name": "user_id", "data_type": "int64"},
            {"name": "score", "data_type": "float64"}
        ]}},
        "props": {"broker_url": broker_url, "topic": topic, "qos": 1}
    })
}

/// The JSON body of a pipeline running `sql` into an MQTT sink on `topic`.
pub(crate) fn pipeline_spec(id: &str, sql: &str, broker_url: &str, topic: &str) -> Value {
    serde_json::json!({
        "id": id,
        "sql": sql,
        "sinks": [{"type": "mqtt", "props": {"broker_url": broker_url, "topic": topic, "qos": 1}}]
    })
}
