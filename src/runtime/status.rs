//! What `GET /pipelines/:id/status` reports of a pipeline.

use serde::Serialize;
use utoipa::ToSchema;

use super::checkpoint_stats::CheckpointSnapshot;
use super::window_stats::WindowSnapshot;

use super::Running;
use super::stage::{Stage, StageKind};
use super::stats::{StageSnapshot, StageStats};

/// Whether a pipeline runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PipelineState {
    /// Processing, with every connection up (or still being made).
    Running,
    /// A connection is down; it is being retried with backoff.
    Failed,
    /// Not started, or stopped.
    Stopped,
}

/// A pipeline's state and counters.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PipelineStatus {
    /// Whether it runs.
    pub state: PipelineState,
    /// The server instance it runs on (`server.instance_id`).
    pub instance_id: String,
    /// Seconds since it started.
    pub uptime_secs: u64,
    /// The last connection error, if a connection is down.
    pub last_error: Option<String>,
    /// Counters per stage: the source, the plan, then each sink.
    pub stages: Vec<StageStatus>,
    /// The pipeline's connections: its source's and each MQTT sink's.
    pub connectors: Vec<ConnectorState>,
    /// Its windows, for a windowed statement.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window: Option<WindowSnapshot>,
    /// Its checkpoints, for a statement with state (windows, stateful functions) while
    /// checkpoints are on; null otherwise.
    pub checkpoint: Option<CheckpointSnapshot>,
    /// What works but may not do what was meant (a windowed statement over a share of a
    /// topic's messages).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// One connection of a pipeline.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConnectorState {
    /// `source` or the sink's name.
    pub name: String,
    /// Whether it is connected now.
    pub connected: bool,
    /// How many times it reconnected after losing its connection.
    pub reconnects: u64,
}

/// The counters of one stage.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StageStatus {
    /// `source`, `plan` or the sink's name.
    pub processor_id: String,
    /// What kind of stage it is; a sink may be named anything but `source` and `plan`.
    pub kind: StageKind,
    /// Its counters.
    pub stats: StageSnapshot,
}

impl StageStatus {
    fn of(stage: &Stage, stats: &StageStats) -> Self {
        Self {
            processor_id: stage.name().to_owned(),
            kind: stage.kind(),
            stats: stats.snapshot(),
        }
    }
}

impl PipelineStatus {
    /// The status of a pipeline that does not run on instance `instance_id`.
    pub fn stopped(instance_id: &str) -> Self {
        Self {
            state: PipelineState::Stopped,
            instance_id: instance_id.to_owned(),
            uptime_secs: 0,
            last_error: None,
            stages: Vec::new(),
            connectors: Vec::new(),
            window: None,
            checkpoint: None,
            warnings: Vec::new(),
        }
    }
}

pub(super) fn of_running(running: &Running, instance_id: &str) -> PipelineStatus {
    let down = running
        .connectors
        .iter()
        .map(|(_, status)| status)
        .find(|status| !status.is_connected() && status.last_error().is_some());
    let window = running.stats.window.as_ref();
    let (state, last_error) = match (down, running.task.is_finished()) {
        (_, true) => (
            PipelineState::Failed,
            Some(
                window
                    .and_then(|window| window.failure())
                    .unwrap_or_else(|| "the pipeline's input ended".to_owned()),
            ),
        ),
        (Some(status), false) => (
            PipelineState::Failed,
            status.last_error().map(|(message, _)| message),
        ),
        (None, false) => (PipelineState::Running, None),
    };
    let stats = &running.stats;
    let mut stages = vec![
        StageStatus::of(&Stage::Source, &stats.source),
        StageStatus::of(&Stage::Plan, &stats.plan),
    ];
    stages.extend(
        stats
            .sinks
            .iter()
            .map(|(stage, stats)| StageStatus::of(stage, stats)),
    );
    let connectors = running
        .connectors
        .iter()
        .map(|(stage, status)| ConnectorState {
            name: stage.name().to_owned(),
            connected: status.is_connected(),
            reconnects: status.reconnects(),
        })
        .collect();
    PipelineStatus {
        state,
        instance_id: instance_id.to_owned(),
        uptime_secs: running.started.elapsed().as_secs(),
        last_error,
        stages,
        connectors,
        window: window.map(|window| window.snapshot()),
        checkpoint: stats.checkpoint.as_ref().map(|stats| stats.snapshot()),
        warnings: running.warnings.clone(),
    }
}
