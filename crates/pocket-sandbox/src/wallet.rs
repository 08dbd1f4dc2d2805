//! The wallet simulator: the `window.PocketMobile` shim and the wallet's home page. The mini-app
//! itself is shown by the web view (see `webview.rs`).

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::{Html, IntoResponse};
use axum::routing::get;

use crate::html::escape;
use crate::state::Shared;

const SHIM: &str = include_str!("../assets/pocket-mobile.js");
const HOME: &str = include_str!("../assets/wallet.html");

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/wallet", get(home))
        .route("/wallet/pocket-mobile.js", get(shim))
        .merge(crate::pay_screen::routes())
}

async fn shim() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/javascript; charset=utf-8"), (header::CACHE_CONTROL, "no-cache")], SHIM)
}

async fn home(State(shared): State<Arc<Shared>>) -> Html<String> {
    let user = &shared.config().wallet_user;
    let mini_app = shared.mini_app_url().clone().unwrap_or_else(|| "none configured".to_owned());
    let webview = shared.webview_url().to_owned();
    Html(
        HOME.replace("{{USER}}", &escape(&format!("{} {} ({})", user.given_name, user.family_name, user.phone_number)))
            .replace("{{MINI_APP}}", &escape(&mini_app))
            .replace("{{WEBVIEW}}", &escape(&webview)),
    )
}
