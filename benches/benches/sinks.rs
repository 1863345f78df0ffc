//! The HTTP and file sinks driven as the runtime drives them, a micro-batch per iteration:
//! encoded by the `json` encoder, sent through the `Sink` trait, and waited on until the sink
//! confirms it. Everything runs on one thread of a current-thread tokio runtime (plus the
//! file sink's blocking-pool thread), timed in CPU time of the whole process
//! ([`veloflux_benches::cpu`]): rows per second of CPU, what one core does. The same
//! groups run again timed by wall time (`http_sink_wall`, `file_sink_wall`): what the sink
//! sustains with its waits (the disk's `fsync`, the round trips) included.
//!
//! `http_sink`: batches of 1000 W1 result rows to a webhook on 127.0.0.1 (axum, answering
//! 200, in the same process and on the same runtime, so its cost is counted too): one request
//! per batch with `format: "array"`, one per row with `format: "row"`.
//!
//! `file_sink`: batches of 1024 rows appended as JSON lines to a file in a temporary directory
//! on the machine's disk, with `fsync: "never"` and `"batch"`. Each criterion sample writes a
//! fresh file, removed after it.

use std::hint::black_box;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use criterion::measurement::Measurement;
use criterion::{BenchmarkId, Criterion, Throughput};
use serde_json::json;
use tokio::runtime::Runtime;
use veloflux_benches::connectors::rows::w1_rows;
use veloflux_benches::connectors::sinks;
use veloflux_benches::connectors::webhook::Webhook;
use veloflux_benches::cpu::{ProcessCpuTime, process_cpu_time};
use veloflux_benches::harness::{self, FILE_SINK, HTTP_SINK, setup};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Rows per request body of the HTTP sink's array format.
const HTTP_ROWS: usize = 1000;
/// Rows per micro-batch written to the file.
const FILE_ROWS: usize = 1024;
/// How many distinct devices the rows cycle through.
const DEVICES: usize = 1000;
/// The suffix of the groups timed by wall time: what a sink sustains, waits included.
const WALL: &str = "_wall";

fn cpu_benches(c: &mut Criterion<ProcessCpuTime>) {
    let runtime = setup(
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build(),
    );
    http(c, &runtime, HTTP_SINK);
    file(c, &runtime, FILE_SINK, process_cpu_time);
}

fn wall_benches(c: &mut Criterion) {
    let runtime = setup(
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build(),
    );
    http(c, &runtime, &format!("{HTTP_SINK}{WALL}"));
    file(c, &runtime, &format!("{FILE_SINK}{WALL}"), wall_time);
}

fn http<M: Measurement>(c: &mut Criterion<M>, runtime: &Runtime, name: &str) {
    let webhook = setup(runtime.block_on(Webhook::start(Duration::ZERO, false)));
    let batch = setup(w1_rows(HTTP_ROWS, DEVICES));
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Elements(HTTP_ROWS as u64));
    for format in ["array", "row"] {
        let mut sink = {
            let _inside = runtime.enter();
            setup(sinks::sink("http", &json!({"url": webhook.url()})))
        };
        let mut encoder = setup(sinks::json_encoder(format));
        group.bench_function(BenchmarkId::new(format, HTTP_ROWS), |b| {
            b.iter(|| {
                runtime.block_on(async {
                    let messages = encoder.encode(black_box(&batch))?;
                    sinks::deliver(sink.as_mut(), messages).await
                })
            });
        });
    }
    group.finish();
}

/// The file sink, each criterion sample writing a fresh file timed by `clock`.
fn file<M: Measurement<Value = Duration>>(
    c: &mut Criterion<M>,
    runtime: &Runtime,
    name: &str,
    clock: fn() -> Duration,
) {
    let directory = setup(tempfile::tempdir());
    let batch = setup(w1_rows(FILE_ROWS, DEVICES));
    let mut encoder = setup(sinks::json_encoder("row"));
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Elements(FILE_ROWS as u64));
    for fsync in ["never", "batch"] {
        let mut sample = 0;
        group.bench_function(BenchmarkId::new(fsync, FILE_ROWS), |b| {
            b.iter_custom(|batches| {
                sample += 1;
                let path = directory.path().join(format!("{fsync}-{sample}.jsonl"));
                let props = json!({"path": path.to_string_lossy(), "fsync": fsync});
                let mut sink = setup(sinks::sink("file", &props));
                let started = clock();
                for _ in 0..batches {
                    runtime.block_on(async {
                        let messages = setup(encoder.encode(black_box(&batch)));
                        setup(sinks::deliver(sink.as_mut(), messages).await);
                    });
                }
                let elapsed = clock().saturating_sub(started);
                drop(sink);
                let _ = std::fs::remove_file(&path);
                elapsed
            });
        });
    }
    group.finish();
}

/// Wall time since the first call: the clock of the `_wall` groups.
fn wall_time() -> Duration {
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    ORIGIN.get_or_init(Instant::now).elapsed()
}

fn main() {
    harness::main_cpu(cpu_benches);
    harness::main(wall_benches);
}
