//! Tests of the CSV decoder and encoder: rows out for payloads in, what a bad payload costs,
//! and the props the registry builds them from.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray, TimestampMillisecondArray,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use serde_json::json;

use super::*;
use crate::codec::test_support::{error_messages, pretty, reading_schema, texts};
use crate::codec::{DecodeBatch, DecodedBatch, Message};
use crate::registry::registry;

fn schema(fields: &[(&str, DataType)]) -> SchemaRef {
    let fields: Vec<Field> = fields
        .iter()
        .map(|(name, data_type)| Field::new(*name, data_type.clone(), true))
        .collect();
    Arc::new(Schema::new(fields))
}

fn declared(names: &[&str]) -> CsvFields {
    CsvFields::Declared(names.iter().map(|name| (*name).to_owned()).collect())
}

fn decoder(schema: SchemaRef, fields: &CsvFields) -> CsvDecoder {
    CsvDecoder::try_new(schema, CsvDialect::default(), fields).unwrap()
}

fn decode<M: Message>(schema: SchemaRef, fields: &CsvFields, payloads: &[M]) -> DecodedBatch {
    decoder(schema, fields).decode_batch(payloads).unwrap()
}

fn encode(encoder: &mut CsvEncoder, batch: &RecordBatch) -> Vec<String> {
    texts(encoder.encode(batch).unwrap())
}

