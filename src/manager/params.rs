//! Path and query extractors whose rejections share the API's error shape: a path segment
//! that is not UTF-8 or a query parameter of the wrong type is a 400 that names it.

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::ApiError;

/// `axum::extract::Path`, rejecting with [`ApiError`].
pub(super) struct Path<T>(pub(super) T);

/// `axum::extract::Query`, rejecting with [`ApiError`].
pub(super) struct Query<T>(pub(super) T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Self(value)),
            Err(rejection) => Err(rejected("path", rejection.status(), &rejection)),
        }
    }
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Self(value)),
            Err(rejection) => Err(rejected("query string", rejection.status(), &rejection)),
        }
    }
}

/// A 400 naming `what` and, when there is one, the deserializer's own message (which names
/// the parameter); a rejection axum counts as its own fault stays a 500.
fn rejected(what: &str, status: StatusCode, rejection: &dyn std::error::Error) -> ApiError {
    let detail = rejection
        .source()
        .map_or_else(|| rejection.to_string(), ToString::to_string);
    if status.is_server_error() {
        return ApiError::Internal(format!("{what}: {detail}"));
    }
    ApiError::BadRequest(format!("{what}: {detail}"))
}
