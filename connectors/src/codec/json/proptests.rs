//! Property tests: any row of the supported types survives JSON → Arrow → JSON, agrees with
//! upstream `arrow-json` on valid input, and no byte string makes the decoder panic.

use crate::codec::{DecodeBatch, Message};
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

use super::{JsonDecoder, JsonEncoder, JsonFormat};
use crate::codec::test_support::scalar_fields;

fn schema() -> SchemaRef {
    let point = DataType::Struct(
        vec![
            Field::new("x", DataType::Float64, true),
            Field::new("tag", DataType::Utf8, true),
        ]
        .into(),
    );
    let mut fields = scalar_fields();
    fields.push(Field::new("point", point, true));
    fields.push(Field::new(
        "list",
        DataType::new_list(DataType::Int64, true),
        true,
    ));
    Arc::new(Schema::new(fields))
}

fn nullable(value: impl Strategy<Value = Value>) -> impl Strategy<Value = Value> {
    prop_oneof![1 => Just(Value::Null), 4 => value]
}

fn finite_f64() -> impl Strategy<Value = Value> {
    any::<f64>()
        .prop_filter("JSON has no NaN or infinity", |f| f.is_finite())
        .prop_map(|f| json!(f))
}

fn row() -> impl Strategy<Value = Value> {
    let point = (
        nullable(finite_f64()),
        nullable(any::<String>().prop_map(Value::from)),
    )
        .prop_map(|(x, tag)| json!({"x": x, "tag": tag}));
    let list = prop::collection::vec(nullable(any::<i64>().prop_map(Value::from)), 0..4);
    (
        (
            nullable(any::<bool>().prop_map(Value::from)),
            nullable(any::<i8>().prop_map(Value::from)),
        ),
        (
            nullable(any::<i64>().prop_map(Value::from)),
            nullable(any::<u32>().prop_map(Value::from)),
        ),
        (
            nullable(any::<u64>().prop_map(Value::from)),
            nullable(finite_f64()),
        ),
        nullable(any::<String>().prop_map(Value::from)),
        nullable((-62_135_596_800_000i64..253_402_300_799_999).prop_map(Value::from)),
        nullable(point),
        nullable(list.prop_map(Value::from)),
    )
        .prop_map(|((b, i8), (i64, u32), (u64, f64), s, ts, point, list)| {
            json!({"b": b, "i8": i8, "i64": i64, "u32": u32, "u64": u64, "f64": f64, "s": s,
                   "ts": ts, "point": point, "list": list})
        })
}

fn decode<P: Message>(payloads: &[P]) -> RecordBatch {
    let decoded = JsonDecoder::try_new(schema())
        .unwrap()
        .decode_batch(payloads)
        .unwrap();
    assert!(decoded.errors.is_empty(), "{:?}", decoded.errors);
    decoded.batch
}

/// The encoder writes timestamps as RFC 3339 text; compare them as epoch milliseconds.
fn normalize(mut row: Value) -> Value {
    if let Some(Value::String(text)) = row.get("ts") {
        let millis = chrono::DateTime::parse_from_rfc3339(text)
            .unwrap()
            .timestamp_millis();
        row["ts"] = json!(millis);
    }
    row
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn rows_round_trip(rows in prop::collection::vec(row(), 1..8)) {
        let payloads: Vec<String> = rows.iter().map(Value::to_string).collect();
        let batch = decode(&payloads);
        let mut encoder = JsonEncoder::new(JsonFormat::MessagePerRow);
        let encoded = encoder.encode(&batch).unwrap();
        let back: Vec<Value> = encoded
            .iter()
            .map(|message| normalize(serde_json::from_slice(message).unwrap()))
            .collect();
        prop_assert_eq!(back, rows);
    }

    #[test]
    fn agrees_with_arrow_json(rows in prop::collection::vec(row(), 1..8)) {
        let text: String = rows.iter().map(|row| row.to_string() + "\n").collect();
        let mut reader = arrow_json::ReaderBuilder::new(schema())
            .build(std::io::Cursor::new(text.as_bytes()))
            .unwrap();
        let expected = reader.next().unwrap().unwrap();
        let payloads: Vec<String> = rows.iter().map(Value::to_string).collect();
        prop_assert_eq!(decode(&payloads), expected);
    }

    #[test]
    fn arbitrary_bytes_decode_alike_in_a_batch_and_alone(
        payloads in prop::collection::vec(any::<Vec<u8>>(), 1..8),
    ) {
        let batched = JsonDecoder::try_new(schema()).unwrap().decode_batch(&payloads).unwrap();
        let mut rows = 0;
        let mut failed = Vec::new();
        for (index, payload) in payloads.iter().enumerate() {
            let alone = JsonDecoder::try_new(schema()).unwrap().decode_batch(&[payload]).unwrap();
            rows += alone.batch.num_rows();
            failed.extend(alone.errors.into_iter().map(|error| (index, error.error)));
        }
        let batched_failed: Vec<_> =
            batched.errors.into_iter().map(|error| (error.index, error.error)).collect();
        prop_assert_eq!(batched_failed, failed);
        prop_assert_eq!(batched.batch.num_rows(), rows);
    }

    #[test]
    fn a_broken_payload_costs_only_itself(
        rows in prop::collection::vec(row(), 2..6),
        victim in any::<prop::sample::Index>(),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut payloads: Vec<Vec<u8>> = rows.iter().map(|row| row.to_string().into_bytes()).collect();
        let victim = victim.index(payloads.len());
        let broken = &payloads[victim];
        payloads[victim] = broken[..cut.index(broken.len() - 1)].to_vec();
        let decoded = JsonDecoder::try_new(schema()).unwrap().decode_batch(&payloads).unwrap();
        prop_assert_eq!(decoded.errors.len(), 1);
        prop_assert_eq!(decoded.errors[0].index, victim);
        let mut kept = payloads.clone();
        kept.remove(victim);
        prop_assert_eq!(decoded.batch, decode(&kept));
    }
}

#[test]
fn fields_the_schema_lacks_are_skipped_unread() {
    let mut row = Map::new();
    row.insert("unknown".into(), json!({"deep": [1, {"x": null}, "s\"tr"]}));
    row.insert("i64".into(), json!(5));
    let batch = decode(&[Value::Object(row).to_string()]);
    assert_eq!(batch.num_rows(), 1);
}
