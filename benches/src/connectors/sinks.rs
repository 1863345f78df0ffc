//! Sinks and encoders built by the registry from props, as the server builds a pipeline's,
//! and a batch delivered the way the runtime delivers it: sent, then waited on until the sink
//! confirms it.

use std::time::Duration;

use serde_json::{Value, json};
use veloflux_connectors::codec::{EncodedMessages, Encoder};
use veloflux_connectors::connector::{ConnectorContext, Sink};
use veloflux_connectors::registry::registry;
use veloflux_connectors::topics::MemoryHub;

use crate::{Error, Result};

/// The sink of `kind` that `props` describe. An HTTP sink must be built inside a tokio
/// runtime: it starts its sending task.
///
/// # Errors
/// When the kind is unknown or the props do not hold up.
pub fn sink(kind: &str, props: &Value) -> Result<Box<dyn Sink>> {
    let hub = MemoryHub::default();
    let context = ConnectorContext {
        name: "bench",
        shared_name: "bench",
        client_id: "bench",
        hub: &hub,
        ingest: &hub,
        read_interval: Duration::ZERO,
    };
    Ok(registry().sink(kind)?.build(props, &context)?)
}

/// The `json` encoder in `format`: `row` (a message per row) or `array` (one per batch).
///
/// # Errors
/// When the format is not one of them.
pub fn json_encoder(format: &str) -> Result<Box<dyn Encoder>> {
    Ok(registry()
        .encoder("json")?
        .build(&json!({"format": format}))?)
}

/// Sends `messages` to the sink's fixed destination and waits until it confirmed everything
/// sent so far, as the runtime does before acknowledging a micro-batch's source messages.
///
/// # Errors
/// When the sink did not take some of the messages.
pub async fn deliver(sink: &mut dyn Sink, messages: EncodedMessages<'_>) -> Result<()> {
    send(sink, messages).await?;
    sink.confirmed_through(sink.published()).await;
    Ok(())
}

/// Sends `messages` to the sink's fixed destination, without waiting for confirmation.
///
/// # Errors
/// When the sink did not take some of the messages.
pub async fn send(sink: &mut dyn Sink, messages: EncodedMessages<'_>) -> Result<()> {
    sink.send(None, messages)
        .await
        .map_err(|unsent| Error::Unsent {
            count: unsent.count,
            error: unsent.error,
        })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::connectors::rows::w1_rows;
    use crate::connectors::webhook::Webhook;

    #[tokio::test]
    async fn a_delivered_array_has_reached_the_webhook_whole() {
        let webhook = Webhook::start(Duration::ZERO, true).await.unwrap();
        let mut sink = sink("http", &json!({"url": webhook.url()})).unwrap();
        let mut encoder = json_encoder("array").unwrap();
        let batch = w1_rows(1000, 1000).unwrap();
        deliver(sink.as_mut(), encoder.encode(&batch).unwrap())
            .await
            .unwrap();
        assert_eq!(webhook.answered().ok, 1);
        let body: Value = serde_json::from_slice(&webhook.taken()[0]).unwrap();
        assert_eq!(body.as_array().unwrap().len(), 1000);
    }

    #[tokio::test]
    async fn a_delivered_batch_is_in_the_file_a_line_per_row() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("rows.jsonl");
        let props = json!({"path": path.to_string_lossy(), "fsync": "batch"});
        let mut sink = sink("file", &props).unwrap();
        let mut encoder = json_encoder("row").unwrap();
        let batch = w1_rows(1024, 1000).unwrap();
        deliver(sink.as_mut(), encoder.encode(&batch).unwrap())
            .await
            .unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 1024);
    }
}
