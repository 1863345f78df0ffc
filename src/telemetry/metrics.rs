//! Prometheus metrics. Every metric veloFlux exports is defined here, and `docs/metrics.md` is
//! their spec. They are built at scrape time from the counters the runtime keeps per batch,
//! so an unscraped server pays nothing beyond those counters.

use std::collections::BTreeMap;

use prometheus::core::Collector;
use prometheus::proto::{
    Bucket, Counter, Gauge, Histogram, LabelPair, Metric, MetricFamily, MetricType,
};
use prometheus::{Encoder, TextEncoder};

use crate::runtime::{
    CheckpointSnapshot, HistogramSnapshot, PipelineState, PipelineStatus, StageKind, WindowSnapshot,
};

/// The content type of the text exposition format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4";

/// Renders the metrics of `pipelines` (every pipeline, running or not) and of the process.
pub fn render(pipelines: &[(String, PipelineStatus)]) -> String {
    let mut families = Families::default();
    for (id, status) in pipelines {
        pipeline_metrics(&mut families, id, status);
    }
    #[expect(clippy::cast_precision_loss, reason = "a count of pipelines")]
    families.gauge(
        "veloflux_pipeline_count",
        "Pipelines defined.",
        &[],
        pipelines.len() as f64,
    );
    let mut all = families.into_families();
    all.extend(prometheus::process_collector::ProcessCollector::for_self().collect());
    let mut text = Vec::new();
    // Encoding into a Vec fails only on invalid metric names, which are constants here.
    let _ = TextEncoder::new().encode(&all, &mut text);
    String::from_utf8(text).unwrap_or_default()
}

fn pipeline_metrics(families: &mut Families, id: &str, status: &PipelineStatus) {
    let state = match status.state {
        PipelineState::Stopped => 0.0,
        PipelineState::Running => 1.0,
        PipelineState::Failed => 2.0,
    };
    families.gauge(
        "veloflux_pipeline_state",
        "Pipeline state: 0 stopped, 1 running, 2 failed (a connection is down and retried).",
        &[("pipeline", id)],
        state,
    );
    for stage in &status.stages {
        let (name, stats) = (stage.processor_id.as_str(), &stage.stats);
        let pipeline = [("pipeline", id)];
        match stage.kind {
            StageKind::Source => {
                families.counter(
                    "veloflux_source_messages_received_total",
                    "Messages received from the source.",
                    &pipeline,
                    stats.records_in,
                );
                families.counter(
                    "veloflux_source_bytes_received_total",
                    "Payload bytes received from the source.",
                    &pipeline,
                    stats.bytes_in,
                );
                families.counter(
                    "veloflux_decode_errors_total",
                    "Payloads skipped because they could not be decoded.",
                    &pipeline,
                    stats.error_count,
                );
            }
            StageKind::Plan => {}
            StageKind::Sink => {
                let labels = [("pipeline", id), ("sink", name)];
                families.counter(
                    "veloflux_sink_messages_sent_total",
                    "Messages a sink sent.",
                    &labels,
                    stats.records_out,
                );
                families.counter(
                    "veloflux_sink_errors_total",
                    "Messages a sink failed to send.",
                    &labels,
                    stats.error_count,
                );
            }
        }
        let labels = [("pipeline", id), ("operator", name)];
        families.counter(
            "veloflux_operator_rows_in_total",
            "Rows (messages for the source) an operator took.",
            &labels,
            stats.records_in,
        );
        families.counter(
            "veloflux_operator_rows_out_total",
            "Rows (messages for sinks) an operator produced.",
            &labels,
            stats.records_out,
        );
        families.counter(
            "veloflux_operator_errors_total",
            "Records an operator could not process.",
            &labels,
            stats.error_count,
        );
        families.histogram(
            "veloflux_operator_batch_seconds",
            "Time an operator took per batch.",
            &labels,
            &stats.batch_seconds,
        );
        families.histogram(
            "veloflux_batch_rows",
            "Records per batch an operator took.",
            &labels,
            &stats.batch_rows,
        );
    }
    if let Some(window) = &status.window {
        window_metrics(families, id, window);
    }
    if let Some(checkpoint) = &status.checkpoint {
        checkpoint_metrics(families, id, checkpoint);
    }
    for connector in &status.connectors {
        let labels = [("pipeline", id), ("connector", connector.name.as_str())];
        let connected = if connector.connected { 1.0 } else { 0.0 };
        families.gauge(
            "veloflux_connector_connected",
            "Whether a connection is up (1) or down (0).",
            &labels,
            connected,
        );
        families.counter(
            "veloflux_connector_reconnects_total",
            "Times a connection came back after being lost.",
            &labels,
            connector.reconnects,
        );
    }
}

