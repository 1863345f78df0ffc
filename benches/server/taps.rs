//! What the debug taps cost a pipeline: the four taps a batch passes, idle (nobody
//! inspecting: one atomic load each) and retaining (a reference-counted clone and a push
//! each), on the decoded batch of 1024 messages.
//!
//! The taps are the server's, so this is the server package's bench (`cargo bench -p
//! veloflux --bench taps`) on the bench crate's harness and workload.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion};
use veloflux::runtime::{Retention, TapPoint, Taps};
use veloflux_benches::harness::{self, setup};
use veloflux_benches::stages::StageInputs;
use veloflux_benches::workload;

/// The allocator of the `veloFlux` server binary.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const POINTS: [TapPoint; 4] = [
    TapPoint::Source,
    TapPoint::Filter,
    TapPoint::Project,
    TapPoint::Sink,
];

fn taps(c: &mut Criterion) {
    let pool = workload::messages(1024);
    let plan = setup(workload::plan());
    let inputs = setup(StageInputs::try_new(&plan, &pool));
    let mut group = c.benchmark_group("taps");
    let idle = Taps::default();
    group.bench_function(BenchmarkId::new("idle", 1024), |b| {
        b.iter(|| {
            POINTS
                .iter()
                .for_each(|point| idle.observe(*point, black_box(&inputs.decoded)))
        });
    });
    let retaining = Taps::default();
    retaining.retain(Some(Retention {
        max_batches: 16,
        ttl_secs: 3600,
    }));
    group.bench_function(BenchmarkId::new("retaining", 1024), |b| {
        b.iter(|| {
            POINTS
                .iter()
                .for_each(|point| retaining.observe(*point, black_box(&inputs.decoded)))
        });
    });
    group.finish();
}

fn main() {
    harness::main(taps);
}
