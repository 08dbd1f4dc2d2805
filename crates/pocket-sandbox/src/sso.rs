//! The Keycloak-shaped SSO of realm `invescore`: token endpoint (client credentials and refresh
//! grants), introspection, JWKS, discovery.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::SystemTime;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::reply::{OAuthError, OAuthFailure, has_content_type, oauth_error};
use crate::state::Shared;
use crate::tokens::{Issued, TokenKind, merchant_claims, random_id, refresh_claims};
use crate::{SandboxError, TestClient};

pub(crate) const REALM_PATH: &str = "/auth/realms/invescore";

/// The token endpoint's form (`application/x-www-form-urlencoded`). The client authenticates
/// with `client_id` + `client_secret` here (`client_secret_post`) or, instead, with HTTP Basic
/// (`client_secret_basic`; then the two fields are left out).
#[derive(ToSchema)]
#[allow(dead_code)]
pub(crate) struct TokenForm {
    grant_type: GrantType,
    #[schema(min_length = 1)]
    client_id: String,
    #[schema(min_length = 1)]
    client_secret: String,
    /// Required by the `refresh_token` grant.
    refresh_token: Option<String>,
}

/// The grants the realm gives merchant clients.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
pub(crate) enum GrantType {
    ClientCredentials,
    RefreshToken,
}

/// The introspection form. The client authenticates as at the token endpoint.
#[derive(ToSchema)]
#[allow(dead_code)]
pub(crate) struct IntrospectionForm {
    /// The token to inspect.
    #[schema(min_length = 1)]
    token: String,
    #[schema(min_length = 1)]
    client_id: String,
    #[schema(min_length = 1)]
    client_secret: String,
}

/// A token response, as Keycloak writes it.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TokenResponse {
    pub(crate) access_token: String,
    /// Seconds.
    expires_in: u64,
    /// Seconds.
    refresh_expires_in: u64,
    refresh_token: String,
    token_type: &'static str,
    #[serde(rename = "not-before-policy")]
    not_before_policy: u64,
    session_state: String,
    scope: &'static str,
}

type Form = HashMap<String, String>;

/// Parses a form body; a repeated parameter is an error, as in Keycloak.
fn parse_form(headers: &HeaderMap, body: &[u8]) -> Result<Form, OAuthFailure> {
    if !has_content_type(headers, "application/x-www-form-urlencoded") {
        return Err(oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Content-Type must be application/x-www-form-urlencoded",
        ));
    }
    // Keycloak refuses a repeated OAuth parameter; other parameters it ignores.
    const OAUTH: [&str; 6] = ["grant_type", "client_id", "client_secret", "refresh_token", "token", "scope"];
    let mut form = Form::new();
    for (key, value) in form_urlencoded::parse(body) {
        if form.insert(key.to_string(), value.to_string()).is_some() && OAUTH.contains(&key.as_ref()) {
            return Err(oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                format!("duplicated parameter: {key}"),
            ));
        }
    }
    Ok(form)
}

/// The client, authenticated by HTTP Basic or by form fields (Keycloak accepts both).
fn authenticate<'a>(shared: &'a Shared, headers: &HeaderMap, form: &Form) -> Result<&'a TestClient, OAuthFailure> {
    let invalid_client =
        || oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", "Invalid client or Invalid client credentials");
    let (client_id, secret, by_form) = match basic_credentials(headers)? {
        Some((id, secret)) => {
            if form.get("client_id").is_some_and(|form_id| *form_id != id) {
                return Err(oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "client_id in the form does not match the Authorization header",
                ));
            }
            (id, Some(secret), false)
        }
        None => match form.get("client_id") {
            Some(id) => (id.clone(), form.get("client_secret").cloned(), true),
            None => {
                return Err(oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "Missing form parameter: client_id",
                ));
            }
        },
    };
    let client = shared.client(&client_id).ok_or_else(invalid_client)?;
    if client.basic_only && by_form {
        return Err(oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "this client authenticates with client_secret_basic; credentials in the form are not accepted",
        ));
    }
    match secret {
        None => Err(oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", "Client secret not provided in request")),
        Some(secret) if constant_time_eq(secret.as_bytes(), client.client_secret.as_bytes()) => Ok(client),
        Some(_) => Err(invalid_client()),
    }
}

