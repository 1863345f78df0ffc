//! The REST control plane (axum): streams, pipelines, export and import, health.
//!
//! Handlers translate HTTP to [`Control`] operations and back; every error leaves as
//! `{"error": {"code", "message"}}` with the status that says whose fault it is.

mod auth;
mod debug;
mod error;
mod json;
mod pipelines;
#[cfg(feature = "profiling")]
mod profile;
mod streams;
mod transfer;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::{Router, middleware};

pub use auth::{Access, constant_time_eq};
pub use error::ApiError;

use crate::control::Control;

/// The largest request body accepted: specs are small, and a bigger body is a mistake or an
/// attack.
const MAX_BODY_BYTES: usize = 1 << 20;

/// The control plane's routes over `control`, open to whom `access` lets in.
pub fn app(control: Arc<Control>, access: Access) -> Router {
    let router = Router::new();
    #[cfg(feature = "profiling")]
    let router = router.route("/debug/pprof/profile", get(profile::profile));
    router
        .route("/healthz", get(health))
        .route("/metrics", get(metrics))
        .route("/streams", post(streams::create).get(streams::list))
        .route(
            "/streams/{name}",
            get(streams::describe).delete(streams::delete),
        )
        .route("/streams/describe/{name}", get(streams::describe))
        .route("/pipelines", post(pipelines::create).get(pipelines::list))
        .route(
            "/pipelines/{id}",
            get(pipelines::get)
                .put(pipelines::replace)
                .delete(pipelines::delete),
        )
        .route("/pipelines/{id}/start", post(pipelines::start))
        .route("/pipelines/{id}/stop", post(pipelines::stop))
        .route("/pipelines/{id}/explain", get(pipelines::explain))
        .route("/pipelines/{id}/status", get(pipelines::status))
        .route("/pipelines/{id}/stats", get(pipelines::stats))
        .route("/pipelines/{id}/debug", post(debug::set).get(debug::get))
        .route("/pipelines/{id}/debug/batches", get(debug::batches))
        .route("/pipelines/{id}/debug/tail", get(debug::tail))
        .route("/export", get(transfer::export))
        .route("/import", post(transfer::import))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn_with_state(
            Arc::new(access),
            auth::require_token,
        ))
        .with_state(control)
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

async fn health() -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({"status": "ok"}))
}

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
