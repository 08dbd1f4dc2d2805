//! `pocket.js`, served by the app itself: no CDN, no jQuery.

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

/// The script: `window.Pocket` with Pocket's callback API and Promise helpers.
pub const POCKET_JS: &str = include_str!("../assets/pocket.js");

/// A router serving [`POCKET_JS`] at `path` (for example `/pocket.js`).
pub fn pocket_js_router<S: Clone + Send + Sync + 'static>(path: &str) -> Router<S> {
    Router::new().route(path, get(serve))
}

async fn serve() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "application/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        POCKET_JS,
    )
}
