//! `GET /debug/pprof/profile?seconds=N[&format=flamegraph]`.

use axum::Extension;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;

use super::params::Query;
use super::{ApiError, ErrorBody, Profiling};
use crate::telemetry::profile::{self, ProfileError, ProfileFormat};

/// `?seconds=N&format=pprof|flamegraph`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct ProfileQuery {
    /// How long to sample (default 30, at most 60).
    #[param(maximum = 60)]
    seconds: Option<u64>,
    /// `pprof` (or `proto`, the default) or `flamegraph` (or `svg`).
    #[param(pattern = "^(pprof|proto|flamegraph|svg)$")]
    format: Option<String>,
}

/// Sample every thread of the server and answer with a pprof protobuf or a flame graph.
#[utoipa::path(
    get,
    path = "/debug/pprof/profile",
    operation_id = "cpu_profile",
    tag = "debug",
    params(ProfileQuery),
    responses(
        (status = 200, description = "A pprof protobuf, or with `format=flamegraph` an SVG flame graph.", content(
            ("application/octet-stream"),
            ("image/svg+xml"),
        )),
        (status = 400, description = "A bad `seconds` or `format`.", body = ErrorBody),
        (status = 404, description = "Profiling is off here (`profiling.enabled: false`, or served at `profiling.addr`).", body = ErrorBody),
        (status = 409, description = "Another profile is being taken.", body = ErrorBody),
    )
)]
pub(super) async fn profile(
    Extension(served): Extension<Profiling>,
    Query(query): Query<ProfileQuery>,
) -> Result<Response, ApiError> {
    if let Profiling::Elsewhere(reason) = served {
        return Err(ApiError::NotFound(reason.to_owned()));
    }
    let format = match query.format.as_deref() {
        None | Some("pprof" | "proto") => ProfileFormat::Pprof,
        Some("flamegraph" | "svg") => ProfileFormat::Flamegraph,
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "format must be pprof or flamegraph, not '{other}'"
            )));
        }
    };
    let seconds = query.seconds.unwrap_or(30);
    if seconds > profile::MAX_SECONDS {
        return Err(ApiError::BadRequest(format!(
            "seconds must be at most {}, not {seconds}",
            profile::MAX_SECONDS
        )));
    }
    match profile::profile(seconds, format).await {
        Ok((content_type, body)) => {
            Ok(([(header::CONTENT_TYPE, content_type)], body).into_response())
        }
        Err(error @ ProfileError::Busy) => Err(ApiError::Conflict(error.to_string())),
        Err(error @ ProfileError::Failed(_)) => Err(ApiError::Internal(error.to_string())),
    }
}
