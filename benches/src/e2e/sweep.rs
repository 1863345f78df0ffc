//! The batch-size sweep: W1 at QoS 0 through one server, its pipeline replaced (`PUT`) with
//! each `batch_size` × `linger_ms` in turn, measuring the unthrottled throughput and the
//! latency of a run paced at a fixed rate.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};
use veloflux_testkit::Server;

use super::deploy::{self, PIPELINE, Topics};
use super::measure::Bench;
use super::specs::Batching;
use super::table::{Measured, Paced};
use super::workloads::{Kind, Workload};
use crate::Result;
use crate::load::latency::LatencySummary;
use crate::load::run;

/// The batch sizes swept: those of the chain bench.
pub const BATCH_SIZES: [usize; 5] = crate::workload::CHAIN_BATCH_SIZES;

/// The linger times swept, in milliseconds.
pub const LINGERS_MS: [u64; 3] = [0, 5, 20];

/// How long the paced run of each point lasts, at most, in seconds of publishing.
const PACED_SECONDS: u64 = 5;

/// One point of the sweep.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// The pipeline's options.
    pub batching: Batching,
    /// The unthrottled run's sustained rate ([`Measured::sustained_rate`]), in input messages
    /// per second.
    pub throughput: Option<f64>,
    /// The unthrottled run's output loss.
    pub loss: i64,
    /// The paced run.
    pub paced: Paced,
}

impl Point {
    /// The point as JSON; latencies in milliseconds.
    pub fn json(&self) -> Value {
        let millis = |duration: Duration| duration.as_secs_f64() * 1e3;
        let latency = self.paced.latency;
        json!({
            "batch_size": self.batching.batch_size,
            "linger_ms": self.batching.linger_ms,
            "sustained_rate": self.throughput,
            "loss": self.loss,
            "paced_rate": self.paced.rate,
            "paced_loss": self.paced.loss,
            "samples": latency.map(|latency| latency.samples),
            "p50_ms": latency.map(|latency| millis(latency.p50)),
            "p99_ms": latency.map(|latency| millis(latency.p99)),
            "max_ms": latency.map(|latency| millis(latency.max)),
        })
    }

    /// A point read back from [`Point::json`], so that a chart can be redrawn without
    /// measuring again; `None` when a field is missing.
    pub fn from_json(value: &Value) -> Option<Self> {
        let millis = |key: &str| {
            let millis = value[key].as_f64()?;
            Some(Duration::from_secs_f64(millis.max(0.0) / 1e3))
        };
        let latency = match (millis("p50_ms"), millis("p99_ms")) {
            (Some(p50), Some(p99)) => Some(LatencySummary {
                samples: value["samples"].as_u64().unwrap_or(0) as usize,
                p50,
                p99,
                max: millis("max_ms").unwrap_or(p99),
            }),
            _ => None,
        };
        Some(Self {
            batching: Batching {
                batch_size: usize::try_from(value["batch_size"].as_u64()?).ok()?,
                linger_ms: value["linger_ms"].as_u64()?,
            },
            throughput: value["sustained_rate"].as_f64(),
            loss: value["loss"].as_i64()?,
            paced: Paced {
                rate: value["paced_rate"].as_u64()?,
                loss: value["paced_loss"].as_i64()?,
                latency,
            },
        })
    }
}

/// Every batch size × linger, in order: the linger varies fastest.
pub fn grid() -> Vec<Batching> {
    BATCH_SIZES
        .iter()
        .flat_map(|&batch_size| {
            LINGERS_MS.iter().map(move |&linger_ms| Batching {
                batch_size,
                linger_ms,
            })
        })
        .collect()
}

