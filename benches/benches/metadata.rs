//! What `meta(topic)` costs: the whole chain of the chain bench's query (W1) beside the same
//! query also selecting `meta(topic) AS topic`, over messages that arrived on 1000 topics
//! (`sensors/<device>/data`), at batch sizes 1 and 1024. A third line runs W1 over the bare
//! payloads, as the chain bench does, to show that carrying topics costs nothing when the
//! query does not read them. Timed in CPU time ([`veloflux_benches::cpu`]).

use std::hint::black_box;

use criterion::{BenchmarkGroup, BenchmarkId, Criterion, Throughput};
use veloflux_benches::connectors::message::topic_messages;
use veloflux_benches::cpu::ProcessCpuTime;
use veloflux_benches::harness::{self, METADATA, setup};
use veloflux_benches::workload;
use veloflux_connectors::codec::Message;
use veloflux_engine::{Chain, wall_clock_ms};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// How many topics (devices) the messages arrive on.
const TOPICS: usize = 1000;

/// The batch sizes: the latency-bound case and the one the targets are stated at.
const BATCH_SIZES: [usize; 2] = [1, 1024];

fn metadata(c: &mut Criterion<ProcessCpuTime>) {
    let messages = topic_messages(workload::POOL_SIZE, TOPICS);
    let payloads: Vec<&[u8]> = messages.iter().map(|m| m.payload.as_slice()).collect();
    let mut group = c.benchmark_group(METADATA);
    for rows in BATCH_SIZES {
        group.throughput(Throughput::Elements(rows as u64));
        let mut plain = setup(veloflux_testkit::json_chain(setup(workload::plan())));
        bench(&mut group, "bare_payloads", rows, &mut plain, &payloads);
        bench(&mut group, "without_meta", rows, &mut plain, &messages);
        let mut with_topic = setup(veloflux_testkit::json_chain(setup(workload::meta_plan())));
        bench(&mut group, "with_meta", rows, &mut with_topic, &messages);
    }
    group.finish();
}

/// Times `chain` over `pool`, a micro-batch of `rows` per iteration.
fn bench<M: Message>(
    group: &mut BenchmarkGroup<'_, ProcessCpuTime>,
    name: &str,
    rows: usize,
    chain: &mut Chain,
    pool: &[M],
) {
    let mut batches = pool.chunks(rows).cycle();
    group.bench_function(BenchmarkId::new(name, rows), |b| {
        b.iter(|| {
            let messages = batches.next().unwrap_or_default();
            chain.process_at(black_box(messages), wall_clock_ms(), |_, message| {
                black_box(message);
            })
        });
    });
}

fn main() {
    harness::main_cpu(metadata);
}
