//! The windowed query `SELECT device, count(*), avg(temp) FROM s GROUP BY device,
//! TUMBLINGWINDOW(ss, 1)` over messages from 1000 devices, beside the filter/project query of
//! the chain bench over the same messages, both as whole chains (payloads in, messages out)
//! at micro-batches of 1024.
//!
//! The windowed chain runs in processing time on a simulated clock that moves 1 ms per batch,
//! about a million rows a second: a window closes every 1000 batches and emits a row per
//! device, so emission is part of what is measured.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput};
use veloflux_benches::harness::{self, FILTER_PROJECT, WINDOW, WINDOWED, setup};
use veloflux_benches::workload;
use veloflux_engine::wall_clock_ms;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The micro-batch size of both chains.
const ROWS: usize = 1024;

fn window(c: &mut Criterion) {
    let pool = workload::device_messages(workload::POOL_SIZE, workload::WINDOW_DEVICES);
    let mut group = c.benchmark_group(WINDOW);
    group.throughput(Throughput::Elements(ROWS as u64));
    let mut windowed = setup(veloflux_testkit::json_chain(setup(workload::window_plan())));
    let mut batches = pool.chunks(ROWS).cycle();
    let mut now_ms = 0;
    group.bench_function(BenchmarkId::new(WINDOWED, ROWS), |b| {
        b.iter(|| {
            now_ms += 1;
            let payloads = batches.next().unwrap_or_default();
            windowed.process_at(black_box(payloads), now_ms, |_, message| {
                black_box(message);
            })
        });
    });
    let mut chain = setup(veloflux_testkit::json_chain(setup(workload::plan())));
    let mut batches = pool.chunks(ROWS).cycle();
    group.bench_function(BenchmarkId::new(FILTER_PROJECT, ROWS), |b| {
        b.iter(|| {
            let payloads = batches.next().unwrap_or_default();
            chain.process_at(black_box(payloads), wall_clock_ms(), |_, message| {
                black_box(message);
            })
        });
    });
    group.finish();
}

fn main() {
    harness::main(window);
}
