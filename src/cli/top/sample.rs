//! The counters of every pipeline at one moment, and the rates between two such moments.

use std::time::Instant;

use serde::Serialize;
use serde_json::Value;

use crate::cli::client::Client;
use crate::cli::error::CliError;

/// Every pipeline's counters, read at `at`.
#[derive(Debug)]
pub(super) struct Sample {
    at: Instant,
    pipelines: Vec<Counters>,
}

/// One pipeline's totals.
#[derive(Debug)]
struct Counters {
    id: String,
    state: String,
    /// Rows its source decoded.
    rows_in: u64,
    /// Rows its statement produced.
    rows_out: u64,
    /// Records any stage could not process.
    errors: u64,
    /// The 99th-percentile batch time of its slowest stage, in milliseconds.
    p99_batch_ms: Option<f64>,
    last_error: Option<String>,
}

/// A line of `veloFlux top`: a pipeline with its rates since the sample before.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(super) struct Line {
    pub(super) id: String,
    pub(super) state: String,
    /// Rows decoded per second; `None` on the first sample.
    pub(super) rows_in_per_sec: Option<f64>,
    /// Rows produced per second; `None` on the first sample.
    pub(super) rows_out_per_sec: Option<f64>,
    pub(super) errors: u64,
    pub(super) p99_batch_ms: Option<f64>,
    pub(super) last_error: Option<String>,
}

impl Sample {
    /// Reads the state and counters of every pipeline.
    ///
    /// # Errors
    /// As the client's requests. A pipeline deleted between the list and its status is
    /// left out.
    pub(super) async fn read(client: &Client) -> Result<Self, CliError> {
        let listed = client.get(&["pipelines"]).await?;
        let mut pipelines = Vec::new();
        for pipeline in listed.as_array().into_iter().flatten() {
            let Some(id) = pipeline["id"].as_str() else {
                continue;
            };
            match client.get(&["pipelines", id, "status"]).await {
                Ok(status) => pipelines.push(Counters::of(id, &status)),
                Err(CliError::Refused(_)) => {}
                Err(error) => return Err(error),
            }
        }
        Ok(Self {
            at: Instant::now(),
            pipelines,
        })
    }

    /// The lines of this sample, with the rates since `before` when there is one.
    pub(super) fn lines(&self, before: Option<&Sample>) -> Vec<Line> {
        let seconds = before.map(|before| self.at.duration_since(before.at).as_secs_f64());
        self.pipelines
            .iter()
            .map(|now| {
                let then = before
                    .and_then(|before| before.pipelines.iter().find(|then| then.id == now.id));
                let rate = |count: fn(&Counters) -> u64| {
                    let seconds = seconds.filter(|seconds| *seconds > 0.0)?;
                    let delta = count(now).saturating_sub(then.map_or(0, count));
                    Some(delta as f64 / seconds)
                };
                Line {
                    id: now.id.clone(),
                    state: now.state.clone(),
                    rows_in_per_sec: rate(|counters| counters.rows_in),
                    rows_out_per_sec: rate(|counters| counters.rows_out),
                    errors: now.errors,
                    p99_batch_ms: now.p99_batch_ms,
                    last_error: now.last_error.clone(),
                }
            })
            .collect()
    }
}

impl Counters {
    fn of(id: &str, status: &Value) -> Self {
        let stages = status["stages"].as_array().map_or(&[][..], Vec::as_slice);
        let counter = |kind: &str, field: &str| {
            let stage = stages.iter().find(|stage| stage["kind"] == kind);
            stage
                .and_then(|stage| stage["stats"][field].as_u64())
                .unwrap_or(0)
        };
        let p99 = stages
            .iter()
            .filter_map(|stage| stage["stats"]["p99_batch_ms"].as_f64())
            .reduce(f64::max);
        let errors = stages
            .iter()
            .filter_map(|stage| stage["stats"]["error_count"].as_u64())
            .sum();
        Self {
            id: id.to_owned(),
            state: status["state"].as_str().unwrap_or("unknown").to_owned(),
            rows_in: counter("source", "records_out"),
            rows_out: counter("plan", "records_out"),
            errors,
            p99_batch_ms: p99,
            last_error: status["last_error"].as_str().map(str::to_owned),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn status(rows_in: u64, rows_out: u64) -> Value {
        json!({"state": "running", "last_error": null, "stages": [
            {"processor_id": "source", "kind": "source", "stats": {"records_out": rows_in, "error_count": 1, "p99_batch_ms": 0.5}},
            {"processor_id": "plan", "kind": "plan", "stats": {"records_out": rows_out, "error_count": 2, "p99_batch_ms": 1.5}},
            {"processor_id": "sink_0", "kind": "sink", "stats": {"records_out": 7, "error_count": 0, "p99_batch_ms": 0.25}}
        ]})
    }

    #[test]
    fn rates_are_the_differences_over_the_seconds_between_samples() {
        let start = Instant::now();
        let before = Sample {
            at: start,
            pipelines: vec![Counters::of("p", &status(100, 10))],
        };
        let now = Sample {
            at: start + std::time::Duration::from_secs(2),
            pipelines: vec![Counters::of("p", &status(300, 50))],
        };
        let lines = now.lines(Some(&before));
        assert_eq!(
            lines,
            [Line {
                id: "p".into(),
                state: "running".into(),
                rows_in_per_sec: Some(100.0),
                rows_out_per_sec: Some(20.0),
                errors: 3,
                p99_batch_ms: Some(1.5),
                last_error: None,
            }]
        );
        assert_eq!(now.lines(None)[0].rows_in_per_sec, None);
    }
}
