//! The web console at `/ui/`: hand-written HTML, CSS and JavaScript modules compiled into the
//! binary, served without the token (they hold no data); every call they make to the API
//! carries it. Built with the `console` cargo feature.

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

use super::ApiError;
use super::params::Path;

/// Where the console is served.
const PREFIX: &str = "/ui/";

/// Scripts, styles and requests only from this server, no inline code, no framing: data the
/// console shows cannot run as a script, and so cannot reach the token the page keeps.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
    style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; \
    form-action 'self'; frame-ancestors 'none'";

/// One file of the console.
#[derive(Debug)]
struct Asset {
    /// Its path under [`PREFIX`]; the page itself is `index.html`.
    path: &'static str,
    /// Its media type.
    content_type: &'static str,
    /// Its bytes, as compiled in.
    body: &'static [u8],
}

const HTML: &str = "text/html; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";

macro_rules! asset {
    ($path:literal, $content_type:expr) => {
        Asset {
            path: $path,
            content_type: $content_type,
            body: include_bytes!(concat!("../../console/", $path)),
        }
    };
}

/// Every file of the console.
const ASSETS: &[Asset] = &[
    asset!("index.html", HTML),
    asset!("style.css", CSS),
    asset!("js/app.js", JS),
    asset!("js/api.js", JS),
    asset!("js/dom.js", JS),
    asset!("js/chart.js", JS),
    asset!("js/rates.js", JS),
    asset!("js/errors.js", JS),
    asset!("js/overview.js", JS),
    asset!("js/pipeline.js", JS),
    asset!("js/inspector.js", JS),
    asset!("js/schema_form.js", JS),
    asset!("js/stream_form.js", JS),
    asset!("js/pipeline_form.js", JS),
];

/// The console's routes; `/ui` leads to `/ui/` (relatively, so that it also does behind a
/// proxy serving the server under a prefix).
pub(super) fn router() -> Router {
    Router::new()
        .route("/ui", get(|| async { Redirect::permanent("ui/") }))
        .route(PREFIX, get(|| async { serve("index.html") }))
        .route("/ui/{*path}", get(asset))
}

async fn asset(Path(path): Path<String>) -> Response {
    serve(&path)
}

fn serve(path: &str) -> Response {
    let Some(asset) = ASSETS.iter().find(|asset| asset.path == path) else {
        return ApiError::NotFound(format!("no such file in the console: {path}")).into_response();
    };
    let mut response = (
        [
            (header::CONTENT_TYPE, asset.content_type),
            // Revalidated on every load: a new binary's console replaces the old at once.
            (header::CACHE_CONTROL, "no-cache"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
        asset.body,
    )
        .into_response();
    if asset.content_type == HTML {
        response.headers_mut().insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_module_a_script_imports_is_served() {
        let scripts = ASSETS.iter().filter(|asset| asset.content_type == JS);
        for script in scripts {
            let text = std::str::from_utf8(script.body).unwrap();
            for line in text.lines().filter(|line| line.starts_with("import ")) {
                let module = line.split('"').nth(1).unwrap();
                let path = format!("js/{}", module.trim_start_matches("./"));
                assert!(
                    ASSETS.iter().any(|asset| asset.path == path),
                    "{} imports {module}, which is not served",
                    script.path
                );
            }
        }
    }
}
