//! The control plane's operations on streams and pipelines, shared by the REST handlers and
//! by startup: validate, store durably, then change what runs.
//!
//! One lock serializes mutations, so that what is stored, what is in memory and what runs
//! always agree.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;
use utoipa::ToSchema;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use veloflux_planner::{Catalog, EventTimeColumn, PipelinePlan, PlanOptions};

use crate::runtime::{Launch, PipelineState, PipelineStatus, Runtime, StartError, Taps};
use crate::spec::{PipelineSpec, SpecError, StreamSpec};
use crate::storage::{PipelineRecord, Storage, StorageError};
use veloflux_planner::Metadata;

/// Why an operation was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    /// The request is invalid: the message names the field or the SQL problem.
    #[error("{0}")]
    Invalid(String),
    /// No stream or pipeline has that name.
    #[error("{0}")]
    NotFound(String),
    /// The operation conflicts with what exists.
    #[error("{0}")]
    Conflict(String),
    /// The metadata file failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// A service outside the server (a broker) could not be reached; retrying may help.
    #[error("{0}")]
    Unavailable(String),
    /// A bug: the request was fine.
    #[error("{0}")]
    Internal(String),
}

impl From<SpecError> for ControlError {
    fn from(error: SpecError) -> Self {
        Self::Invalid(error.0)
    }
}

impl From<veloflux_planner::Error> for ControlError {
    fn from(error: veloflux_planner::Error) -> Self {
        match error {
            veloflux_planner::Error::Internal(_) => Self::Internal(format!("planning: {error}")),
            user => Self::Invalid(format!("sql: {user}")),
        }
    }
}

impl From<veloflux_connectors::Error> for ControlError {
    fn from(error: veloflux_connectors::Error) -> Self {
        match error {
            veloflux_connectors::Error::Config(message) => Self::Invalid(message),
            veloflux_connectors::Error::External(message) => Self::Unavailable(message),
            internal @ veloflux_connectors::Error::Internal(_) => {
                Self::Internal(internal.to_string())
            }
        }
    }
}

impl From<StartError> for ControlError {
    fn from(error: StartError) -> Self {
        match error {
            StartError::Connector(error) => error.into(),
            StartError::Checkpoint(message) => Self::Conflict(message),
            StartError::Storage(error) => error.into(),
        }
    }
}

/// A pipeline as `GET /pipelines/:id` shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PipelineView {
    /// Its id.
    pub id: String,
    /// Whether it runs.
    pub status: PipelineState,
    /// The stream its statement reads.
    pub stream: String,
    /// Its spec.
    pub spec: PipelineSpec,
}

/// Every stream and pipeline, as `GET /export` writes and `POST /import` reads them.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Export {
    /// The streams.
    #[serde(default, deserialize_with = "crate::spec::objects")]
    pub streams: Vec<StreamSpec>,
    /// The pipelines and whether each should run.
    #[serde(default, deserialize_with = "crate::spec::objects")]
    pub pipelines: Vec<ExportedPipeline>,
}

/// A pipeline in an export.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportedPipeline {
    /// The pipeline.
    #[serde(flatten)]
    pub spec: PipelineSpec,
    /// Whether it should run.
    #[serde(default)]
    pub running: bool,
}

/// A pipeline spec's schema with `running` added: the spec is flattened into the export, and
/// the `allOf` utoipa derives for that would refuse `running` under the spec's
/// `additionalProperties: false`.
impl utoipa::PartialSchema for ExportedPipeline {
    fn schema() -> RefOr<Schema> {
        let mut schema = PipelineSpec::schema();
        if let RefOr::T(Schema::Object(object)) = &mut schema {
            let running = ObjectBuilder::new()
                .schema_type(Type::Boolean)
                .description(Some("Whether it should run."))
                .default(Some(false.into()));
            object.properties.insert("running".into(), running.into());
            object.description = Some("A pipeline in an export.".into());
        }
        schema
    }
}

impl ToSchema for ExportedPipeline {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        PipelineSpec::schemas(schemas);
    }
}

struct StreamEntry {
    spec: StreamSpec,
    schema: SchemaRef,
}

struct PipelineEntry {
    record: PipelineRecord,
    stream: String,
}

#[derive(Default)]
struct State {
    streams: BTreeMap<String, StreamEntry>,
    pipelines: BTreeMap<String, PipelineEntry>,
}

/// Streams, pipelines and what runs.
pub struct Control {
    storage: Arc<Storage>,
    runtime: Runtime,
    state: Mutex<State>,
    /// Whether [`Self::restore`] has run.
    restored: std::sync::atomic::AtomicBool,
}

