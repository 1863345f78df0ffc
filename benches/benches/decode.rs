//! The decode stage: a micro-batch of JSON payloads to one record batch, over the whole
//! 10-column stream schema and over the 3 columns the query reads, beside parsing each
//! payload into a `serde_json::Value`.

use std::hint::black_box;
use veloflux_connectors::codec::DecodeBatch;

use criterion::{BenchmarkId, Criterion, Throughput};
use veloflux_benches::harness::{self, DECODE, DECODE_FULL, DECODE_PRUNED, ROW_AT_A_TIME, setup};
use veloflux_benches::{row_at_a_time, workload};
use veloflux_connectors::codec::json::JsonDecoder;

/// The allocator of the `veloFlux` server binary, so that allocation costs what it costs in
/// production, for the baseline too.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn decode(c: &mut Criterion) {
    let pool = workload::messages(workload::POOL_SIZE);
    let full = setup(workload::stream_schema());
    let pruned = setup(workload::plan()).source.schema;
    let mut group = c.benchmark_group(DECODE);
    for rows in workload::STAGE_BATCH_SIZES {
        let payloads = &pool[..rows];
        group.throughput(Throughput::Elements(rows as u64));
        for (name, schema) in [(DECODE_FULL, &full), (DECODE_PRUNED, &pruned)] {
            let mut decoder = setup(JsonDecoder::try_new(schema.clone()));
            group.bench_with_input(BenchmarkId::new(name, rows), payloads, |b, payloads| {
                b.iter(|| decoder.decode_batch(black_box(payloads)));
            });
        }
        group.bench_with_input(
            BenchmarkId::new(ROW_AT_A_TIME, rows),
            payloads,
            |b, payloads| {
                b.iter(|| row_at_a_time::parse_all(black_box(payloads)));
            },
        );
    }
    group.finish();
}

fn main() {
    harness::main(decode);
}
