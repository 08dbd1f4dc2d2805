//! The wallet user as an axum extractor.

use std::ops::Deref;
use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts, OptionalFromRequestParts};
use axum::http::header::{AUTHORIZATION, HeaderName, RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use pocket_core::{ConsumerTokenVerifier, PocketUser};
use serde::Serialize;

/// What the extractor needs from the app's state: the verifier, and where the token is.
///
/// Make it reachable from your state with `FromRef` (or use it as the state itself).
#[derive(Clone)]
pub struct PocketAuth {
    verifier: Arc<dyn ConsumerTokenVerifier>,
    header: Option<HeaderName>,
}

impl PocketAuth {
    /// Users are verified by `verifier`; the token comes from `Authorization: Bearer …`. An app
    /// that shares its verifier passes its `Arc` (the trait is implemented for it).
    pub fn new(verifier: impl ConsumerTokenVerifier + 'static) -> PocketAuth {
        PocketAuth { verifier: Arc::new(verifier), header: None }
    }

    /// Take the token (the bare JWT) from this header instead of `Authorization`.
    pub fn with_token_header(mut self, header: HeaderName) -> PocketAuth {
        self.header = Some(header);
        self
    }
}

impl std::fmt::Debug for PocketAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PocketAuth").field("header", &self.header).finish_non_exhaustive()
    }
}

/// The verified wallet user of a request — `PocketUser` as an extractor. (A newtype, because
/// Rust lets only pocket-core or axum implement axum's traits for `PocketUser` itself.)
///
/// `Option<WalletUser>` extracts `None` when the request carries no token at all, and still
/// rejects a token that is present but not valid.
#[derive(Debug, Clone)]
pub struct WalletUser(pub PocketUser);

impl Deref for WalletUser {
    type Target = PocketUser;

    fn deref(&self) -> &PocketUser {
        &self.0
    }
}

/// Why a request has no verified user. Answered as 401 (with `WWW-Authenticate: Bearer`) when
/// the user's token is missing or not acceptable, 400 for a malformed `Authorization` header, 503
/// with `Retry-After` when the token cannot be checked now (the realm or its keys unavailable),
/// and 500 when the app's own verifier is misconfigured (the realm refused the merchant's
/// credentials, or answered something unreadable) — the last two are logged, so that a wrong
/// secret never looks like "every user's token is invalid". The body is
/// `{error, error_description}`; it never contains the token.
#[derive(Debug)]
#[non_exhaustive]
pub enum AuthRejection {
    /// No token in the request.
    Missing,
    /// Several `Authorization` headers, or a scheme other than Bearer.
    BadHeader(&'static str),
    /// The token is not acceptable; the verifier's error says why.
    Invalid(pocket_core::Error),
    /// The token could not be checked now.
    Unavailable(pocket_core::Error),
    /// The verifier itself is at fault: its credentials were refused, or the realm's answer
    /// could not be read. Not the user's doing.
    Misconfigured(pocket_core::Error),
}

/// The body of a rejection.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RejectionBody {
    /// `missing_token`, `invalid_request`, `invalid_token`, `temporarily_unavailable` or
    /// `server_error`.
    pub error: &'static str,
    /// A sentence for people; never the token.
    pub error_description: String,
}

impl IntoResponse for AuthRejection {
    fn into_response(self) -> Response {
        let (status, error, description, challenge) = match &self {
            AuthRejection::Missing => (
                StatusCode::UNAUTHORIZED,
                "missing_token",
                "send the wallet user's token as Authorization: Bearer <token>".to_owned(),
                r#"Bearer realm="pocket""#.to_owned(),
            ),
            AuthRejection::BadHeader(why) => (
                StatusCode::BAD_REQUEST,
                "invalid_request",
                (*why).to_owned(),
                r#"Bearer realm="pocket", error="invalid_request""#.to_owned(),
            ),
            AuthRejection::Invalid(error) => {
                let reason = error.token_rejection().map_or("invalid", |r| r.as_str());
                (
                    StatusCode::UNAUTHORIZED,
                    "invalid_token",
                    format!("the token is not valid: {reason}"),
                    format!(r#"Bearer realm="pocket", error="invalid_token", error_description="{reason}""#),
                )
            }
            AuthRejection::Unavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                "the wallet user's token cannot be checked right now; try again shortly".to_owned(),
                String::new(),
            ),
            AuthRejection::Misconfigured(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "the wallet user's token cannot be checked because of a fault on this server".to_owned(),
                String::new(),
            ),
        };
        let mut response =
            (status, axum::Json(RejectionBody { error, error_description: description })).into_response();
        let headers = response.headers_mut();
        if let Some(value) = Some(challenge).filter(|c| !c.is_empty()).and_then(|c| HeaderValue::from_str(&c).ok()) {
            headers.insert(WWW_AUTHENTICATE, value);
        }
        if let AuthRejection::Unavailable(error) = &self {
            headers.insert(RETRY_AFTER, HeaderValue::from(retry_after_seconds(error)));
        }
        response
    }
}