impl Control {
    /// This server instance's name.
    pub fn instance_id(&self) -> &str {
        self.runtime.instance_id()
    }

    /// Where messages posted to streams of type `http` go, by stream name.
    pub fn ingest(&self) -> &veloflux_connectors::topics::MemoryHub {
        self.runtime.ingest()
    }

    /// Loads every stored stream and pipeline. Nothing starts until [`Self::restore`].
    ///
    /// # Errors
    /// When the metadata cannot be read or no longer validates.
    pub fn open(storage: Arc<Storage>, runtime: Runtime) -> Result<Self, ControlError> {
        let mut state = State::default();
        for spec in storage.streams()? {
            let schema = spec.validate().map_err(|error| {
                ControlError::Invalid(format!("stored stream '{}': {error}", spec.name))
            })?;
            state
                .streams
                .insert(spec.name.clone(), StreamEntry { spec, schema });
        }
        for record in storage.pipelines()? {
            let plan = state.plan(&record.spec).map_err(|error| {
                ControlError::Invalid(format!("stored pipeline '{}': {error}", record.spec.id))
            })?;
            let entry = PipelineEntry {
                stream: plan.source.stream,
                record,
            };
            state.pipelines.insert(entry.record.spec.id.clone(), entry);
        }
        Ok(Self {
            storage,
            runtime,
            state: Mutex::new(state),
            restored: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// Starts every pipeline stored as running. A pipeline that cannot start is logged and
    /// left stopped; the others still start.
    pub async fn restore(&self) {
        self.restore_stored().await;
        self.restored
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    async fn restore_stored(&self) {
        let state = self.state.lock().await;
        for entry in state
            .pipelines
            .values()
            .filter(|entry| entry.record.running)
        {
            match state.launch(&self.runtime, &entry.record.spec) {
                Ok(()) => tracing::info!(pipeline = %entry.record.spec.id, "pipeline restored"),
                Err(error) => {
                    tracing::error!(pipeline = %entry.record.spec.id, %error, "pipeline could not be restored");
                }
            }
        }
    }

    /// Why the server is not ready to take traffic: empty once it has restored its pipelines
    /// and every pipeline stored as running runs with every connection up.
    pub async fn unready_reasons(&self) -> Vec<String> {
        if !self.restored.load(std::sync::atomic::Ordering::Relaxed) {
            return vec!["the stored pipelines are being restored".to_owned()];
        }
        let state = self.state.lock().await;
        let running = state
            .pipelines
            .values()
            .filter(|entry| entry.record.running);
        running
            .flat_map(|entry| {
                let id = &entry.record.spec.id;
                let status = self.runtime.status(id);
                let state_reason = match status.state {
                    PipelineState::Running => None,
                    PipelineState::Failed => Some(format!(
                        "pipeline '{id}' failed: {}",
                        status.last_error.as_deref().unwrap_or("no error recorded")
                    )),
                    PipelineState::Stopped => Some(format!(
                        "pipeline '{id}' is stored as running but does not run"
                    )),
                };
                let down = status.connectors.into_iter().filter(|c| !c.connected);
                let down =
                    down.map(move |c| format!("pipeline '{id}': {} is not connected", c.name));
                state_reason.into_iter().chain(down).collect::<Vec<_>>()
            })
            .collect()
    }

    /// Stops every pipeline, processing what each has received; stored states are kept, so
    /// running pipelines come back at the next start.
    pub async fn shutdown(&self) {
        let _state = self.state.lock().await;
        self.runtime.stop_all().await;
    }

    /// Creates a stream.
    ///
    /// # Errors
    /// Invalid spec; a stream of that name exists; storage failure.
    pub async fn create_stream(&self, spec: StreamSpec) -> Result<StreamSpec, ControlError> {
        let schema = spec.validate()?;
        let mut state = self.state.lock().await;
        if state.streams.contains_key(&spec.name) {
            return Err(ControlError::Conflict(format!(
                "stream '{}' already exists",
                spec.name
            )));
        }
        self.storage.put_stream(&spec)?;
        state.streams.insert(
            spec.name.clone(),
            StreamEntry {
                spec: spec.clone(),
                schema,
            },
        );
        Ok(spec.redacted())
    }

    /// Every stream.
    pub async fn streams(&self) -> Vec<StreamSpec> {
        let state = self.state.lock().await;
        state
            .streams
            .values()
            .map(|entry| entry.spec.redacted())
            .collect()
    }

    /// One stream.
    ///
    /// # Errors
    /// When there is no such stream.
    pub async fn stream(&self, name: &str) -> Result<StreamSpec, ControlError> {
        let state = self.state.lock().await;
        state.stream(name).map(|entry| entry.spec.redacted())
    }

    /// Deletes a stream no pipeline reads.
    ///
    /// # Errors
    /// No such stream; pipelines read it; storage failure.
    pub async fn delete_stream(&self, name: &str) -> Result<(), ControlError> {
        let mut state = self.state.lock().await;
        state.stream(name)?;
        let users: Vec<&str> = state
            .pipelines
            .values()
            .filter(|entry| entry.stream == name)
            .map(|entry| entry.record.spec.id.as_str())
            .collect();
        if !users.is_empty() {
            return Err(ControlError::Conflict(format!(
                "stream '{name}' is used by pipelines: {}",
                users.join(", ")
            )));
        }
        self.storage.delete_stream(name)?;
        state.streams.remove(name);
        Ok(())
    }

    /// Creates a pipeline, stopped.
    ///
    /// # Errors
    /// Invalid spec or SQL; a pipeline with that id exists; storage failure.
    pub async fn create_pipeline(&self, spec: PipelineSpec) -> Result<PipelineView, ControlError> {
        let mut state = self.state.lock().await;
        if state.pipelines.contains_key(&spec.id) {
            return Err(ControlError::Conflict(format!(
                "pipeline '{}' already exists",
                spec.id
            )));
        }
        let plan = state.validate_pipeline(&spec)?;
        let record = PipelineRecord::new(spec, false);
        self.storage.put_pipeline(&record)?;
        let view = PipelineView {
            id: record.spec.id.clone(),
            status: PipelineState::Stopped,
            stream: plan.source.stream.clone(),
            spec: record.spec.redacted(),
        };
        state.pipelines.insert(
            view.id.clone(),
            PipelineEntry {
                record,
                stream: plan.source.stream,
            },
        );
        Ok(view)
    }

    /// Replaces a pipeline's spec, restarting it if it was running.
    ///
    /// # Errors
    /// No such pipeline; invalid spec or SQL; storage failure.
    pub async fn replace_pipeline(
        &self,
        mut spec: PipelineSpec,
    ) -> Result<PipelineView, ControlError> {
        let mut state = self.state.lock().await;
        let stored = &state.pipeline(&spec.id)?.record;
        let running = stored.running;
        spec.keep_credentials_of(&stored.spec);
        let plan = state.validate_pipeline(&spec)?;
        let record = PipelineRecord::new(spec, running);
        self.storage.put_pipeline(&record)?;
        let id = record.spec.id.clone();
        state.pipelines.insert(
            id.clone(),
            PipelineEntry {
                record,
                stream: plan.source.stream,
            },
        );
        if running {
            self.runtime.stop(&id).await;
            state.launch(&self.runtime, &state.pipeline(&id)?.record.spec)?;
        }
        self.view(&state, &id)
    }

    /// Stops and deletes a pipeline.
    ///
    /// # Errors
    /// No such pipeline; storage failure.
    pub async fn delete_pipeline(&self, id: &str) -> Result<(), ControlError> {
        let mut state = self.state.lock().await;
        state.pipeline(id)?;
        self.runtime.stop(id).await;
        self.storage.delete_pipeline(id)?;
        state.pipelines.remove(id);
        self.runtime.forget_taps(id);
        Ok(())
    }

    /// Starts a pipeline (a running one stays as it is) and stores that it should run.
    ///
    /// # Errors
    /// No such pipeline; a connector that cannot be configured; storage failure.
    pub async fn start_pipeline(&self, id: &str) -> Result<PipelineView, ControlError> {
        let mut state = self.state.lock().await;
        state.launch(&self.runtime, &state.pipeline(id)?.record.spec)?;
        self.set_running(&mut state, id, true)?;
        self.view(&state, id)
    }

    /// Stops a pipeline after it has processed what it received, and stores that it should
    /// not run.
    ///
    /// # Errors
    /// No such pipeline; storage failure.
    pub async fn stop_pipeline(&self, id: &str) -> Result<PipelineView, ControlError> {
        let mut state = self.state.lock().await;
        state.pipeline(id)?;
        self.runtime.stop(id).await;
        self.set_running(&mut state, id, false)?;
        self.view(&state, id)
    }

    fn set_running(&self, state: &mut State, id: &str, running: bool) -> Result<(), ControlError> {
        let Some(entry) = state.pipelines.get_mut(id) else {
            return Err(not_found_pipeline(id));
        };
        if entry.record.running != running {
            let record = PipelineRecord::new(entry.record.spec.clone(), running);
            self.storage.put_pipeline(&record)?;
            entry.record = record;
        }
        Ok(())
    }

    /// Every pipeline.
    pub async fn pipelines(&self) -> Vec<PipelineView> {
        let state = self.state.lock().await;
        state
            .pipelines
            .keys()
            .filter_map(|id| self.view(&state, id).ok())
            .collect()
    }

    /// One pipeline.
    ///
    /// # Errors
    /// When there is no such pipeline.
    pub async fn pipeline(&self, id: &str) -> Result<PipelineView, ControlError> {
        let state = self.state.lock().await;
        self.view(&state, id)
    }

    /// The plan of a pipeline as text.
    ///
    /// # Errors
    /// When there is no such pipeline.
    pub async fn explain(&self, id: &str) -> Result<String, ControlError> {
        let state = self.state.lock().await;
        Ok(state.plan(&state.pipeline(id)?.record.spec)?.explain())
    }

    /// The plan `spec` would have if it replaced its pipeline, without replacing it: what a
    /// replace would refuse, it refuses with the same error.
    ///
    /// # Errors
    /// No such pipeline; invalid spec or SQL.
    pub async fn explain_replacement(
        &self,
        mut spec: PipelineSpec,
    ) -> Result<String, ControlError> {
        let state = self.state.lock().await;
        spec.keep_credentials_of(&state.pipeline(&spec.id)?.record.spec);
        Ok(state.validate_pipeline(&spec)?.explain())
    }

    /// The state and counters of a pipeline.
    ///
    /// # Errors
    /// When there is no such pipeline.
    pub async fn status(&self, id: &str) -> Result<PipelineStatus, ControlError> {
        let state = self.state.lock().await;
        state.pipeline(id)?;
        Ok(self.runtime.status(id))
    }

    /// The debug taps of a pipeline.
    ///
    /// # Errors
    /// When there is no such pipeline.
    pub async fn taps(&self, id: &str) -> Result<std::sync::Arc<Taps>, ControlError> {
        let state = self.state.lock().await;
        state.pipeline(id)?;
        Ok(self.runtime.taps(id))
    }

    /// The status of every pipeline, running or not.
    pub async fn statuses(&self) -> Vec<(String, PipelineStatus)> {
        let state = self.state.lock().await;
        state
            .pipelines
            .keys()
            .map(|id| (id.clone(), self.runtime.status(id)))
            .collect()
    }

    /// Every stream and pipeline.
    pub async fn export(&self) -> Export {
        let state = self.state.lock().await;
        Export {
            streams: state
                .streams
                .values()
                .map(|entry| entry.spec.redacted())
                .collect(),
            pipelines: state
                .pipelines
                .values()
                .map(|entry| ExportedPipeline {
                    spec: entry.record.spec.redacted(),
                    running: entry.record.running,
                })
                .collect(),
        }
    }

    /// Adds every stream and pipeline of `export`, then starts those marked running. Nothing
    /// changes unless all of it validates and none of it exists already.
    ///
    /// # Errors
    /// Every conflict with existing names (409), or the first invalid item (400).
    pub async fn import(&self, export: Export) -> Result<Export, ControlError> {
        let mut state = self.state.lock().await;
        let conflicts = state.conflicts(&export);
        if !conflicts.is_empty() {
            return Err(ControlError::Conflict(format!(
                "already exist: {}",
                conflicts.join(", ")
            )));
        }
        let mut staged = State::default();
        for spec in &export.streams {
            let schema = spec
                .validate()
                .map_err(|error| prefixed(&format!("stream '{}'", spec.name), error.into()))?;
            staged.streams.insert(
                spec.name.clone(),
                StreamEntry {
                    spec: spec.clone(),
                    schema,
                },
            );
        }
        for (name, entry) in &state.streams {
            staged.streams.insert(
                name.clone(),
                StreamEntry {
                    spec: entry.spec.clone(),
                    schema: entry.schema.clone(),
                },
            );
        }
        let mut records = Vec::new();
        for pipeline in &export.pipelines {
            let plan = staged
                .validate_pipeline(&pipeline.spec)
                .map_err(|error| prefixed(&format!("pipeline '{}'", pipeline.spec.id), error))?;
            records.push((
                PipelineRecord::new(pipeline.spec.clone(), pipeline.running),
                plan.source.stream,
            ));
        }
        let plain: Vec<PipelineRecord> = records.iter().map(|(record, _)| record.clone()).collect();
        self.storage.put_all(&export.streams, &plain)?;
        for spec in &export.streams {
            if let Some(entry) = staged.streams.remove(&spec.name) {
                state.streams.insert(spec.name.clone(), entry);
            }
        }
        for (record, stream) in records {
            let id = record.spec.id.clone();
            state
                .pipelines
                .insert(id.clone(), PipelineEntry { record, stream });
        }
        for pipeline in export.pipelines.iter().filter(|pipeline| pipeline.running) {
            state.launch(&self.runtime, &pipeline.spec)?;
        }
        Ok(Export {
            streams: export.streams.iter().map(StreamSpec::redacted).collect(),
            pipelines: export
                .pipelines
                .into_iter()
                .map(|pipeline| ExportedPipeline {
                    spec: pipeline.spec.redacted(),
                    running: pipeline.running,
                })
                .collect(),
        })
    }

    fn view(&self, state: &State, id: &str) -> Result<PipelineView, ControlError> {
        let entry = state.pipeline(id)?;
        Ok(PipelineView {
            id: id.to_owned(),
            status: self.runtime.status(id).state,
            stream: entry.stream.clone(),
            spec: entry.record.spec.redacted(),
        })
    }
}

fn prefixed(what: &str, error: ControlError) -> ControlError {
    match error {
        ControlError::Invalid(message) => ControlError::Invalid(format!("{what}: {message}")),
        other => other,
    }
}

fn not_found_pipeline(id: &str) -> ControlError {
    ControlError::NotFound(format!("no pipeline '{id}'"))
}

impl State {
    fn stream(&self, name: &str) -> Result<&StreamEntry, ControlError> {
        self.streams
            .get(name)
            .ok_or_else(|| ControlError::NotFound(format!("no stream '{name}'")))
    }

    fn pipeline(&self, id: &str) -> Result<&PipelineEntry, ControlError> {
        self.pipelines.get(id).ok_or_else(|| not_found_pipeline(id))
    }

    fn catalog(&self) -> Catalog {
        let mut catalog = Catalog::new();
        for (name, entry) in &self.streams {
            catalog.insert(name.clone(), entry.schema.clone());
            if let Some(eventtime) = &entry.spec.eventtime {
                let unit_ms = if eventtime.kind == "unixtimestamp_s" {
                    1000
                } else {
                    1
                };
                let column = EventTimeColumn {
                    column: eventtime.column.clone(),
                    unit_ms,
                };
                catalog.set_event_time(name.clone(), column);
            }
        }
        catalog
    }

    fn plan(&self, spec: &PipelineSpec) -> Result<PipelinePlan, ControlError> {
        let eventtime = spec.options.eventtime.as_ref();
        let options = PlanOptions {
            event_time: eventtime.is_some_and(|eventtime| eventtime.enabled),
            late_tolerance_ms: eventtime.map_or(0, |eventtime| {
                i64::try_from(eventtime.late_tolerance_ms).unwrap_or(i64::MAX)
            }),
        };
        Ok(veloflux_planner::plan_with(
            &spec.sql,
            &self.catalog(),
            &options,
        )?)
    }

    fn validate_pipeline(&self, spec: &PipelineSpec) -> Result<PipelinePlan, ControlError> {
        spec.validate()?;
        let plan = self.plan(spec)?;
        spec.validate_destinations(&plan.output_schema)?;
        let stream = self.stream(&plan.source.stream)?;
        if stream.spec.shared
            && let Some(property) = plan
                .source
                .metadata
                .iter()
                .find(|m| !Metadata::ALWAYS.contains(m))
        {
            return Err(ControlError::Invalid(format!(
                "sql: {} reads a message property, which a shared stream does not keep; read \
                 stream '{}' unshared (\"shared\": false) to use it",
                property.column_name(),
                stream.spec.name
            )));
        }
        Ok(plan)
    }

    fn launch(&self, runtime: &Runtime, spec: &PipelineSpec) -> Result<(), ControlError> {
        let plan = self.plan(spec)?;
        let stream = self.stream(&plan.source.stream)?;
        let launch = Launch {
            spec,
            stream: &stream.spec,
            stream_schema: stream.schema.clone(),
            plan,
        };
        Ok(runtime.start(launch)?)
    }

    fn conflicts(&self, export: &Export) -> Vec<String> {
        let streams = export
            .streams
            .iter()
            .filter(|spec| self.streams.contains_key(&spec.name))
            .map(|spec| format!("stream '{}'", spec.name));
        let pipelines = export
            .pipelines
            .iter()
            .filter(|pipeline| self.pipelines.contains_key(&pipeline.spec.id))
            .map(|pipeline| format!("pipeline '{}'", pipeline.spec.id));
        streams.chain(pipelines).collect()
    }
}
