//! The JSON encoder: rows of a record batch written straight from its arrays into one reused
//! buffer, as one message per row or one JSON array per batch. Floats take their shortest
//! round-tripping form (`floats`).

mod floats;

use arrow::array::{Array, ArrayRef, AsArray, GenericListArray, OffsetSizeTrait, RecordBatch};
use arrow::buffer::NullBuffer;
use arrow::datatypes::{
    DataType, TimeUnit, TimestampMicrosecondType, TimestampMillisecondType,
    TimestampNanosecondType, TimestampSecondType,
};
use arrow::util::display::{ArrayFormatter, FormatOptions};
use chrono::{DateTime, SecondsFormat};

use self::floats::JsonFloat;
use crate::Result;
use crate::codec::value_writers::{ScalarText, ValueWriter, scalar_writer};
use crate::codec::{EncodedMessages, MessageBuffer};

/// How a batch becomes messages.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum JsonFormat {
    /// One JSON object per row, each its own message.
    #[default]
    MessagePerRow,
    /// One message per batch: a JSON array holding an object per row.
    ArrayPerBatch,
}

/// Encodes record batches as JSON messages. Keys follow the batch's column order; null values
/// are written as `null`, and so are non-finite floats, which JSON cannot hold.
#[derive(Debug, Default)]
pub struct JsonEncoder {
    format: JsonFormat,
    messages: MessageBuffer,
}

impl JsonEncoder {
    /// An encoder writing `format`.
    pub fn new(format: JsonFormat) -> Self {
        Self {
            format,
            ..Self::default()
        }
    }

    /// How it writes a batch.
    pub fn format(&self) -> JsonFormat {
        self.format
    }

    /// Encodes the rows of `batch`. An empty batch gives no message.
    ///
    /// # Errors
    /// When a column's values cannot be formatted (a bug: every Arrow type has a text form).
    pub fn encode(&mut self, batch: &RecordBatch) -> Result<EncodedMessages<'_>> {
        self.messages.clear();
        if batch.num_rows() > 0 {
            let schema = batch.schema();
            let fields = field_writers(schema.fields().iter().map(|f| f.name()), batch.columns())?;
            match self.format {
                JsonFormat::MessagePerRow => self.write_rows(&fields, batch.num_rows()),
                JsonFormat::ArrayPerBatch => self.write_array(&fields, batch.num_rows()),
            }
        }
        Ok(self.messages.messages())
    }

    fn write_rows(&mut self, fields: &[FieldWriter<'_>], rows: usize) {
        for row in 0..rows {
            write_object(fields, row, self.messages.bytes());
            self.messages.end_message();
        }
    }

    fn write_array(&mut self, fields: &[FieldWriter<'_>], rows: usize) {
        let out = self.messages.bytes();
        out.push(b'[');
        for row in 0..rows {
            if row > 0 {
                out.push(b',');
            }
            write_object(fields, row, out);
        }
        out.push(b']');
        self.messages.end_message();
    }
}

/// A key and the writer of its values.
struct FieldWriter<'a> {
    key: Vec<u8>,
    nulls: Option<NullBuffer>,
    value: Box<dyn ValueWriter + 'a>,
}

fn field_writers<'a>(
    names: impl Iterator<Item = &'a String>,
    arrays: &'a [ArrayRef],
) -> Result<Vec<FieldWriter<'a>>> {
    names
        .zip(arrays)
        .enumerate()
        .map(|(index, (name, array))| {
            // Each key carries the delimiter before it, so a field costs one copy, not three.
            let mut key = Vec::with_capacity(name.len() + 4);
            key.push(if index == 0 { b'{' } else { b',' });
            write_string(name, &mut key);
            key.push(b':');
            Ok(FieldWriter {
                key,
                nulls: array.logical_nulls(),
                value: value_writer(array.as_ref())?,
            })
        })
        .collect()
}

