//! Where a pipeline's batches come from: its own subscription (payloads it decodes itself),
//! or a shared stream (batches decoded once for every pipeline reading it).

use std::sync::Arc;
use std::time::Instant;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use veloflux_connectors::codec::json::JsonDecoder;
use veloflux_connectors::delivery::{Ack, Delivery};
use veloflux_connectors::memory::MemoryHub;
use veloflux_connectors::mqtt::MqttSource;
use veloflux_connectors::status::ConnectorStatus;

use super::batcher::{BatchPolicy, next_batch, take_queued};
use super::stats::StageStats;
use crate::config::RuntimeConfig;
use crate::spec::{SpecError, StreamKind, StreamSpec};

/// A decoded batch of a shared stream and the acknowledgements of its messages, which go to
/// the broker once every pipeline reading the stream has let go of them.
pub(super) type SharedBatch = (RecordBatch, Acks);

/// The holds on the acknowledgements of a micro-batch's messages: settled once what the
/// batch produced is safe, abandoned (the broker delivers again) if dropped unsettled.
pub(super) type Acks = Vec<Ack>;

/// A subscription's payloads and the status of its connection, if it has one.
pub(super) struct Subscription {
    pub(super) payloads: mpsc::Receiver<Delivery>,
    pub(super) status: Option<Arc<ConnectorStatus>>,
}

/// Subscribes to `stream`; the subscription ends when `shutdown` is cancelled.
pub(super) fn subscribe(
    stream: &StreamSpec,
    client_id: &str,
    config: &RuntimeConfig,
    hub: &MemoryHub,
    shutdown: CancellationToken,
) -> Result<Subscription, SpecError> {
    let capacity = config.channel_capacity;
    match stream.kind {
        StreamKind::Memory => {
            let payloads = hub.subscribe(&stream.memory_props()?.topic, capacity);
            Ok(Subscription {
                payloads,
                status: None,
            })
        }
        StreamKind::Mqtt => {
            let source = MqttSource::try_new(&stream.mqtt_props()?, client_id)?
                .with_read_interval(config.read_interval());
            let status = source.status();
            let (sender, payloads) = mpsc::channel(capacity.max(1));
            tokio::spawn(source.run(sender, shutdown));
            Ok(Subscription {
                payloads,
                status: Some(status),
            })
        }
    }
}

/// The batches a pipeline processes.
pub(super) enum Input {
    /// Payloads from the pipeline's own subscription, decoded here.
    Payloads {
        receiver: mpsc::Receiver<Delivery>,
        decoder: PayloadDecoder,
        queued: Vec<Delivery>,
    },
    /// Batches of a shared stream, with the columns this pipeline reads.
    Batches {
        receiver: mpsc::Receiver<SharedBatch>,
        columns: Vec<usize>,
        queued: Vec<SharedBatch>,
    },
}

impl Input {
    /// Waits for the next micro-batch; false once the input has ended.
    pub(super) async fn next(&mut self, policy: BatchPolicy) -> bool {
        match self {
            Self::Payloads {
                receiver, queued, ..
            } => next_batch(receiver, policy, queued).await,
            Self::Batches {
                receiver, queued, ..
            } => {
                let policy = BatchPolicy {
                    max_items: 1,
                    ..policy
                };
                next_batch(receiver, policy, queued).await
            }
        }
    }

    /// Takes what is queued without waiting; false when nothing was.
    pub(super) fn take_queued(&mut self, policy: BatchPolicy) -> bool {
        match self {
            Self::Payloads {
                receiver, queued, ..
            } => {
                queued.clear();
                take_queued(receiver, policy.max_items, queued);
                !queued.is_empty()
            }
            Self::Batches {
                receiver, queued, ..
            } => {
                queued.clear();
                take_queued(receiver, 1, queued);
                !queued.is_empty()
            }
        }
    }

    /// Takes the acknowledgements of the current micro-batch's messages.
    pub(super) fn take_acks(&mut self) -> Acks {
        match self {
            Self::Payloads { queued, .. } => take_acks(queued),
            Self::Batches { queued, .. } => queued
                .first_mut()
                .map(|(_, acks)| std::mem::take(acks))
                .unwrap_or_default(),
        }
    }

    /// The current micro-batch as a record batch of the plan's source schema; bad payloads
    /// are counted in `stats` and skipped.
    pub(super) fn batch(&mut self, stats: &StageStats) -> Option<RecordBatch> {
        match self {
            Self::Payloads {
                decoder, queued, ..
            } => decoder.decode_counted(queued, stats),
            Self::Batches {
                columns, queued, ..
            } => {
                let started = Instant::now();
                let batch = queued.first()?.0.project(columns).ok()?;
                stats.record_batch(batch.num_rows(), batch.num_rows(), started.elapsed());
                Some(batch)
            }
        }
    }
}

/// A decoder that refuses payloads over `runtime.max_payload_bytes` before reading them.
pub(super) struct PayloadDecoder {
    decoder: JsonDecoder,
    max_payload_bytes: usize,
}

impl PayloadDecoder {
    pub(super) fn new(decoder: JsonDecoder, max_payload_bytes: usize) -> Self {
        Self {
            decoder,
            max_payload_bytes,
        }
    }

    /// Decodes `payloads`, counting them, the rows they gave and the ones that were skipped
    /// (malformed, mistyped or too big).
    pub(super) fn decode_counted(
        &mut self,
        payloads: &[Delivery],
        stats: &StageStats,
    ) -> Option<RecordBatch> {
        let started = Instant::now();
        let max = self.max_payload_bytes;
        let oversized = payloads.iter().filter(|p| p.payload.len() > max).count();
        let decoded = if oversized == 0 {
            self.decoder.decode(payloads)
        } else {
            let fitting: Vec<&Delivery> =
                payloads.iter().filter(|p| p.payload.len() <= max).collect();
            self.decoder.decode(&fitting)
        }
        .ok()?;
        stats.record_batch(payloads.len(), decoded.batch.num_rows(), started.elapsed());
        stats.record_bytes(payloads.iter().map(|payload| payload.payload.len()).sum());
        stats.record_errors(decoded.errors.len() + oversized, || {
            match decoded.errors.last() {
                Some(error) => error.error.to_string(),
                None => {
                    format!("a payload over runtime.max_payload_bytes ({max} bytes) was skipped")
                }
            }
        });
        Some(decoded.batch)
    }
}

/// The acknowledgements of `deliveries`, taken out of them.
pub(super) fn take_acks(deliveries: &mut [Delivery]) -> Vec<Ack> {
    deliveries
        .iter_mut()
        .filter_map(|delivery| delivery.ack.take())
        .collect()
}

/// The positions in `full` of the fields of `wanted`.
pub(super) fn column_indices(full: &SchemaRef, wanted: &SchemaRef) -> Vec<usize> {
    wanted
        .fields()
        .iter()
        .filter_map(|field| full.index_of(field.name()).ok())
        .collect()
}
