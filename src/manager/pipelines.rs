//! `/pipelines`: create, list, get, replace, delete, start, stop, explain, status, stats.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;

use super::json::Body;
use super::openapi::BodyRejected;
use super::params::Path;
use super::{ApiError, Deleted, ErrorBody};
use crate::control::{Control, PipelineView};
use crate::runtime::{PipelineState, PipelineStatus, StageStatus};
use crate::spec::PipelineSpec;

/// A pipeline's id and state: the answer to create, start and stop.
#[derive(Serialize, ToSchema)]
pub(super) struct Summary {
    /// The pipeline's id.
    id: String,
    /// Whether it runs.
    status: PipelineState,
}

impl From<PipelineView> for Summary {
    fn from(view: PipelineView) -> Self {
        Self {
            id: view.id,
            status: view.status,
        }
    }
}

/// Create a pipeline (stopped): its SQL is planned now, against the streams that exist.
#[utoipa::path(
    post,
    path = "/pipelines",
    operation_id = "create_pipeline",
    tag = "pipelines",
    request_body = PipelineSpec,
    responses(
        (status = 201, description = "The pipeline exists, stopped.", body = Summary),
        (status = 409, description = "A pipeline with that id exists.", body = ErrorBody),
        BodyRejected,
    )
)]
pub(super) async fn create(
    State(control): State<Arc<Control>>,
    Body(spec): Body<PipelineSpec>,
) -> Result<(StatusCode, Json<Summary>), ApiError> {
    let view = control.create_pipeline(spec).await?;
    Ok((StatusCode::CREATED, Json(view.into())))
}

/// List every pipeline and its state.
#[utoipa::path(
    get,
    path = "/pipelines",
    operation_id = "list_pipelines",
    tag = "pipelines",
    responses((status = 200, description = "Every pipeline.", body = Vec<Summary>))
)]
pub(super) async fn list(State(control): State<Arc<Control>>) -> Json<Vec<Summary>> {
    Json(
        control
            .pipelines()
            .await
            .into_iter()
            .map(Summary::from)
            .collect(),
    )
}

/// Get a pipeline: its state and spec.
#[utoipa::path(
    get,
    path = "/pipelines/{id}",
    operation_id = "get_pipeline",
    tag = "pipelines",
    params(("id" = String, Path, description = "The pipeline's id.")),
    responses(
        (status = 200, description = "The pipeline, credentials redacted.", body = PipelineView),
        (status = 400, description = "The id is not UTF-8.", body = ErrorBody),
        (status = 404, description = "No pipeline has that id.", body = ErrorBody),
    )
)]
pub(super) async fn get(
    State(control): State<Arc<Control>>,
    Path(id): Path<String>,
) -> Result<Json<PipelineView>, ApiError> {
    Ok(Json(control.pipeline(&id).await?))
}

/// Replace a pipeline's spec; a running pipeline restarts with the new one.
#[utoipa::path(
    put,
    path = "/pipelines/{id}",
    operation_id = "replace_pipeline",
    tag = "pipelines",
    params(("id" = String, Path, description = "The pipeline's id.")),
    request_body(
        content = PipelineSpec,
        description = "The pipeline; `id` may be left out, and must match the path if not."
    ),
    responses(
        (status = 200, description = "The pipeline as it now is.", body = PipelineView),
        (status = 404, description = "No pipeline has that id.", body = ErrorBody),
        BodyRejected,
    )
)]
pub(super) async fn replace(
    State(control): State<Arc<Control>>,
    Path(id): Path<String>,
    Body(spec): Body<PipelineSpec>,
) -> Result<Json<PipelineView>, ApiError> {
    let spec = replacement(id, spec)?;
    Ok(Json(control.replace_pipeline(spec).await?))
}

/// The spec of a replacement for pipeline `id`: the body's, whose `id` may be left out.
fn replacement(id: String, mut spec: PipelineSpec) -> Result<PipelineSpec, ApiError> {
    if !spec.id.is_empty() && spec.id != id {
        return Err(ApiError::BadRequest(format!(
            "id '{}' in the body differs from '{id}' in the path",
            spec.id
        )));
    }
    spec.id = id;
    Ok(spec)
}

/// Stop and delete a pipeline.
#[utoipa::path(
    delete,
    path = "/pipelines/{id}",
    operation_id = "delete_pipeline",
    tag = "pipelines",
    params(("id" = String, Path, description = "The pipeline's id.")),
    responses(
        (status = 200, description = "The pipeline is gone.", body = Deleted),
        (status = 400, description = "The id is not UTF-8.", body = ErrorBody),
        (status = 404, description = "No pipeline has that id.", body = ErrorBody),
    )
)]
pub(super) async fn delete(
    State(control): State<Arc<Control>>,
    Path(id): Path<String>,
) -> Result<Json<Deleted>, ApiError> {
    control.delete_pipeline(&id).await?;
    Ok(Json(Deleted { deleted: id }))
}

