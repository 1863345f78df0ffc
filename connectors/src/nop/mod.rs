//! The `nop` sink: discards what it is given, for testing and measuring.

use serde_json::Value;

use crate::Result;
use crate::codec::EncodedMessages;
use crate::connector::{BoxFuture, ConnectorContext, Sink, Unsent};
use crate::kind::{BuildSink, Kind};
use crate::props::NoProps;

/// The `nop` sink kind.
pub(crate) fn sink() -> Kind<BuildSink> {
    Kind::new::<NoProps>(
        "nop",
        "Discards results (for testing and measuring).",
        build,
    )
}

/// Discards everything.
struct NopSink;

fn build(props: &Value, _context: &ConnectorContext<'_>) -> Result<Box<dyn Sink>> {
    crate::props::check::<NoProps>(props)?;
    Ok(Box::new(NopSink))
}

impl Sink for NopSink {
    fn send<'a>(
        &'a mut self,
        _destination: Option<&'a str>,
        _messages: EncodedMessages<'a>,
    ) -> BoxFuture<'a, Result<(), Unsent>> {
        Box::pin(std::future::ready(Ok(())))
    }
}
