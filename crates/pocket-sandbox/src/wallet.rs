//! The wallet simulator: the `window.PocketMobile` shim, a home page, and `/app/…`, which serves
//! the configured mini-app through the sandbox with the shim added to its HTML pages — the
//! desktop stand-in for the wallet's web view, which injects the bridge natively.

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{any, get};

use crate::reply::{ApiFailure, api_error};
use crate::state::{Shared, lock};

const SHIM: &str = include_str!("../assets/pocket-mobile.js");
const HOME: &str = include_str!("../assets/wallet.html");
const SHIM_TAG: &str = r#"<script src="/wallet/pocket-mobile.js"></script>"#;
/// Mini-app responses larger than this are not passed through.
const PROXY_LIMIT: usize = 8 * 1024 * 1024;

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/wallet", get(home))
        .route("/wallet/pocket-mobile.js", get(shim))
        .route("/app", any(proxy))
        .route("/app/", any(proxy))
        .route("/app/{*path}", any(proxy))
}

async fn shim() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/javascript; charset=utf-8"), (header::CACHE_CONTROL, "no-cache")], SHIM)
}

async fn home(State(shared): State<Arc<Shared>>) -> Html<String> {
    let user = &shared.config.wallet_user;
    let mini_app = lock(&shared.mini_app_url).clone().unwrap_or_else(|| "none configured".to_owned());
    Html(
        HOME.replace("{{USER}}", &escape(&format!("{} {} ({})", user.given_name, user.family_name, user.phone_number)))
            .replace("{{MINI_APP}}", &escape(&mini_app)),
    )
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Headers that describe one hop of a connection, or the body's encoding, and so are not passed on.
fn hop_by_hop(name: &HeaderName) -> bool {
    [
        header::HOST,
        header::CONNECTION,
        header::CONTENT_LENGTH,
        header::TRANSFER_ENCODING,
        header::ACCEPT_ENCODING,
        header::CONTENT_ENCODING,
        header::UPGRADE,
        header::TE,
        header::TRAILER,
    ]
    .contains(name)
}

async fn proxy(State(shared): State<Arc<Shared>>, request: Request) -> Result<Response, ApiFailure> {
    let Some(base) = lock(&shared.mini_app_url).clone() else {
        return Err(api_error(
            StatusCode::NOT_FOUND,
            "NO_MINI_APP",
            "no mini-app is configured: set one with SandboxConfig::mini_app_url or PUT /_sandbox/mini-app",
        ));
    };
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().strip_prefix("/app").unwrap_or("/");
    let query = parts.uri.query().map(|q| format!("?{q}")).unwrap_or_default();
    let target = format!("{base}{}{query}", if path.is_empty() { "/" } else { path });
    let body = axum::body::to_bytes(body, crate::server::BODY_LIMIT)
        .await
        .map_err(|_| api_error(StatusCode::PAYLOAD_TOO_LARGE, "TOO_LARGE", "the request body is too large"))?;
    let mut outgoing = shared.http.request(parts.method, &target).body(body);
    for (name, value) in parts.headers.iter().filter(|(name, _)| !hop_by_hop(name)) {
        outgoing = outgoing.header(name, value);
    }
    let answer = outgoing.send().await.map_err(|error| {
        let message = format!("the mini-app at {base} did not answer: {error}");
        api_error(StatusCode::BAD_GATEWAY, "MINI_APP_UNREACHABLE", message)
    })?;
    let status = answer.status();
    let headers = answer.headers().clone();
    let bytes = read_limited(answer).await.map_err(|()| {
        api_error(StatusCode::BAD_GATEWAY, "MINI_APP_RESPONSE", "the mini-app's answer was broken or too large")
    })?;
    let is_html = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("text/html"));
    let body = if is_html { Bytes::from(inject_shim(&String::from_utf8_lossy(&bytes))) } else { bytes };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    copy_response_headers(&headers, response.headers_mut(), &base);
    Ok(response)
}

async fn read_limited(mut answer: reqwest::Response) -> Result<Bytes, ()> {
    let mut collected = Vec::new();
    while let Some(chunk) = answer.chunk().await.map_err(|_| ())? {
        if collected.len() + chunk.len() > PROXY_LIMIT {
            return Err(());
        }
        collected.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(collected))
}

fn copy_response_headers(from: &HeaderMap, to: &mut HeaderMap, base: &str) {
    for (name, value) in from.iter().filter(|(name, _)| !hop_by_hop(name)) {
        // A redirect within the mini-app (absolute, or relative to its root) stays inside the simulator.
        if name == header::LOCATION
            && let Some(rest) = value.to_str().ok().and_then(|v| within_mini_app(v, base))
            && let Ok(rewritten) = format!("/app{rest}").parse()
        {
            to.append(name, rewritten);
            continue;
        }
        to.append(name, value.clone());
    }
}

/// The path of a redirect target inside the mini-app: an absolute URL under `base`, or a path
/// relative to the mini-app's root (`/…`, not `//host/…`).
fn within_mini_app<'a>(location: &'a str, base: &str) -> Option<&'a str> {
    location
        .strip_prefix(base)
        .or_else(|| (location.starts_with('/') && !location.starts_with("//")).then_some(location))
}

/// Puts the shim first in `<head>`, so `window.PocketMobile` exists before the page's scripts run.
fn inject_shim(html: &str) -> String {
    let lower = html.to_ascii_lowercase();
    match lower.find("<head").and_then(|start| lower[start..].find('>').map(|end| start + end + 1)) {
        Some(at) => format!("{}{SHIM_TAG}{}", &html[..at], &html[at..]),
        None => format!("{SHIM_TAG}{html}"),
    }
}

#[cfg(test)]
mod tests {
    use super::inject_shim;

    #[test]
    fn the_shim_goes_first_into_head() {
        let page = r#"<!doctype html><HTML><Head lang="mn"><script src="app.js"></script></head><body></body></HTML>"#;
        let injected = inject_shim(page);
        assert!(injected.starts_with(r#"<!doctype html><HTML><Head lang="mn"><script src="/wallet/pocket-mobile.js"></script><script src="app.js">"#), "{injected}");
        assert_eq!(inject_shim("<p>hi</p>"), r#"<script src="/wallet/pocket-mobile.js"></script><p>hi</p>"#);
    }
}
