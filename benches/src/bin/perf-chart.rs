//! `perf-chart`: reads the latest criterion results of the veloFlux benches, prints the tables
//! of `docs/PERFORMANCE.md` (rows/s and MB/s of input JSON per bench and batch size, the chain
//! against the row-at-a-time baseline) and draws the chain's throughput against batch size
//! as an SVG.
//!
//! Usage: `perf-chart [OUTPUT.svg]` (default `docs/img/chain-throughput.svg`), after
//! `cargo bench -p veloflux-benches`, with the same `CARGO_TARGET_DIR`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use plotters::prelude::*;
use tabled::Tabled;
use veloflux_benches::e2e::chart::{FONT, chart_error, draw_legend, draw_line, svg_root};
use veloflux_benches::e2e::table::markdown;
use veloflux_benches::harness::{
    CHAIN, DECODE, DECODE_FULL, DECODE_PRUNED, ENCODE, FILTER, PROJECT, ROW_AT_A_TIME, VELOFLUX,
};
use veloflux_benches::{Result, estimates, workload};

/// The chain's throughput target at batch 1024, in input rows per second.
const TARGET_ROWS_PER_SECOND: f64 = 3.0e6;

/// One bench result: a group, an implementation and a batch size, with its time per batch.
struct Measurement {
    group: &'static str,
    function: &'static str,
    batch_size: usize,
    nanos: f64,
    input_bytes: f64,
}

impl Measurement {
    fn rows_per_second(&self) -> f64 {
        self.batch_size as f64 / self.nanos * 1e9
    }

    fn megabytes_per_second(&self) -> f64 {
        self.input_bytes / self.nanos * 1e3
    }

