//! `/streams`: create, list, describe, delete.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

use super::json::Body;
use super::openapi::BodyRejected;
use super::params::Path;
use super::{ApiError, Deleted, ErrorBody};
use crate::control::Control;
use crate::spec::StreamSpec;

/// Create a stream.
#[utoipa::path(
    post,
    path = "/streams",
    operation_id = "create_stream",
    tag = "streams",
    request_body = StreamSpec,
    responses(
        (status = 201, description = "The stream as stored, credentials redacted.", body = StreamSpec),
        (status = 409, description = "A stream of that name exists.", body = ErrorBody),
        BodyRejected,
    )
)]
pub(super) async fn create(
    State(control): State<Arc<Control>>,
    Body(spec): Body<StreamSpec>,
) -> Result<(StatusCode, Json<StreamSpec>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(control.create_stream(spec).await?),
    ))
}

/// List every stream.
#[utoipa::path(
    get,
    path = "/streams",
    operation_id = "list_streams",
    tag = "streams",
    responses((status = 200, description = "Every stream, credentials redacted.", body = Vec<StreamSpec>))
)]
pub(super) async fn list(State(control): State<Arc<Control>>) -> Json<Vec<StreamSpec>> {
    Json(control.streams().await)
}

/// Describe a stream.
#[utoipa::path(
    get,
    path = "/streams/{name}",
    operation_id = "describe_stream",
    tag = "streams",
    params(("name" = String, Path, description = "The stream's name.")),
    responses(
        (status = 200, description = "The stream, credentials redacted.", body = StreamSpec),
        (status = 400, description = "The name is not UTF-8.", body = ErrorBody),
        (status = 404, description = "No stream has that name.", body = ErrorBody),
    )
)]
pub(super) async fn describe(
    State(control): State<Arc<Control>>,
    Path(name): Path<String>,
) -> Result<Json<StreamSpec>, ApiError> {
    Ok(Json(control.stream(&name).await?))
}

/// Describe a stream (the original API's path).
#[utoipa::path(
    get,
    path = "/streams/describe/{name}",
    operation_id = "describe_stream_by_original_path",
    tag = "streams",
    params(("name" = String, Path, description = "The stream's name.")),
    responses(
        (status = 200, description = "The stream, credentials redacted.", body = StreamSpec),
        (status = 400, description = "The name is not UTF-8.", body = ErrorBody),
        (status = 404, description = "No stream has that name.", body = ErrorBody),
    )
)]
pub(super) async fn describe_by_original_path(
    state: State<Arc<Control>>,
    name: Path<String>,
) -> Result<Json<StreamSpec>, ApiError> {
    describe(state, name).await
}

/// Delete a stream that no pipeline reads.
#[utoipa::path(
    delete,
    path = "/streams/{name}",
    operation_id = "delete_stream",
    tag = "streams",
    params(("name" = String, Path, description = "The stream's name.")),
    responses(
        (status = 200, description = "The stream is gone.", body = Deleted),
        (status = 400, description = "The name is not UTF-8.", body = ErrorBody),
        (status = 404, description = "No stream has that name.", body = ErrorBody),
        (status = 409, description = "Pipelines read the stream; the message lists them.", body = ErrorBody),
    )
)]
pub(super) async fn delete(
    State(control): State<Arc<Control>>,
    Path(name): Path<String>,
) -> Result<Json<Deleted>, ApiError> {
    control.delete_stream(&name).await?;
    Ok(Json(Deleted { deleted: name }))
}
