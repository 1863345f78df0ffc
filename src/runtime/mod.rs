//! The runtime: one task chain per running pipeline, fed by its own subscription or by a
//! shared stream, over bounded channels so that a slow sink slows the source instead of
//! losing data.

mod batcher;
mod checkpoint;
mod checkpoint_stats;
mod histogram;
mod input;
mod pipeline;
mod settlement;
mod shared;
mod sink;
mod sink_batch;
mod stage;
mod start_error;
mod stats;
mod status;
mod tap;
mod window_stats;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arrow::datatypes::SchemaRef;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use veloflux_connectors::connector::ConnectorContext;
use veloflux_connectors::registry::registry;
use veloflux_connectors::status::ConnectorStatus;
use veloflux_connectors::topics::MemoryHub;
use veloflux_engine::Chain;
use veloflux_planner::{PipelinePlan, PlanStep};

pub use batcher::BatchPolicy;
pub use checkpoint_stats::CheckpointSnapshot;
pub use histogram::HistogramSnapshot;
pub use stage::{Stage, StageKind};
pub use start_error::StartError;
pub use stats::StageSnapshot;
pub use status::{ConnectorState, PipelineState, PipelineStatus, StageStatus};
pub use tap::{MAX_RETAINED_BATCHES, Retention, Tail, TapPoint, Taps, UnknownTap};
pub use window_stats::WindowSnapshot;

use crate::config::RuntimeConfig;
use crate::spec::{PipelineSpec, StreamSpec};
use crate::storage::Storage;
use checkpoint::{CheckpointPlan, Checkpointing};
use checkpoint_stats::CheckpointStats;
use input::{Input, PayloadLimit, StreamInput, column_indices, subscribe};
use pipeline::{PipelineStats, PipelineTask};
use settlement::Settlements;
use shared::SharedStream;
use sink::Sink;
use window_stats::WindowStats;

/// Runs pipelines. Cloning gives another handle to the same runtime.
#[derive(Clone)]
pub struct Runtime {
    inner: Arc<Inner>,
}

struct Inner {
    config: RuntimeConfig,
    /// Where pipelines' checkpoints are kept.
    storage: Arc<Storage>,
    /// This server instance's name, in every default client id.
    instance_id: String,
    hub: MemoryHub,
    /// What `POST /streams/<name>/ingest` accepts, by stream name.
    ingest: MemoryHub,
    pipelines: Mutex<HashMap<String, Running>>,
    shared: Mutex<HashMap<String, SharedStream>>,
    taps: Mutex<HashMap<String, Arc<Taps>>>,
}

/// A pipeline's task and what status requests read of it.
struct Running {
    shutdown: CancellationToken,
    task: JoinHandle<()>,
    stream: Option<String>,
    started: Instant,
    stats: PipelineStats,
    connectors: Vec<(Stage, Arc<ConnectorStatus>)>,
    /// What status warns of.
    warnings: Vec<String>,
}

/// What to run: a pipeline, the stream it reads and its compiled plan.
pub struct Launch<'a> {
    /// The pipeline.
    pub spec: &'a PipelineSpec,
    /// The stream its statement reads.
    pub stream: &'a StreamSpec,
    /// The stream's whole schema.
    pub stream_schema: SchemaRef,
    /// The compiled statement.
    pub plan: PipelinePlan,
}

impl Runtime {
    /// A runtime with `config`'s defaults for batching and buffering, for server instance
    /// `instance_id`, keeping checkpoints in `storage`.
    pub fn new(config: RuntimeConfig, instance_id: String, storage: Arc<Storage>) -> Self {
        let inner = Inner {
            config,
            storage,
            instance_id,
            hub: MemoryHub::default(),
            ingest: MemoryHub::default(),
            pipelines: Mutex::default(),
            shared: Mutex::default(),
            taps: Mutex::default(),
        };
        Self {
            inner: Arc::new(inner),
        }
    }