/// Start a pipeline (idempotent).
#[utoipa::path(
    post,
    path = "/pipelines/{id}/start",
    operation_id = "start_pipeline",
    tag = "pipelines",
    params(("id" = String, Path, description = "The pipeline's id.")),
    responses(
        (status = 200, description = "The pipeline runs.", body = Summary),
        (status = 400, description = "The id is not UTF-8, or the pipeline cannot start.", body = ErrorBody),
        (status = 404, description = "No pipeline has that id.", body = ErrorBody),
    )
)]
pub(super) async fn start(
    State(control): State<Arc<Control>>,
    Path(id): Path<String>,
) -> Result<Json<Summary>, ApiError> {
    Ok(Json(control.start_pipeline(&id).await?.into()))
}

/// Stop a pipeline (idempotent), after it processes what it has received.
#[utoipa::path(
    post,
    path = "/pipelines/{id}/stop",
    operation_id = "stop_pipeline",
    tag = "pipelines",
    params(("id" = String, Path, description = "The pipeline's id.")),
    responses(
        (status = 200, description = "The pipeline is stopped.", body = Summary),
        (status = 400, description = "The id is not UTF-8.", body = ErrorBody),
        (status = 404, description = "No pipeline has that id.", body = ErrorBody),
    )
)]
pub(super) async fn stop(
    State(control): State<Arc<Control>>,
    Path(id): Path<String>,
) -> Result<Json<Summary>, ApiError> {
    Ok(Json(control.stop_pipeline(&id).await?.into()))
}

/// Explain a pipeline's plan: the columns it decodes and each step.
#[utoipa::path(
    get,
    path = "/pipelines/{id}/explain",
    operation_id = "explain_pipeline",
    tag = "pipelines",
    params(("id" = String, Path, description = "The pipeline's id.")),
    responses(
        (status = 200, description = "The plan, as text.", body = String, content_type = "text/plain"),
        (status = 400, description = "The id is not UTF-8.", body = ErrorBody),
        (status = 404, description = "No pipeline has that id.", body = ErrorBody),
    )
)]
pub(super) async fn explain(
    State(control): State<Arc<Control>>,
    Path(id): Path<String>,
) -> Result<String, ApiError> {
    Ok(control.explain(&id).await? + "\n")
}

/// Explain the plan a replacement spec would have, saving nothing: a spec `PUT` would refuse
/// is refused with the same message, so a client can check an edit before saving it.
#[utoipa::path(
    post,
    path = "/pipelines/{id}/explain",
    operation_id = "explain_replacement",
    tag = "pipelines",
    params(("id" = String, Path, description = "The pipeline's id.")),
    request_body(
        content = PipelineSpec,
        description = "The pipeline as it would be replaced; `id` may be left out, and must \
            match the path if not."
    ),
    responses(
        (status = 200, description = "The plan the spec would have, as text.", body = String, content_type = "text/plain"),
        (status = 404, description = "No pipeline has that id.", body = ErrorBody),
        BodyRejected,
    )
)]
pub(super) async fn explain_replacement(
    State(control): State<Arc<Control>>,
    Path(id): Path<String>,
    Body(spec): Body<PipelineSpec>,
) -> Result<String, ApiError> {
    let spec = replacement(id, spec)?;
    Ok(control.explain_replacement(spec).await? + "\n")
}

/// A pipeline's state, connections and counters.
#[utoipa::path(
    get,
    path = "/pipelines/{id}/status",
    operation_id = "pipeline_status",
    tag = "pipelines",
    params(("id" = String, Path, description = "The pipeline's id.")),
    responses(
        (status = 200, description = "Its status.", body = PipelineStatus),
        (status = 400, description = "The id is not UTF-8.", body = ErrorBody),
        (status = 404, description = "No pipeline has that id.", body = ErrorBody),
    )
)]
pub(super) async fn status(
    State(control): State<Arc<Control>>,
    Path(id): Path<String>,
) -> Result<Json<PipelineStatus>, ApiError> {
    Ok(Json(control.status(&id).await?))
}

/// A pipeline's counters per stage (the original API's `stats`).
#[utoipa::path(
    get,
    path = "/pipelines/{id}/stats",
    operation_id = "pipeline_stats",
    tag = "pipelines",
    params(("id" = String, Path, description = "The pipeline's id.")),
    responses(
        (status = 200, description = "One entry per stage: source, plan, then each sink.", body = Vec<StageStatus>),
        (status = 400, description = "The id is not UTF-8.", body = ErrorBody),
        (status = 404, description = "No pipeline has that id.", body = ErrorBody),
    )
)]
pub(super) async fn stats(
    State(control): State<Arc<Control>>,
    Path(id): Path<String>,
) -> Result<Json<Vec<StageStatus>>, ApiError> {
    Ok(Json(control.status(&id).await?.stages))
}
