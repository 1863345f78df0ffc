//! `/pipelines/:id/debug`: retain the batches passing a pipeline's taps, and read them back as
//! an Arrow IPC stream (which pyarrow, DuckDB and Polars read directly) or as JSON.

use std::sync::Arc;
use std::time::Duration;

use arrow::array::RecordBatch;
use arrow::datatypes::Schema;
use arrow_ipc::writer::StreamWriter;
use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use veloflux_connectors::codec::json::{JsonEncoder, JsonFormat};

use super::json::Body as JsonBody;
use super::openapi::BodyRejected;
use super::params::{Path, Query};
use super::{ApiError, ErrorBody};
use crate::control::Control;
use crate::runtime::{MAX_RETAINED_BATCHES, Retention, Tail, TapPoint, Taps, UnknownTap};

/// The media type of an Arrow IPC stream.
const ARROW_STREAM: &str = "application/vnd.apache.arrow.stream";
/// The longest a tail may run.
const MAX_TAIL: Duration = Duration::from_secs(300);

/// What to retain: the body of `POST /pipelines/:id/debug`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct DebugRequest {
    /// Whether to retain batches; `false` drops what was kept.
    enabled: bool,
    /// Batches kept per tap, the most recent ones (at most 256).
    #[serde(default = "default_max_batches")]
    #[schema(default = default_max_batches)]
    max_batches: usize,
    /// Seconds before retention turns itself off (at most 3600).
    #[serde(default = "default_ttl_secs")]
    #[schema(default = default_ttl_secs)]
    ttl_secs: u64,
}

fn default_max_batches() -> usize {
    16
}

fn default_ttl_secs() -> u64 {
    300
}

/// Whether batches are retained, how many and for how much longer.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct DebugState {
    /// Whether batches are retained.
    enabled: bool,
    /// Batches kept per tap, as granted.
    max_batches: Option<usize>,
    /// How long retention lasts, as granted.
    ttl_secs: Option<u64>,
    /// Seconds left before retention turns itself off.
    expires_in_secs: Option<u64>,
}

/// The batches retained, as JSON.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct JsonBatches {
    /// The columns at the tap.
    schema: Vec<TapColumn>,
    /// How many batches the rows come from.
    batches: usize,
    /// Every row, as a JSON object.
    #[schema(value_type = Vec<Object>)]
    rows: Vec<serde_json::Value>,
}

/// A column's name and Arrow type.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct TapColumn {
    /// The column's name.
    name: String,
    /// Its Arrow type, as Arrow prints it (`Int64`, `Utf8`, ...).
    #[serde(rename = "type")]
    data_type: String,
}

/// Retain the batches passing a pipeline's taps, or stop retaining them.
#[utoipa::path(
    post,
    path = "/pipelines/{id}/debug",
    operation_id = "set_debug",
    tag = "debug",
    params(("id" = String, Path, description = "The pipeline's id.")),
    request_body = DebugRequest,
    responses(
        (status = 200, description = "Retention as granted.", body = DebugState),
        (status = 404, description = "No pipeline has that id.", body = ErrorBody),
        BodyRejected,
    )
)]
pub(super) async fn set(
    State(control): State<Arc<Control>>,
    Path(id): Path<String>,
    JsonBody(request): JsonBody<DebugRequest>,
) -> Result<Json<DebugState>, ApiError> {
    let taps = control.taps(&id).await?;
    let retention = request.enabled.then_some(Retention {
        max_batches: request.max_batches,
        ttl_secs: request.ttl_secs,
    });
    taps.retain(retention);
    Ok(Json(state_of(&taps)))
}

