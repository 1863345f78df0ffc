//! The `http` source: messages posted to the server's own REST API
//! (`POST /streams/<name>/ingest`) rather than read from a broker. The server hands each
//! request's messages to the stream's readers all at once or not at all, so a full queue is
//! answered with 429 and the sender tries again: backpressure, never a silent drop.

use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::Result;
use crate::connector::{ConnectorContext, Source, Subscription};
use crate::kind::{BuildSource, Kind};
use crate::props::NoProps;
use crate::topics::MemoryHub;

/// The `http` source kind.
pub(crate) fn source() -> Kind<BuildSource> {
    Kind::new::<NoProps>(
        "http",
        "Takes JSON messages posted to POST /streams/<name>/ingest on this server.",
        build,
    )
}

/// Reads what is posted for one stream.
struct IngestSource {
    ingest: MemoryHub,
    stream: String,
}

fn build(props: &Value, context: &ConnectorContext<'_>) -> Result<Box<dyn Source>> {
    crate::props::check::<NoProps>(props)?;
    Ok(Box::new(IngestSource {
        ingest: context.ingest.clone(),
        stream: context.name.to_owned(),
    }))
}

impl Source for IngestSource {
    fn start(self: Box<Self>, capacity: usize, _shutdown: CancellationToken) -> Subscription {
        // The hub forgets the subscription once its receiver is dropped.
        Subscription {
            deliveries: self.ingest.subscribe(&self.stream, capacity),
            status: None,
        }
    }
}
