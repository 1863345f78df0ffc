//! A pipeline's sinks: each encodes result batches its own way and sends the messages on.

use std::sync::Arc;
use std::time::Instant;

use arrow::array::RecordBatch;
use bytes::Bytes;
use veloflux_connectors::codec::json::JsonEncoder;
use veloflux_connectors::memory::MemoryHub;
use veloflux_connectors::mqtt::MqttSink;
use veloflux_connectors::status::ConnectorStatus;

use super::stats::StageStats;
use crate::spec::{SinkKind, SinkSpec, SpecError};

/// Where a sink's messages go.
enum Target {
    Mqtt(MqttSink),
    Memory { hub: MemoryHub, topic: String },
    Nop,
}

/// One configured sink of a running pipeline.
pub(super) struct Sink {
    name: String,
    target: Target,
    encoder: JsonEncoder,
    stats: Arc<StageStats>,
}

impl Sink {
    /// Connects the sink described by `spec`, the `index`-th of pipeline `pipeline`.
    pub(super) fn try_new(
        spec: &SinkSpec,
        index: usize,
        pipeline: &str,
        hub: &MemoryHub,
    ) -> Result<Self, SpecError> {
        let name = spec.id.clone().unwrap_or_else(|| format!("sink_{index}"));
        let target = match spec.kind {
            SinkKind::Mqtt => {
                let client_id = format!("veloflux-{pipeline}-{name}");
                Target::Mqtt(MqttSink::try_new(&spec.mqtt_props()?, &client_id)?)
            }
            SinkKind::Memory => Target::Memory {
                hub: hub.clone(),
                topic: spec.memory_props()?.topic,
            },
            SinkKind::Nop => Target::Nop,
        };
        let encoder = JsonEncoder::new(spec.format()?);
        Ok(Self {
            name,
            target,
            encoder,
            stats: Arc::default(),
        })
    }

    /// The sink's name in status and stats.
    pub(super) fn name(&self) -> &str {
        &self.name
    }

    /// The sink's counters.
    pub(super) fn stats(&self) -> Arc<StageStats> {
        self.stats.clone()
    }

    /// The connection state, for sinks that connect.
    pub(super) fn connector_status(&self) -> Option<Arc<ConnectorStatus>> {
        match &self.target {
            Target::Mqtt(sink) => Some(sink.status()),
            Target::Memory { .. } | Target::Nop => None,
        }
    }

    /// A mark of what the sink has sent so far, to wait on with [`Self::confirmed_through`].
    pub(super) fn mark(&self) -> u64 {
        match &self.target {
            Target::Mqtt(sink) => sink.published(),
            Target::Memory { .. } | Target::Nop => 0,
        }
    }

    /// Whether what was sent up to `mark` is safe: acknowledged by the broker for an MQTT
    /// sink at QoS 1 or 2, always otherwise.
    pub(super) fn is_confirmed_through(&self, mark: u64) -> bool {
        match &self.target {
            Target::Mqtt(sink) => sink.is_confirmed_through(mark),
            Target::Memory { .. } | Target::Nop => true,
        }
    }

    /// Resolves once what was sent up to `mark` is safe.
    pub(super) async fn confirmed_through(&self, mark: u64) {
        if let Target::Mqtt(sink) = &self.target {
            sink.confirmed_through(mark).await;
        }
    }

    /// Counts as errors the messages a broker that lost its session will never acknowledge.
    pub(super) fn count_lost(&self) {
        if let Target::Mqtt(sink) = &self.target {
            let lost = sink.take_lost();
            self.stats
                .record_errors(usize::try_from(lost).unwrap_or(usize::MAX), || {
                    "the broker lost its session before acknowledging these messages".to_owned()
                });
        }
    }

    /// Encodes `batch` and sends its messages, waiting while the destination is busy.
    pub(super) async fn send(&mut self, batch: &RecordBatch) {
        let started = Instant::now();
        let messages = match self.encoder.encode(batch) {
            Ok(messages) => messages,
            Err(error) => {
                self.stats
                    .record_errors(batch.num_rows(), || error.to_string());
                return;
            }
        };
        let (failed, last_error) = match &self.target {
            Target::Mqtt(sink) => match sink.publish_all(messages.iter()).await {
                Ok(()) => (0, String::new()),
                Err(unpublished) => (unpublished.count, unpublished.error.to_string()),
            },
            Target::Memory { hub, topic } => {
                for message in messages.iter() {
                    hub.publish(topic, Bytes::copy_from_slice(message)).await;
                }
                (0, String::new())
            }
            Target::Nop => (0, String::new()),
        };
        self.stats
            .record_batch(batch.num_rows(), messages.len() - failed, started.elapsed());
        self.stats.record_errors(failed, || last_error);
    }
}
