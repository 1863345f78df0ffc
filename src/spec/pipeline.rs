//! `POST /pipelines`: a SQL statement over a stream and the sinks its results go to.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use veloflux_connectors::codec::json::JsonFormat;
use veloflux_connectors::mqtt::MqttConfig;

use super::object::{object, objects, option_object};
use super::stream::parse_props;
use super::{MemoryProps, SpecError, validate_name};

/// A pipeline as declared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PipelineSpec {
    /// The pipeline's id; taken from the URL on `PUT`.
    #[serde(default)]
    pub id: String,
    /// The statement it runs.
    pub sql: String,
    /// Where results go; at least one.
    #[serde(deserialize_with = "objects")]
    pub sinks: Vec<SinkSpec>,
    /// Tuning.
    #[serde(default, deserialize_with = "object")]
    pub options: PipelineOptions,
}

/// One destination of a pipeline's results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SinkSpec {
    /// An optional name, for status and stats.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The kind of sink.
    #[serde(rename = "type")]
    pub kind: SinkKind,
    /// Connection properties: [`MqttConfig`] for `mqtt`, [`MemoryProps`] for `memory`;
    /// `nop` has none.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub props: serde_json::Value,
    /// How results become messages.
    #[serde(
        default,
        deserialize_with = "option_object",
        skip_serializing_if = "Option::is_none"
    )]
    pub encoder: Option<EncoderSpec>,
    /// Accepted for compatibility with the original request shape.
    #[serde(
        default,
        deserialize_with = "option_object",
        skip_serializing_if = "Option::is_none"
    )]
    pub common_sink_props: Option<CommonSinkProps>,
}

/// The kinds of sink.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SinkKind {
    /// Publish to an MQTT broker.
    Mqtt,
    /// Publish to an in-process topic that memory streams read.
    Memory,
    /// Discard (for testing and measuring).
    Nop,
}

/// `{"type": "json", "props": {"format": "row" | "array"}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EncoderSpec {
    /// The encoder: `json`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Encoder options.
    #[serde(default, deserialize_with = "object")]
    pub props: EncoderProps,
}

/// Options of the JSON encoder.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EncoderProps {
    /// `row` (default): one message per row; `array`: one JSON array per batch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
}

/// Batching of a sink's messages, from the original request shape.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommonSinkProps {
    /// Rows per batch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_count: Option<u64>,
    /// Milliseconds per batch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_duration: Option<u64>,
}

/// Per-pipeline tuning; unset values come from the server's `runtime` configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PipelineOptions {
    /// Event-time processing.
    #[serde(
        default,
        deserialize_with = "option_object",
        skip_serializing_if = "Option::is_none"
    )]
    pub eventtime: Option<EventTimeOptions>,
    /// The most rows decoded into one micro-batch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_size: Option<usize>,
    /// How long to wait for more messages before processing a batch that is not full.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linger_ms: Option<u64>,
}

/// Event-time options of a pipeline.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventTimeOptions {
    /// Whether windows follow the stream's event-time column.
    #[serde(default)]
    pub enabled: bool,
    /// How late a row may arrive and still count.
    #[serde(default)]
    pub late_tolerance_ms: u64,
}

impl PipelineSpec {
    /// Checks every field but the SQL, which the planner checks against the catalog.
    ///
    /// # Errors
    /// The first field that does not hold up, by name.
    pub fn validate(&self) -> Result<(), SpecError> {
        validate_name("id", &self.id)?;
        if self.sql.trim().is_empty() {
            return Err(SpecError("sql must not be empty".into()));
        }
        if self.sinks.is_empty() {
            return Err(SpecError("sinks must hold at least one sink".into()));
        }
        for (index, sink) in self.sinks.iter().enumerate() {
            sink.validate()
                .map_err(|error| SpecError(format!("sinks[{index}].{}", error.0)))?;
        }
        if self.options.batch_size == Some(0) {
            return Err(SpecError("options.batch_size must be at least 1".into()));
        }
        Ok(())
    }
}

impl SinkSpec {
    fn validate(&self) -> Result<(), SpecError> {
        if let Some(id) = &self.id {
            validate_name("id", id)?;
        }
        self.format()?;
        match self.kind {
            SinkKind::Mqtt => self.mqtt_props()?.validate()?,
            SinkKind::Memory => drop(self.memory_props()?),
            SinkKind::Nop => {}
        }
        Ok(())
    }

    /// The message format its encoder writes.
    ///
    /// # Errors
    /// An encoder other than JSON, or an unknown format.
    pub fn format(&self) -> Result<JsonFormat, SpecError> {
        let Some(encoder) = &self.encoder else {
            return Ok(JsonFormat::MessagePerRow);
        };
        if encoder.kind != "json" {
            return Err(SpecError(format!(
                "encoder.type must be \"json\", not \"{}\"",
                encoder.kind
            )));
        }
        match encoder.props.format.as_deref() {
            None | Some("row") => Ok(JsonFormat::MessagePerRow),
            Some("array") => Ok(JsonFormat::ArrayPerBatch),
            Some(other) => Err(SpecError(format!(
                "encoder.props.format must be \"row\" or \"array\", not \"{other}\""
            ))),
        }
    }

    /// The props of an `mqtt` sink.
    ///
    /// # Errors
    /// When they do not parse, naming the field.
    pub fn mqtt_props(&self) -> Result<MqttConfig, SpecError> {
        parse_props(&self.props)
    }

    /// The props of a `memory` sink.
    ///
    /// # Errors
    /// When they do not parse, naming the field.
    pub fn memory_props(&self) -> Result<MemoryProps, SpecError> {
        parse_props(&self.props)
    }
}