fn basic_credentials(headers: &HeaderMap) -> Result<Option<(String, String)>, OAuthFailure> {
    let Some(value) = headers.get(header::AUTHORIZATION) else { return Ok(None) };
    let malformed = || oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "Malformed Basic Authorization header");
    let value = value.to_str().map_err(|_| malformed())?;
    let Some((scheme, encoded)) = value.split_once(' ') else { return Err(malformed()) };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Ok(None);
    }
    let decoded = STANDARD.decode(encoded.trim()).map_err(|_| malformed())?;
    let decoded = String::from_utf8(decoded).map_err(|_| malformed())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(malformed)?;
    // RFC 6749 §2.3.1: both parts are form-urlencoded before they are joined.
    let unescape = |s: &str| form_urlencoded::parse(format!("x={s}").as_bytes()).next().map(|(_, v)| v.into_owned());
    Ok(Some((unescape(id).unwrap_or_default(), unescape(secret).unwrap_or_default())))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    bool::from(subtle::ConstantTimeEq::ct_eq(a, b))
}

/// The token endpoint.
#[utoipa::path(
    post,
    path = "/auth/realms/invescore/protocol/openid-connect/token",
    tag = "sso",
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "A merchant token", body = TokenResponse),
        (status = 400, description = "A missing parameter, an unsupported grant, a bad refresh token", body = OAuthError),
        (status = 401, description = "Unknown client or wrong secret", body = OAuthError),
    )
)]
pub(crate) async fn token(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, OAuthFailure> {
    let form = parse_form(&headers, &body)?;
    let client = authenticate(&shared, &headers, &form)?;
    shared.grants().push(form.get("grant_type").cloned().unwrap_or_default());
    let session = match form.get("grant_type").map(String::as_str) {
        None => {
            return Err(oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "Missing form parameter: grant_type"));
        }
        Some("client_credentials") => random_id(),
        Some("refresh_token") => refreshed_session(&shared, client, form.get("refresh_token"))?,
        Some(_) => {
            return Err(oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type", "Unsupported grant_type"));
        }
    };
    let tokens = issue(&shared, client, session).map_err(internal)?;
    tracing::info!(client_id = %client.client_id, grant = form.get("grant_type").map_or("", String::as_str), "merchant token issued");
    let mut response = Json(tokens).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    Ok(response)
}

fn internal(error: SandboxError) -> OAuthFailure {
    oauth_error(StatusCode::INTERNAL_SERVER_ERROR, "server_error", error.to_string())
}

/// The session of a valid refresh token of `client`.
fn refreshed_session(shared: &Shared, client: &TestClient, refresh: Option<&String>) -> Result<String, OAuthFailure> {
    let Some(refresh) = refresh.filter(|r| !r.is_empty()) else {
        return Err(oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "Missing parameter: refresh_token"));
    };
    let tokens = shared.tokens();
    let issued = tokens.check(refresh, TokenKind::Refresh, SystemTime::now()).map_err(|refusal| {
        let description = match refusal {
            crate::tokens::Refusal::Unknown | crate::tokens::Refusal::WrongKind => "Invalid refresh token",
            _ => "Token is not active",
        };
        oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", description)
    })?;
    if issued.client_id != client.client_id {
        return Err(oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "Invalid refresh token. Token client and authorized client don't match",
        ));
    }
    Ok(issued.claims["session_state"].as_str().unwrap_or_default().to_owned())
}

