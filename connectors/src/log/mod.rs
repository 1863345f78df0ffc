//! The `log` sink: each message to the server's log at info level, for trying a pipeline out
//! with no broker.

use serde_json::Value;

use crate::Result;
use crate::codec::EncodedMessages;
use crate::connector::{BoxFuture, ConnectorContext, Sink, Unsent};
use crate::kind::{BuildSink, Kind};
use crate::props::NoProps;

/// The `log` sink kind.
pub(crate) fn sink() -> Kind<BuildSink> {
    Kind::new::<NoProps>(
        "log",
        "Writes each message to the server's log at info level.",
        build,
    )
}

/// Logs messages under the name of the client it was built for.
struct LogSink {
    name: String,
}

fn build(props: &Value, context: &ConnectorContext<'_>) -> Result<Box<dyn Sink>> {
    crate::props::check::<NoProps>(props)?;
    Ok(Box::new(LogSink {
        name: context.client_id.to_owned(),
    }))
}

impl Sink for LogSink {
    fn send<'a>(
        &'a mut self,
        destination: Option<&'a str>,
        messages: EncodedMessages<'a>,
    ) -> BoxFuture<'a, Result<(), Unsent>> {
        for message in messages.iter() {
            let message = String::from_utf8_lossy(message);
            match destination {
                Some(destination) => tracing::info!(sink = %self.name, %destination, "{message}"),
                None => tracing::info!(sink = %self.name, "{message}"),
            }
        }
        Box::pin(std::future::ready(Ok(())))
    }
}
