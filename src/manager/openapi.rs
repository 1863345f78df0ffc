//! The OpenAPI 3.1 document of the REST API, served at `GET /openapi.json`.
//!
//! Paths, parameters, bodies and answers come from the `#[utoipa::path]` annotations next to
//! each handler, collected as [`super::app`] registers the routes; this module adds what is
//! common to all of them: the API's description, the bearer-token scheme, the 401 every
//! guarded operation may answer and the rejections of a JSON body.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use axum::http::header;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
use utoipa::{IntoResponses, Modify};

use super::auth::OPEN_PATHS;
use super::{ApiError, ErrorBody};

/// The parts of the document that are not paths.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "veloFlux",
        description = "SQL over MQTT streams: streams, pipelines, their debug taps, metadata \
            export and import. Every error is `{\"error\": {\"code\", \"message\"}}`. With \
            `server.auth_token` set, every request but `/healthz` (and `/metrics` when \
            `server.metrics_public` is true) needs `Authorization: Bearer <token>`."
    ),
    components(schemas(ErrorBody)),
    modifiers(&BearerToken),
    security(("bearer" = [])),
    tags(
        (name = "streams", description = "Named sources of JSON messages and their columns."),
        (name = "pipelines", description = "SQL statements over a stream and their sinks."),
        (name = "debug", description = "The batches passing a pipeline's taps, and CPU profiles."),
        (name = "metadata", description = "Every stream and pipeline as one document."),
        (name = "server", description = "Health, metrics and this document."),
    )
)]
pub(super) struct ApiDoc;

/// The `bearer` security scheme: the token is `server.auth_token`.
struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let scheme = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .description(Some("The server's `server.auth_token`."))
            .build();
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme("bearer", SecurityScheme::Http(scheme));
    }
}

/// The answers to a JSON body refused before its handler runs: 400, 413, 415 and 422.
pub(super) struct BodyRejected;

impl IntoResponses for BodyRejected {
    fn responses() -> BTreeMap<String, RefOr<utoipa::openapi::Response>> {
        [
            (
                400,
                "Malformed JSON, or a field that does not hold up; the message names it.",
            ),
            (413, "The body is larger than 1 MiB."),
            (
                415,
                "The body is not sent as `Content-Type: application/json`.",
            ),
            (
                422,
                "JSON of the wrong shape: a missing, unknown or mistyped field, named.",
            ),
        ]
        .into_iter()
        .map(|(status, description)| (status.to_string(), error_response(description)))
        .collect()
    }
}

/// An error answer: [`ErrorBody`] as JSON.
fn error_response(description: &str) -> RefOr<utoipa::openapi::Response> {
    let content = ContentBuilder::new()
        .schema(Some(Ref::from_schema_name("ErrorBody")))
        .build();
    ResponseBuilder::new()
        .description(description)
        .content("application/json", content)
        .build()
        .into()
}

/// The whole document, built once.
static DOCUMENT: LazyLock<Result<Bytes, String>> = LazyLock::new(|| {
    let mut document = super::described_routes().into_openapi();
    for (path, item) in &mut document.paths.paths {
        if !OPEN_PATHS.contains(&path.as_str()) {
            operations(item).for_each(answer_unauthorized);
        }
    }
    document
        .to_json()
        .map(Bytes::from)
        .map_err(|error| format!("the OpenAPI document does not serialize: {error}"))
});

fn operations(item: &mut utoipa::openapi::PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.options,
        &mut item.head,
        &mut item.patch,
        &mut item.trace,
    ]
    .into_iter()
    .filter_map(Option::as_mut)
}

fn answer_unauthorized(operation: &mut Operation) {
    operation.responses.responses.insert(
        "401".to_owned(),
        error_response("No valid `Authorization: Bearer <server.auth_token>`."),
    );
}

/// This document: every path, parameter, body and answer of the API.
#[utoipa::path(
    get,
    path = "/openapi.json",
    operation_id = "openapi",
    tag = "server",
    responses((status = 200, description = "The OpenAPI 3.1 document.", body = Object))
)]
pub(super) async fn document() -> Result<Response, ApiError> {
    match &*DOCUMENT {
        Ok(json) => {
            Ok(([(header::CONTENT_TYPE, "application/json")], json.clone()).into_response())
        }
        Err(error) => Err(ApiError::Internal(error.clone())),
    }
}

#[cfg(test)]
mod tests;
