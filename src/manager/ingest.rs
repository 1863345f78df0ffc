//! `POST /streams/<name>/ingest`: messages for a stream of type `http`, handed to the
//! pipelines reading it all at once or not at all. A JSON object is one message, each element
//! of a JSON array one, each line of JSON lines one; a malformed message is counted by the
//! pipelines like any bad payload, and the rest are kept.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use serde::Serialize;
use serde_json::value::RawValue;
use utoipa::ToSchema;
use veloflux_connectors::topics::Refused;

use super::json::RawBody;
use super::params::Path;
use super::{ApiError, ErrorBody};
use crate::control::Control;

/// The stream type whose messages come through this endpoint.
const INGEST_TYPE: &str = "http";

/// What an ingest request handed on.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct Accepted {
    /// How many messages are in the pipelines' queues.
    accepted: usize,
}

/// Post messages to a stream of type `http`.
#[utoipa::path(
    post,
    path = "/streams/{name}/ingest",
    operation_id = "ingest",
    tag = "streams",
    params(("name" = String, Path, description = "The stream's name.")),
    request_body(
        description = "A JSON object (one message), a JSON array (one message per element), or JSON lines (`application/x-ndjson`, one message per line).",
        content(
            (serde_json::Value = "application/json"),
            (String = "application/x-ndjson"),
        ),
    ),
    responses(
        (status = 202, description = "Every message is in the queue of every running pipeline reading the stream.", body = Accepted),
        (status = 400, description = "The body is not JSON, or the name is not UTF-8.", body = ErrorBody),
        (status = 404, description = "No stream has that name.", body = ErrorBody),
        (status = 409, description = "The stream is not of type http, or no running pipeline reads it.", body = ErrorBody),
        (status = 413, description = "The body is over 1 MiB, or holds more messages than a pipeline's queue.", body = ErrorBody),
        (status = 415, description = "The body is neither application/json nor application/x-ndjson.", body = ErrorBody),
        (status = 429, description = "A pipeline's queue is full: nothing was taken; send again after `Retry-After` seconds.", body = ErrorBody,
         headers(("Retry-After" = u32, description = "Seconds to wait."))),
    )
)]
pub(super) async fn ingest(
    State(control): State<Arc<Control>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<(StatusCode, Json<Accepted>), ApiError> {
    let messages = split(&headers, &body)?;
    let stream = control.stream(&name).await?;
    if stream.kind != INGEST_TYPE {
        return Err(ApiError::Conflict(format!(
            "stream '{name}' is of type \"{}\"; only streams of type \"{INGEST_TYPE}\" take posted messages",
            stream.kind
        )));
    }
    match control.ingest().try_publish_all(&name, &messages) {
        Ok(()) => Ok((
            StatusCode::ACCEPTED,
            Json(Accepted {
                accepted: messages.len(),
            }),
        )),
        Err(Refused::NoReader) => Err(ApiError::Conflict(format!(
            "no running pipeline reads stream '{name}': nothing was taken"
        ))),
        Err(Refused::Full) => Err(ApiError::TooManyRequests(format!(
            "the queue of a pipeline reading stream '{name}' is full: nothing was taken"
        ))),
        Err(Refused::TooMany(capacity)) => Err(ApiError::PayloadTooLarge(format!(
            "{} messages are more than a pipeline's queue holds ({capacity}): send fewer at a time",
            messages.len()
        ))),
    }
}

/// The messages of a request body, by its content type.
fn split(headers: &HeaderMap, body: &Bytes) -> Result<Vec<Bytes>, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .map(str::trim)
        .unwrap_or_default();
    match content_type {
        "application/json" => json_messages(body),
        "application/x-ndjson" | "application/jsonl" => Ok(lines(body)),
        other => Err(ApiError::UnsupportedMediaType(format!(
            "Content-Type: expected application/json or application/x-ndjson, not '{other}'"
        ))),
    }
}

/// An object is one message; an array's elements are one each.
fn json_messages(body: &Bytes) -> Result<Vec<Bytes>, ApiError> {
    let malformed = |error: serde_json::Error| ApiError::BadRequest(format!("body: {error}"));
    let start = body.iter().position(|byte| !byte.is_ascii_whitespace());
    if start.is_some_and(|start| body[start] == b'[') {
        let elements: Vec<&RawValue> = serde_json::from_slice(body).map_err(malformed)?;
        return Ok(elements
            .into_iter()
            .map(|element| body.slice_ref(element.get().as_bytes()))
            .collect());
    }
    serde_json::from_slice::<&RawValue>(body).map_err(malformed)?;
    Ok(vec![body.clone()])
}

/// Each non-blank line is one message.
fn lines(body: &Bytes) -> Vec<Bytes> {
    body.split(|byte| *byte == b'\n')
        .map(|line| line.strip_suffix(b"\r").unwrap_or(line))
        .filter(|line| !line.iter().all(u8::is_ascii_whitespace))
        .map(|line| body.slice_ref(line))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split_as(content_type: &str, body: &'static str) -> Result<Vec<Bytes>, ApiError> {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, content_type.parse().unwrap());
        split(&headers, &Bytes::from_static(body.as_bytes()))
    }

    #[test]
    fn objects_array_elements_and_lines_are_one_message_each() {
        let object = split_as("application/json", r#" {"a": 1} "#).unwrap();
        assert_eq!(object, [Bytes::from_static(br#" {"a": 1} "#)]);
        let array = split_as(
            "application/json; charset=utf-8",
            r#"[{"a":1}, {"a":"x"} ,2]"#,
        );
        assert_eq!(array.unwrap(), [&br#"{"a":1}"#[..], br#"{"a":"x"}"#, b"2"]);
        let lines = split_as("application/x-ndjson", "{\"a\":1}\r\n\n{oops\n");
        assert_eq!(lines.unwrap(), [&br#"{"a":1}"#[..], b"{oops"]);
    }

    #[test]
    fn a_body_that_is_not_json_or_not_declared_as_such_is_refused() {
        let error = split_as("application/json", "[{\"a\":1},").unwrap_err();
        assert!(
            matches!(&error, ApiError::BadRequest(m) if m.starts_with("body: ")),
            "{error}"
        );
        let error = split_as("text/plain", "{}").unwrap_err();
        assert!(matches!(error, ApiError::UnsupportedMediaType(_)));
    }
}
