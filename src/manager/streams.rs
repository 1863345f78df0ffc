//! `/streams`: create, list, describe, delete.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;

use super::ApiError;
use super::json::Body;
use crate::control::Control;
use crate::spec::StreamSpec;

pub(super) async fn create(
    State(control): State<Arc<Control>>,
    Body(spec): Body<StreamSpec>,
) -> Result<(StatusCode, Json<StreamSpec>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(control.create_stream(spec).await?),
    ))
}

pub(super) async fn list(State(control): State<Arc<Control>>) -> Json<Vec<StreamSpec>> {
    Json(control.streams().await)
}

pub(super) async fn describe(
    State(control): State<Arc<Control>>,
    Path(name): Path<String>,
) -> Result<Json<StreamSpec>, ApiError> {
    Ok(Json(control.stream(&name).await?))
}

pub(super) async fn delete(
    State(control): State<Arc<Control>>,
    Path(name): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    control.delete_stream(&name).await?;
    Ok(Json(serde_json::json!({"deleted": name})))
}
