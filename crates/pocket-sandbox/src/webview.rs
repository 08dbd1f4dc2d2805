//! The web view: the wallet shows a mini-app in a web view that adds `window.PocketMobile` to
//! every page. On a desktop the sandbox does the same on an origin of its own — a second port
//! that passes every request through to the configured mini-app and puts the shim first into
//! each HTML page — so the mini-app's root-relative links and API calls work unchanged.

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, StatusCode, header};
use axum::response::Response;

use crate::reply::{ApiFailure, api_error};
use crate::state::Shared;

/// Mini-app responses larger than this are not passed through.
const PROXY_LIMIT: usize = 8 * 1024 * 1024;

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new().fallback(proxy).with_state(shared)
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
    let Some(base) = shared.mini_app_url().clone() else {
        return Err(api_error(
            StatusCode::NOT_FOUND,
            "NO_MINI_APP",
            "no mini-app is configured: set one with SandboxConfig::mini_app_url or PUT /_sandbox/mini-app",
        ));
    };
    let (parts, body) = request.into_parts();
    let path_and_query = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let target = format!("{base}{path_and_query}");
    let body = axum::body::to_bytes(body, crate::reply::BODY_LIMIT)
        .await
        .map_err(|_| api_error(StatusCode::PAYLOAD_TOO_LARGE, "TOO_LARGE", "the request body is too large"))?;
    let mut outgoing = shared.http().request(parts.method, &target).body(body);
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
    let body = if is_html {
        let tag = format!(r#"<script src="{}/wallet/pocket-mobile.js"></script>"#, shared.base_url());
        Bytes::from(inject_shim(&String::from_utf8_lossy(&bytes), &tag))
    } else {
        bytes
    };
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
        // A redirect to the mini-app's own origin stays inside the web view.
        if name == header::LOCATION
            && let Some(rest) = value.to_str().ok().and_then(|v| v.strip_prefix(base))
            && let Ok(rewritten) = (if rest.is_empty() { "/" } else { rest }).parse()
        {
            to.append(name, rewritten);
            continue;
        }
        to.append(name, value.clone());
    }
}

/// Puts the shim first in `<head>`, so `window.PocketMobile` exists before the page's scripts run.
fn inject_shim(html: &str, tag: &str) -> String {
    let lower = html.to_ascii_lowercase();
    match lower.find("<head").and_then(|start| lower[start..].find('>').map(|end| start + end + 1)) {
        Some(at) => format!("{}{tag}{}", &html[..at], &html[at..]),
        None => format!("{tag}{html}"),
    }
}

#[cfg(test)]
mod tests {
    use super::inject_shim;

    #[test]
    fn the_shim_goes_first_into_head() {
        let page = r#"<!doctype html><HTML><Head lang="mn"><script src="app.js"></script></head><body></body></HTML>"#;
        let injected = inject_shim(page, "<script src=x></script>");
        assert!(
            injected
                .starts_with(r#"<!doctype html><HTML><Head lang="mn"><script src=x></script><script src="app.js">"#),
            "{injected}"
        );
        assert_eq!(inject_shim("<p>hi</p>", "<s></s>"), "<s></s><p>hi</p>");
    }
}
