//! The `json` decoder and encoder as the registry knows them, with their props.

use arrow::datatypes::SchemaRef;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{JsonDecoder, JsonEncoder, JsonFormat};
use crate::Result;
use crate::codec::{Decoder, Encoder};
use crate::kind::{BuildDecoder, BuildEncoder, Kind};
use crate::props::{NoProps, Props, check, parse};

/// The `json` decoder kind.
pub(crate) fn decoder() -> Kind<BuildDecoder> {
    Kind::new::<NoProps>(
        "json",
        "A JSON object per row; a payload holding an array of objects gives a row each.",
        build_decoder,
    )
}

/// The `json` encoder kind.
pub(crate) fn encoder() -> Kind<BuildEncoder> {
    Kind::new::<JsonEncoderConfig>(
        "json",
        "Each row as a JSON object: a message per row, or one JSON array per micro-batch.",
        build_encoder,
    )
}

/// The props of the JSON encoder.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JsonEncoderConfig {
    /// `row` (default): one message per row; `array`: one JSON array per micro-batch.
    #[serde(default)]
    pub format: FormatName,
}

/// How users name a [`JsonFormat`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum FormatName {
    /// One message per row.
    #[default]
    Row,
    /// One JSON array per micro-batch.
    Array,
}

impl Props for JsonEncoderConfig {}

fn build_decoder(props: &Value, schema: SchemaRef) -> Result<Box<dyn Decoder>> {
    check::<NoProps>(props)?;
    Ok(Box::new(JsonDecoder::try_new(schema)?))
}

fn build_encoder(props: &Value) -> Result<Box<dyn Encoder>> {
    let config: JsonEncoderConfig = parse(props)?;
    let format = match config.format {
        FormatName::Row => JsonFormat::MessagePerRow,
        FormatName::Array => JsonFormat::ArrayPerBatch,
    };
    Ok(Box::new(JsonEncoder::new(format)))
}
