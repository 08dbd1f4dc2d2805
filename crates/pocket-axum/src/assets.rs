//! `pocket.js` and its TypeScript declarations, served by the app itself: no CDN, no jQuery.

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

/// The script: `window.Pocket` with Pocket's callback API and Promise helpers.
pub const POCKET_JS: &str = include_str!("../assets/pocket.js");

/// The TypeScript declarations of [`POCKET_JS`]: `window.Pocket` and its types.
pub const POCKET_D_TS: &str = include_str!("../assets/pocket.d.ts");

/// A router serving [`POCKET_JS`] at `path` (for example `/pocket.js`) and [`POCKET_D_TS`]
/// beside it (`/pocket.d.ts`; `path` + `.d.ts` when `path` does not end in `.js`).
pub fn pocket_js_router<S: Clone + Send + Sync + 'static>(path: &str) -> Router<S> {
    let declarations = match path.strip_suffix(".js") {
        Some(stem) => format!("{stem}.d.ts"),
        None => format!("{path}.d.ts"),
    };
    Router::new()
        .route(path, get(|| serve("application/javascript; charset=utf-8", POCKET_JS)))
        .route(&declarations, get(|| serve("application/typescript; charset=utf-8", POCKET_D_TS)))
}

async fn serve(content_type: &'static str, text: &'static str) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "public, max-age=3600")], text)
}
