//! A pipeline's sinks: each connector from the registry with its stage's counters. What a
//! sink sends was encoded by the pipeline's chain with that sink's encoder.

use std::sync::Arc;
use std::time::Instant;

use veloflux_connectors::codec::json::EncodedMessages;
use veloflux_connectors::connector::{self, ConnectorContext};
use veloflux_connectors::registry::registry;
use veloflux_connectors::status::ConnectorStatus;

use super::stage::Stage;
use super::stats::StageStats;
use crate::spec::SinkSpec;

/// One configured sink of a running pipeline.
pub(super) struct Sink {
    stage: Stage,
    connector: Box<dyn connector::Sink>,
    stats: Arc<StageStats>,
}

impl Sink {
    /// Connects the sink described by `spec`, named `name`.
    pub(super) fn try_new(
        spec: &SinkSpec,
        name: String,
        context: &ConnectorContext<'_>,
    ) -> veloflux_connectors::Result<Self> {
        let connector = registry().sink(&spec.kind)?.build(&spec.props, context)?;
        Ok(Self {
            stage: Stage::Sink(name),
            connector,
            stats: Arc::default(),
        })
    }

    /// The sink's stage.
    pub(super) fn stage(&self) -> &Stage {
        &self.stage
    }

    /// The sink's counters.
    pub(super) fn stats(&self) -> Arc<StageStats> {
        self.stats.clone()
    }

    /// The connection state, for sinks that connect.
    pub(super) fn connector_status(&self) -> Option<Arc<ConnectorStatus>> {
        self.connector.status()
    }

    /// A mark of what the sink has sent so far, to wait on with [`Self::confirmed_through`].
    pub(super) fn mark(&self) -> u64 {
        self.connector.published()
    }

    /// Whether what was sent up to `mark` is safe at its destination.
    pub(super) fn is_confirmed_through(&self, mark: u64) -> bool {
        self.connector.is_confirmed_through(mark)
    }

    /// Resolves once what was sent up to `mark` is safe.
    pub(super) async fn confirmed_through(&self, mark: u64) {
        self.connector.confirmed_through(mark).await;
    }

    /// Counts as errors the messages a destination will never confirm.
    pub(super) fn count_lost(&self) {
        let lost = self.connector.take_lost();
        self.stats
            .record_errors(usize::try_from(lost).unwrap_or(usize::MAX), || {
                "the broker lost its session before acknowledging these messages".to_owned()
            });
    }

    /// Sends the messages encoded from `rows` result rows, waiting while the destination is
    /// busy; `started` is when encoding began.
    pub(super) async fn send(
        &mut self,
        rows: usize,
        messages: veloflux_engine::Result<EncodedMessages<'_>>,
        started: Instant,
    ) {
        let messages = match messages {
            Ok(messages) => messages,
            Err(error) => {
                self.stats.record_errors(rows, || error.to_string());
                return;
            }
        };
        let count = messages.len();
        let (failed, last_error) = match self.connector.send(messages).await {
            Ok(()) => (0, String::new()),
            Err(unsent) => (unsent.count, unsent.error.to_string()),
        };
        self.stats
            .record_batch(rows, count - failed, started.elapsed());
        self.stats.record_errors(failed, || last_error);
    }
}
