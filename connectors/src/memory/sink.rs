//! The memory sink: writes each message to an in-process topic, waiting for room in every
//! reader's channel.

use bytes::Bytes;
use serde_json::Value;

use super::MemoryConfig;
use crate::Result;
use crate::codec::EncodedMessages;
use crate::connector::{BoxFuture, ConnectorContext, Sink, Unsent};
use crate::props::parse;
use crate::topics::MemoryHub;

/// Writes to an in-process topic, fixed or given with each batch.
struct MemorySink {
    hub: MemoryHub,
    topic: String,
}

pub(super) fn build(props: &Value, context: &ConnectorContext<'_>) -> Result<Box<dyn Sink>> {
    let config: MemoryConfig = parse(props)?;
    Ok(Box::new(MemorySink {
        hub: context.hub.clone(),
        topic: config.topic,
    }))
}

impl Sink for MemorySink {
    fn send<'a>(
        &'a mut self,
        destination: Option<&'a str>,
        messages: EncodedMessages<'a>,
    ) -> BoxFuture<'a, Result<(), Unsent>> {
        Box::pin(async move {
            let topic = destination.unwrap_or(&self.topic);
            for message in messages.iter() {
                self.hub
                    .publish(topic, Bytes::copy_from_slice(message))
                    .await;
            }
            Ok(())
        })
    }
}
