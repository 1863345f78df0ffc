//! Shared streams: one subscription and one decode, whose batches go to every pipeline that
//! reads the stream. Arrow arrays are reference-counted, so each pipeline's copy is free.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arrow::datatypes::{Schema, SchemaRef};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use veloflux_connectors::codec::{MessageDecoder, MetadataColumn};
use veloflux_connectors::connector::ConnectorContext;
use veloflux_connectors::delivery::{Ack, Delivery};
use veloflux_connectors::registry::registry;
use veloflux_connectors::status::ConnectorStatus;

use super::batcher::{BatchPolicy, next_batch};
use super::input::{PayloadLimit, SharedBatch, StreamInput, subscribe, take_acks};
use super::stats::StageStats;
use crate::spec::StreamSpec;
use veloflux_planner::Metadata;

/// A shared stream's columns: the stream's, then the metadata every source can fill
/// (`meta(topic)`, `meta(received_at)`), for whichever pipelines read them. Message
/// properties (`meta(<name>)`) are not decoded for a shared stream.
pub(super) fn with_metadata(stream_schema: &SchemaRef) -> SchemaRef {
    let fields = stream_schema
        .fields()
        .iter()
        .map(|field| field.as_ref().clone());
    let metadata = Metadata::ALWAYS.iter().map(Metadata::field);
    Arc::new(Schema::new(fields.chain(metadata).collect::<Vec<_>>()))
}

/// How long a shared stream lingers for more messages per pipeline reading it: every
/// micro-batch costs each pipeline a few microseconds whatever its size, so with many
/// pipelines a trickle of messages is gathered into fewer, larger batches. The wait stays
/// under a millisecond below 25 pipelines, where it is not taken at all.
const LINGER_PER_PIPELINE: Duration = Duration::from_micros(40);

/// The longest a shared stream lingers however many pipelines read it.
const MAX_GATHERING: Duration = Duration::from_millis(20);

/// The batch policy of a shared stream read by `pipelines` pipelines: the stream's, lingering
/// [`LINGER_PER_PIPELINE`] for each pipeline when that comes to a millisecond or more.
fn gathering(policy: BatchPolicy, pipelines: usize) -> BatchPolicy {
    let linger = LINGER_PER_PIPELINE
        .saturating_mul(u32::try_from(pipelines).unwrap_or(u32::MAX))
        .min(MAX_GATHERING);
    if linger < Duration::from_millis(1) {
        return policy;
    }
    BatchPolicy {
        linger: policy.linger.max(linger),
        ..policy
    }
}

type Subscribers = Arc<Mutex<HashMap<String, mpsc::Sender<SharedBatch>>>>;

/// A running shared stream.
pub(super) struct SharedStream {
    subscribers: Subscribers,
    shutdown: CancellationToken,
    status: Option<Arc<ConnectorStatus>>,
    stats: Arc<StageStats>,
}

impl SharedStream {
    /// Subscribes to `stream` and starts decoding its payloads with its whole `schema`
    /// ([`with_metadata`]: the stream's columns, then every metadata column).
    pub(super) fn start(
        stream: &StreamSpec,
        schema: SchemaRef,
        context: &ConnectorContext<'_>,
        policy: BatchPolicy,
        input: StreamInput,
    ) -> veloflux_connectors::Result<Self> {
        let shutdown = CancellationToken::new();
        let declared = schema.fields().len() - Metadata::ALWAYS.len();
        let fields: Vec<_> = schema.fields().iter().take(declared).cloned().collect();
        let decoder = registry()
            .decoder(&stream.decoder.kind)?
            .build(&stream.decoder.props, Arc::new(Schema::new(fields)))?;
        let metadata = [MetadataColumn::Topic, MetadataColumn::ReceivedAt];
        let decoder = MessageDecoder::new(decoder, schema, &metadata);
        let subscription = subscribe(stream, context, input.capacity, shutdown.clone())?;
        let shared = Self {
            subscribers: Arc::default(),
            shutdown,
            status: subscription.status,
            stats: Arc::default(),
        };
        let fan_out = FanOut {
            shutdown: shared.shutdown.clone(),
            payloads: subscription.deliveries,
            decoder,
            limit: input.limit,
            subscribers: shared.subscribers.clone(),
            stats: shared.stats.clone(),
            policy,
        };
        tokio::spawn(fan_out.run());
        Ok(shared)
    }