/// Whether a pipeline's batches are retained.
#[utoipa::path(
    get,
    path = "/pipelines/{id}/debug",
    operation_id = "get_debug",
    tag = "debug",
    params(("id" = String, Path, description = "The pipeline's id.")),
    responses(
        (status = 200, description = "Retention now.", body = DebugState),
        (status = 400, description = "The id is not UTF-8.", body = ErrorBody),
        (status = 404, description = "No pipeline has that id.", body = ErrorBody),
    )
)]
pub(super) async fn get(
    State(control): State<Arc<Control>>,
    Path(id): Path<String>,
) -> Result<Json<DebugState>, ApiError> {
    let taps = control.taps(&id).await?;
    Ok(Json(state_of(&taps)))
}

fn state_of(taps: &Taps) -> DebugState {
    let retention = taps.retention();
    DebugState {
        enabled: retention.is_some(),
        max_batches: retention.map(|(retention, _)| retention.max_batches),
        ttl_secs: retention.map(|(retention, _)| retention.ttl_secs),
        expires_in_secs: retention.map(|(_, left)| left),
    }
}

/// `?point=<tap>&limit=N` and `?point=<tap>&seconds=N`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct TapQuery {
    /// The tap: `source`, `filter`, `project` or `sink` (the default).
    #[param(inline, value_type = Option<TapPoint>)]
    point: Option<String>,
    /// The most batches to return (`batches` only; at most 256).
    limit: Option<usize>,
    /// How long to tail, in seconds (`tail` only; default 10, at most 300).
    seconds: Option<u64>,
}

impl TapQuery {
    fn point(&self) -> Result<TapPoint, ApiError> {
        let text = self.point.as_deref().unwrap_or("sink");
        text.parse()
            .map_err(|error: UnknownTap| ApiError::BadRequest(format!("point: {error}")))
    }
}

/// The batches retained at a tap, as JSON or as an Arrow IPC stream.
#[utoipa::path(
    get,
    path = "/pipelines/{id}/debug/batches",
    operation_id = "debug_batches",
    tag = "debug",
    params(("id" = String, Path, description = "The pipeline's id."), TapQuery),
    responses(
        (status = 200, description = "The batches: JSON by default, an Arrow IPC stream with \
            `Accept: application/vnd.apache.arrow.stream`.", content(
            (JsonBatches = "application/json"),
            ("application/vnd.apache.arrow.stream"),
        )),
        (status = 400, description = "An unknown tap or a bad query string.", body = ErrorBody),
        (status = 404, description = "No pipeline has that id.", body = ErrorBody),
        (status = 409, description = "The pipeline has not run since the server started.", body = ErrorBody),
    )
)]
pub(super) async fn batches(
    State(control): State<Arc<Control>>,
    Path(id): Path<String>,
    Query(query): Query<TapQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let point = query.point()?;
    let taps = control.taps(&id).await?;
    let limit = query.limit.unwrap_or(MAX_RETAINED_BATCHES);
    let (schema, batches) = taps.retained(point, limit);
    let Some(schema) = schema else {
        return Err(ApiError::Conflict(format!(
            "pipeline '{id}' has not run since the server started: start it to see its batches"
        )));
    };
    if wants_arrow(&headers) {
        let bytes = ipc_stream(&schema, &batches)?;
        return Ok(([(header::CONTENT_TYPE, ARROW_STREAM)], bytes).into_response());
    }
    Ok(Json(json_batches(&schema, &batches)?).into_response())
}

fn wants_arrow(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|accept| accept.to_str().ok())
        .is_some_and(|accept| accept.contains(ARROW_STREAM))
}

fn ipc_stream(schema: &Schema, batches: &[RecordBatch]) -> Result<Vec<u8>, ApiError> {
    let write = || {
        let mut writer = StreamWriter::try_new(Vec::new(), schema)?;
        for batch in batches
            .iter()
            .filter(|batch| batch.schema().as_ref() == schema)
        {
            writer.write(batch)?;
        }
        writer.finish()?;
        writer.into_inner()
    };
    write().map_err(|error: arrow::error::ArrowError| ApiError::Internal(error.to_string()))
}

