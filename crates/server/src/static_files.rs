//! The built viewer: static files with precompressed variants and cache
//! headers that let browsers keep hashed files forever and never keep a
//! stale `index.html`.

use std::path::{Path, PathBuf};

use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use tower_http::services::ServeDir;

use crate::state::AppState;

/// `index.html` names the hashed files of the current build: always revalidate.
pub const NO_CACHE: &str = "no-cache";
/// A file whose name carries its content hash never changes.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Unhashed assets (models, icons): short enough for an edit to show up soon.
pub const SHORT: &str = "public, max-age=300";

/// The diagnosis worker's unhashed outputs: `linetwin-worker.js`, `_bg.wasm`, `_loader.js`.
const WORKER_PREFIX: &str = "linetwin-worker";

/// The `Cache-Control` value for a request path of the viewer.
pub fn cache_control_for(path: &str) -> &'static str {
    let name = path.rsplit('/').next().unwrap_or_default();
    // Trunk cannot hash the worker's files (the viewer names them), so a
    // deploy must never pair a new viewer with an old, cached worker.
    if name.is_empty() || name == "index.html" || name.starts_with(WORKER_PREFIX) {
        NO_CACHE
    } else if has_content_hash(name) {
        IMMUTABLE
    } else {
        SHORT
    }
}

/// Trunk names build outputs `linetwin-1a2b3c4d5e6f7a8b_bg.wasm`: a part of
/// exactly 16 lowercase hex digits between separators.
fn has_content_hash(name: &str) -> bool {
    name.split(['-', '_', '.']).any(|part| {
        part.len() == 16 && part.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    })
}

pub(crate) fn router(web_root: &Path) -> Router<AppState> {
    let files = ServeDir::new(web_root)
        .precompressed_br()
        .precompressed_gzip()
        .append_index_html_on_directories(true);
    Router::new()
        .fallback_service(files)
        .layer(middleware::from_fn_with_state(
            web_root.to_path_buf(),
            cache_headers,
        ))
}

/// Adds `Cache-Control`, and explains a missing viewer build instead of a bare 404.
async fn cache_headers(State(web_root): State<PathBuf>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    if (path == "/" || path == "/index.html") && !index_exists(&web_root).await {
        return viewer_missing();
    }
    let mut response = next.run(request).await;
    let status = response.status();
    if status.is_success() || status == StatusCode::NOT_MODIFIED {
        response.headers_mut().insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static(cache_control_for(&path)),
        );
    }
    response
}

async fn index_exists(web_root: &Path) -> bool {
    tokio::fs::metadata(web_root.join("index.html"))
        .await
        .is_ok_and(|m| m.is_file())
}

fn viewer_missing() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::CACHE_CONTROL, NO_CACHE)],
        "The linetwin viewer is not built. Run `cargo xtask run` to build it and start the server.\n\
         The API (/api/line, /healthz, /ws) works without it.\n",
    )
        .into_response()
}

pub(crate) async fn warn_if_viewer_missing(web_root: &Path) {
    if !index_exists(web_root).await {
        tracing::warn!(
            "no viewer build at {} (index.html missing): `/` will answer 503; run `cargo xtask run` to build it",
            web_root.display()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_is_never_cached() {
        assert_eq!(cache_control_for("/"), NO_CACHE);
        assert_eq!(cache_control_for("/index.html"), NO_CACHE);
        assert_eq!(cache_control_for("/docs/"), NO_CACHE);
    }

    #[test]
    fn the_unhashed_worker_is_always_revalidated() {
        for path in [
            "/linetwin-worker_loader.js",
            "/linetwin-worker.js",
            "/linetwin-worker_bg.wasm",
        ] {
            assert_eq!(cache_control_for(path), NO_CACHE, "{path}");
        }
    }

    #[test]
    fn hashed_build_outputs_are_immutable() {
        for path in [
            "/linetwin-1a2b3c4d5e6f7a8b_bg.wasm",
            "/linetwin-1a2b3c4d5e6f7a8b.js",
            "/style-0123456789abcdef.css",
        ] {
            assert_eq!(cache_control_for(path), IMMUTABLE, "{path}");
        }
    }

    #[test]
    fn unhashed_or_almost_hashed_files_are_cached_briefly() {
        for path in [
            "/assets/models/pump.glb",
            "/favicon.ico",
            "/snippets/x-0123456789abcdef/inline0.js", // a hashed folder, not a hashed name
            "/linetwin-1a2b3c4d5e6f7a8_bg.wasm",       // 15 digits
            "/linetwin-1a2b3c4d5e6f7a8b9_bg.wasm",     // 17 digits
            "/linetwin-1A2B3C4D5E6F7A8B_bg.wasm",      // not Trunk's lowercase
            "/linetwin-1a2b3c4d5e6f7a8g_bg.wasm",      // not hex
        ] {
            assert_eq!(cache_control_for(path), SHORT, "{path}");
        }
    }
}
