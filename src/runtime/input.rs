//! Where a pipeline's batches come from: its own subscription (payloads it decodes itself),
//! or a shared stream (batches decoded once for every pipeline reading it).

use std::time::Instant;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use veloflux_connectors::codec::MessageDecoder;
use veloflux_connectors::connector::{ConnectorContext, Subscription};
use veloflux_connectors::delivery::{Ack, Delivery};
use veloflux_connectors::registry::registry;

use super::batcher::{BatchPolicy, next_batch, take_queued};
use super::stats::StageStats;
use crate::spec::StreamSpec;

/// A decoded batch of a shared stream and the acknowledgements of its messages, which go to
/// the broker once every pipeline reading the stream has let go of them.
pub(super) type SharedBatch = (RecordBatch, Acks);

/// The holds on the acknowledgements of a micro-batch's messages: settled once what the
/// batch produced is safe, abandoned (the broker delivers again) if dropped unsettled.
pub(super) type Acks = Vec<Ack>;

/// Subscribes to `stream` through its source connector, into a channel holding `capacity`;
/// the subscription ends when `shutdown` is cancelled.
pub(super) fn subscribe(
    stream: &StreamSpec,
    context: &ConnectorContext<'_>,
    capacity: usize,
    shutdown: CancellationToken,
) -> veloflux_connectors::Result<Subscription> {
    let source = registry()
        .source(&stream.kind)?
        .build(&stream.props, context)?;
    Ok(source.start(capacity, shutdown))
}

/// The batches a pipeline processes.
pub(super) enum Input {
    /// Payloads from the pipeline's own subscription, decoded here.
    Payloads {
        receiver: mpsc::Receiver<Delivery>,
        limit: PayloadLimit,
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

    /// The current micro-batch as a record batch of the plan's source schema, payloads
    /// decoded with `decoder`; bad payloads are counted in `stats` and skipped. A shared
    /// stream's batch was decoded and counted once for all its pipelines: it is only
    /// projected to the columns this one reads.
    pub(super) fn batch(
        &mut self,
        decoder: &mut MessageDecoder,
        stats: &StageStats,
    ) -> Option<RecordBatch> {
        match self {
            Self::Payloads { limit, queued, .. } => limit.decode_counted(decoder, queued, stats),
            Self::Batches {
                columns, queued, ..
            } => queued.first()?.0.project(columns).ok(),
        }
    }
}

/// How a stream's messages are taken in: its channel's capacity and the payload size limit.
#[derive(Debug, Clone, Copy)]
pub(super) struct StreamInput {
    pub(super) capacity: usize,
    pub(super) limit: PayloadLimit,
}

/// `runtime.max_payload_bytes`: payloads over it are skipped before they are read.
#[derive(Debug, Clone, Copy)]
pub(super) struct PayloadLimit {
    pub(super) max_payload_bytes: usize,
}

impl PayloadLimit {
    /// Decodes `payloads` with `decoder`, counting them, the rows they gave and the ones that
    /// were skipped (malformed, mistyped or too big).
    pub(super) fn decode_counted(
        self,
        decoder: &mut MessageDecoder,
        payloads: &[Delivery],
        stats: &StageStats,
    ) -> Option<RecordBatch> {
        let started = Instant::now();
        let max = self.max_payload_bytes;
        let oversized = payloads.iter().filter(|p| p.payload.len() > max).count();
        let decoded = if oversized == 0 {
            decoder.decode_batch(payloads)
        } else {
            let fitting: Vec<&Delivery> =
                payloads.iter().filter(|p| p.payload.len() <= max).collect();
            decoder.decode_batch(&fitting)
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