    /// Adds pipeline `id`; its batches arrive on the returned channel.
    pub(super) fn subscribe(&self, id: &str, capacity: usize) -> mpsc::Receiver<SharedBatch> {
        let (sender, receiver) = mpsc::channel(capacity.max(1));
        if let Ok(mut subscribers) = self.subscribers.lock() {
            subscribers.insert(id.to_owned(), sender);
        }
        receiver
    }

    /// Removes pipeline `id`; returns how many pipelines still read the stream.
    pub(super) fn unsubscribe(&self, id: &str) -> usize {
        let Ok(mut subscribers) = self.subscribers.lock() else {
            return 0;
        };
        subscribers.remove(id);
        subscribers.len()
    }

    /// The connection state of the subscription.
    pub(super) fn status(&self) -> Option<Arc<ConnectorStatus>> {
        self.status.clone()
    }

    /// The decode counters.
    pub(super) fn stats(&self) -> Arc<StageStats> {
        self.stats.clone()
    }

    /// Ends the subscription.
    pub(super) fn stop(&self) {
        self.shutdown.cancel();
    }
}

/// The task that decodes a shared stream's payloads and hands the batches out.
struct FanOut {
    shutdown: CancellationToken,
    payloads: mpsc::Receiver<Delivery>,
    decoder: MessageDecoder,
    limit: PayloadLimit,
    subscribers: Subscribers,
    stats: Arc<StageStats>,
    policy: BatchPolicy,
}

impl FanOut {
    async fn run(mut self) {
        let mut queued = Vec::new();
        loop {
            let pipelines = match self.subscribers.lock() {
                Ok(subscribers) => subscribers.len(),
                Err(_) => break,
            };
            let policy = gathering(self.policy, pipelines);
            // Stopped, it lets go of its channel at once, so the source can send the last
            // acknowledgements and leave; what is queued comes again.
            let more = tokio::select! {
                () = self.shutdown.cancelled() => false,
                more = next_batch(&mut self.payloads, policy, &mut queued) => more,
            };
            if !more {
                break;
            }
            let acks = take_acks(&mut queued);
            let Some(batch) = self
                .limit
                .decode_counted(&mut self.decoder, &queued, &self.stats)
            else {
                // Nothing decodable: handled, or it would come back forever.
                acks.into_iter().for_each(Ack::settle);
                continue;
            };
            let senders: Vec<_> = match self.subscribers.lock() {
                Ok(subscribers) => subscribers.values().cloned().collect(),
                Err(_) => break,
            };
            for sender in senders {
                // A pipeline that stopped has closed its channel: its copy of the acks drops
                // unsettled, and the messages come again. The others get theirs.
                let _ = sender.send((batch.clone(), acks.clone())).await;
            }
            // Handed on: the pipelines' copies decide.
            acks.into_iter().for_each(Ack::settle);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: BatchPolicy = BatchPolicy {
        max_items: 1024,
        linger: Duration::ZERO,
    };

    #[test]
    fn a_few_pipelines_do_not_wait_for_more_messages() {
        assert_eq!(gathering(POLICY, 1), POLICY);
        assert_eq!(gathering(POLICY, 24), POLICY);
    }

    #[test]
    fn many_pipelines_gather_a_trickle_into_larger_batches_up_to_a_bound() {
        assert_eq!(gathering(POLICY, 25).linger, Duration::from_millis(1));
        assert_eq!(gathering(POLICY, 300).linger, Duration::from_millis(12));
        assert_eq!(gathering(POLICY, 1000).linger, MAX_GATHERING);
        assert_eq!(gathering(POLICY, 300).max_items, POLICY.max_items);
    }

    #[test]
    fn a_stream_that_lingers_longer_keeps_its_own_wait() {
        let patient = BatchPolicy {
            linger: Duration::from_millis(50),
            ..POLICY
        };
        assert_eq!(gathering(patient, 300), patient);
    }
}
