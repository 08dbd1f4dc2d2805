//! The error bodies the sandbox answers with: Keycloak's for the SSO, a small `{code, message}`
//! for the merchant API (whose real error shape is undocumented).

use axum::Json;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// Request bodies larger than this are refused with 413 before any handler reads them.
pub(crate) const BODY_LIMIT: usize = 64 * 1024;

/// Keycloak's OAuth error body.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct OAuthError {
    /// `invalid_request`, `invalid_client`, `invalid_grant`, `unsupported_grant_type`, …
    pub error: &'static str,
    /// A sentence for people.
    pub error_description: String,
}

/// The merchant API's error body, as the sandbox models it.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ApiError {
    /// A stable code: `INVALID_AMOUNT`, `UNAUTHORIZED`, `NOT_FOUND`, …
    pub code: &'static str,
    /// A sentence for people.
    pub message: String,
}

/// An SSO request that is refused, answered with Keycloak's error body.
#[derive(Debug)]
pub(crate) struct OAuthFailure {
    status: StatusCode,
    body: OAuthError,
}

pub(crate) fn oauth_error(status: StatusCode, error: &'static str, description: impl Into<String>) -> OAuthFailure {
    OAuthFailure { status, body: OAuthError { error, error_description: description.into() } }
}

impl IntoResponse for OAuthFailure {
    fn into_response(self) -> Response {
        (self.status, Json(self.body)).into_response()
    }
}

/// A merchant API (or control API) request that is refused, answered with `{code, message}`.
#[derive(Debug)]
pub(crate) struct ApiFailure {
    status: StatusCode,
    body: ApiError,
}

pub(crate) fn api_error(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiFailure {
    ApiFailure { status, body: ApiError { code, message: message.into() } }
}

impl IntoResponse for ApiFailure {
    fn into_response(self) -> Response {
        with_challenge(self.status, Json(self.body))
    }
}

/// An error answer; a 401 also carries the bearer challenge.
fn with_challenge(status: StatusCode, body: impl IntoResponse) -> Response {
    let mut response = (status, body).into_response();
    if status == StatusCode::UNAUTHORIZED {
        let challenge = HeaderValue::from_static("Bearer realm=\"invescore\"");
        response.headers_mut().insert(header::WWW_AUTHENTICATE, challenge);
    }
    response
}

/// Whether the request's content type is `expected` (parameters such as `charset` allowed).
pub(crate) fn has_content_type(headers: &axum::http::HeaderMap, expected: &str) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case(expected))
}

/// The token of an `Authorization: Bearer …` header (scheme in any case).
pub(crate) fn bearer(headers: &axum::http::HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty()).then(|| token.trim())
}

/// Spring's error body, which the payment gateway (v2) answers with.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SpringError {
    /// When it happened (RFC 3339).
    pub timestamp: String,
    /// The HTTP status.
    pub status: u16,
    /// The status's reason phrase (`Bad Request`), not a code.
    pub error: String,
    /// A sentence for people.
    pub message: String,
    /// The request's path.
    pub path: String,
}

/// A gateway request that is refused, answered with Spring's error body.
#[derive(Debug)]
pub(crate) struct SpringFailure {
    status: StatusCode,
    body: SpringError,
}

pub(crate) fn spring_error(status: StatusCode, message: impl Into<String>, path: &str) -> SpringFailure {
    let body = SpringError {
        timestamp: crate::wire::rfc3339(std::time::SystemTime::now()),
        status: status.as_u16(),
        error: status.canonical_reason().unwrap_or("Error").to_owned(),
        message: message.into(),
        path: path.to_owned(),
    };
    SpringFailure { status, body }
}

impl ApiFailure {
    /// The same refusal in Spring's shape, for the gateway's paths.
    pub(crate) fn into_spring(self, path: &str) -> SpringFailure {
        spring_error(self.status, self.body.message, path)
    }
}

impl IntoResponse for SpringFailure {
    fn into_response(self) -> Response {
        with_challenge(self.status, Json(self.body))
    }
}

/// Gives the router's own bodiless 404 (no such path) and 405 (no such method; its `Allow`
/// header kept) the bodies Pocket's servers answer with — Keycloak's on the realm's paths,
/// Spring's elsewhere — so a client that parses every error body gets one to parse.
pub(crate) async fn unrouted_as_pocket_answers(request: Request, next: Next) -> Response {
    let (path, method) = (request.uri().path().to_owned(), request.method().clone());
    let response = next.run(request).await;
    let status = response.status();
    let bodiless = !response.headers().contains_key(header::CONTENT_TYPE);
    if !bodiless || !matches!(status, StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED) {
        return response;
    }
    let (mut parts, _) = response.into_parts();
    let answer = if path.starts_with("/auth/") {
        oauth_error(
            status,
            "Unable to find matching target resource method",
            "For more on this error consult the server log.",
        )
        .into_response()
    } else {
        // Spring Boot's own messages.
        let message = match status {
            StatusCode::NOT_FOUND => format!("No static resource {}.", path.trim_start_matches('/')),
            _ => format!("Request method '{method}' is not supported"),
        };
        spring_error(status, message, &path).into_response()
    };
    let (answer_parts, body) = answer.into_parts();
    parts.headers.extend(answer_parts.headers);
    Response::from_parts(parts, body)
}
