//! What a destination rendered from each row (`{{device}}`) costs beside a fixed one.
//!
//! `destination`: the whole chain of the chain bench's query (W1) at batch 1024, its result
//! encoded whole for a fixed topic, or split by `sensors/{{device}}/alerts` as the server's
//! runtime does for an encoder that writes a message per row: `Template::route_rows` gives
//! each destination's row positions, the batch is encoded once, and each destination takes
//! its rows' messages (`EncodedMessages::select`); over messages from 10 and from 1000
//! devices.
//!
//! `route`: the sink's part alone, on a result batch of 1024 rows (no filter): encoding it
//! whole; routing it into batches (`Template::route`, what an encoder writing one message
//! per batch needs) then encoding each group; routing it by row positions then encoding once
//! and selecting each destination's messages.
//!
//! Timed in CPU time ([`veloflux_benches::cpu`]).

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput};
use veloflux_benches::connectors::rows::w1_rows;
use veloflux_benches::cpu::ProcessCpuTime;
use veloflux_benches::harness::{self, DESTINATION, ROUTE, setup};
use veloflux_benches::workload;
use veloflux_connectors::codec::json::{JsonEncoder, JsonFormat};
use veloflux_connectors::template::Template;
use veloflux_engine::{Chain, wall_clock_ms};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The micro-batch size.
const ROWS: usize = 1024;

/// How many distinct devices the messages come from: few destinations per batch, and about
/// one per row.
const DEVICE_COUNTS: [usize; 2] = [10, 1000];

/// The rendered destination.
const TEMPLATE: &str = "sensors/{{device}}/alerts";

fn destinations(c: &mut Criterion<ProcessCpuTime>) {
    let template = setup(Template::parse(TEMPLATE));
    chains(c, &template);
    routes(c, &template);
}

fn chains(c: &mut Criterion<ProcessCpuTime>, template: &Template) {
    let mut group = c.benchmark_group(DESTINATION);
    group.throughput(Throughput::Elements(ROWS as u64));
    for devices in DEVICE_COUNTS {
        let pool = workload::device_messages(workload::POOL_SIZE, devices);
        let mut chain = setup(veloflux_testkit::json_chain(setup(workload::plan())));
        let mut batches = pool.chunks(ROWS).cycle();
        group.bench_function(BenchmarkId::new("fixed", devices), |b| {
            b.iter(|| {
                let payloads = batches.next().unwrap_or_default();
                chain.process_at(black_box(payloads), wall_clock_ms(), |_, message| {
                    black_box(message);
                })
            });
        });
        let mut batches = pool.chunks(ROWS).cycle();
        group.bench_function(BenchmarkId::new("templated", devices), |b| {
            b.iter(|| {
                let payloads = batches.next().unwrap_or_default();
                routed_chain(&mut chain, template, black_box(payloads))
            });
        });
    }
    group.finish();
}

/// The chain as the runtime runs it for a sink with a rendered destination and a message
/// per row: decode and execute, route the result's rows, encode it once, hand each
/// destination its messages. Returns the destinations.
fn routed_chain(
    chain: &mut Chain,
    template: &Template,
    payloads: &[Vec<u8>],
) -> veloflux_benches::Result<usize> {
    let decoded = chain.decode(payloads)?;
    let executed = chain.execute(&decoded.batch, wall_clock_ms(), &mut |_, _| {})?;
    let routes = template.route_rows(&executed.batch)?;
    if let Some(messages) = chain.encode(0, &executed.batch) {
        let messages = messages?;
        for (destination, rows) in &routes.groups {
            black_box((destination, messages.select(rows).byte_len()));
        }
    }
    Ok(routes.groups.len())
}

fn routes(c: &mut Criterion<ProcessCpuTime>, template: &Template) {
    let mut group = c.benchmark_group(ROUTE);
    group.throughput(Throughput::Elements(ROWS as u64));
    let mut encoder = JsonEncoder::new(JsonFormat::MessagePerRow);
    for devices in DEVICE_COUNTS {
        let batch = setup(w1_rows(ROWS, devices));
        group.bench_function(BenchmarkId::new("encode", devices), |b| {
            b.iter(|| encoder.encode(black_box(&batch)).map(|m| m.len()));
        });
        group.bench_function(BenchmarkId::new("route", devices), |b| {
            b.iter(|| template.route(black_box(&batch)).map(|r| r.groups.len()));
        });
        group.bench_function(BenchmarkId::new("route_encode", devices), |b| {
            b.iter(|| {
                let routes = template.route(black_box(&batch))?;
                for (destination, rows) in &routes.groups {
                    black_box((destination, encoder.encode(rows)?.len()));
                }
                Ok::<_, veloflux_connectors::Error>(routes.groups.len())
            });
        });
        group.bench_function(BenchmarkId::new("route_rows_select", devices), |b| {
            b.iter(|| {
                let routes = template.route_rows(black_box(&batch))?;
                let messages = encoder.encode(&batch)?;
                for (destination, rows) in &routes.groups {
                    black_box((destination, messages.select(rows).byte_len()));
                }
                Ok::<_, veloflux_connectors::Error>(routes.groups.len())
            });
        });
    }
    group.finish();
}

fn main() {
    harness::main_cpu(destinations);
}