#[test]
fn a_header_names_the_fields_of_each_payload() {
    let decoded = decode(
        reading_schema(),
        &CsvFields::Header,
        &[
            "device,score,user_id,extra\na,2.5,1,x\nb,,2,y",
            // Another order, a column missing: it is null in every row.
            "score,user_id\n-1e2,3\r\n",
            "user_id,device\n",
            "",
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
| 3       | -100.0 |        |
+---------+--------+--------+"
    );
}

#[test]
fn declared_columns_place_the_fields_of_a_decoder_reading_a_subset() {
    // The plan reads `score` and `device` only; the record holds four fields.
    let subset = schema(&[("score", DataType::Float64), ("device", DataType::Utf8)]);
    let fields = declared(&["user_id", "device", "site", "score"]);
    let decoded = decode(
        subset,
        &fields,
        &["1,a,north,2.5\n2,b,south,7", "3,c,east,"],
    );
    assert!(decoded.errors.is_empty(), "{:?}", decoded.errors);
    assert_eq!(
        pretty(&decoded.batch),
        "\
+-------+--------+
| score | device |
+-------+--------+
| 2.5   | a      |
| 7.0   | b      |
|       | c      |
+-------+--------+"
    );
}

#[test]
fn quoted_fields_hold_delimiters_line_breaks_and_quotes() {
    let decoded = decode(
        schema(&[("id", DataType::Int64), ("note", DataType::Utf8)]),
        &declared(&["id", "note"]),
        &[
            "1,\"a, b\"\n2,\"two\nlines\"\r\n3,\"say \"\"hi\"\"\"",
            // Blank lines are skipped; `""` is an empty string, an empty field a null.
            "\n4,\"\"\n\n5,\n",
            "6, spaced out ",
        ],
    );
    assert!(decoded.errors.is_empty(), "{:?}", decoded.errors);
    let notes = decoded
        .batch
        .column(1)
        .as_any()
        .downcast_ref::<StringArray>();
    let notes: Vec<Option<&str>> = notes.unwrap().iter().collect();
    assert_eq!(
        notes,
        [
            Some("a, b"),
            Some("two\nlines"),
            Some("say \"hi\""),
            Some(""),
            None,
            Some(" spaced out ")
        ]
    );
}

#[test]
fn values_take_the_type_of_their_column() {
    let typed = schema(&[
        ("b", DataType::Boolean),
        ("i8", DataType::Int8),
        ("u64", DataType::UInt64),
        ("f32", DataType::Float32),
        ("ts", DataType::Timestamp(TimeUnit::Millisecond, None)),
        ("nothing", DataType::Null),
    ]);
    let fields = declared(&["b", "i8", "u64", "f32", "ts", "nothing"]);
    let decoded = decode(
        typed,
        &fields,
        &[
            "true,-128,18446744073709551615,1.5,2023-11-14T22:13:20.123Z,",
            "FALSE, 7 ,5.0,-0.25,1700000000123,",
            ",,,,,",
        ],
    );
    assert!(decoded.errors.is_empty(), "{:?}", decoded.errors);
    assert_eq!(
        pretty(&decoded.batch),
        "\
+-------+------+----------------------+-------+-------------------------+---------+
| b     | i8   | u64                  | f32   | ts                      | nothing |
+-------+------+----------------------+-------+-------------------------+---------+
| true  | -128 | 18446744073709551615 | 1.5   | 2023-11-14T22:13:20.123 |         |
| false | 7    | 5                    | -0.25 | 2023-11-14T22:13:20.123 |         |
|       |      |                      |       |                         |         |
+-------+------+----------------------+-------+-------------------------+---------+"
    );
}

#[test]
fn a_bad_payload_costs_only_itself() {
    let decoded = decode(
        reading_schema(),
        &declared(&["user_id", "score", "device"]),
        &[
            "1,1.0,a",
            "2,2.0,\"unclosed",
            "3,3.0,c",
            "4,4.0,d\n5,5.0",
            "6,6.0,f\n7,seven,g",
            "8,8.0,h,extra",
            "9,\"9\"x\",i",
            "10,1e400,j",
            "11,11.0,k\n12,12.0,l",
        ],
    );
    assert_eq!(
        error_messages(&decoded),
        [
            "1: CSV record 1: column 'device': a quote is never closed, or stands alone in an \
             unquoted field",
            "3: CSV record 2: has 2 fields, but props.columns names 3",
            "4: CSV record 2: column 'score': \"seven\" is not a valid float64",
            "5: CSV record 1: has 4 fields, but props.columns names 3",
            "6: CSV record 1: column 'score': a quote is never closed, or stands alone in an \
             unquoted field",
            "7: CSV record 1: column 'score': \"1e400\" is not a valid float64",
        ]
    );
    let ids = decoded
        .batch
        .column(0)
        .as_any()
        .downcast_ref::<Int64Array>();
    let ids: Vec<i64> = ids.unwrap().values().to_vec();
    assert_eq!(ids, [1, 3, 11, 12]);
}

#[test]
fn text_that_is_not_utf8_is_refused_where_a_column_reads_it() {
    let mut decoder = decoder(reading_schema(), &declared(&["user_id", "score", "device"]));
    let error = decoder.push(b"1,2.0,\xff\xfe").unwrap_err();
    assert_eq!(
        error.to_string(),
        "CSV record 1: column 'device' holds text that is not valid UTF-8"
    );
    assert_eq!(
        decoder.push(b"1,\xff,a").unwrap_err().to_string(),
        "CSV record 1: column 'score' holds text that is not valid UTF-8"
    );
    assert_eq!(decoder.flush().unwrap().num_rows(), 0);
}

#[test]
fn header_errors_name_the_record_and_the_column() {
    let decoded = decode(
        reading_schema(),
        &CsvFields::Header,
        &[
            "user_id,user_id\n1,2",
            "user_id,score\n1,2\n3",
            "user_id\n1\n\"x",
            "user_id,score,user_id2\n1,2,3",
        ],
    );
    assert_eq!(
        error_messages(&decoded),
        [
            "0: CSV record 1: the header names 'user_id' twice",
            "1: CSV record 3: has 1 field, but the header names 2",
            "2: CSV record 3: column 'user_id': a quote is never closed, or stands alone in an \
             unquoted field",
        ]
    );
    assert_eq!(decoded.batch.num_rows(), 1);
}

#[test]
fn a_long_bad_value_is_cut_in_the_message() {
    let mut decoder = decoder(reading_schema(), &declared(&["user_id", "score", "device"]));
    let long = "x".repeat(100);
    let error = decoder.push(format!("{long},1,a").as_bytes()).unwrap_err();
    let expected = format!(
        "CSV record 1: column 'user_id': \"{}\"… is not a valid int64",
        "x".repeat(40)
    );
    assert_eq!(error.to_string(), expected);
}

#[test]
fn nested_columns_and_incomplete_declarations_are_refused() {
    let nested = schema(&[(
        "meta",
        DataType::Struct(vec![Field::new("a", DataType::Utf8, true)].into()),
    )]);
    let error = CsvDecoder::try_new(nested, CsvDialect::default(), &CsvFields::Header)
        .err()
        .unwrap();
    assert_eq!(
        error.to_string(),
        "invalid configuration: type: csv cannot decode column 'meta' of type Struct(\"a\": \
         Utf8): a CSV field holds one value, not a struct or a list"
    );
    let cases = [
        (
            declared(&["user_id", "score"]),
            "lacks 'device', a column of the stream",
        ),
        (
            declared(&["user_id", "score", "device", "score"]),
            "names 'score' twice",
        ),
        (declared(&[]), "must name at least one field"),
    ];
    for (fields, expected) in cases {
        let error = CsvDecoder::try_new(reading_schema(), CsvDialect::default(), &fields)
            .err()
            .unwrap();
        assert!(
            error
                .to_string()
                .contains(&format!("props.columns: {expected}")),
            "{error}"
        );
    }
}

#[test]
fn the_registry_builds_the_decoder_from_props_and_names_bad_ones() {
    let kind = registry().decoder("csv").unwrap();
    let props = json!({"delimiter": ";", "quote": "'", "columns": ["device", "score", "user_id"]});
    let mut decoder = kind.build(&props, reading_schema()).unwrap();
    let decoded = decoder.decode_batch(&["'a;b';2.5;1"]).unwrap();
    assert!(decoded.errors.is_empty(), "{:?}", decoded.errors);
    assert_eq!(decoded.batch.num_rows(), 1);
    let bad = [
        (json!({}), "props.columns: required without has_header"),
        (
            json!({"has_header": true, "columns": ["a"]}),
            "props.columns: not allowed with has_header",
        ),
        (
            json!({"has_header": true, "delimiter": ";;"}),
            "props.delimiter: ",
        ),
        (
            json!({"has_header": true, "delimiter": "\n"}),
            "props.delimiter: expected one ASCII",
        ),
        (
            json!({"has_header": true, "quote": "é"}),
            "props.quote: expected one ASCII",
        ),
        (
            json!({"has_header": true, "quote": ","}),
            "props.quote: must differ",
        ),
        (
            json!({"has_header": true, "header": true}),
            "unknown field `header`",
        ),
    ];
    for (props, expected) in bad {
        let error = kind.check(&props).unwrap_err().to_string();
        assert!(error.contains(expected), "{props}: {error}");
    }
}

fn output_batch() -> RecordBatch {
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(vec![
            Some("plain"),
            Some("a,b"),
            Some("say \"hi\"\nbye"),
            Some(""),
            None,
        ])),
        Arc::new(Float64Array::from(vec![
            Some(2.5),
            Some(f64::NAN),
            None,
            Some(1e20),
            Some(-0.1),
        ])),
        Arc::new(TimestampMillisecondArray::from(vec![
            Some(1_700_000_000_123),
            Some(0),
            None,
            Some(-1),
            Some(1_700_000_000_000),
        ])),
    ];
    let schema = schema(&[
        ("note", DataType::Utf8),
        ("score", DataType::Float64),
        ("at", DataType::Timestamp(TimeUnit::Millisecond, None)),
    ]);
    RecordBatch::try_new(schema, columns).unwrap()
}

