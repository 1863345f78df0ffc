//! Criterion settings and the names results are filed under, shared by every bench and by the
//! `perf-chart` tool that reads the results back.

use std::time::Duration;

use criterion::Criterion;

use crate::cpu::ProcessCpuTime;

/// The decode stage: payloads to a record batch.
pub const DECODE: &str = "decode";
/// The filter stage: `WHERE score > 0` on the decoded batch.
pub const FILTER: &str = "filter";
/// The project stage: `SELECT user_id, score, device` on the filtered batch.
pub const PROJECT: &str = "project";
/// The encode stage: the projected batch to one message per row.
pub const ENCODE: &str = "encode";
/// The whole chain: payloads in, messages out.
pub const CHAIN: &str = "chain";
/// The whole chain of the windowed query beside the filter/project one, over the same
/// messages.
pub const WINDOW: &str = "window";
/// The windowed query's chain.
pub const WINDOWED: &str = "veloflux_window";
/// The windowed query's chain in event time, every row on time.
pub const WINDOWED_EVENT_TIME: &str = "veloflux_window_event_time";
/// The windowed query's chain in event time with every tenth row late.
pub const WINDOWED_LATE: &str = "veloflux_window_late_10pct";
/// The filter/project query's chain, in the window bench.
pub const FILTER_PROJECT: &str = "veloflux_filter_project";
/// Saving and restoring the window state of a pipeline.
pub const CHECKPOINT: &str = "checkpoint";
/// Taking a checkpoint of 10 000 open groups.
pub const TAKE_10K_GROUPS: &str = "take_10k_groups";
/// Restoring a checkpoint of 10 000 open groups into a fresh executor.
pub const RESTORE_10K_GROUPS: &str = "restore_10k_groups";
/// The chain with and without `meta(topic)` in the `SELECT`.
pub const METADATA: &str = "metadata";
/// The chain with a fixed sink destination beside one rendered from each row.
pub const DESTINATION: &str = "destination";
/// The sink's share of a rendered destination: splitting a result batch by destination and
/// encoding each group, beside encoding the whole batch.
pub const ROUTE: &str = "route";
/// The HTTP sink sending to a local webhook.
pub const HTTP_SINK: &str = "http_sink";
/// The file sink appending JSON lines.
pub const FILE_SINK: &str = "file_sink";

/// The columnar implementation of a stage or of the chain.
pub const VELOFLUX: &str = "veloflux";
/// The decoder over all ten columns of the stream.
pub const DECODE_FULL: &str = "veloflux_full_schema";
/// The decoder over only the three columns the query reads.
pub const DECODE_PRUNED: &str = "veloflux_pruned_schema";
/// The `serde_json::Value` baseline of a stage or of the chain.
pub const ROW_AT_A_TIME: &str = "row_at_a_time";

/// The criterion settings of every bench.
///
/// Twenty samples over three seconds kept every 95 % confidence interval within ±1.6 % but
/// one (±3.4 %), and the 28 benchmarks of `make bench` to 4.5 minutes on the 2-core machine
/// of `docs/PERFORMANCE.md`. Command-line options such as `--measurement-time` still apply.
pub fn criterion() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
}

/// The `main` of every bench binary: runs `bench` with the [`criterion`] settings and the
/// command line's options (a name filter, `--save-baseline`, ...), then prints criterion's
/// summary. Written out rather than through `criterion_group!`, whose generated function
/// cannot carry the documentation the workspace's `missing_docs` lint asks for.
pub fn main(bench: fn(&mut Criterion)) {
    let mut criterion = criterion().configure_from_args();
    bench(&mut criterion);
    criterion.final_summary();
}

/// The [`criterion`] settings measuring the process's CPU time instead of wall time: the
/// connector benches, whose targets are in CPU per message.
pub fn cpu_criterion() -> Criterion<ProcessCpuTime> {
    criterion().with_measurement(ProcessCpuTime)
}

/// [`main`] for a bench timed by CPU time ([`cpu_criterion`]).
pub fn main_cpu(bench: fn(&mut Criterion<ProcessCpuTime>)) {
    let mut criterion = cpu_criterion().configure_from_args();
    bench(&mut criterion);
    criterion.final_summary();
}

/// The value of a setup step. A bench cannot run without its inputs, so a failed setup ends
/// the bench run with the error.
///
/// # Panics
/// When `result` is an error.
pub fn setup<T, E: std::fmt::Display>(result: Result<T, E>) -> T {
    result.unwrap_or_else(|error| panic!("benchmark setup failed: {error}"))
}
