//! The `csv` decoder and encoder as the registry knows them, with their props.

use arrow::datatypes::SchemaRef;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{CsvDecoder, CsvDialect, CsvEncoder, CsvFields, CsvFormat};
use crate::codec::{Decoder, Encoder};
use crate::kind::{BuildDecoder, BuildEncoder, Kind};
use crate::props::{Props, parse};
use crate::{Error, Result};

/// The `csv` decoder kind.
pub(crate) fn decoder() -> Kind<BuildDecoder> {
    Kind::new::<CsvDecoderConfig>(
        "csv",
        "Delimited text: each record of a payload is a row, its fields placed by a header \
         record or by the declared columns.",
        build_decoder,
    )
}

/// The `csv` encoder kind.
pub(crate) fn encoder() -> Kind<BuildEncoder> {
    Kind::new::<CsvEncoderConfig>(
        "csv",
        "Each row as a delimited record: a message per row, or one message of lines per \
         micro-batch, optionally led by a header line.",
        build_encoder,
    )
}

/// The props of the CSV decoder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CsvDecoderConfig {
    /// The field delimiter, one ASCII character; default `,`.
    #[serde(default = "comma")]
    pub delimiter: char,
    /// The quote character, one ASCII character; default `"`.
    #[serde(default = "double_quote")]
    pub quote: char,
    /// The first record of each payload is a header naming its fields; records fill the
    /// columns of those names and fields of other names are skipped. Default false.
    #[serde(default)]
    pub has_header: bool,
    /// Without a header, required: the names of every field of a record, in order. Fields
    /// whose name is not a stream column are skipped; every stream column must be named.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub columns: Option<Vec<String>>,
}

impl Props for CsvDecoderConfig {
    fn check(&self) -> Result<()> {
        CsvDialect::try_new(self.delimiter, self.quote)?;
        self.fields().map(drop)
    }
}

impl CsvDecoderConfig {
    /// How the decoder places the fields of a record.
    ///
    /// # Errors
    /// When both or neither of `has_header` and `columns` are given.
    fn fields(&self) -> Result<CsvFields> {
        match (self.has_header, &self.columns) {
            (true, None) => Ok(CsvFields::Header),
            (false, Some(names)) => Ok(CsvFields::Declared(names.clone())),
            (true, Some(_)) => Err(Error::Config(
                "props.columns: not allowed with has_header: the header names the fields".into(),
            )),
            (false, None) => Err(Error::Config(
                "props.columns: required without has_header: the names of every field of a \
                 record, in order"
                    .into(),
            )),
        }
    }
}

/// The props of the CSV encoder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CsvEncoderConfig {
    /// The field delimiter, one ASCII character; default `,`.
    #[serde(default = "comma")]
    pub delimiter: char,
    /// The quote character, one ASCII character; default `"`.
    #[serde(default = "double_quote")]
    pub quote: char,
    /// Start every message with a line of the column names. Default false.
    #[serde(default)]
    pub header: bool,
    /// `row` (default): one message per row; `batch`: one message per micro-batch, a line
    /// per row.
    #[serde(default)]
    pub format: CsvFormatName,
}

/// How users name a [`CsvFormat`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum CsvFormatName {
    /// One message per row.
    #[default]
    Row,
    /// One message per micro-batch, a line per row.
    Batch,
}

impl Props for CsvEncoderConfig {
    fn check(&self) -> Result<()> {
        CsvDialect::try_new(self.delimiter, self.quote).map(drop)
    }
}

fn comma() -> char {
    ','
}

fn double_quote() -> char {
    '"'
}

fn build_decoder(props: &Value, schema: SchemaRef) -> Result<Box<dyn Decoder>> {
    let config: CsvDecoderConfig = parse(props)?;
    let dialect = CsvDialect::try_new(config.delimiter, config.quote)?;
    let decoder = CsvDecoder::try_new(schema, dialect, &config.fields()?)?;
    Ok(Box::new(decoder))
}

fn build_encoder(props: &Value) -> Result<Box<dyn Encoder>> {
    let config: CsvEncoderConfig = parse(props)?;
    let dialect = CsvDialect::try_new(config.delimiter, config.quote)?;
    let format = match config.format {
        CsvFormatName::Row => CsvFormat::MessagePerRow,
        CsvFormatName::Batch => CsvFormat::LinesPerBatch,
    };
    Ok(Box::new(CsvEncoder::new(dialect, format, config.header)))
}
