//! Tests of the JSON decoder and encoder: rows out for payloads in, and what a bad payload costs.

use crate::codec::test_support::{error_messages, pretty, reading_schema, texts};
use crate::codec::{DecodeBatch, DecodedBatch};
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};

use super::*;

fn schema(fields: Vec<Field>) -> SchemaRef {
    Arc::new(Schema::new(fields))
}

fn decode(schema: SchemaRef, payloads: &[&str]) -> DecodedBatch {
    JsonDecoder::try_new(schema)
        .unwrap()
        .decode_batch(payloads)
        .unwrap()
}

fn encode(batch: &RecordBatch, format: JsonFormat) -> Vec<String> {
    texts(JsonEncoder::new(format).encode(batch).unwrap())
}

#[test]
fn objects_and_arrays_of_objects_become_rows() {
    let decoded = decode(
        reading_schema(),
        &[
            r#"{"user_id":1,"score":2.5,"device":"a","extra":{"x":[1,2,{"y":null}]}}"#,
            r#"[{"device":"b","user_id":2},{"score":-1e2}]"#,
            "[]",
            r#" { "score" : 7 } "#,
        ],
    );
    assert!(decoded.errors.is_empty(), "{:?}", decoded.errors);
    assert_eq!(
        pretty(&decoded.batch),
        "\
+---------+--------+--------+
| user_id | score  | device |
+---------+--------+--------+
| 1       | 2.5    | a      |
| 2       |        | b      |
|         | -100.0 |        |
|         | 7.0    |        |
+---------+--------+--------+"
    );
}

#[test]
fn a_malformed_payload_is_skipped_and_the_rest_survive() {
    let decoded = decode(
        reading_schema(),
        &[
            r#"{"user_id":1,"device":"a"}"#,
            r#"{"user_id":2,"device":"b""#,
            r#"{"user_id":3,"device":"c"} trailing"#,
            r#"{"user_id":4,"extra":[1,}"#,
            r#"{"user_id":5,"extra":tru}"#,
            r#"{"user_id":6,"device":"d"}"#,
        ],
    );
    assert_eq!(
        error_messages(&decoded),
        [
            "1: truncated JSON: the payload ends before its value is complete",
            "2: malformed JSON at byte 27: expected the end of the payload",
            "3: malformed JSON at byte 24: expected a JSON value",
            "4: malformed JSON at byte 21: expected true, false or null",
        ]
    );
    let ids: Vec<_> = decoded.batch.column(0).as_ref().to_data().buffers()[0]
        .typed_data::<i64>()
        .to_vec();
    assert_eq!(ids, [1, 6]);
}

#[test]
fn a_mistyped_value_is_skipped_with_its_payload_and_named() {
    let decoded = decode(
        reading_schema(),
        &[
            r#"{"user_id":1,"score":21.5}"#,
            r#"{"user_id":2,"score":"hot"}"#,
            r#"[{"user_id":3},{"user_id":4.5}]"#,
            r#"{"user_id":99999999999999999999}"#,
            r#"{"device":7}"#,
            r#"{"user_id":5,"score":1}"#,
        ],
    );
    assert_eq!(
        error_messages(&decoded),
        [
            "1: column 'score' expects float64, found a string",
            "2: column 'user_id': 4.5 is not a valid int64",
            "3: column 'user_id': 99999999999999999999 is not a valid int64",
            "4: column 'device' expects string, found a number",
        ]
    );
    assert_eq!(decoded.batch.num_rows(), 2);
}

#[test]
fn text_that_is_not_utf8_is_refused_even_where_no_column_reads_it() {
    let payloads: [&[u8]; 4] = [
        b"{\"user_id\": 1, \"note\": \"\xff\"}",
        b"{\"user_id\": 2, \"\xfe\": 1}",
        b"{\"user_id\": 3, \"meta\": {\"\xfe\": [\"\xc3\"]}}",
        b"{\"user_id\": 4, \"note\": \"caf\xc3\xa9\"}",
    ];
    let decoded = JsonDecoder::try_new(reading_schema())
        .unwrap()
        .decode_batch(&payloads)
        .unwrap();
    assert_eq!(
        error_messages(&decoded),
        [
            "0: malformed JSON at byte 24: expected UTF-8 text",
            "1: malformed JSON at byte 0: expected UTF-8 text",
            "2: malformed JSON at byte 25: expected UTF-8 text",
        ]
    );
    assert_eq!(decoded.batch.num_rows(), 1);
}

#[test]
fn payloads_that_are_not_objects_are_refused() {
    let decoded = decode(reading_schema(), &["42", "", "[1]", "\"x\""]);
    assert_eq!(
        error_messages(&decoded),
        [
            "0: a payload must be a JSON object or an array of objects, found a number",
            "1: a payload must be a JSON object or an array of objects, found an empty payload",
            "2: a payload must be a JSON object or an array of objects, found a number",
            "3: a payload must be a JSON object or an array of objects, found a string",
        ]
    );
}

