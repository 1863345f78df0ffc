//! The windowed query `SELECT device, count(*), avg(temp) FROM s GROUP BY device,
//! TUMBLINGWINDOW(ss, 1)` over messages from 1000 devices, beside the filter/project query of
//! the chain bench over the same messages, both as whole chains (payloads in, messages out)
//! at micro-batches of 1024.
//!
//! The windowed chain runs in processing time on a simulated clock that moves 1 ms per batch,
//! about a million rows a second: a window closes every 1000 batches and emits a row per
//! device, so emission is part of what is measured.
//!
//! The same query also runs in event time (`ts`, a tolerance of 1 s), its messages' time
//! moving 1 ms every 1000 rows, once with every row on time and once with every tenth row
//! stamped 5 s back, behind the watermark: what judging each row's lateness and dropping the
//! late ones costs. Event time must keep moving, so those messages are rendered batch by batch
//! outside the timed part rather than cycled from a pool.

use std::hint::black_box;

use criterion::measurement::WallTime;
use criterion::{BatchSize, BenchmarkGroup, BenchmarkId, Criterion, Throughput};
use veloflux_benches::harness::{
    self, FILTER_PROJECT, WINDOW, WINDOWED, WINDOWED_EVENT_TIME, WINDOWED_LATE, setup,
};
use veloflux_benches::workload;
use veloflux_engine::wall_clock_ms;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The micro-batch size of both chains.
const ROWS: usize = 1024;

/// One row in this many comes in late in the late-rows case.
const LATE_EVERY: usize = 10;

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
    event_time(&mut group, WINDOWED_EVENT_TIME, 0);
    event_time(&mut group, WINDOWED_LATE, LATE_EVERY);
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

/// The windowed chain in event time as `name`, every `late_every`-th row late (none for 0).
fn event_time(group: &mut BenchmarkGroup<'_, WallTime>, name: &str, late_every: usize) {
    let mut chain = setup(veloflux_testkit::json_chain(setup(
        workload::event_time_window_plan(),
    )));
    let mut next = 0;
    let mut late_rows = 0;
    group.bench_function(BenchmarkId::new(name, ROWS), |b| {
        b.iter_batched(
            || {
                next += ROWS;
                workload::event_time_messages(next - ROWS..next, late_every)
            },
            |payloads| {
                let output =
                    chain.process_at(black_box(&payloads), wall_clock_ms(), |_, message| {
                        black_box(message);
                    });
                late_rows += setup(output).late_rows;
                payloads
            },
            BatchSize::SmallInput,
        );
    });
    let expected = next.checked_div(late_every).unwrap_or(0);
    assert_eq!(late_rows, expected, "{name}: late rows of {next}");
}

fn main() {
    harness::main(window);
}
