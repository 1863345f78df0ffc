//! `POST /pipelines`: a SQL statement over a stream and the sinks its results go to.

use arrow::datatypes::Schema;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use veloflux_connectors::registry::registry;

use super::object::{object, objects, option_object};
use super::{SpecError, validate_name, within};

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
    /// Where results go: a sink type of `GET /connectors` (`mqtt`, `memory`, `nop`).
    #[serde(rename = "type")]
    pub kind: String,
    /// Connection properties, as the sink type's props schema in `GET /connectors` says.
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
    /// From the original request shape; refused unless empty (see [`CommonSinkProps`]).
    #[serde(
        default,
        deserialize_with = "option_object",
        skip_serializing_if = "Option::is_none"
    )]
    pub common_sink_props: Option<CommonSinkProps>,
}

/// `{"type": "json", "props": {"format": "row" | "array"}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EncoderSpec {
    /// The encoder: an encoder type of `GET /connectors` (`json`).
    #[serde(rename = "type")]
    pub kind: String,
    /// Encoder options, as its props schema in `GET /connectors` says.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub props: serde_json::Value,
}

/// Batching in a sink (eKuiper's `batchSize` and `lingerInterval`): rows are held until
/// `batch_count` of them are, or the first has waited `batch_duration` ms, then sent
/// together, at most `batch_count` at a time.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommonSinkProps {
    /// The most rows sent together; at least 1. A partial batch waits `batch_duration`
    /// (1000 ms when not given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_count: Option<u64>,
    /// The longest, in milliseconds, the first row held waits before the batch is sent; at
    /// least 1.
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
    /// What the pipeline's state belongs to: the statement and the options that shape its
    /// plan (event time), not those that only tune it. State saved for another key is not
    /// resumed.
    pub fn statement_key(&self) -> String {
        let eventtime = self
            .options
            .eventtime
            .as_ref()
            .map(|options| (options.enabled, options.late_tolerance_ms));
        format!("{}\n-- eventtime: {eventtime:?}", self.sql.trim())
    }

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
        self.validate_sink_names()?;
        if self.options.batch_size == Some(0) {
            return Err(SpecError("options.batch_size must be at least 1".into()));
        }
        Ok(())
    }
}

impl PipelineSpec {
    /// Every placeholder of a sink's destination (`"topic": "alerts/{{device}}"`) must name a
    /// column of the rows the statement outputs, `output`.
    ///
    /// # Errors
    /// The sink, its prop and the placeholder that names no column, with the columns there are.
    pub fn validate_destinations(&self, output: &Schema) -> Result<(), SpecError> {
        for (index, sink) in self.sinks.iter().enumerate() {
            let kind = registry()
                .sink(&sink.kind)
                .map_err(|e| SpecError(e.to_string()))?;
            let template = kind
                .template(&sink.props)
                .map_err(|error| SpecError(format!("sinks[{index}].{error}")))?;
            let Some(template) = template else {
                continue;
            };
            if let Some(missing) = template
                .columns()
                .find(|c| output.field_with_name(c).is_err())
            {
                let columns: Vec<_> = output.fields().iter().map(|f| f.name().as_str()).collect();
                return Err(SpecError(format!(
                    "sinks[{index}].props.{}: the placeholder {{{{{missing}}}}} names no column \
                     of the output; the statement outputs: {}",
                    kind.destination.unwrap_or_default(),
                    columns.join(", ")
                )));
            }
        }
        Ok(())
    }

    /// The name of each sink in status, stats and metrics: its id, or `sink_<index>`.
    pub fn sink_names(&self) -> impl Iterator<Item = String> + '_ {
        self.sinks
            .iter()
            .enumerate()
            .map(|(index, sink)| sink.id.clone().unwrap_or_else(|| format!("sink_{index}")))
    }

    /// Sink names must tell the sinks apart, and apart from the other stages.
    fn validate_sink_names(&self) -> Result<(), SpecError> {
        let mut seen = std::collections::HashSet::new();
        for (index, name) in self.sink_names().enumerate() {
            if RESERVED_STAGE_NAMES.contains(&name.as_str()) {
                return Err(SpecError(format!(
                    "sinks[{index}].id '{name}' is reserved for the pipeline's {name} stage; \
                     choose another id"
                )));
            }
            if !seen.insert(name.clone()) {
                return Err(SpecError(format!(
                    "sinks[{index}].id '{name}' names another sink of this pipeline too; sink \
                     ids must be unique (a sink without an id is named sink_<index>)"
                )));
            }
        }
        Ok(())
    }
}

/// The stages of a pipeline that are not sinks, whose names a sink may not take.
const RESERVED_STAGE_NAMES: [&str; 2] = ["source", "plan"];

impl SinkSpec {
    fn validate(&self) -> Result<(), SpecError> {
        if let Some(id) = &self.id {
            validate_name("id", id)?;
        }
        if let Some(batching) = &self.common_sink_props {
            for (field, value) in [
                ("batch_count", batching.batch_count),
                ("batch_duration", batching.batch_duration),
            ] {
                if value == Some(0) {
                    return Err(SpecError(format!(
                        "common_sink_props.{field} must be at least 1"
                    )));
                }
            }
        }
        registry().sink(&self.kind)?.check(&self.props)?;
        let encoder = self.encoder();
        registry()
            .encoder(&encoder.kind)
            .and_then(|kind| kind.check(&encoder.props))
            .map_err(within("encoder"))?;
        Ok(())
    }

    /// Its encoder: the one declared, or JSON with a message per row.
    pub fn encoder(&self) -> EncoderSpec {
        self.encoder.clone().unwrap_or_else(|| EncoderSpec {
            kind: "json".into(),
            props: serde_json::json!({}),
        })
    }
}