pub(crate) fn issue(shared: &Shared, client: &TestClient, session: String) -> Result<TokenResponse, SandboxError> {
    let now = SystemTime::now();
    let (life, refresh_life) = (shared.config().token_lifetime, shared.config().refresh_lifetime);
    let issuer = shared.issuer();
    let access_claims = merchant_claims(&issuer, &client.client_id, &session, now, life);
    let refresh_claims = refresh_claims(&issuer, &client.client_id, &session, now, refresh_life);
    let key = shared.keys().current();
    let access_token = key.sign_keycloak_style(&access_claims)?;
    let refresh_token = key.sign_keycloak_style(&refresh_claims)?;
    let mut tokens = shared.tokens();
    let record = |kind, claims: Value, expires_at| Issued {
        kind,
        client_id: client.client_id.clone(),
        expires_at,
        revoked: false,
        claims,
    };
    tokens.insert(access_token.clone(), record(TokenKind::Merchant, access_claims, now + life));
    tokens.insert(refresh_token.clone(), record(TokenKind::Refresh, refresh_claims, now + refresh_life));
    Ok(TokenResponse {
        access_token,
        expires_in: life.as_secs(),
        refresh_expires_in: refresh_life.as_secs(),
        refresh_token,
        token_type: "Bearer",
        not_before_policy: 0,
        session_state: session,
        scope: "profile email",
    })
}

/// Token introspection (RFC 7662).
#[utoipa::path(
    post,
    path = "/auth/realms/invescore/protocol/openid-connect/token/introspect",
    tag = "sso",
    request_body(content = IntrospectionForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "`{\"active\": false}`, or `{\"active\": true}` with the token's claims", body = Object),
        (status = 400, description = "No token given", body = OAuthError),
        (status = 401, description = "Unknown client or wrong secret", body = OAuthError),
    )
)]
pub(crate) async fn introspect(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, OAuthFailure> {
    let form = parse_form(&headers, &body)?;
    // Keycloak answers an introspection with no client at all as a failed authentication (401
    // invalid_client), which OAuth clients such as Authlib read; not as a bad request.
    if !headers.contains_key(header::AUTHORIZATION) && !form.contains_key("client_id") {
        return Err(oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", "Authentication failed."));
    }
    authenticate(&shared, &headers, &form)?;
    let Some(token) = form.get("token").filter(|t| !t.is_empty()) else {
        return Err(oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "Token not provided"));
    };
    let tokens = shared.tokens();
    let Some(issued) = tokens.active(token, SystemTime::now()) else {
        return Ok(Json(json!({"active": false})));
    };
    let mut answer = issued.claims.clone();
    answer["active"] = json!(true);
    answer["client_id"] = issued.claims["azp"].clone();
    answer["username"] = issued.claims["preferred_username"].clone();
    answer["token_type"] = json!(if issued.kind == TokenKind::Refresh { "Refresh" } else { "Bearer" });
    Ok(Json(answer))
}

/// The realm's public keys (JWKS).
#[utoipa::path(
    get,
    path = "/auth/realms/invescore/protocol/openid-connect/certs",
    tag = "sso",
    responses((status = 200, description = "The JWKS: RS256 signing keys and an RSA-OAEP encryption key", body = Object))
)]
pub(crate) async fn certs(State(shared): State<Arc<Shared>>) -> Response {
    Json(shared.keys().jwks(SystemTime::now())).into_response()
}

/// OpenID Connect discovery.
#[utoipa::path(
    get,
    path = "/auth/realms/invescore/.well-known/openid-configuration",
    tag = "sso",
    responses((status = 200, description = "The realm's OpenID configuration", body = Object))
)]
pub(crate) async fn discovery(State(shared): State<Arc<Shared>>) -> Response {
    let issuer = shared.issuer();
    let oidc = format!("{issuer}/protocol/openid-connect");
    Json(json!({
        "issuer": issuer,
        "token_endpoint": format!("{oidc}/token"),
        "introspection_endpoint": format!("{oidc}/token/introspect"),
        "jwks_uri": format!("{oidc}/certs"),
        // Only what is served: the wallet's consent is not an authorization-code flow here.
        "grant_types_supported": ["refresh_token", "client_credentials"],
        "response_types_supported": [],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "scopes_supported": ["openid", "profile", "email", "phone"],
        "claims_supported": ["sub", "iss", "name", "given_name", "family_name", "preferred_username", "email", "phone_number"],
    }))
    .into_response()
}