fn write_object(fields: &[FieldWriter<'_>], row: usize, out: &mut Vec<u8>) {
    if fields.is_empty() {
        out.push(b'{');
    }
    for field in fields {
        out.extend_from_slice(&field.key);
        write_nullable(field.nulls.as_ref(), field.value.as_ref(), row, out);
    }
    out.push(b'}');
}

fn write_nullable(
    nulls: Option<&NullBuffer>,
    value: &dyn ValueWriter,
    row: usize,
    out: &mut Vec<u8>,
) {
    let is_null = nulls.is_some_and(|nulls| nulls.is_null(row));
    if is_null || !value.write(row, out) {
        out.extend_from_slice(b"null");
    }
}

/// The writer of `array`'s values: the scalar types' own, then timestamps, structs and lists
/// as JSON has them, and Arrow's display form for the rest.
fn value_writer<'a>(array: &'a dyn Array) -> Result<Box<dyn ValueWriter + 'a>> {
    if let Some(writer) = scalar_writer::<JsonText>(array) {
        return Ok(writer);
    }
    Ok(match array.data_type() {
        DataType::Null => Box::new(NullWriter),
        DataType::Timestamp(unit, _) => Box::new(TimestampWriter::new(array, *unit)),
        DataType::Struct(fields) => {
            let array = array.as_struct();
            Box::new(StructWriter(field_writers(
                fields.iter().map(|f| f.name()),
                array.columns(),
            )?))
        }
        DataType::Dictionary(..) => Box::new(DictionaryWriter::try_new(array)?),
        DataType::List(_) => Box::new(ListWriter::try_new(array.as_list::<i32>())?),
        DataType::LargeList(_) => Box::new(ListWriter::try_new(array.as_list::<i64>())?),
        DataType::Decimal32(..)
        | DataType::Decimal64(..)
        | DataType::Decimal128(..)
        | DataType::Decimal256(..) => Box::new(DisplayWriter::try_new(array, false)?),
        _ => Box::new(DisplayWriter::try_new(array, true)?),
    })
}

/// The JSON text of floats and strings: floats as [`JsonFloat`] writes them, strings quoted
/// and escaped.
enum JsonText {}

impl ScalarText for JsonText {
    fn write_f32(value: f32, out: &mut Vec<u8>) -> bool {
        value.write_json(out);
        true
    }

    fn write_f64(value: f64, out: &mut Vec<u8>) -> bool {
        value.write_json(out);
        true
    }

    fn write_str(text: &str, out: &mut Vec<u8>) {
        write_string(text, out);
    }
}

/// The values of a column of the null type: none has text.
struct NullWriter;

impl ValueWriter for NullWriter {
    fn write(&self, _: usize, _: &mut Vec<u8>) -> bool {
        false
    }
}

/// Writes timestamps as RFC 3339 strings in UTC, with as many fractional digits as needed.
struct TimestampWriter<'a> {
    values: &'a [i64],
    nanos_per_unit: i64,
}

impl<'a> TimestampWriter<'a> {
    fn new(array: &'a dyn Array, unit: TimeUnit) -> Self {
        let (values, nanos_per_unit): (&[i64], i64) = match unit {
            TimeUnit::Second => (
                array.as_primitive::<TimestampSecondType>().values(),
                1_000_000_000,
            ),
            TimeUnit::Millisecond => (
                array.as_primitive::<TimestampMillisecondType>().values(),
                1_000_000,
            ),
            TimeUnit::Microsecond => (
                array.as_primitive::<TimestampMicrosecondType>().values(),
                1_000,
            ),
            TimeUnit::Nanosecond => (array.as_primitive::<TimestampNanosecondType>().values(), 1),
        };
        Self {
            values,
            nanos_per_unit,
        }
    }
}

impl ValueWriter for TimestampWriter<'_> {
    /// A time outside chrono's range has no text: it stands as a null.
    fn write(&self, row: usize, out: &mut Vec<u8>) -> bool {
        let nanos = i128::from(self.values[row]) * i128::from(self.nanos_per_unit);
        let seconds = i64::try_from(nanos.div_euclid(1_000_000_000)).unwrap_or(i64::MAX);
        let subsecond = u32::try_from(nanos.rem_euclid(1_000_000_000)).unwrap_or(0);
        let Some(time) = DateTime::from_timestamp(seconds, subsecond) else {
            return false;
        };
        write_string(&time.to_rfc3339_opts(SecondsFormat::AutoSi, true), out);
        true
    }
}

struct StructWriter<'a>(Vec<FieldWriter<'a>>);

impl ValueWriter for StructWriter<'_> {
    fn write(&self, row: usize, out: &mut Vec<u8>) -> bool {
        write_object(&self.0, row, out);
        true
    }
}

struct ListWriter<'a, O: OffsetSizeTrait> {
    offsets: &'a [O],
    nulls: Option<NullBuffer>,
    values: Box<dyn ValueWriter + 'a>,
}

impl<'a, O: OffsetSizeTrait> ListWriter<'a, O> {
    fn try_new(array: &'a GenericListArray<O>) -> Result<Self> {
        let values = array.values();
        Ok(Self {
            offsets: array.value_offsets(),
            nulls: values.logical_nulls(),
            values: value_writer(values.as_ref())?,
        })
    }
}

