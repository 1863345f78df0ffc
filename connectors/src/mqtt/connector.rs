//! The MQTT source and sink in their connector roles.

use std::sync::Arc;

use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::{MqttConfig, MqttSink, MqttSource};
use crate::Result;
use crate::codec::EncodedMessages;
use crate::connector::{BoxFuture, ConnectorContext, Sink, Source, Subscription, Unsent};
use crate::progress::Progress;
use crate::props::parse;
use crate::status::ConnectorStatus;

pub(super) fn build_source(
    props: &Value,
    context: &ConnectorContext<'_>,
) -> Result<Box<dyn Source>> {
    let config: MqttConfig = parse(props)?;
    let source =
        MqttSource::try_new(&config, context.client_id)?.with_read_interval(context.read_interval);
    Ok(Box::new(source))
}

pub(super) fn build_sink(props: &Value, context: &ConnectorContext<'_>) -> Result<Box<dyn Sink>> {
    let config: MqttConfig = parse(props)?;
    Ok(Box::new(MqttSink::try_new(&config, context.client_id)?))
}

impl Source for MqttSource {
    fn start(self: Box<Self>, capacity: usize, shutdown: CancellationToken) -> Subscription {
        let status = self.status();
        Subscription::spawned(capacity, status, |sender| self.run(sender, shutdown))
    }
}

impl Sink for MqttSink {
    fn send<'a>(
        &'a mut self,
        destination: Option<&'a str>,
        messages: EncodedMessages<'a>,
    ) -> BoxFuture<'a, Result<(), Unsent>> {
        Box::pin(self.publish_all(destination, messages.iter()))
    }

    fn status(&self) -> Option<Arc<ConnectorStatus>> {
        Some(MqttSink::status(self))
    }

    fn progress(&self) -> Option<&Progress> {
        Some(MqttSink::progress(self))
    }
}
