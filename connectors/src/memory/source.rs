//! The memory source: a subscription to an in-process topic.

use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::MemoryConfig;
use crate::Result;
use crate::connector::{ConnectorContext, Source, Subscription};
use crate::props::parse;
use crate::topics::MemoryHub;

/// Reads one in-process topic.
struct MemorySource {
    hub: MemoryHub,
    topic: String,
}

pub(super) fn build(props: &Value, context: &ConnectorContext<'_>) -> Result<Box<dyn Source>> {
    let config: MemoryConfig = parse(props)?;
    Ok(Box::new(MemorySource {
        hub: context.hub.clone(),
        topic: config.topic,
    }))
}

impl Source for MemorySource {
    fn start(self: Box<Self>, capacity: usize, _shutdown: CancellationToken) -> Subscription {
        // The hub forgets the subscription once its receiver is dropped.
        Subscription {
            deliveries: self.hub.subscribe(&self.topic, capacity),
            status: None,
        }
    }
}