#[test]
fn rows_become_records_quoted_only_where_needed() {
    let mut encoder = CsvEncoder::new(CsvDialect::default(), CsvFormat::MessagePerRow, false);
    assert_eq!(
        encode(&mut encoder, &output_batch()),
        [
            "plain,2.5,2023-11-14T22:13:20.123Z",
            "\"a,b\",,1970-01-01T00:00:00Z",
            "\"say \"\"hi\"\"\nbye\",,",
            "\"\",1e20,1969-12-31T23:59:59.999Z",
            ",-0.1,2023-11-14T22:13:20Z",
        ]
    );
}

#[test]
fn a_batch_becomes_one_message_of_lines_after_a_header() {
    let dialect = CsvDialect::try_new(';', '\'').unwrap();
    let mut encoder = CsvEncoder::new(dialect, CsvFormat::LinesPerBatch, true);
    let batch = output_batch().slice(0, 2);
    assert_eq!(
        encode(&mut encoder, &batch),
        ["note;score;at\nplain;2.5;2023-11-14T22:13:20.123Z\na,b;;1970-01-01T00:00:00Z\n"]
    );
    let mut encoder = CsvEncoder::new(CsvDialect::default(), CsvFormat::MessagePerRow, true);
    assert_eq!(
        encode(&mut encoder, &batch.slice(0, 1)),
        ["note,score,at\nplain,2.5,2023-11-14T22:13:20.123Z"]
    );
    assert!(encode(&mut encoder, &batch.slice(0, 0)).is_empty());
}