    /// Starts a pipeline, resuming the state of its last checkpoint; starting one that runs
    /// already does nothing.
    ///
    /// # Errors
    /// When a connector or codec cannot be built from the spec ([`veloflux_connectors::Error`]
    /// says whose fault it is), or the pipeline's checkpoint cannot be restored.
    pub fn start(&self, launch: Launch<'_>) -> Result<(), StartError> {
        let id = launch.spec.id.clone();
        let mut pipelines = self.lock_pipelines();
        if pipelines
            .get(&id)
            .is_some_and(|running| !running.task.is_finished())
        {
            return Ok(());
        }
        let running = self.launch(launch)?;
        pipelines.insert(id, running);
        Ok(())
    }

    fn launch(&self, launch: Launch<'_>) -> Result<Running, StartError> {
        let Launch {
            spec,
            stream,
            stream_schema,
            plan,
        } = launch;
        let shutdown = CancellationToken::new();
        let policy = self.policy(spec);
        let mut connectors = Vec::new();
        let mut stats = PipelineStats::default();
        let windowed = plan
            .steps
            .iter()
            .any(|step| matches!(step, PlanStep::Aggregate(_)));
        let taps = self.taps(&spec.id);
        taps.set_schemas(tap_schemas(&plan));
        // The state is resumed before anything connects: a pipeline that cannot resume it
        // takes no message.
        let mut chain = chain(spec, stream, plan)?;
        let mut warnings: Vec<String> = windowed
            .then(|| shared_subscription_warning(stream))
            .flatten()
            .into_iter()
            .collect();
        let checkpointing = self.resume(spec, &mut chain, &mut warnings)?;
        stats.checkpoint = checkpointing.as_ref().map(|(_, stats)| Arc::clone(stats));
        let input = if stream.shared {
            let stream_schema = shared::with_metadata(&stream_schema);
            let columns = column_indices(&stream_schema, &chain.plan().source.schema);
            let (receiver, status, source_stats) =
                self.join_shared(stream, stream_schema, &spec.id, policy)?;
            connectors.extend(status.map(|status| (Stage::Source, status)));
            stats.source = source_stats;
            Input::Batches {
                receiver,
                columns,
                queued: Vec::new(),
            }
        } else {
            let shared_name = format!("veloflux-{}-{}", spec.id, stream.name);
            let client_id = self.client_id(&shared_name);
            let context = self.context(&stream.name, &shared_name, &client_id);
            let capacity = self.inner.config.channel_capacity;
            let subscription = subscribe(stream, &context, capacity, shutdown.clone())?;
            connectors.extend(subscription.status.map(|status| (Stage::Source, status)));
            Input::Payloads {
                receiver: subscription.deliveries,
                limit: self.stream_input().limit,
                queued: Vec::new(),
            }
        };
        let sinks = self.sinks(spec)?;
        connectors.extend(sinks.iter().filter_map(|sink| {
            sink.connector_status()
                .map(|status| (sink.stage().clone(), status))
        }));
        stats.sinks = sinks
            .iter()
            .map(|sink| (sink.stage().clone(), sink.stats()))
            .collect();
        stats.window =
            windowed.then(|| Arc::new(WindowStats::new(self.inner.config.max_window_state_bytes)));
        let task = PipelineTask {
            input,
            chain,
            sinks,
            policy,
            source_stats: stats.source.clone(),
            plan_stats: stats.plan.clone(),
            window_stats: stats.window.clone(),
            taps,
            settlements: Settlements::default(),
            checkpointing: checkpointing.map(|(plan, stats)| Checkpointing::new(plan, stats)),
            shutdown: shutdown.clone(),
        };
        let task = tokio::spawn(task.run());
        let stream_name = stream.shared.then(|| stream.name.clone());
        Ok(Running {
            shutdown,
            task,
            stream: stream_name,
            started: Instant::now(),
            stats,
            connectors,
            warnings,
        })
    }

