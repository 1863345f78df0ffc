//! Shared streams: one subscription and one decode, whose batches go to every pipeline that
//! reads the stream. Arrow arrays are reference-counted, so each pipeline's copy is free.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

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
            // Stopped, it lets go of its channel at once, so the source can send the last
            // acknowledgements and leave; what is queued comes again.
            let more = tokio::select! {
                () = self.shutdown.cancelled() => false,
                more = next_batch(&mut self.payloads, self.policy, &mut queued) => more,
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
