//! `POST /streams`: a named source of JSON messages and the schema of their columns.

use arrow::datatypes::SchemaRef;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use veloflux_connectors::codec::schema::{ColumnSpec, arrow_schema};
use veloflux_connectors::registry::registry;

use super::object::{object, objects, option_object};
use super::{SpecError, validate_name, within};

/// A stream as declared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StreamSpec {
    /// The name SQL reads it by.
    pub name: String,
    /// Where messages come from: a source type of `GET /connectors` (`mqtt`, `memory`).
    #[serde(rename = "type")]
    pub kind: String,
    /// The columns of its messages.
    #[serde(deserialize_with = "object")]
    pub schema: SchemaSpec,
    /// Connection properties, as the source type's props schema in `GET /connectors` says;
    /// null for a type that takes none (`http`).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub props: serde_json::Value,
    /// One subscription and one decode feed every pipeline reading the stream.
    #[serde(default)]
    pub shared: bool,
    /// How payloads are decoded.
    #[serde(default, deserialize_with = "object")]
    pub decoder: DecoderSpec,
    /// The column holding each message's event time.
    #[serde(
        default,
        deserialize_with = "option_object",
        skip_serializing_if = "Option::is_none"
    )]
    pub eventtime: Option<EventTimeSpec>,
}

/// `{"type": "json", "props": {"columns": [...]}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SchemaSpec {
    /// The schema format: `json`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The columns.
    #[serde(deserialize_with = "object")]
    pub props: SchemaProps,
}

/// The columns of a schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SchemaProps {
    /// One entry per column.
    #[serde(deserialize_with = "objects")]
    pub columns: Vec<ColumnSpec>,
}

/// `{"type": "json", "props": {}}`: a decoder type of `GET /connectors` and its props.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecoderSpec {
    /// The decoder: `json`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Decoder options, as its props schema in `GET /connectors` says; JSON has none.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub props: serde_json::Value,
}

impl Default for DecoderSpec {
    fn default() -> Self {
        Self {
            kind: "json".into(),
            props: serde_json::json!({}),
        }
    }
}

/// The column holding event time and how it is written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventTimeSpec {
    /// The column name.
    pub column: String,
    /// `unixtimestamp_ms` or `unixtimestamp_s`.
    #[serde(rename = "type")]
    pub kind: String,
}

impl StreamSpec {
    /// Checks every field and returns the Arrow schema of the stream.
    ///
    /// # Errors
    /// The first field that does not hold up, by name.
    pub fn validate(&self) -> Result<SchemaRef, SpecError> {
        validate_name("name", &self.name)?;
        if self.schema.kind != "json" {
            return Err(SpecError(format!(
                "schema.type must be \"json\", not \"{}\"",
                self.schema.kind
            )));
        }
        let schema = arrow_schema(&self.schema.props.columns).map_err(|error| {
            SpecError(format!("schema.props.columns: {}", SpecError::from(error)))
        })?;
        registry().source(&self.kind)?.check(&self.props)?;
        // Built, not only checked: whether the decoder can hold every column (a CSV field
        // cannot hold a struct) and find it (CSV's declared fields) depends on the schema.
        registry()
            .decoder(&self.decoder.kind)
            .and_then(|kind| kind.build(&self.decoder.props, schema.clone()))
            .map_err(within("decoder"))?;
        if let Some(eventtime) = &self.eventtime {
            validate_event_time(eventtime, &schema)?;
        }
        Ok(schema)
    }
}

fn validate_event_time(eventtime: &EventTimeSpec, schema: &SchemaRef) -> Result<(), SpecError> {
    if schema.field_with_name(&eventtime.column).is_err() {
        return Err(SpecError(format!(
            "eventtime.column '{}' is not a column of the schema",
            eventtime.column
        )));
    }
    if !matches!(
        eventtime.kind.as_str(),
        "unixtimestamp_ms" | "unixtimestamp_s"
    ) {
        return Err(SpecError(format!(
            "eventtime.type must be \"unixtimestamp_ms\" or \"unixtimestamp_s\", not \"{}\"",
            eventtime.kind
        )));
    }
    Ok(())
}
