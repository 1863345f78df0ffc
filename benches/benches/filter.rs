//! The filter stage: `WHERE score > 0` over the decoded batch with the compiled predicate,
//! beside testing each parsed `serde_json::Value`.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput};
use veloflux_benches::harness::{self, FILTER, ROW_AT_A_TIME, VELOFLUX, setup};
use veloflux_benches::stages::{QuerySteps, StageInputs};
use veloflux_benches::{row_at_a_time, workload};

/// The allocator of the `veloFlux` server binary, so that allocation costs what it costs in
/// production, for the baseline too.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn filter(c: &mut Criterion) {
    let pool = workload::messages(workload::POOL_SIZE);
    let plan = setup(workload::plan());
    let steps = setup(QuerySteps::try_new(&plan));
    let predicate = steps.filter.predicate.as_ref();
    let mut group = c.benchmark_group(FILTER);
    for rows in workload::STAGE_BATCH_SIZES {
        let inputs = setup(StageInputs::try_new(&plan, &pool[..rows]));
        let values = row_at_a_time::parse_all(&pool[..rows]);
        group.throughput(Throughput::Elements(rows as u64));
        group.bench_function(BenchmarkId::new(VELOFLUX, rows), |b| {
            b.iter(|| veloflux_kernels::filter(black_box(&inputs.decoded), predicate));
        });
        group.bench_function(BenchmarkId::new(ROW_AT_A_TIME, rows), |b| {
            b.iter(|| row_at_a_time::filter_all(black_box(&values)));
        });
    }
    group.finish();
}

fn main() {
    harness::main(filter);
}
