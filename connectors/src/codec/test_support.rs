//! What the tests of the text codecs share: the schemas they decode into, and decoded batches,
//! decode errors and encoded messages as text to compare.

use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use arrow::util::pretty::pretty_format_batches;

use super::{DecodedBatch, EncodedMessages};

/// A sensor reading: a user id, a score and a device name, all nullable.
pub(crate) fn reading_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("user_id", DataType::Int64, true),
        Field::new("score", DataType::Float64, true),
        Field::new("device", DataType::Utf8, true),
    ]))
}

/// Nullable columns of the scalar types every text codec round-trips: a boolean, integers of
/// both signs and several widths, a double, a string and a millisecond timestamp.
pub(crate) fn scalar_fields() -> Vec<Field> {
    vec![
        Field::new("b", DataType::Boolean, true),
        Field::new("i8", DataType::Int8, true),
        Field::new("i64", DataType::Int64, true),
        Field::new("u32", DataType::UInt32, true),
        Field::new("u64", DataType::UInt64, true),
        Field::new("f64", DataType::Float64, true),
        Field::new("s", DataType::Utf8, true),
        Field::new("ts", DataType::Timestamp(TimeUnit::Millisecond, None), true),
    ]
}

/// `batch` as a text table.
pub(crate) fn pretty(batch: &RecordBatch) -> String {
    pretty_format_batches(std::slice::from_ref(batch))
        .unwrap()
        .to_string()
}

/// Each payload error as `index: message`.
pub(crate) fn error_messages(decoded: &DecodedBatch) -> Vec<String> {
    decoded
        .errors
        .iter()
        .map(|e| format!("{}: {}", e.index, e.error))
        .collect()
}

/// Each message as a string.
pub(crate) fn texts(messages: EncodedMessages<'_>) -> Vec<String> {
    messages
        .iter()
        .map(|m| String::from_utf8(m.to_vec()).unwrap())
        .collect()
}
