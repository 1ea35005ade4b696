//! Serving the built app: files from the dist dir, app routes fall back to `index.html`.
//! Content-hashed files under `/assets/` are cached for a year; everything else (index.html,
//! the service worker, the manifest, icons) must be revalidated (`no-cache`), so a new
//! deployment is picked up on the next online load.
//!
//! `cargo xtask dist` writes a brotli (quality 11) and a gzip (level 9) copy next to every
//! compressible file; they are sent as they are to browsers that accept them, so nothing is
//! compressed per request (the API's `CompressionLayer` leaves responses that already carry a
//! `Content-Encoding` alone).

use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::path::PathBuf;
use tower_http::services::ServeDir;

/// The router for everything that is not API.
pub fn router(dist: PathBuf) -> Router {
    let index = dist.join("index.html");
    let fallback = get(move |req: Request| spa_fallback(index.clone(), req));
    Router::new()
        .fallback_service(
            ServeDir::new(dist)
                .precompressed_br()
                .precompressed_gzip()
                .append_index_html_on_directories(true)
                .fallback(fallback),
        )
        .layer(middleware::from_fn(cache_headers))
}

/// App routes (paths without a file extension) get `index.html`; missing files get a 404.
async fn spa_fallback(index: PathBuf, req: Request) -> Response {
    let path = req.uri().path();
    let last = path.rsplit('/').next().unwrap_or("");
    if path.starts_with("/assets/") || last.contains('.') {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    }
    match tokio::fs::read_to_string(&index).await {
        Ok(html) => Html(html).into_response(),
        Err(_) => (
            StatusCode::NOT_FOUND,
            "the app is not built: run `cargo xtask dist` (or `cargo xtask run`)",
        )
            .into_response(),
    }
}

async fn cache_headers(req: Request, next: Next) -> Response {
    let immutable = req.uri().path().starts_with("/assets/");
    let mut res = next.run(req).await;
    if res.status().is_success() || res.status() == StatusCode::NOT_MODIFIED {
        let value = if immutable {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        };
        res.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    }
    res
}
