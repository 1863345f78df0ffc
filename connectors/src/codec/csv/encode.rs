//! The CSV encoder: rows of a record batch written straight from their arrays into one reused
//! buffer, as one message per row or one message of lines per batch, each optionally led by
//! a header line.

use std::io::Write as _;

use arrow::array::{Array, RecordBatch};
use arrow::buffer::NullBuffer;
use arrow::datatypes::Schema;
use arrow::util::display::{ArrayFormatter, FormatOptions};

use super::CsvDialect;
use crate::Result;
use crate::codec::value_writers::{ScalarText, ValueWriter, scalar_writer};
use crate::codec::{EncodedMessages, MessageBuffer};

/// How a batch becomes messages.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CsvFormat {
    /// One record per row, each its own message, without a line break.
    #[default]
    MessagePerRow,
    /// One message per batch: a line per row, each ended by `\n`.
    LinesPerBatch,
}

/// Arrow's text forms, with timestamps in RFC 3339 as the JSON encoder writes them: UTC for
/// timestamps without a time zone, as many fractional digits as needed (`%.f`).
const FORMAT_OPTIONS: FormatOptions<'static> = FormatOptions::new()
    .with_timestamp_format(Some("%Y-%m-%dT%H:%M:%S%.fZ"))
    .with_timestamp_tz_format(Some("%Y-%m-%dT%H:%M:%S%.f%:z"));

/// Encodes record batches as CSV. Fields follow the batch's column order; a null is an empty
/// field, an empty string is `""`, and a field is quoted only when it must be.
#[derive(Debug, Default)]
pub struct CsvEncoder {
    dialect: CsvDialect,
    format: CsvFormat,
    header: bool,
    messages: MessageBuffer,
}

impl CsvEncoder {
    /// An encoder writing `format` in `dialect`; with `header`, every message starts with a
    /// line of the column names.
    pub fn new(dialect: CsvDialect, format: CsvFormat, header: bool) -> Self {
        Self {
            dialect,
            format,
            header,
            messages: MessageBuffer::default(),
        }
    }

    /// How it writes a batch.
    pub fn format(&self) -> CsvFormat {
        self.format
    }

    /// Encodes the rows of `batch`. An empty batch gives no message.
    ///
    /// # Errors
    /// When a column's values cannot be formatted (a bug: every Arrow type has a text form).
    pub fn encode(&mut self, batch: &RecordBatch) -> Result<EncodedMessages<'_>> {
        self.messages.clear();
        if batch.num_rows() > 0 {
            let fields = batch
                .columns()
                .iter()
                .map(|array| FieldWriter::try_new(array.as_ref()))
                .collect::<Result<Vec<_>>>()?;
            let record = Record {
                dialect: self.dialect,
                fields: &fields,
            };
            let header = self
                .header
                .then(|| header_line(&batch.schema(), self.dialect));
            let header = header.as_deref();
            match self.format {
                CsvFormat::MessagePerRow => self.write_rows(&record, header, batch.num_rows()),
                CsvFormat::LinesPerBatch => self.write_lines(&record, header, batch.num_rows()),
            }
        }
        Ok(self.messages.messages())
    }

    fn write_rows(&mut self, record: &Record<'_>, header: Option<&[u8]>, rows: usize) {
        for row in 0..rows {
            let out = self.messages.bytes();
            if let Some(header) = header {
                out.extend_from_slice(header);
            }
            record.write(row, out);
            self.messages.end_message();
        }
    }

    fn write_lines(&mut self, record: &Record<'_>, header: Option<&[u8]>, rows: usize) {
        let out = self.messages.bytes();
        if let Some(header) = header {
            out.extend_from_slice(header);
        }
        for row in 0..rows {
            record.write(row, out);
            out.push(b'\n');
        }
        self.messages.end_message();
    }
}

/// The column names of `schema` as a CSV line, with its `\n`.
fn header_line(schema: &Schema, dialect: CsvDialect) -> Vec<u8> {
    let mut line = Vec::new();
    for (index, field) in schema.fields().iter().enumerate() {
        if index > 0 {
            line.push(dialect.delimiter);
        }
        let start = line.len();
        line.extend_from_slice(field.name().as_bytes());
        quote_if_needed(dialect, &mut line, start);
    }
    line.push(b'\n');
    line
}