fn window_metrics(families: &mut Families, id: &str, window: &WindowSnapshot) {
    let pipeline = [("pipeline", id)];
    families.counter(
        "veloflux_window_late_rows_total",
        "Rows dropped because they came behind the event-time watermark.",
        &pipeline,
        window.late_rows,
    );
    #[expect(clippy::cast_precision_loss, reason = "state sizes are far below 2^52")]
    families.gauge(
        "veloflux_window_state_bytes",
        "Bytes held by a pipeline's open windows, approximately.",
        &pipeline,
        window.state_bytes as f64,
    );
}

fn checkpoint_metrics(families: &mut Families, id: &str, checkpoint: &CheckpointSnapshot) {
    let pipeline = [("pipeline", id)];
    families.counter(
        "veloflux_checkpoints_total",
        "Checkpoints of a pipeline's state committed since it started.",
        &pipeline,
        checkpoint.count,
    );
    families.gauge(
        "veloflux_checkpoint_duration_seconds",
        "How long a pipeline's last checkpoint took, from taking its state to the commit.",
        &pipeline,
        checkpoint.last_duration_ms / 1000.0,
    );
    #[expect(
        clippy::cast_precision_loss,
        reason = "checkpoint sizes are far below 2^52"
    )]
    families.gauge(
        "veloflux_checkpoint_bytes",
        "The size of a pipeline's last checkpoint.",
        &pipeline,
        checkpoint.bytes as f64,
    );
    if let Some(age_ms) = checkpoint.age_ms {
        #[expect(clippy::cast_precision_loss, reason = "milliseconds of age")]
        families.gauge(
            "veloflux_checkpoint_age_seconds",
            "Time since a pipeline's last checkpoint was committed.",
            &pipeline,
            age_ms as f64 / 1000.0,
        );
    }
}

/// Metric families by name, filled one sample at a time.
#[derive(Default)]
struct Families {
    by_name: BTreeMap<&'static str, MetricFamily>,
}

impl Families {
    fn add(&mut self, name: &'static str, help: &str, kind: MetricType, metric: Metric) {
        let family = self.by_name.entry(name).or_insert_with(|| {
            let mut family = MetricFamily::default();
            family.set_name(name.to_owned());
            family.set_help(help.to_owned());
            family.set_field_type(kind);
            family
        });
        family.mut_metric().push(metric);
    }

    fn counter(&mut self, name: &'static str, help: &str, labels: &[(&str, &str)], value: u64) {
        let mut counter = Counter::default();
        #[expect(clippy::cast_precision_loss, reason = "Prometheus samples are f64")]
        counter.set_value(value as f64);
        let mut metric = labelled(labels);
        metric.set_counter(counter);
        self.add(name, help, MetricType::COUNTER, metric);
    }

    fn gauge(&mut self, name: &'static str, help: &str, labels: &[(&str, &str)], value: f64) {
        let mut gauge = Gauge::default();
        gauge.set_value(value);
        let mut metric = labelled(labels);
        metric.set_gauge(gauge);
        self.add(name, help, MetricType::GAUGE, metric);
    }

    fn histogram(
        &mut self,
        name: &'static str,
        help: &str,
        labels: &[(&str, &str)],
        snapshot: &HistogramSnapshot,
    ) {
        let mut histogram = Histogram::default();
        histogram.set_sample_count(snapshot.count);
        histogram.set_sample_sum(snapshot.sum);
        let buckets = snapshot.buckets.iter().map(|&(bound, count)| {
            let mut bucket = Bucket::default();
            bucket.set_upper_bound(bound);
            bucket.set_cumulative_count(count);
            bucket
        });
        histogram.set_bucket(buckets.collect());
        let mut metric = labelled(labels);
        metric.set_histogram(histogram);
        self.add(name, help, MetricType::HISTOGRAM, metric);
    }

    fn into_families(self) -> Vec<MetricFamily> {
        self.by_name.into_values().collect()
    }
}

fn labelled(labels: &[(&str, &str)]) -> Metric {
    let pairs = labels.iter().map(|(name, value)| {
        let mut pair = LabelPair::default();
        pair.set_name((*name).to_owned());
        pair.set_value((*value).to_owned());
        pair
    });
    let mut metric = Metric::default();
    metric.set_label(pairs.collect());
    metric
}