#[test]
fn deep_nesting_is_refused_without_exhausting_the_stack() {
    let deep = format!(
        "{{\"extra\":{}{}}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let decoded = decode(reading_schema(), &[deep.as_str(), r#"{"user_id":1}"#]);
    assert_eq!(
        error_messages(&decoded),
        ["0: the payload nests objects and arrays deeper than 64 levels"]
    );
    assert_eq!(decoded.batch.num_rows(), 1);
}

fn nested_schema() -> SchemaRef {
    let meta = DataType::Struct(
        vec![
            Field::new("site", DataType::Utf8, true),
            Field::new("floor", DataType::UInt8, true),
        ]
        .into(),
    );
    schema(vec![
        Field::new("meta", meta, true),
        Field::new("tags", DataType::new_list(DataType::Utf8, true), true),
        Field::new("ts", DataType::Timestamp(TimeUnit::Millisecond, None), true),
        Field::new("ok", DataType::Boolean, true),
    ])
}

#[test]
fn nested_columns_and_timestamps_round_trip() {
    let payloads = [
        r#"{"meta":{"site":"plant-3","floor":2},"tags":["a","b\"q"],"ts":1700000000042,"ok":true}"#,
        r#"{"meta":null,"tags":[null,"\u00e9\ud83d\ude00"],"ts":"2023-11-14T22:13:20.5Z","ok":false}"#,
        r#"{"meta":{"floor":300}}"#,
        r#"{"meta":{"site":1}}"#,
        r#"{"tags":"x"}"#,
        r#"{"ts":"yesterday"}"#,
        r#"{}"#,
    ];
    let decoded = decode(nested_schema(), &payloads);
    assert_eq!(
        error_messages(&decoded),
        [
            "2: column 'meta.floor': 300 is not a valid uint8",
            "3: column 'meta.site' expects string, found a number",
            "4: column 'tags' expects list (an array), found a string",
            "5: column 'ts': yesterday is not a valid timestamp (milliseconds since the epoch or RFC 3339)",
        ]
    );
    assert_eq!(
        encode(&decoded.batch, JsonFormat::MessagePerRow),
        [
            r#"{"meta":{"site":"plant-3","floor":2},"tags":["a","b\"q"],"ts":"2023-11-14T22:13:20.042Z","ok":true}"#,
            r#"{"meta":null,"tags":[null,"é😀"],"ts":"2023-11-14T22:13:20.500Z","ok":false}"#,
            r#"{"meta":null,"tags":null,"ts":null,"ok":null}"#,
        ]
    );
}

#[test]
fn the_array_format_writes_one_message_per_batch() {
    let decoded = decode(
        reading_schema(),
        &[r#"{"user_id":1,"score":0.1}"#, r#"{"device":"a\nb"}"#],
    );
    assert_eq!(
        encode(&decoded.batch, JsonFormat::ArrayPerBatch),
        [
            r#"[{"user_id":1,"score":0.1,"device":null},{"user_id":null,"score":null,"device":"a\nb"}]"#
        ]
    );
    let empty = decode(reading_schema(), &["[]"]);
    assert!(encode(&empty.batch, JsonFormat::ArrayPerBatch).is_empty());
}

#[test]
fn a_schema_without_columns_still_counts_rows() {
    let decoded = decode(schema(vec![]), &[r#"{"a":1}"#, r#"[{},{}]"#, "{"]);
    assert_eq!(decoded.batch.num_rows(), 3);
    assert_eq!(decoded.errors.len(), 1);
}

#[test]
fn a_dictionary_column_is_written_as_its_values() {
    use arrow::array::{Array, DictionaryArray, Int32Array, StringArray};
    let values = StringArray::from(vec![Some("a/\"1\""), None, Some("b")]);
    let keys = Int32Array::from(vec![Some(0), Some(2), None, Some(0), Some(1)]);
    let topics = DictionaryArray::try_new(keys, Arc::new(values)).unwrap();
    let topic_schema = schema(vec![Field::new("topic", topics.data_type().clone(), true)]);
    let batch = RecordBatch::try_new(topic_schema, vec![Arc::new(topics)]).unwrap();
    let mut encoder = JsonEncoder::new(JsonFormat::MessagePerRow);
    let messages: Vec<_> = encoder
        .encode(&batch)
        .unwrap()
        .iter()
        .map(|message| String::from_utf8(message.to_vec()).unwrap())
        .collect();
    assert_eq!(
        messages,
        [
            r#"{"topic":"a/\"1\""}"#,
            r#"{"topic":"b"}"#,
            r#"{"topic":null}"#,
            r#"{"topic":"a/\"1\""}"#,
            r#"{"topic":null}"#,
        ]
    );
    let no_values = DictionaryArray::try_new(
        Int32Array::from(vec![None]),
        Arc::new(StringArray::from(Vec::<&str>::new())),
    )
    .unwrap();
    let schema = schema(vec![Field::new(
        "topic",
        no_values.data_type().clone(),
        true,
    )]);
    let batch = RecordBatch::try_new(schema, vec![Arc::new(no_values)]).unwrap();
    let message = encoder
        .encode(&batch)
        .unwrap()
        .iter()
        .next()
        .unwrap()
        .to_vec();
    assert_eq!(message, br#"{"topic":null}"#);
}

#[test]
fn a_dictionary_kept_across_batches_writes_only_the_rows_values() {
    use arrow::array::{Array, DictionaryArray, Int32Array, StringArray};
    let topics: Vec<String> = (0..1000).map(|device| format!("d/{device}")).collect();
    let values = StringArray::from_iter_values(&topics);
    let keys = Int32Array::from(vec![Some(999), None, Some(7), Some(999)]);
    let column = DictionaryArray::try_new(keys, Arc::new(values)).unwrap();
    let topic_schema = schema(vec![Field::new("topic", column.data_type().clone(), true)]);
    let batch = RecordBatch::try_new(topic_schema, vec![Arc::new(column)]).unwrap();
    assert_eq!(
        encode(&batch, JsonFormat::MessagePerRow),
        [
            r#"{"topic":"d/999"}"#,
            r#"{"topic":null}"#,
            r#"{"topic":"d/7"}"#,
            r#"{"topic":"d/999"}"#,
        ]
    );
}
