//! Property tests: any batch of the supported types survives Arrow → CSV → Arrow in every
//! dialect and format, a payload with a bad record costs only itself, and no byte string
//! makes the decoder panic or decode differently alone than in a batch.

use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanArray, Float32Array, Float64Array, Int8Array, Int64Array, RecordBatch,
    StringArray, TimestampMillisecondArray, UInt32Array, UInt64Array,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use proptest::prelude::*;

use super::{CsvDecoder, CsvDialect, CsvEncoder, CsvFields, CsvFormat};
use crate::codec::DecodeBatch;
use crate::codec::test_support::scalar_fields;

fn schema() -> SchemaRef {
    let mut fields = scalar_fields();
    fields.push(Field::new("f32", DataType::Float32, true));
    Arc::new(Schema::new(fields))
}

fn names() -> CsvFields {
    CsvFields::Declared(schema().fields().iter().map(|f| f.name().clone()).collect())
}

fn column<T: std::fmt::Debug + Clone>(
    values: impl Strategy<Value = T>,
    rows: usize,
) -> impl Strategy<Value = Vec<Option<T>>> {
    prop::collection::vec(prop::option::weighted(0.8, values), rows)
}

fn finite<T: Copy + std::fmt::Debug>(
    values: impl Strategy<Value = T>,
    is_finite: fn(T) -> bool,
) -> impl Strategy<Value = T> {
    values.prop_filter("CSV, like JSON, carries finite floats", move |v| {
        is_finite(*v)
    })
}

fn batch() -> impl Strategy<Value = RecordBatch> {
    (1usize..6).prop_flat_map(|rows| {
        (
            (column(any::<bool>(), rows), column(any::<i8>(), rows)),
            (column(any::<i64>(), rows), column(any::<u32>(), rows)),
            (
                column(any::<u64>(), rows),
                column(finite(any::<f64>(), f64::is_finite), rows),
            ),
            column(any::<String>(), rows),
            column(-62_135_596_800_000i64..253_402_300_799_999, rows),
            column(finite(any::<f32>(), f32::is_finite), rows),
        )
            .prop_map(|((b, i8), (i64, u32), (u64, f64), s, ts, f32)| {
                let columns: Vec<ArrayRef> = vec![
                    Arc::new(BooleanArray::from(b)),
                    Arc::new(Int8Array::from(i8)),
                    Arc::new(Int64Array::from(i64)),
                    Arc::new(UInt32Array::from(u32)),
                    Arc::new(UInt64Array::from(u64)),
                    Arc::new(Float64Array::from(f64)),
                    Arc::new(StringArray::from(s)),
                    Arc::new(TimestampMillisecondArray::from(ts)),
                    Arc::new(Float32Array::from(f32)),
                ];
                RecordBatch::try_new(schema(), columns).unwrap()
            })
    })
}

fn dialect() -> impl Strategy<Value = CsvDialect> {
    (
        prop::sample::select(vec![',', ';', '\t', '|', ' ']),
        prop::sample::select(vec!['"', '\'']),
    )
        .prop_map(|(delimiter, quote)| CsvDialect::try_new(delimiter, quote).unwrap())
}

fn encode(
    batch: &RecordBatch,
    dialect: CsvDialect,
    format: CsvFormat,
    header: bool,
) -> Vec<Vec<u8>> {
    let mut encoder = CsvEncoder::new(dialect, format, header);
    let messages = encoder.encode(batch).unwrap();
    messages.iter().map(<[u8]>::to_vec).collect()
}

fn decoder(dialect: CsvDialect, header: bool) -> CsvDecoder {
    let fields = if header { CsvFields::Header } else { names() };
    CsvDecoder::try_new(schema(), dialect, &fields).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn batches_round_trip(
        batch in batch(),
        dialect in dialect(),
        lines in any::<bool>(),
        header in any::<bool>(),
    ) {
        let format = if lines { CsvFormat::LinesPerBatch } else { CsvFormat::MessagePerRow };
        let messages = encode(&batch, dialect, format, header);
        let decoded = decoder(dialect, header).decode_batch(&messages).unwrap();
        prop_assert!(decoded.errors.is_empty(), "{:?}", decoded.errors);
        prop_assert_eq!(decoded.batch, batch);
    }

    #[test]
    fn a_payload_with_a_bad_record_costs_only_itself(
        batches in prop::collection::vec(batch(), 2..5),
        victim in any::<prop::sample::Index>(),
    ) {
        let dialect = CsvDialect::default();
        let mut payloads: Vec<Vec<u8>> = batches
            .iter()
            .flat_map(|batch| encode(batch, dialect, CsvFormat::LinesPerBatch, false))
            .collect();
        let victim = victim.index(payloads.len());
        // One field too many in the payload's last record.
        payloads[victim].extend_from_slice(b",,,,,,,,,\n");
        let decoded = decoder(dialect, false).decode_batch(&payloads).unwrap();
        prop_assert_eq!(decoded.errors.len(), 1);
        prop_assert_eq!(decoded.errors[0].index, victim);
        let mut kept = batches.clone();
        kept.remove(victim);
        let expected = arrow::compute::concat_batches(&schema(), &kept).unwrap();
        prop_assert_eq!(decoded.batch, expected);
    }

    #[test]
    fn arbitrary_bytes_decode_alike_in_a_batch_and_alone(
        payloads in prop::collection::vec(
            prop::collection::vec(prop::sample::select(b"0a,\"\n\r1.e-xtrue ".to_vec()), 0..40),
            1..8,
        ),
        header in any::<bool>(),
    ) {
        let dialect = CsvDialect::default();
        let batched = decoder(dialect, header).decode_batch(&payloads).unwrap();
        let mut alone = Vec::new();
        let mut failed = Vec::new();
        for (index, payload) in payloads.iter().enumerate() {
            let decoded = decoder(dialect, header).decode_batch(&[payload]).unwrap();
            alone.push(decoded.batch);
            failed.extend(decoded.errors.into_iter().map(|error| (index, error.error)));
        }
        let batched_failed: Vec<_> =
            batched.errors.into_iter().map(|error| (error.index, error.error)).collect();
        prop_assert_eq!(batched_failed, failed);
        prop_assert_eq!(batched.batch, arrow::compute::concat_batches(&schema(), &alone).unwrap());
    }
}