impl<O: OffsetSizeTrait> ValueWriter for ListWriter<'_, O> {
    fn write(&self, row: usize, out: &mut Vec<u8>) -> bool {
        out.push(b'[');
        let (start, end) = (
            self.offsets[row].as_usize(),
            self.offsets[row + 1].as_usize(),
        );
        for index in start..end {
            if index > start {
                out.push(b',');
            }
            write_nullable(self.nulls.as_ref(), self.values.as_ref(), index, out);
        }
        out.push(b']');
        true
    }
}

/// Writes a dictionary-encoded column (`meta(topic)`): each distinct value is written once,
/// then copied for every row that holds it. A dictionary with more values than the batch has
/// rows (one kept from batch to batch) has each row's value written instead.
struct DictionaryWriter {
    /// For each row, where its text is in `texts`.
    keys: Vec<usize>,
    /// JSON texts, one after the other in `buffer`; `None` for a null value.
    texts: Vec<Option<std::ops::Range<usize>>>,
    buffer: Vec<u8>,
}

impl DictionaryWriter {
    fn try_new(array: &dyn Array) -> Result<Self> {
        let dictionary = array
            .as_any_dictionary_opt()
            .ok_or_else(|| arrow::error::ArrowError::CastError("not a dictionary".into()))?;
        let values = dictionary.values();
        let writer = value_writer(values.as_ref())?;
        let nulls = values.logical_nulls();
        let mut buffer = Vec::new();
        let mut text = |index: usize| {
            let start = buffer.len();
            let null = nulls.as_ref().is_some_and(|nulls| nulls.is_null(index));
            (!null && writer.write(index, &mut buffer)).then_some(start..buffer.len())
        };
        // With no values every key is null (and Arrow refuses to normalize keys into nothing).
        let keys = if values.is_empty() {
            Vec::new()
        } else {
            dictionary.normalized_keys()
        };
        let (keys, texts) = if values.len() > keys.len() {
            let texts = keys.iter().map(|key| text(*key)).collect();
            ((0..keys.len()).collect(), texts)
        } else {
            (keys, (0..values.len()).map(text).collect())
        };
        Ok(Self {
            keys,
            texts,
            buffer,
        })
    }
}

impl ValueWriter for DictionaryWriter {
    fn write(&self, row: usize, out: &mut Vec<u8>) -> bool {
        let text = self
            .keys
            .get(row)
            .and_then(|key| self.texts.get(*key)?.clone());
        match text {
            Some(range) => {
                out.extend_from_slice(&self.buffer[range]);
                true
            }
            None => false,
        }
    }
}

/// Writes values through Arrow's display formatting: decimals as bare numbers, every other
/// type (dates, intervals, binary, maps, ...) as a JSON string of its text form.
struct DisplayWriter<'a> {
    formatter: ArrayFormatter<'a>,
    quoted: bool,
}

impl<'a> DisplayWriter<'a> {
    fn try_new(array: &'a dyn Array, quoted: bool) -> Result<Self> {
        const OPTIONS: FormatOptions<'static> = FormatOptions::new();
        Ok(Self {
            formatter: ArrayFormatter::try_new(array, &OPTIONS)?,
            quoted,
        })
    }
}

impl ValueWriter for DisplayWriter<'_> {
    fn write(&self, row: usize, out: &mut Vec<u8>) -> bool {
        let text = self.formatter.value(row).to_string();
        if self.quoted {
            write_string(&text, out);
        } else {
            out.extend_from_slice(text.as_bytes());
        }
        true
    }
}

/// Writes `text` as a JSON string, escaping quotes, backslashes and control characters.
fn write_string(text: &str, out: &mut Vec<u8>) {
    let bytes = text.as_bytes();
    if !bytes
        .iter()
        .any(|&byte| byte < 0x20 || byte == b'"' || byte == b'\\')
    {
        out.reserve(bytes.len() + 2);
        out.push(b'"');
        out.extend_from_slice(bytes);
        out.push(b'"');
        return;
    }
    out.push(b'"');
    let mut start = 0;
    for (index, &byte) in bytes.iter().enumerate() {
        let escape: &[u8] = match byte {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..0x20 => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..index]);
        if escape.is_empty() {
            out.extend_from_slice(format!("\\u{byte:04x}").as_bytes());
        } else {
            out.extend_from_slice(escape);
        }
        start = index + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}
