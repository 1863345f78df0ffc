//! Body extractors whose rejections share the API's error shape: [`Body`] for a JSON request,
//! [`RawBody`] for messages read as they are.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, JsonRejection};
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use super::ApiError;
use crate::spec::Object;

/// `axum::Json`, rejecting with [`ApiError`]: 415 without a JSON content type, 400 for
/// malformed JSON, 422 naming the field for JSON of the wrong shape (an array for the body
/// included), 413 for a body too large.
pub(super) struct Body<T>(pub(super) T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<Object<T>>::from_request(request, state).await {
            Ok(axum::Json(Object(value))) => Ok(Self(value)),
            Err(rejection) => Err(rejected(&rejection)),
        }
    }
}

fn rejected(rejection: &JsonRejection) -> ApiError {
    let message = rejection.body_text();
    match rejection {
        JsonRejection::JsonDataError(_) => ApiError::Unprocessable(message),
        JsonRejection::JsonSyntaxError(_) => ApiError::BadRequest(message),
        JsonRejection::MissingJsonContentType(_) => ApiError::UnsupportedMediaType(
            "expected a body with Content-Type: application/json".into(),
        ),
        _ if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::PayloadTooLarge("the request body is larger than 1 MiB".into())
        }
        _ => ApiError::BadRequest(message),
    }
}

/// The body's bytes, rejecting with [`ApiError`]: 413 for a body too large.
pub(super) struct RawBody(pub(super) Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        match Bytes::from_request(request, state).await {
            Ok(bytes) => Ok(Self(bytes)),
            Err(rejection) => Err(raw_rejected(&rejection)),
        }
    }
}

fn raw_rejected(rejection: &BytesRejection) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::PayloadTooLarge("the request body is larger than 1 MiB".into())
    } else {
        ApiError::BadRequest(rejection.body_text())
    }
}
