//! `GET /export` and `POST /import`: all metadata as one JSON document.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;

use super::json::Body;
use super::openapi::BodyRejected;
use super::{ApiError, ErrorBody};
use crate::control::{Control, Export};

/// Every stream and pipeline, and whether each pipeline runs.
#[utoipa::path(
    get,
    path = "/export",
    operation_id = "export",
    tag = "metadata",
    responses((status = 200, description = "All metadata, credentials redacted.", body = Export))
)]
pub(super) async fn export(State(control): State<Arc<Control>>) -> Json<Export> {
    Json(control.export().await)
}

/// Add every stream and pipeline of an export, all or nothing, and start those marked running.
#[utoipa::path(
    post,
    path = "/import",
    operation_id = "import",
    tag = "metadata",
    request_body = Export,
    responses(
        (status = 200, description = "What was imported.", body = Export),
        (status = 409, description = "Some names exist already; the message lists every one.", body = ErrorBody),
        BodyRejected,
    )
)]
pub(super) async fn import(
    State(control): State<Arc<Control>>,
    Body(document): Body<Export>,
) -> Result<Json<Export>, ApiError> {
    Ok(Json(control.import(document).await?))
}
