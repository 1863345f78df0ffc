//! `GET /export` and `POST /import`: all metadata as one JSON document.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;

use super::ApiError;
use super::json::Body;
use crate::control::{Control, Export};

pub(super) async fn export(State(control): State<Arc<Control>>) -> Json<Export> {
    Json(control.export().await)
}

pub(super) async fn import(
    State(control): State<Arc<Control>>,
    Body(document): Body<Export>,
) -> Result<Json<Export>, ApiError> {
    Ok(Json(control.import(document).await?))
}