/// Runs the sweep: `bench.messages` unthrottled, then up to [`PACED_SECONDS`] at `rate`, for
/// each point of [`grid`].
///
/// # Errors
/// When the server, a request or a run fails.
pub async fn run(bench: &Bench, rate: u64, work_dir: &Path) -> Result<Vec<Point>> {
    let workload = Workload::new(Kind::Filter, 0);
    let mut server = Server::start_in(&bench.server, &work_dir.join("sweep")).await?;
    let api = server.api();
    let topics = bench.topics("sweep");
    let grid = grid();
    let mut points = Vec::with_capacity(grid.len());
    for (index, batching) in grid.into_iter().enumerate() {
        eprintln!(
            "bench-e2e: sweep batch_size {} linger_ms {}",
            batching.batch_size, batching.linger_ms
        );
        if index == 0 {
            deploy::deploy(api, &bench.broker, workload, &topics, Some(batching)).await?;
        } else {
            let mut spec = deploy::pipeline_spec(&bench.broker, workload, &topics, Some(batching))?;
            if let Some(object) = spec.as_object_mut() {
                object.remove("id");
            }
            api.replace_pipeline(PIPELINE, &spec).await?;
            deploy::warm_up(api, &bench.broker, workload, &topics).await?;
        }
        points.push(point(bench, workload, &topics, batching, rate).await?);
    }
    server.terminate().await?;
    Ok(points)
}

async fn point(
    bench: &Bench,
    workload: Workload,
    topics: &Topics,
    batching: Batching,
    rate: u64,
) -> Result<Point> {
    let config = deploy::run_config(
        &bench.broker,
        workload,
        topics,
        bench.messages,
        0,
        bench.drain,
    );
    let unthrottled = run::run(&config).await?;
    let paced_messages = bench.messages.min(rate * PACED_SECONDS).max(1);
    let config = deploy::run_config(
        &bench.broker,
        workload,
        topics,
        paced_messages,
        rate,
        bench.drain,
    );
    let paced = run::run(&config).await?;
    let measured = Measured {
        workload,
        report: unthrottled,
        server: None,
        paced: None,
    };
    Ok(Point {
        batching,
        throughput: measured.sustained_rate(),
        loss: unthrottled.loss(),
        paced: Paced {
            rate,
            loss: paced.loss(),
            latency: paced.received.latency,
        },
    })
}

/// The sweep as a table: one line per batch size, throughput and p99 per linger.
pub fn render(points: &[Point]) -> String {
    let mut table = String::from("batch_size");
    for linger in LINGERS_MS {
        let _ = write!(
            table,
            "  {:>14}  {:>11}",
            format!("msg/s l={linger}"),
            format!("p99 l={linger}")
        );
    }
    table.push('\n');
    for batch_size in BATCH_SIZES {
        let _ = write!(table, "{batch_size:>10}");
        for linger_ms in LINGERS_MS {
            let found = points.iter().find(|point| {
                point.batching
                    == Batching {
                        batch_size,
                        linger_ms,
                    }
            });
            let throughput = found
                .and_then(|point| point.throughput)
                .map_or_else(|| "-".to_owned(), |rate| format!("{rate:.0}"));
            let p99 = found.and_then(|point| point.paced.latency).map_or_else(
                || "-".to_owned(),
                |latency| format!("{:.2} ms", latency.p99.as_secs_f64() * 1e3),
            );
            let _ = write!(table, "  {throughput:>14}  {p99:>11}");
        }
        table.push('\n');
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_grid_covers_every_pair_once() {
        let grid = grid();
        assert_eq!(grid.len(), 15);
        assert_eq!(
            grid[0],
            Batching {
                batch_size: 1,
                linger_ms: 0
            }
        );
        assert_eq!(
            grid[14],
            Batching {
                batch_size: 8192,
                linger_ms: 20
            }
        );
    }

    #[test]
    fn the_table_has_a_line_per_batch_size() {
        let point = Point {
            batching: Batching {
                batch_size: 16,
                linger_ms: 5,
            },
            throughput: Some(42_000.0),
            loss: 0,
            paced: Paced {
                rate: 20_000,
                loss: 0,
                latency: None,
            },
        };
        assert_eq!(Point::from_json(&point.json()), Some(point));
        let table = render(&[point]);
        assert_eq!(table.lines().count(), 6);
        assert!(table.lines().nth(2).unwrap().contains("42000"), "{table}");
    }
}