    fn micros_per_row(&self) -> f64 {
        self.nanos / self.batch_size as f64 / 1e3
    }
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("perf-chart: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<()> {
    let output = std::env::args_os().nth(1).map_or_else(
        || PathBuf::from("docs/img/chain-throughput.svg"),
        PathBuf::from,
    );
    let measurements = read_all(&estimates::criterion_dir())?;
    print_stage_table(&measurements);
    print_chain_table(&measurements);
    draw_chart(&output, &measurements)?;
    println!("\nchart written to {}", output.display());
    Ok(())
}

/// Every bench the crate defines, in the order of the tables.
fn benches() -> Vec<(&'static str, &'static str, usize)> {
    let stages = [
        (
            DECODE,
            [DECODE_FULL, DECODE_PRUNED, ROW_AT_A_TIME].as_slice(),
        ),
        (FILTER, &[VELOFLUX, ROW_AT_A_TIME]),
        (PROJECT, &[VELOFLUX, ROW_AT_A_TIME]),
        (ENCODE, &[VELOFLUX, ROW_AT_A_TIME]),
    ];
    let mut benches = Vec::new();
    for (group, functions) in stages {
        for batch_size in workload::STAGE_BATCH_SIZES {
            benches.extend(
                functions
                    .iter()
                    .map(|function| (group, *function, batch_size)),
            );
        }
    }
    for batch_size in workload::CHAIN_BATCH_SIZES {
        benches.extend([VELOFLUX, ROW_AT_A_TIME].map(|function| (CHAIN, function, batch_size)));
    }
    benches
}

fn read_all(dir: &Path) -> Result<Vec<Measurement>> {
    let pool = workload::messages(workload::POOL_SIZE);
    benches()
        .into_iter()
        .map(|(group, function, batch_size)| {
            // The chain cycles through the whole pool; a stage bench takes its first messages.
            let input_bytes = if group == CHAIN {
                workload::mean_batch_bytes(&pool, batch_size)
            } else {
                workload::byte_len(&pool[..batch_size]) as f64
            };
            Ok(Measurement {
                group,
                function,
                batch_size,
                nanos: estimates::typical_ns(dir, group, function, batch_size)?,
                input_bytes,
            })
        })
        .collect()
}

fn print_stage_table(measurements: &[Measurement]) {
    let lines = measurements.iter().map(|m| StageLine {
        bench: m.group,
        implementation: m.function,
        batch: m.batch_size,
        nanos: m.nanos,
        rows_per_second: m.rows_per_second(),
        megabytes_per_second: m.megabytes_per_second(),
    });
    print!("{}", markdown(lines, 2));
}

fn print_chain_table(measurements: &[Measurement]) {
    let lines = chain_pairs(measurements)
        .into_iter()
        .map(|(chain, baseline)| ChainLine {
            batch: chain.batch_size,
            chain_rate: chain.rows_per_second(),
            baseline_rate: baseline.rows_per_second(),
            speedup: baseline.nanos / chain.nanos,
            chain_micros: chain.micros_per_row(),
            baseline_micros: baseline.micros_per_row(),
        });
    print!("\n{}", markdown(lines, 0));
}

/// One line of the stage table: a bench at one batch size.
#[derive(Tabled)]
struct StageLine {
    bench: &'static str,
    implementation: &'static str,
    batch: usize,
    #[tabled(rename = "time per batch", display = "format_duration")]
    nanos: f64,
    #[tabled(rename = "input rows/s", display = "format_rate")]
    rows_per_second: f64,
    #[tabled(rename = "input MB/s", display = "format_megabytes")]
    megabytes_per_second: f64,
}

/// One line of the chain table: the chain against the baseline at one batch size.
#[derive(Tabled)]
struct ChainLine {
    batch: usize,
    #[tabled(rename = "chain rows/s", display = "format_rate")]
    chain_rate: f64,
    #[tabled(rename = "baseline rows/s", display = "format_rate")]
    baseline_rate: f64,
    #[tabled(rename = "chain / baseline", format("{:.2}x", self.speedup))]
    speedup: f64,
    #[tabled(rename = "chain µs per message", format("{:.3}", self.chain_micros))]
    chain_micros: f64,
    #[tabled(rename = "baseline µs per message", format("{:.3}", self.baseline_micros))]
    baseline_micros: f64,
}

/// The chain's measurement and the baseline's at each batch size, smallest batch first.
fn chain_pairs(measurements: &[Measurement]) -> Vec<(&Measurement, &Measurement)> {
    let find = |function: &str, batch_size: usize| {
        measurements
            .iter()
            .find(|m| m.group == CHAIN && m.function == function && m.batch_size == batch_size)
    };
    workload::CHAIN_BATCH_SIZES
        .iter()
        .filter_map(|&size| Some((find(VELOFLUX, size)?, find(ROW_AT_A_TIME, size)?)))
        .collect()
}

fn format_duration(nanos: &f64) -> String {
    match *nanos {
        n if n >= 1e6 => format!("{:.2} ms", n / 1e6),
        n if n >= 1e3 => format!("{:.2} µs", n / 1e3),
        n => format!("{n:.0} ns"),
    }
}

fn format_rate(per_second: &f64) -> String {
    match *per_second {
        rate if rate >= 1e9 => format!("{:.1} G", rate / 1e9),
        rate if rate >= 1e6 => format!("{:.2} M", rate / 1e6),
        rate => format!("{:.0} k", rate / 1e3),
    }
}

fn format_megabytes(per_second: &f64) -> String {
    if *per_second >= 1e3 {
        format!("{per_second:.0}")
    } else {
        format!("{per_second:.1}")
    }
}

fn draw_chart(path: &Path, measurements: &[Measurement]) -> Result<()> {
    let pairs = chain_pairs(measurements);
    let millions = |m: &Measurement| (m.batch_size as f64, m.rows_per_second() / 1e6);
    let chain: Vec<(f64, f64)> = pairs.iter().map(|(chain, _)| millions(chain)).collect();
    let baseline: Vec<(f64, f64)> = pairs.iter().map(|(_, base)| millions(base)).collect();
    let top = chain
        .iter()
        .chain(&baseline)
        .map(|&(_, rate)| rate)
        .fold(TARGET_ROWS_PER_SECOND / 1e6, f64::max);
    let largest = workload::CHAIN_BATCH_SIZES
        .iter()
        .max()
        .map_or(1.0, |&size| size as f64);
    let root = svg_root(path, (800, 480))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Whole chain: input rows per second against micro-batch size",
            (FONT, 20),
        )
        .margin(20)
        .x_label_area_size(50)
        .y_label_area_size(60)
        .build_cartesian_2d((1.0..largest * 1.5).log_scale(), 0.0..top * 1.15)
        .map_err(chart_error)?;
    chart
        .configure_mesh()
        .x_desc("messages per micro-batch")
        .y_desc("million input rows / s")
        .x_label_formatter(&|size| format!("{size:.0}"))
        .draw()
        .map_err(chart_error)?;
    draw_line(&mut chart, chain, BLUE, "veloFlux chain (JsonChain)")?;
    draw_line(
        &mut chart,
        baseline,
        RED,
        "row at a time (serde_json::Value)",
    )?;
    draw_target(&mut chart, largest * 1.5)?;
    draw_legend(&mut chart, SeriesLabelPosition::MiddleRight)?;
    root.present().map_err(chart_error)
}

type Chart<'a, 'b> = ChartContext<
    'a,
    SVGBackend<'b>,
    Cartesian2d<
        plotters::coord::combinators::LogCoord<f64>,
        plotters::coord::types::RangedCoordf64,
    >,
>;

/// The throughput target as a dashed green line across the chart.
fn draw_target(chart: &mut Chart<'_, '_>, right: f64) -> Result<()> {
    let rate = TARGET_ROWS_PER_SECOND / 1e6;
    let style = RGBColor(0, 140, 60).stroke_width(2);
    let line = DashedLineSeries::new([(1.0, rate), (right, rate)], 10, 6, style);
    chart
        .draw_series(line)
        .map_err(chart_error)?
        .label("target at batch 1024: 3 M rows/s")
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
    Ok(())
}
