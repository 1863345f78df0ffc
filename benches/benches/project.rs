//! The project stage: `SELECT user_id, score, device` over the filtered batch with the
//! compiled expressions, beside building a new `serde_json::Value` object per kept row.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput};
use veloflux_benches::harness::{self, PROJECT, ROW_AT_A_TIME, VELOFLUX, setup};
use veloflux_benches::stages::{QuerySteps, StageInputs};
use veloflux_benches::{row_at_a_time, workload};

/// The allocator of the `veloFlux` server binary, so that allocation costs what it costs in
/// production, for the baseline too.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn project(c: &mut Criterion) {
    let pool = workload::messages(workload::POOL_SIZE);
    let plan = setup(workload::plan());
    let steps = setup(QuerySteps::try_new(&plan));
    let mut group = c.benchmark_group(PROJECT);
    for rows in workload::STAGE_BATCH_SIZES {
        let inputs = setup(StageInputs::try_new(&plan, &pool[..rows]));
        let values = row_at_a_time::parse_all(&pool[..rows]);
        let kept = row_at_a_time::filter_all(&values);
        // Counted in input messages, like every stage, so that stage times add up to the chain.
        group.throughput(Throughput::Elements(rows as u64));
        group.bench_function(BenchmarkId::new(VELOFLUX, rows), |b| {
            b.iter(|| {
                veloflux_kernels::project(
                    black_box(&inputs.filtered),
                    &steps.project.exprs,
                    &steps.project.schema,
                )
            });
        });
        group.bench_function(BenchmarkId::new(ROW_AT_A_TIME, rows), |b| {
            b.iter(|| row_at_a_time::project_all(black_box(&kept)));
        });
    }
    group.finish();
}

fn main() {
    harness::main(project);
}
