//! Bearer-token authentication: with `server.auth_token` set, every request but `/healthz`
//! (and `/metrics` when `server.metrics_public` is true) needs `Authorization: Bearer <token>`,
//! compared in constant time; anything else gets 401.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

use super::ApiError;

/// The paths open to every request: liveness and readiness, for probes that carry no token.
pub(super) const OPEN_PATHS: [&str; 2] = ["/healthz", "/readyz"];

/// Who may call the API.
#[derive(Debug, Clone, Default)]
pub struct Access {
    /// The token every request must carry; `None` lets every request in.
    pub token: Option<Arc<str>>,
    /// Whether `/metrics` answers without the token.
    pub metrics_public: bool,
}

impl Access {
    /// Whether a request to `path` with `authorization` may proceed.
    pub fn allows(&self, path: &str, authorization: Option<&[u8]>) -> bool {
        let Some(token) = &self.token else {
            return true;
        };
        if OPEN_PATHS.contains(&path) || (self.metrics_public && path == "/metrics") {
            return true;
        }
        authorization
            .and_then(|value| value.strip_prefix(b"Bearer "))
            .is_some_and(|offered| constant_time_eq(offered, token.as_bytes()))
    }
}

/// The middleware: 401 unless [`Access::allows`] the request.
pub(super) async fn require_token(
    State(access): State<Arc<Access>>,
    request: Request,
    next: Next,
) -> Response {
    let authorization = request
        .headers()
        .get(header::AUTHORIZATION)
        .map(|value| value.as_bytes());
    if access.allows(request.uri().path(), authorization) {
        return next.run(request).await;
    }
    let mut response = ApiError::Unauthorized(
        "this server needs a token: send Authorization: Bearer <server.auth_token>".into(),
    )
    .into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        header::HeaderValue::from_static("Bearer"),
    );
    response
}

/// Whether `a` equals `b`, taking the same time whichever byte differs.
///
/// Slices of different lengths are unequal at once: that reveals the token's length, never
/// which of its bytes an offer got right.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn access(metrics_public: bool) -> Access {
        Access {
            token: Some("s3cret".into()),
            metrics_public,
        }
    }

    #[test]
    fn only_the_right_bearer_token_opens_the_api() {
        let access = access(false);
        assert!(access.allows("/streams", Some(b"Bearer s3cret")));
        assert!(!access.allows("/streams", Some(b"Bearer s3cre")));
        assert!(!access.allows("/streams", Some(b"Bearer s3cret ")));
        assert!(!access.allows("/streams", Some(b"s3cret")));
        assert!(!access.allows("/streams", None));
        assert!(!access.allows("/metrics", None));
        assert!(access.allows("/healthz", None));
    }

    #[test]
    fn only_equal_slices_compare_equal() {
        assert!(constant_time_eq(b"s3cret", b"s3cret"));
        assert!(constant_time_eq(b"", b""));
        assert!(!constant_time_eq(b"s3cret", b"s3creT"));
        assert!(!constant_time_eq(b"s3cret", b"s3cre"));
        assert!(!constant_time_eq(b"", b"s"));
    }

    #[test]
    fn metrics_can_be_left_open_and_no_token_opens_everything() {
        assert!(access(true).allows("/metrics", None));
        assert!(!access(true).allows("/pipelines", None));
        assert!(Access::default().allows("/pipelines", None));
    }
}