    /// Restores `chain`'s state from pipeline `spec`'s checkpoint; what its checkpoints need
    /// when the statement keeps state and checkpoints are on (`checkpoint_interval_ms` > 0).
    fn resume(
        &self,
        spec: &PipelineSpec,
        chain: &mut Chain,
        warnings: &mut Vec<String>,
    ) -> Result<Option<(CheckpointPlan, Arc<CheckpointStats>)>, StartError> {
        let interval = self.inner.config.checkpoint_interval_ms;
        let plan = CheckpointPlan {
            storage: Arc::clone(&self.inner.storage),
            pipeline: spec.id.clone(),
            statement: spec.statement_key(),
            interval: Duration::from_millis(interval),
        };
        let enabled = interval > 0;
        warnings.extend(checkpoint::restore(chain, &plan, enabled)?);
        Ok((enabled && chain.has_state()).then(|| (plan, Arc::default())))
    }

    /// This server instance's name.
    pub fn instance_id(&self) -> &str {
        &self.inner.instance_id
    }

    /// What `POST /streams/<name>/ingest` hands its messages to.
    pub fn ingest(&self) -> &MemoryHub {
        &self.inner.ingest
    }

    /// What connectors of this runtime are built with: `name` is the stream's or the sink's,
    /// `shared_name` names what they do the same on every instance (`veloflux-<pipeline>-
    /// <stream>`), and the client id adds this instance's name to it.
    fn context<'a>(
        &'a self,
        name: &'a str,
        shared_name: &'a str,
        client_id: &'a str,
    ) -> ConnectorContext<'a> {
        ConnectorContext {
            name,
            shared_name,
            client_id,
            hub: &self.inner.hub,
            ingest: &self.inner.ingest,
            read_interval: self.inner.config.read_interval(),
        }
    }

    /// The client id of `shared_name` on this instance: `veloflux-<instance>-…`.
    fn client_id(&self, shared_name: &str) -> String {
        let rest = shared_name.strip_prefix("veloflux-").unwrap_or(shared_name);
        format!("veloflux-{}-{rest}", self.inner.instance_id)
    }

    fn stream_input(&self) -> StreamInput {
        let config = &self.inner.config;
        StreamInput {
            capacity: config.channel_capacity,
            limit: PayloadLimit {
                max_payload_bytes: config.max_payload_bytes,
            },
        }
    }

    /// Connects the sinks of pipeline `spec`.
    fn sinks(&self, spec: &PipelineSpec) -> veloflux_connectors::Result<Vec<Sink>> {
        spec.sinks
            .iter()
            .zip(spec.sink_names())
            .map(|(sink, name)| {
                let shared_name = format!("veloflux-{}-{name}", spec.id);
                let client_id = self.client_id(&shared_name);
                let context = self.context(&name, &shared_name, &client_id);
                Sink::try_new(sink, name.clone(), &context)
            })
            .collect()
    }

    fn policy(&self, spec: &PipelineSpec) -> BatchPolicy {
        let config = &self.inner.config;
        BatchPolicy {
            max_items: spec.options.batch_size.unwrap_or(config.batch_size).max(1),
            linger: Duration::from_millis(spec.options.linger_ms.unwrap_or(config.linger_ms)),
        }
    }

    /// Subscribes pipeline `id` to shared `stream`, starting the stream if it is not running.
    #[expect(
        clippy::type_complexity,
        reason = "a private helper's tuple of three handles"
    )]
    fn join_shared(
        &self,
        stream: &StreamSpec,
        schema: SchemaRef,
        id: &str,
        policy: BatchPolicy,
    ) -> veloflux_connectors::Result<(
        tokio::sync::mpsc::Receiver<input::SharedBatch>,
        Option<Arc<ConnectorStatus>>,
        Arc<stats::StageStats>,
    )> {
        let mut shared = self.lock_shared();
        let running = match shared.entry(stream.name.clone()) {
            std::collections::hash_map::Entry::Occupied(entry) => entry.into_mut(),
            std::collections::hash_map::Entry::Vacant(entry) => {
                let shared_name = format!("veloflux-shared-{}", stream.name);
                let client_id = self.client_id(&shared_name);
                let context = self.context(&stream.name, &shared_name, &client_id);
                let input = self.stream_input();
                entry.insert(SharedStream::start(
                    stream, schema, &context, policy, input,
                )?)
            }
        };
        // Batches are whole micro-batches: a few in flight are plenty.
        let receiver = running.subscribe(id, 4);
        Ok((receiver, running.status(), running.stats()))
    }

    /// Stops a pipeline and waits until what it had received is processed and sent.
    pub async fn stop(&self, id: &str) {
        let Some(running) = self.lock_pipelines().remove(id) else {
            return;
        };
        running.shutdown.cancel();
        if let Some(stream) = &running.stream {
            self.leave_shared(stream, id);
        }
        let _ = running.task.await;
    }

    fn leave_shared(&self, stream: &str, id: &str) {
        let mut shared = self.lock_shared();
        let remaining = shared
            .get(stream)
            .map_or(0, |running| running.unsubscribe(id));
        if remaining == 0
            && let Some(running) = shared.remove(stream)
        {
            running.stop();
        }
    }

    /// Stops every pipeline.
    pub async fn stop_all(&self) {
        let ids: Vec<String> = self.lock_pipelines().keys().cloned().collect();
        for id in ids {
            self.stop(&id).await;
        }
    }

    /// The debug taps of pipeline `id`, which outlive its restarts.
    pub fn taps(&self, id: &str) -> Arc<Taps> {
        let mut taps = self
            .inner
            .taps
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        taps.entry(id.to_owned()).or_default().clone()
    }

    /// Forgets the taps of a deleted pipeline.
    pub fn forget_taps(&self, id: &str) {
        let mut taps = self
            .inner
            .taps
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        taps.remove(id);
    }

    /// The state and counters of pipeline `id`; `stopped` when it is not running.
    pub fn status(&self, id: &str) -> PipelineStatus {
        let pipelines = self.lock_pipelines();
        match pipelines.get(id) {
            Some(running) => status::of_running(running, &self.inner.instance_id),
            None => PipelineStatus::stopped(&self.inner.instance_id),
        }
    }

    fn lock_pipelines(&self) -> std::sync::MutexGuard<'_, HashMap<String, Running>> {
        self.inner
            .pipelines
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn lock_shared(&self) -> std::sync::MutexGuard<'_, HashMap<String, SharedStream>> {
        self.inner
            .shared
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The chain of pipeline `spec`: its stream's decoder for the columns `plan` reads, the plan,
/// and each sink's encoder.
fn chain(
    spec: &PipelineSpec,
    stream: &StreamSpec,
    plan: PipelinePlan,
) -> veloflux_connectors::Result<Chain> {
    let decoder = registry()
        .decoder(&stream.decoder.kind)?
        .build(&stream.decoder.props, plan.source.decoded_schema())?;
    let encoders = spec
        .sinks
        .iter()
        .map(|sink| {
            let encoder = sink.encoder();
            registry().encoder(&encoder.kind)?.build(&encoder.props)
        })
        .collect::<veloflux_connectors::Result<_>>()?;
    Ok(Chain::new(plan, decoder, encoders))
}

/// A windowed statement over a topic whose messages several instances share (MQTT
/// `$share/…`, a NATS queue group) aggregates only this instance's share of them.
fn shared_subscription_warning(stream: &StreamSpec) -> Option<String> {
    let topic = stream
        .props
        .get("topic")
        .and_then(serde_json::Value::as_str);
    let queue_group = stream
        .props
        .get("queue_group")
        .is_some_and(|group| !group.is_null());
    let shared = topic.is_some_and(|topic| topic.starts_with("$share/")) || queue_group;
    shared.then(|| {
        format!(
            "stream '{}' reads a share of its topic's messages (\"$share/...\" or a queue group): \
             each window aggregates only the messages this instance received; give each \
             instance a topic per key range instead (docs/SCALING.md)",
            stream.name
        )
    })
}

/// The schemas of the batches each tap shows: decoded, filtered, projected, sent.
fn tap_schemas(plan: &PipelinePlan) -> [SchemaRef; 4] {
    let output = plan.output_schema.clone();
    let decoded = plan.source.schema.clone();
    let filtered = match plan.steps.first() {
        Some(PlanStep::Stateful(step)) => step.functions.schema.clone(),
        _ => decoded.clone(),
    };
    [decoded, filtered, output.clone(), output]
}
