//! The checkpoint of a windowed pipeline: `SELECT device, count(*), avg(temp) FROM s GROUP BY
//! device, TUMBLINGWINDOW(ss, 1)` with 10 000 groups in its open window, saved by
//! `PlanExecutor::checkpoint` and restored by `PlanExecutor::restore` into a fresh executor of
//! the same plan. The checkpoint's size is printed once before timing.

use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput};
use veloflux_benches::harness::{self, CHECKPOINT, RESTORE_10K_GROUPS, TAKE_10K_GROUPS, setup};
use veloflux_benches::open_groups::{self, CHECKPOINT_GROUPS, NOW_MS};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn checkpoint(c: &mut Criterion) {
    let mut executor = setup(open_groups::executor_with_open_groups(CHECKPOINT_GROUPS));
    let checkpoint = setup(executor.checkpoint());
    println!(
        "checkpoint of {CHECKPOINT_GROUPS} open groups: {} bytes",
        checkpoint.len()
    );
    let mut group = c.benchmark_group(CHECKPOINT);
    group.throughput(Throughput::Elements(CHECKPOINT_GROUPS as u64));
    group.bench_function(TAKE_10K_GROUPS, |b| {
        b.iter(|| black_box(executor.checkpoint()));
    });
    group.bench_function(RESTORE_10K_GROUPS, |b| {
        b.iter_batched(
            || setup(open_groups::empty_executor()),
            |mut fresh| {
                setup(fresh.restore(black_box(&checkpoint), NOW_MS));
                fresh
            },
            BatchSize::SmallInput,
        );
    });
    group.finish();
}

fn main() {
    harness::main(checkpoint);
}
