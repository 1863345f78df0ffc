//! `/pipelines/:id/debug`: retain the batches passing a pipeline's taps, and read them back as
//! an Arrow IPC stream (which pyarrow, DuckDB and Polars read directly) or as JSON.

use std::sync::Arc;
use std::time::Duration;

use arrow::array::RecordBatch;
use arrow::datatypes::Schema;
use arrow_ipc::writer::StreamWriter;
use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use veloflux_connectors::codec::json::{JsonEncoder, JsonFormat};

use super::ApiError;
use super::json::Body as JsonBody;
use crate::control::Control;
use crate::runtime::{MAX_RETAINED_BATCHES, Retention, Tail, TapPoint, Taps, UnknownTap};

/// The media type of an Arrow IPC stream.
const ARROW_STREAM: &str = "application/vnd.apache.arrow.stream";
/// The longest a tail may run.
const MAX_TAIL: Duration = Duration::from_secs(300);

/// `POST /pipelines/:id/debug`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DebugRequest {
    enabled: bool,
    #[serde(default = "default_max_batches")]
    max_batches: usize,
    #[serde(default = "default_ttl_secs")]
    ttl_secs: u64,
}

fn default_max_batches() -> usize {
    16
}

fn default_ttl_secs() -> u64 {
    300
}

/// Whether batches are retained, how many and for how much longer.
#[derive(Debug, Serialize)]
pub(super) struct DebugState {
    enabled: bool,
    max_batches: Option<usize>,
    ttl_secs: Option<u64>,
    expires_in_secs: Option<u64>,
}

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
#[derive(Debug, Deserialize)]
pub(super) struct TapQuery {
    point: Option<String>,
    limit: Option<usize>,
    seconds: Option<u64>,
}

impl TapQuery {
    fn point(&self) -> Result<TapPoint, ApiError> {
        let text = self.point.as_deref().unwrap_or("sink");
        text.parse()
            .map_err(|error: UnknownTap| ApiError::BadRequest(format!("point: {error}")))
    }
}

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
fn json_batches(schema: &Schema, batches: &[RecordBatch]) -> Result<serde_json::Value, ApiError> {
    let fields = schema.fields().iter().map(
        |field| serde_json::json!({"name": field.name(), "type": field.data_type().to_string()}),
    );
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
    Ok(
        serde_json::json!({"schema": fields.collect::<Vec<_>>(), "batches": batches.len(), "rows": rows}),
    )
}

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
