//! The REST control plane (axum): streams, pipelines, export and import, connector types,
//! health.
//!
//! Handlers translate HTTP to [`Control`] operations and back; every error leaves as
//! `{"error": {"code", "message"}}` with the status that says whose fault it is. Each handler
//! carries its OpenAPI description (`#[utoipa::path]`) and is registered with it, so the
//! document at `GET /openapi.json` lists exactly the routes served. The web console
//! (`/ui/`, the `console` feature) is not part of the API and not in that document.

mod auth;
mod connectors;
#[cfg(feature = "console")]
mod console;
mod debug;
mod error;
mod ingest;
mod json;
mod openapi;
mod params;
mod pipelines;
#[cfg(feature = "profiling")]
mod profile;
mod streams;
mod transfer;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use axum::{Router, middleware};
use serde::Serialize;
use utoipa::{OpenApi as _, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use auth::{Access, constant_time_eq};
pub use error::ApiError;

use crate::control::Control;
use error::ErrorBody;

/// The largest request body accepted: specs are small, and a bigger body is a mistake or an
/// attack.
const MAX_BODY_BYTES: usize = 1 << 20;

/// The control plane's routes over `control`, open to whom `access` lets in, CPU profiles
/// included.
pub fn app(control: Arc<Control>, access: Access) -> Router {
    app_with(control, access, Profiling::Here)
}

/// [`app`], serving CPU profiles only if `profiling` says so (they are off, or served at
/// `profiling.addr` by [`profiling_app`]): elsewhere `/debug/pprof/profile` answers 404.
pub fn app_with(control: Arc<Control>, access: Access, profiling: Profiling) -> Router {
    let api = Router::from(described_routes())
        .fallback(not_found)
        .layer(axum::Extension(profiling))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn_with_state(
            Arc::new(access),
            auth::require_token,
        ))
        .with_state(control);
    // Merged after the token check: the console's files hold no data, and its page is where
    // a person enters the token.
    #[cfg(feature = "console")]
    let api = api.merge(console::router());
    api
}

/// Every route of [`app`] with its OpenAPI description: the router and the document of
/// `/openapi.json` are built from this one list, so neither has a route the other lacks.
fn described_routes() -> OpenApiRouter<Arc<Control>> {
    let router = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(routes!(health))
        .routes(routes!(readiness))
        .routes(routes!(metrics))
        .routes(routes!(openapi::document))
        .routes(routes!(connectors::list))
        .routes(routes!(streams::create, streams::list))
        .routes(routes!(streams::describe, streams::delete))
        .routes(routes!(streams::describe_by_original_path))
        .routes(routes!(ingest::ingest))
        .routes(routes!(pipelines::create, pipelines::list))
        .routes(routes!(
            pipelines::get,
            pipelines::replace,
            pipelines::delete
        ))
        .routes(routes!(pipelines::start))
        .routes(routes!(pipelines::stop))
        .routes(routes!(pipelines::explain, pipelines::explain_replacement))
        .routes(routes!(pipelines::status))
        .routes(routes!(pipelines::stats))
        .routes(routes!(debug::set, debug::get))
        .routes(routes!(debug::batches))
        .routes(routes!(debug::tail))
        .routes(routes!(transfer::export))
        .routes(routes!(transfer::import));
    #[cfg(feature = "profiling")]
    let router = router.routes(routes!(profile::profile));
    router
}

/// A router serving only `/debug/pprof/profile`, for `profiling.addr`.
#[cfg(feature = "profiling")]
pub fn profiling_app(access: Access) -> Router {
    Router::new()
        .route("/debug/pprof/profile", get(profile::profile))
        .fallback(not_found)
        .layer(axum::Extension(Profiling::Here))
        .layer(middleware::from_fn_with_state(
            Arc::new(access),
            auth::require_token,
        ))
}

/// A router serving only `/metrics`, for `metrics.addr`.
pub fn metrics_app(control: Arc<Control>, access: Access) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .layer(middleware::from_fn_with_state(
            Arc::new(access),
            auth::require_token,
        ))
        .with_state(control)
}

/// Whether a router serves CPU profiles (`profiling.enabled`, `profiling.addr`; builds
/// with the `profiling` feature).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profiling {
    /// Profiles are served by this router.
    Here,
    /// Not by this router, and why (off, or on another address).
    Elsewhere(&'static str),
}

/// `{"deleted": <name>}`: the answer to a delete.
#[derive(Debug, Serialize, ToSchema)]
struct Deleted {
    /// The stream's name or the pipeline's id.
    deleted: String,
}

/// `{"status": "ok", "instance_id": ...}`.
#[derive(Debug, Serialize, ToSchema)]
struct Health {
    /// Always `ok`.
    status: &'static str,
    /// This server instance's name (`server.instance_id`), part of every default client id.
    instance_id: String,
}

/// Whether the server answers; open even when the API needs a token.
#[utoipa::path(
    get,
    path = "/healthz",
    operation_id = "health",
    tag = "server",
    security(()),
    responses((status = 200, description = "The server answers.", body = Health))
)]
async fn health(
    axum::extract::State(control): axum::extract::State<Arc<Control>>,
) -> axum::Json<Health> {
    axum::Json(Health {
        status: "ok",
        instance_id: control.instance_id().to_owned(),
    })
}

/// Why the server is not ready: `{"ready": false, "reasons": [...]}`.
#[derive(Debug, Serialize, ToSchema)]
struct Readiness {
    /// Whether it is ready to take traffic.
    ready: bool,
    /// What keeps it from being ready; empty when it is.
    reasons: Vec<String>,
}

/// Whether the server is ready: it has restored its pipelines and every pipeline stored as
/// running runs with its connections up. Open even when the API needs a token.
#[utoipa::path(
    get,
    path = "/readyz",
    operation_id = "readiness",
    tag = "server",
    security(()),
    responses(
        (status = 200, description = "Ready.", body = Readiness),
        (status = 503, description = "Not ready; the reasons say why.", body = Readiness),
    )
)]
async fn readiness(
    axum::extract::State(control): axum::extract::State<Arc<Control>>,
) -> (axum::http::StatusCode, axum::Json<Readiness>) {
    let reasons = control.unready_reasons().await;
    let status = if reasons.is_empty() {
        axum::http::StatusCode::OK
    } else {
        axum::http::StatusCode::SERVICE_UNAVAILABLE
    };
    let ready = reasons.is_empty();
    (status, axum::Json(Readiness { ready, reasons }))
}

/// Prometheus metrics of the server and of every pipeline (see `docs/metrics.md`).
#[utoipa::path(
    get,
    path = "/metrics",
    operation_id = "metrics",
    tag = "server",
    security((), ("bearer" = [])),
    responses((
        status = 200,
        description = "Prometheus text exposition format 0.0.4.",
        body = String,
        content_type = "text/plain"
    ))
)]
async fn metrics(
    axum::extract::State(control): axum::extract::State<Arc<Control>>,
) -> impl axum::response::IntoResponse {
    let text = crate::telemetry::metrics::render(&control.statuses().await);
    (
        [(
            axum::http::header::CONTENT_TYPE,
            crate::telemetry::metrics::CONTENT_TYPE,
        )],
        text,
    )
}

async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::NotFound(format!("no such endpoint: {}", uri.path()))
}

#[cfg(test)]
mod tests;
