//! A pipeline's sinks: each connector from the registry with its stage's counters. What a
//! sink sends was encoded by the pipeline's chain with that sink's encoder.

use std::sync::Arc;
use std::time::Instant;

use arrow::array::RecordBatch;
use veloflux_connectors::connector::{self, ConnectorContext};
use veloflux_connectors::registry::registry;
use veloflux_connectors::status::ConnectorStatus;
use veloflux_connectors::template::{RowRoutes, Template};
use veloflux_engine::Chain;

use super::sink_batch::{Batching, Gathered, SinkMarks};
use super::stage::Stage;
use super::stats::StageStats;
use crate::spec::SinkSpec;

/// One configured sink of a running pipeline.
pub(super) struct Sink {
    stage: Stage,
    connector: Box<dyn connector::Sink>,
    /// The destination when it depends on the row.
    template: Option<Template>,
    stats: Arc<StageStats>,
    /// With sink batching: the rows held and the marks that wait for them.
    held: Option<Held>,
}

/// What a batching sink holds.
struct Held {
    gathered: Gathered,
    marks: SinkMarks,
}

impl Sink {
    /// Connects the sink described by `spec`, named `name`.
    pub(super) fn try_new(
        spec: &SinkSpec,
        name: String,
        context: &ConnectorContext<'_>,
    ) -> veloflux_connectors::Result<Self> {
        let kind = registry().sink(&spec.kind)?;
        let held = Batching::from_props(spec.common_sink_props.as_ref()).map(|batching| Held {
            gathered: Gathered::new(batching),
            marks: SinkMarks::default(),
        });
        Ok(Self {
            stage: Stage::Sink(name),
            connector: kind.build(&spec.props, context)?,
            template: kind.template(&spec.props)?,
            stats: Arc::default(),
            held,
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

    /// A mark of what the sink was given so far, to wait on with [`Self::confirmed_through`].
    pub(super) fn mark(&self) -> u64 {
        match &self.held {
            Some(held) => held.marks.mark(),
            None => self.connector.published(),
        }
    }

    /// Whether what was given up to `mark` is sent and safe at its destination.
    pub(super) fn is_confirmed_through(&self, mark: u64) -> bool {
        self.connector_mark(mark)
            .is_some_and(|mark| self.connector.is_confirmed_through(mark))
    }

    /// Resolves once what was given up to `mark` is sent and safe; not before rows held for a
    /// batch are sent ([`Self::send_held`]).
    pub(super) async fn confirmed_through(&self, mark: u64) {
        match self.connector_mark(mark) {
            Some(mark) => self.connector.confirmed_through(mark).await,
            None => std::future::pending().await,
        }
    }

    /// The connector's mark for `mark`; `None` while its rows are held.
    fn connector_mark(&self, mark: u64) -> Option<u64> {
        match &self.held {
            Some(held) => held.marks.connector_mark(mark),
            None => Some(mark),
        }
    }

    /// When the rows held for a batch must be sent, if any are held.
    pub(super) fn send_deadline(&self) -> Option<Instant> {
        self.held.as_ref()?.gathered.deadline()
    }

    /// Counts as errors the messages a destination will never confirm.
    pub(super) fn count_lost(&self) {
        if let Some(lost) = self.connector.take_lost() {
            let count = usize::try_from(lost.count).unwrap_or(usize::MAX);
            self.stats.record_errors(count, || lost.reason);
        }
    }

    /// Hands `batch` to the sink: sent at once, or held until the sink's batch is full.
    /// `chain`'s encoder `index` is the sink's.
    pub(super) async fn deliver(&mut self, chain: &mut Chain, index: usize, batch: &RecordBatch) {
        let Some(held) = &mut self.held else {
            return self.send_now(chain, index, batch).await;
        };
        held.marks.give();
        if held.gathered.push(batch.clone()) {
            self.send_held(chain, index).await;
        }
    }

    /// Sends every row held for a batch, at most `batch_count` at a time.
    pub(super) async fn send_held(&mut self, chain: &mut Chain, index: usize) {
        let Some(held) = &mut self.held else {
            return;
        };
        let batches = match held.gathered.take() {
            Ok(batches) => batches,
            Err(error) => {
                self.stats.record_errors(0, || error.to_string());
                Vec::new()
            }
        };
        for batch in &batches {
            self.send_now(chain, index, batch).await;
        }
        if let Some(held) = &mut self.held {
            let connector = &self.connector;
            let published = connector.published();
            held.marks
                .sent(published, |mark| connector.is_confirmed_through(mark));
        }
    }

    /// Encodes `batch` with encoder `index` of `chain` and sends it: whole to a fixed
    /// destination, or split by the rendered destination of each row.
    async fn send_now(&mut self, chain: &mut Chain, index: usize, batch: &RecordBatch) {
        let started = Instant::now();
        let Some(template) = &self.template else {
            return self.send(chain, index, None, batch, started).await;
        };
        if chain.message_per_row(index) {
            return match template.route_rows(batch) {
                Ok(routes) => self.send_rows(chain, index, batch, routes, started).await,
                Err(error) => self
                    .stats
                    .record_errors(batch.num_rows(), || error.to_string()),
            };
        }
        let routes = match template.route(batch) {
            Ok(routes) => routes,
            Err(error) => {
                self.stats
                    .record_errors(batch.num_rows(), || error.to_string());
                return;
            }
        };
        self.stats
            .record_errors(routes.unroutable, || routes.reason.unwrap_or_default());
        for (destination, rows) in &routes.groups {
            self.send(chain, index, Some(destination), rows, Instant::now())
                .await;
        }
    }

    /// Encodes `batch` once, a message per row, and sends each destination of `routes` the
    /// messages of its rows.
    async fn send_rows(
        &mut self,
        chain: &mut Chain,
        index: usize,
        batch: &RecordBatch,
        routes: RowRoutes,
        started: Instant,
    ) {
        self.stats
            .record_errors(routes.unroutable, || routes.reason.unwrap_or_default());
        let messages = match chain.encode(index, batch) {
            Some(Ok(messages)) => messages,
            Some(Err(error)) => {
                self.stats
                    .record_errors(batch.num_rows(), || error.to_string());
                return;
            }
            None => return,
        };
        for (destination, rows) in &routes.groups {
            let selected = messages.select(rows);
            let result = self.connector.send(Some(destination), selected).await;
            self.record_sent(rows.len(), selected.len(), result, started);
        }
    }

    /// Counts `rows` whose `count` messages were sent (or not, as `result` says), encoding
    /// having begun at `started`.
    fn record_sent(
        &self,
        rows: usize,
        count: usize,
        result: Result<(), connector::Unsent>,
        started: Instant,
    ) {
        let (failed, last_error) = match result {
            Ok(()) => (0, String::new()),
            Err(unsent) => (unsent.count, unsent.error.to_string()),
        };
        self.stats
            .record_batch(rows, count - failed, started.elapsed());
        self.stats.record_errors(failed, || last_error);
    }

    /// Sends the messages encoded from `batch` to `destination`, waiting while it is busy;
    /// `started` is when encoding began.
    async fn send(
        &mut self,
        chain: &mut Chain,
        index: usize,
        destination: Option<&str>,
        batch: &RecordBatch,
        started: Instant,
    ) {
        let rows = batch.num_rows();
        let messages = match chain.encode(index, batch) {
            Some(Ok(messages)) => messages,
            Some(Err(error)) => {
                self.stats.record_errors(rows, || error.to_string());
                return;
            }
            None => return,
        };
        let count = messages.len();
        let result = self.connector.send(destination, messages).await;
        self.record_sent(rows, count, result, started);
    }
}