/// Whole seconds to wait, as the verifier's error says (rounded up, at least 1, at most an
/// hour), or 5 when it does not say.
fn retry_after_seconds(error: &pocket_core::Error) -> u64 {
    match error.retry_after() {
        Some(wait) => wait.as_secs().saturating_add(u64::from(wait.subsec_nanos() > 0)).clamp(1, 3600),
        None => 5,
    }
}

/// The token of the request: `None` when there is none at all.
fn token<'a>(parts: &'a Parts, auth: &PocketAuth) -> Result<Option<&'a str>, AuthRejection> {
    let name = auth.header.as_ref().unwrap_or(&AUTHORIZATION);
    let mut values = parts.headers.get_all(name).iter();
    let Some(value) = values.next() else { return Ok(None) };
    if values.next().is_some() {
        return Err(AuthRejection::BadHeader("send the token in exactly one header"));
    }
    let value = value.to_str().map_err(|_| AuthRejection::BadHeader("the header is not visible ASCII"))?.trim();
    if auth.header.is_some() {
        return Ok(Some(value).filter(|v| !v.is_empty()));
    }
    if value.eq_ignore_ascii_case("bearer") {
        return Ok(None);
    }
    match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() => {
            Ok(Some(token.trim()))
        }
        Some((scheme, _)) if scheme.eq_ignore_ascii_case("bearer") => Ok(None),
        _ => Err(AuthRejection::BadHeader("the Authorization scheme must be Bearer")),
    }
}

async fn verify(auth: &PocketAuth, token: &str) -> Result<WalletUser, AuthRejection> {
    match auth.verifier.verify(token).await {
        Ok(user) => Ok(WalletUser(user)),
        Err(error) if error.token_rejection().is_some() => {
            tracing::debug!(error = %error, "a wallet user's token was refused");
            Err(AuthRejection::Invalid(error))
        }
        Err(error) if error.is_retryable() => {
            tracing::warn!(error = %error, "the wallet user's token could not be checked now");
            Err(AuthRejection::Unavailable(error))
        }
        Err(error) => {
            tracing::error!(
                error = %error,
                kind = ?error.kind(),
                "the wallet user's token could not be checked: the verifier is misconfigured (its credentials, realm or issuer)"
            );
            Err(AuthRejection::Misconfigured(error))
        }
    }
}

impl<S> FromRequestParts<S> for WalletUser
where
    S: Send + Sync,
    PocketAuth: FromRef<S>,
{
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let auth = PocketAuth::from_ref(state);
        match token(parts, &auth)? {
            Some(token) => verify(&auth, token).await,
            None => Err(AuthRejection::Missing),
        }
    }
}

impl<S> OptionalFromRequestParts<S> for WalletUser
where
    S: Send + Sync,
    PocketAuth: FromRef<S>,
{
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Option<Self>, Self::Rejection> {
        let auth = PocketAuth::from_ref(state);
        match token(parts, &auth)? {
            Some(token) => verify(&auth, token).await.map(Some),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use pocket_core::{Error, ErrorKind};

    use super::*;

    fn retry_after(rejection: AuthRejection) -> String {
        let response = rejection.into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        response.headers()[RETRY_AFTER].to_str().unwrap().to_owned()
    }

    #[test]
    fn retry_after_is_what_the_error_carries() {
        let unavailable = || Error::new(ErrorKind::Unavailable, "the realm's keys cannot be fetched");
        assert_eq!(retry_after(AuthRejection::Unavailable(unavailable())), "5", "nothing said: 5 s");
        let said = unavailable().with_retry_after(Duration::from_secs(30));
        assert_eq!(retry_after(AuthRejection::Unavailable(said)), "30");
        let part = unavailable().with_retry_after(Duration::from_millis(1500));
        assert_eq!(retry_after(AuthRejection::Unavailable(part)), "2", "rounded up");
        let huge = unavailable().with_retry_after(Duration::from_secs(86_400));
        assert_eq!(retry_after(AuthRejection::Unavailable(huge)), "3600", "at most an hour");
    }
}