/// The schema as `[{"name", "type"}]` and every row as a JSON object.
fn json_batches(schema: &Schema, batches: &[RecordBatch]) -> Result<JsonBatches, ApiError> {
    let columns = schema.fields().iter().map(|field| TapColumn {
        name: field.name().clone(),
        data_type: field.data_type().to_string(),
    });
    let mut encoder = JsonEncoder::new(JsonFormat::MessagePerRow);
    let mut rows = Vec::new();
    for batch in batches {
        let messages = encoder
            .encode(batch)
            .map_err(|error| ApiError::Internal(error.to_string()))?;
        for message in messages.iter() {
            rows.push(
                serde_json::from_slice::<serde_json::Value>(message)
                    .map_err(|error| ApiError::Internal(error.to_string()))?,
            );
        }
    }
    Ok(JsonBatches {
        schema: columns.collect(),
        batches: batches.len(),
        rows,
    })
}

/// Every batch passing a tap until time is up, as one chunked Arrow IPC stream.
#[utoipa::path(
    get,
    path = "/pipelines/{id}/debug/tail",
    operation_id = "debug_tail",
    tag = "debug",
    params(("id" = String, Path, description = "The pipeline's id."), TapQuery),
    responses(
        (status = 200, description = "An Arrow IPC stream, ended when `seconds` are up.",
            content(("application/vnd.apache.arrow.stream"))),
        (status = 400, description = "An unknown tap or a bad query string.", body = ErrorBody),
        (status = 404, description = "No pipeline has that id.", body = ErrorBody),
        (status = 409, description = "The pipeline has not run since the server started.", body = ErrorBody),
    )
)]
pub(super) async fn tail(
    State(control): State<Arc<Control>>,
    Path(id): Path<String>,
    Query(query): Query<TapQuery>,
) -> Result<Response, ApiError> {
    let point = query.point()?;
    let taps = control.taps(&id).await?;
    let seconds = Duration::from_secs(query.seconds.unwrap_or(10)).min(MAX_TAIL);
    let (schema, tail) = taps.tail(point);
    let Some(schema) = schema else {
        return Err(ApiError::Conflict(format!(
            "pipeline '{id}' has not run since the server started: start it to tail its batches"
        )));
    };
    let writer = StreamWriter::try_new(Vec::new(), &schema)
        .map_err(|error| ApiError::Internal(error.to_string()))?;
    let deadline = tokio::time::Instant::now() + seconds;
    let stream = futures_util::stream::unfold(Some((tail, deadline, writer)), next_chunk);
    Ok((
        [(header::CONTENT_TYPE, ARROW_STREAM)],
        Body::from_stream(stream),
    )
        .into_response())
}

/// A running tail, its deadline and the IPC writer; dropping the tail (the client left, or
/// time is up) stops the tap looking.
type TailState = Option<(Tail, tokio::time::Instant, StreamWriter<Vec<u8>>)>;

/// The bytes written so far (the schema first), then one chunk per batch, then the end of
/// the stream when time is up.
async fn next_chunk(state: TailState) -> Option<(Result<Bytes, std::io::Error>, TailState)> {
    let (mut tail, deadline, mut writer) = state?;
    let pending = std::mem::take(writer.get_mut());
    if !pending.is_empty() {
        return Some((Ok(Bytes::from(pending)), Some((tail, deadline, writer))));
    }
    loop {
        match tokio::time::timeout_at(deadline, tail.next()).await {
            Ok(Some(batch)) => {
                if writer.write(&batch).is_err() {
                    continue;
                }
                let chunk = std::mem::take(writer.get_mut());
                return Some((Ok(Bytes::from(chunk)), Some((tail, deadline, writer))));
            }
            Ok(None) | Err(_) => {
                let _ = writer.finish();
                let end = std::mem::take(writer.get_mut());
                return Some((Ok(Bytes::from(end)), None));
            }
        }
    }
}