#[test]
fn a_row_of_one_null_is_not_a_blank_line() {
    let schema = schema(&[("score", DataType::Float64)]);
    let column: ArrayRef = Arc::new(Float64Array::from(vec![None, Some(1.0)]));
    let batch = RecordBatch::try_new(schema.clone(), vec![column]).unwrap();
    let mut encoder = CsvEncoder::new(CsvDialect::default(), CsvFormat::LinesPerBatch, false);
    let messages = encode(&mut encoder, &batch);
    assert_eq!(messages, ["\"\"\n1.0\n"]);
    let decoded = decode(schema, &declared(&["score"]), &[messages[0].as_str()]);
    assert_eq!(decoded.batch, batch);
}

#[test]
fn the_registry_builds_the_encoder_from_props() {
    let kind = registry().encoder("csv").unwrap();
    let mut encoder = kind
        .build(&json!({"delimiter": "\t", "header": true, "format": "batch"}))
        .unwrap();
    let messages = encoder.encode(&output_batch().slice(0, 1)).unwrap();
    let text: Vec<&[u8]> = messages.iter().collect();
    assert_eq!(
        text,
        [b"note\tscore\tat\nplain\t2.5\t2023-11-14T22:13:20.123Z\n".as_slice()]
    );
    let error = kind.check(&json!({"format": "array"})).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("props.format: unknown variant `array`"),
        "{error}"
    );
}

#[test]
fn what_the_encoder_writes_the_decoder_reads_back() {
    let batch = output_batch();
    let mut encoder = CsvEncoder::new(CsvDialect::default(), CsvFormat::LinesPerBatch, true);
    let messages = encode(&mut encoder, &batch);
    let decoded = decode(batch.schema(), &CsvFields::Header, &[messages[0].as_str()]);
    assert!(decoded.errors.is_empty(), "{:?}", decoded.errors);
    // NaN has no CSV form the decoder takes: it comes back null, as from JSON.
    let expected = output_batch();
    let scores = decoded
        .batch
        .column(1)
        .as_any()
        .downcast_ref::<Float64Array>()
        .unwrap();
    assert!(scores.is_null(1));
    assert_eq!(decoded.batch.column(0), expected.column(0));
    assert_eq!(decoded.batch.column(2), expected.column(2));
}

#[test]
fn a_leading_byte_order_mark_is_kept_in_a_value() {
    let schema = schema(&[("note", DataType::Utf8), ("n", DataType::Int64)]);
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(vec!["\u{feff}x"])),
        Arc::new(Int64Array::from(vec![1])),
    ];
    let batch = RecordBatch::try_new(schema.clone(), columns).unwrap();
    let mut encoder = CsvEncoder::new(CsvDialect::default(), CsvFormat::MessagePerRow, false);
    let messages = encode(&mut encoder, &batch);
    assert_eq!(messages, ["\"\u{feff}x\",1"]);
    let decoded = decode(
        schema.clone(),
        &declared(&["note", "n"]),
        &[messages[0].as_str()],
    );
    assert_eq!(decoded.batch, batch);
    // Unquoted, it is the mark a payload may start with, and is dropped.
    let decoded = decode(schema, &declared(&["note", "n"]), &["\u{feff}x,1"]);
    let notes = decoded
        .batch
        .column(0)
        .as_any()
        .downcast_ref::<StringArray>()
        .unwrap();
    assert_eq!(notes.value(0), "x");
}
