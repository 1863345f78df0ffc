//! `/pipelines`: create, list, get, replace, delete, start, stop, explain, status, stats.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Serialize;

use super::ApiError;
use super::json::Body;
use crate::control::{Control, PipelineView};
use crate::runtime::{PipelineState, PipelineStatus, StageStatus};
use crate::spec::PipelineSpec;

/// A pipeline's id and state: the answer to create, start and stop.
#[derive(Serialize)]
pub(super) struct Summary {
    id: String,
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

pub(super) async fn create(
    State(control): State<Arc<Control>>,
    Body(spec): Body<PipelineSpec>,
) -> Result<(StatusCode, Json<Summary>), ApiError> {
    let view = control.create_pipeline(spec).await?;
    Ok((StatusCode::CREATED, Json(view.into())))
}

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

pub(super) async fn get(
    State(control): State<Arc<Control>>,
    Path(id): Path<String>,
) -> Result<Json<PipelineView>, ApiError> {
    Ok(Json(control.pipeline(&id).await?))
}

pub(super) async fn replace(
    State(control): State<Arc<Control>>,
    Path(id): Path<String>,
    Body(mut spec): Body<PipelineSpec>,
) -> Result<Json<PipelineView>, ApiError> {
    if !spec.id.is_empty() && spec.id != id {
        return Err(ApiError::BadRequest(format!(
            "id '{}' in the body differs from '{id}' in the path",
            spec.id
        )));
    }
    spec.id = id;
    Ok(Json(control.replace_pipeline(spec).await?))
}

pub(super) async fn delete(
    State(control): State<Arc<Control>>,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    control.delete_pipeline(&id).await?;
    Ok(Json(serde_json::json!({"deleted": id})))
}

pub(super) async fn start(
    State(control): State<Arc<Control>>,
    Path(id): Path<String>,
) -> Result<Json<Summary>, ApiError> {
    Ok(Json(control.start_pipeline(&id).await?.into()))
}

pub(super) async fn stop(
    State(control): State<Arc<Control>>,
    Path(id): Path<String>,
) -> Result<Json<Summary>, ApiError> {
    Ok(Json(control.stop_pipeline(&id).await?.into()))
}

pub(super) async fn explain(
    State(control): State<Arc<Control>>,
    Path(id): Path<String>,
) -> Result<String, ApiError> {
    Ok(control.explain(&id).await? + "\n")
}

pub(super) async fn status(
    State(control): State<Arc<Control>>,
    Path(id): Path<String>,
) -> Result<Json<PipelineStatus>, ApiError> {
    Ok(Json(control.status(&id).await?))
}

pub(super) async fn stats(
    State(control): State<Arc<Control>>,
    Path(id): Path<String>,
) -> Result<Json<Vec<StageStatus>>, ApiError> {
    Ok(Json(control.status(&id).await?.stages))
}
