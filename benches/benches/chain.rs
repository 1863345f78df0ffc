//! The whole chain for `SELECT user_id, score, device FROM s WHERE score > 0`: a micro-batch
//! of payloads decoded, filtered, projected and encoded by the engine's `Chain`, beside the same query
//! run one message at a time through `serde_json::Value`, at every batch size.
//!
//! Both sides cycle through the same pool of distinct messages, one micro-batch per
//! iteration, so that even batches of one see varied payloads, half of which pass the filter.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput};
use veloflux_benches::harness::{self, CHAIN, ROW_AT_A_TIME, VELOFLUX, setup};
use veloflux_benches::{check, row_at_a_time, workload};
use veloflux_engine::wall_clock_ms;

/// The allocator of the `veloFlux` server binary, so that allocation costs what it costs in
/// production, for the baseline too.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn chain(c: &mut Criterion) {
    let pool = workload::messages(workload::POOL_SIZE);
    let mut group = c.benchmark_group(CHAIN);
    for rows in workload::CHAIN_BATCH_SIZES {
        setup(check::chain_matches_baseline(&pool, rows));
        let mut chain = setup(veloflux_testkit::json_chain(setup(workload::plan())));
        group.throughput(Throughput::Elements(rows as u64));
        let mut batches = pool.chunks(rows).cycle();
        group.bench_function(BenchmarkId::new(VELOFLUX, rows), |b| {
            b.iter(|| {
                let payloads = batches.next().unwrap_or_default();
                chain.process_at(black_box(payloads), wall_clock_ms(), |_, message| {
                    black_box(message);
                })
            });
        });
        let mut batches = pool.chunks(rows).cycle();
        group.bench_function(BenchmarkId::new(ROW_AT_A_TIME, rows), |b| {
            b.iter(|| {
                let payloads = batches.next().unwrap_or_default();
                row_at_a_time::process(black_box(payloads), |message| {
                    black_box(message);
                })
            });
        });
    }
    group.finish();
}

fn main() {
    harness::main(chain);
}