/// Quotes the field written from `start` on if it would not read back as itself otherwise.
fn quote_if_needed(dialect: CsvDialect, out: &mut Vec<u8>, start: usize) {
    if !dialect.needs_quotes(&out[start..]) {
        return;
    }
    let text = out.split_off(start);
    out.reserve(text.len() + 2);
    out.push(dialect.quote);
    for byte in text {
        if byte == dialect.quote {
            out.push(byte);
        }
        out.push(byte);
    }
    out.push(dialect.quote);
}

/// The fields of one row.
struct Record<'a> {
    dialect: CsvDialect,
    fields: &'a [FieldWriter<'a>],
}

impl Record<'_> {
    fn write(&self, row: usize, out: &mut Vec<u8>) {
        let start = out.len();
        for (index, field) in self.fields.iter().enumerate() {
            if index > 0 {
                out.push(self.dialect.delimiter);
            }
            let field_start = out.len();
            if field.write(row, out) {
                quote_if_needed(self.dialect, out, field_start);
            }
        }
        // A record of one null field would be a blank line, which readers skip: `""` keeps
        // the row (a null in any column but a string one).
        if out.len() == start {
            out.extend_from_slice(&[self.dialect.quote; 2]);
        }
    }
}

/// A column's null mask and the writer of its values.
struct FieldWriter<'a> {
    nulls: Option<NullBuffer>,
    value: Box<dyn ValueWriter + 'a>,
}

impl<'a> FieldWriter<'a> {
    fn try_new(array: &'a dyn Array) -> Result<Self> {
        Ok(Self {
            nulls: array.logical_nulls(),
            value: value_writer(array)?,
        })
    }

    /// Writes the value at `row`; false if it is null (nothing written).
    fn write(&self, row: usize, out: &mut Vec<u8>) -> bool {
        if self.nulls.as_ref().is_some_and(|nulls| nulls.is_null(row)) {
            return false;
        }
        self.value.write(row, out)
    }
}

/// The writer of `array`'s values: the scalar types' own, Arrow's display form for the rest.
fn value_writer<'a>(array: &'a dyn Array) -> Result<Box<dyn ValueWriter + 'a>> {
    if let Some(writer) = scalar_writer::<CsvText>(array) {
        return Ok(writer);
    }
    let formatter = ArrayFormatter::try_new(array, &FORMAT_OPTIONS)?;
    Ok(Box::new(DisplayWriter(formatter)))
}

/// The CSV text of floats and strings: floats in their shortest round-tripping form, strings
/// as they are (the record quotes them if needed).
enum CsvText {}

impl ScalarText for CsvText {
    fn write_f32(value: f32, out: &mut Vec<u8>) -> bool {
        write_finite(value, value.is_finite(), out)
    }

    fn write_f64(value: f64, out: &mut Vec<u8>) -> bool {
        write_finite(value, value.is_finite(), out)
    }

    fn write_str(text: &str, out: &mut Vec<u8>) {
        out.extend_from_slice(text.as_bytes());
    }
}

/// Writes `value`, if `finite`, as the shortest text that reads back as the same float; false,
/// writing nothing, for NaN and infinities, which the decoder (like JSON's) does not take:
/// they stand as nulls.
fn write_finite(value: impl ryu::Float, finite: bool, out: &mut Vec<u8>) -> bool {
    if finite {
        out.extend_from_slice(ryu::Buffer::new().format_finite(value).as_bytes());
    }
    finite
}

/// Writes values through Arrow's display formatting: timestamps in RFC 3339, and the text
/// form of every other type (dates, decimals, nested values, ...).
struct DisplayWriter<'a>(ArrayFormatter<'a>);

impl ValueWriter for DisplayWriter<'_> {
    fn write(&self, row: usize, out: &mut Vec<u8>) -> bool {
        // Writing into a Vec cannot fail, and a formatting error leaves the field empty.
        write!(out, "{}", self.0.value(row)).is_ok()
    }
}
