//! The extractor's test app: a route that needs a wallet user and one that takes one if present.
#![allow(dead_code)]

use axum::Router;
use axum::body::Body;
use axum::extract::FromRef;
use axum::http::{Request, StatusCode};
use axum::routing::get;
use pocket_axum::{PocketAuth, WalletUser};
use serde_json::Value;
use tower::ServiceExt;

#[derive(Clone)]
pub struct App {
    auth: PocketAuth,
}

impl FromRef<App> for PocketAuth {
    fn from_ref(app: &App) -> PocketAuth {
        app.auth.clone()
    }
}

pub fn app(auth: PocketAuth) -> Router {
    Router::new()
        .route("/me", get(|user: WalletUser| async move { user.subject.clone() }))
        .route(
            "/maybe",
            get(|user: Option<WalletUser>| async move { user.map_or("anonymous".to_owned(), |u| u.subject.clone()) }),
        )
        .with_state(App { auth })
}

pub async fn call(app: &Router, path: &str, headers: &[(&str, &str)]) -> (StatusCode, axum::http::HeaderMap, String) {
    let mut request = Request::builder().uri(path);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = app.clone().oneshot(request.body(Body::empty()).unwrap()).await.unwrap();
    let (parts, body) = response.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20).await.unwrap();
    (parts.status, parts.headers, String::from_utf8_lossy(&body).into_owned())
}

pub fn error_of(body: &str) -> String {
    serde_json::from_str::<Value>(body).unwrap()["error"].as_str().unwrap().to_owned()
}
