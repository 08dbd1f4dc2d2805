//! The wallet-user extractor: where the token may come from, and every rejection.

use crate::extractor;

use std::time::Duration;

use axum::Router;
use axum::http::{StatusCode, header};
use extractor::{app, call, error_of};
use pocket_axum::PocketAuth;
use pocket_core::{Error, ErrorKind, MockConsumerTokenVerifier, TokenRejection};
use pocket_jwt::JwtVerifier;
use pocket_sandbox::{Sandbox, TestUser};

async fn sandbox_app() -> (Sandbox, Router, String) {
    let sandbox = Sandbox::start().await.unwrap();
    let verifier = JwtVerifier::builder(sandbox.environment()).build().unwrap();
    let token = sandbox.mint_consumer_token(&TestUser::default()).unwrap().access_token.expose_secret().to_owned();
    (sandbox, app(PocketAuth::new(verifier)), token)
}

#[tokio::test]
async fn a_valid_bearer_token_yields_the_user() {
    let (_sandbox, app, token) = sandbox_app().await;
    let (status, _, body) = call(&app, "/me", &[("authorization", &format!("Bearer {token}"))]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, TestUser::default().subject);
    let (status, _, _) = call(&app, "/me", &[("authorization", &format!("bearer {token}"))]).await;
    assert_eq!(status, StatusCode::OK, "the scheme is case-insensitive");
    let (status, _, _) = call(&app, "/me", &[("authorization", &format!("BEARER  {token} "))]).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_missing_token_is_401_with_a_bearer_challenge() {
    let (_sandbox, app, token) = sandbox_app().await;
    let (status, headers, body) = call(&app, "/me", &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(headers[header::WWW_AUTHENTICATE].to_str().unwrap().starts_with("Bearer"));
    assert_eq!(error_of(&body), "missing_token");
    let (status, _, _) = call(&app, &format!("/me?access_token={token}"), &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "never from the query string");
    let (status, _, _) = call(&app, "/me", &[("authorization", "Bearer ")]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn duplicate_headers_and_other_schemes_are_bad_requests() {
    let (_sandbox, app, token) = sandbox_app().await;
    let bearer = format!("Bearer {token}");
    let (status, _, body) = call(&app, "/me", &[("authorization", &bearer), ("authorization", &bearer)]).await;
    assert_eq!((status, error_of(&body).as_str()), (StatusCode::BAD_REQUEST, "invalid_request"));
    for value in ["Basic c2hvcDpzZWNyZXQ=", &token, "Token abc"] {
        let (status, _, body) = call(&app, "/me", &[("authorization", value)]).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{value}");
        assert!(!body.contains(&token[..20]), "never echoes the token");
    }
}

#[tokio::test]
async fn invalid_tokens_are_401_invalid_token_with_the_reason_and_never_the_token() {
    let (sandbox, app, token) = sandbox_app().await;
    let expired = sandbox
        .mint_consumer_token_with(&TestUser::default(), Duration::from_secs(1), Default::default())
        .unwrap()
        .access_token;
    let mut tampered = token.clone();
    tampered.replace_range(tampered.len() - 6.., "AAAAAA");
    let cases = [(tampered, "bad signature"), ("a.b.c".to_owned(), "malformed")];
    for (bad, reason) in cases {
        let (status, headers, body) = call(&app, "/me", &[("authorization", &format!("Bearer {bad}"))]).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let challenge = headers[header::WWW_AUTHENTICATE].to_str().unwrap();
        assert!(challenge.contains(r#"error="invalid_token""#), "{challenge}");
        assert!(body.contains(reason), "{body}");
        assert!(!body.contains(&bad[bad.len().saturating_sub(10)..]));
    }
    tokio::time::sleep(Duration::from_millis(1100)).await;
    // The default leeway is 30 s; an expired token is refused once past it.
    let strict = app_with_leeway(&sandbox);
    let (status, _, body) =
        call(&strict, "/me", &[("authorization", &format!("Bearer {}", expired.expose_secret()))]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body.contains("expired"), "{body}");
}

fn app_with_leeway(sandbox: &Sandbox) -> Router {
    app(PocketAuth::new(JwtVerifier::builder(sandbox.environment()).leeway(Duration::ZERO).build().unwrap()))
}

#[tokio::test]
async fn unavailable_keys_are_503_with_retry_after() {
    let (sandbox, app, token) = sandbox_app().await;
    sandbox.set_jwks_outage(true);
    let (status, headers, body) = call(&app, "/me", &[("authorization", &format!("Bearer {token}"))]).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(headers[header::RETRY_AFTER], "5");
    assert_eq!(error_of(&body), "temporarily_unavailable");
}

#[tokio::test]
async fn an_optional_user_is_none_without_a_token_but_a_bad_token_is_still_refused() {
    let (_sandbox, app, token) = sandbox_app().await;
    let (status, _, body) = call(&app, "/maybe", &[]).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "anonymous"));
    let (status, _, body) = call(&app, "/maybe", &[("authorization", &format!("Bearer {token}"))]).await;
    assert_eq!((status, body), (StatusCode::OK, TestUser::default().subject));
    let (status, _, _) = call(&app, "/maybe", &[("authorization", "Bearer a.b.c")]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn another_header_is_used_only_when_the_app_opts_in() {
    let sandbox = Sandbox::start().await.unwrap();
    let verifier = JwtVerifier::builder(sandbox.environment()).build().unwrap();
    let token = sandbox.mint_consumer_token(&TestUser::default()).unwrap().access_token.expose_secret().to_owned();
    let custom = app(PocketAuth::new(verifier).with_token_header(header::HeaderName::from_static("x-pocket-token")));
    let (status, _, _) = call(&custom, "/me", &[("x-pocket-token", &token)]).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = call(&custom, "/me", &[("authorization", &format!("Bearer {token}"))]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "Authorization is not read then");
}

#[tokio::test]
async fn any_verifier_works_and_its_error_kinds_map_to_statuses() {
    let mut mock = MockConsumerTokenVerifier::new();
    mock.expect_verify().returning(|token| match token {
        "a.b.down" => Err(Error::new(ErrorKind::Unavailable, "the realm is down")),
        "a.b.late" => Err(Error::invalid_token(TokenRejection::NotYetValid, "not yet")),
        _ => Err(Error::new(ErrorKind::Protocol, "odd")),
    });
    let app = app(PocketAuth::new(mock));
    let (status, _, _) = call(&app, "/me", &[("authorization", "Bearer a.b.down")]).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let (status, _, body) = call(&app, "/me", &[("authorization", "Bearer a.b.late")]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body.contains("not yet valid"), "{body}");
    // The verifier's own fault (an unreadable realm answer) is not the user's: 500, logged.
    let (status, _, body) = call(&app, "/me", &[("authorization", "Bearer a.b.odd")]).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(error_of(&body), "server_error");
}
