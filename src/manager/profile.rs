//! `GET /debug/pprof/profile?seconds=N[&format=flamegraph]`.

use axum::extract::Query;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::ApiError;
use crate::telemetry::profile::{self, ProfileError, ProfileFormat};

#[derive(Debug, Deserialize)]
pub(super) struct ProfileQuery {
    seconds: Option<u64>,
    format: Option<String>,
}

pub(super) async fn profile(Query(query): Query<ProfileQuery>) -> Result<Response, ApiError> {
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
