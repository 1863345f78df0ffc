//! The encode stage: the filtered and projected batch to one JSON message per row, beside
//! `serde_json::to_vec` of each projected `serde_json::Value`.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput};
use veloflux_benches::harness::{self, ENCODE, ROW_AT_A_TIME, VELOFLUX, setup};
use veloflux_benches::stages::StageInputs;
use veloflux_benches::{row_at_a_time, workload};
use veloflux_connectors::codec::json::{JsonEncoder, JsonFormat};

/// The allocator of the `veloFlux` server binary, so that allocation costs what it costs in
/// production, for the baseline too.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn encode(c: &mut Criterion) {
    let pool = workload::messages(workload::POOL_SIZE);
    let plan = setup(workload::plan());
    let mut encoder = JsonEncoder::new(JsonFormat::MessagePerRow);
    let mut group = c.benchmark_group(ENCODE);
    for rows in workload::STAGE_BATCH_SIZES {
        let inputs = setup(StageInputs::try_new(&plan, &pool[..rows]));
        let values = row_at_a_time::parse_all(&pool[..rows]);
        let projected = row_at_a_time::project_all(&row_at_a_time::filter_all(&values));
        // Counted in input messages, like every stage, so that stage times add up to the chain.
        group.throughput(Throughput::Elements(rows as u64));
        group.bench_function(BenchmarkId::new(VELOFLUX, rows), |b| {
            b.iter(|| {
                let messages = encoder.encode(black_box(&inputs.projected))?;
                messages.iter().for_each(|message| {
                    black_box(message);
                });
                Ok::<_, veloflux_connectors::Error>(messages.len())
            });
        });
        group.bench_function(BenchmarkId::new(ROW_AT_A_TIME, rows), |b| {
            b.iter(|| {
                row_at_a_time::encode_all(black_box(&projected), |message| {
                    black_box(message);
                })
            });
        });
    }
    group.finish();
}

fn main() {
    harness::main(encode);
}
