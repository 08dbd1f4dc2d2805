//! Introspection (RFC 7662) and the verifier built on it.

use crate::common;

use std::time::Duration;

use common::*;
use pocket_core::{ConsumerTokenVerifier, Credentials, ErrorKind, TokenRejection};
use pocket_http::{IntrospectionVerifier, PocketClient};
use pocket_sandbox::{Endpoint, TestUser};

#[tokio::test]
async fn an_active_users_token_has_its_claims() {
    let sandbox = sandbox().await;
    let answer = client(&sandbox).introspect(user_token(&sandbox).expose_secret()).await.unwrap();
    assert!(answer.active);
    assert_eq!(answer.claims["sub"], TestUser::default().subject);
    assert_eq!(answer.claims["iss"], sandbox.realm_url());
}

#[tokio::test]
async fn foreign_revoked_and_expired_tokens_are_inactive() {
    let sandbox = sandbox().await;
    let client = client(&sandbox);
    let foreign = client.introspect("eyJhbGciOiJSUzI1NiJ9.e30.c2ln").await.unwrap();
    assert!(!foreign.active && foreign.claims.is_empty());

    let revoked = user_token(&sandbox);
    assert!(sandbox.revoke_token(revoked.expose_secret()));
    assert!(!client.introspect(revoked.expose_secret()).await.unwrap().active);

    let short =
        sandbox.mint_consumer_token_with(&TestUser::default(), Duration::from_secs(1), Default::default()).unwrap();
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert!(!client.introspect(short.access_token.expose_secret()).await.unwrap().active);
}

#[tokio::test]
async fn wrong_credentials_are_unauthorized() {
    let sandbox = sandbox().await;
    let client =
        PocketClient::builder(sandbox.environment(), Credentials::new("sandbox-merchant", "nope")).build().unwrap();
    let error = client.introspect(user_token(&sandbox).expose_secret()).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unauthorized);
    assert_eq!(error.code(), Some("invalid_client"));
}

#[tokio::test]
async fn the_verifier_returns_the_user() {
    let sandbox = sandbox().await;
    let verifier = IntrospectionVerifier::new(client(&sandbox));
    let token = user_token(&sandbox);
    let user = verifier.verify(token.expose_secret()).await.unwrap();
    assert_eq!(user.subject, TestUser::default().subject);
    assert_eq!(user.display_name().as_deref(), Some("Бат-Эрдэнэ Дорж"));
    assert_eq!(user.phone_number.as_deref(), Some("99112233"));
    assert!(user.has_scope("phone"));
    assert_eq!(user.token(), &token, "the user carries the token for creating invoices");
}

#[tokio::test]
async fn the_verifier_refuses_inactive_malformed_and_refresh_tokens() {
    let sandbox = sandbox().await;
    let verifier = IntrospectionVerifier::new(client(&sandbox));
    let inactive = verifier.verify("eyJhbGciOiJSUzI1NiJ9.e30.c2ln").await.unwrap_err();
    assert_eq!(inactive.token_rejection(), Some(TokenRejection::Inactive));

    let before = sandbox.requests(Endpoint::Introspect);
    // Any bearer-token syntax is asked about (opaque tokens included); only what is no token
    // at all is refused without asking.
    for malformed in ["", " a.b.c", "a b", "тест", "a=b"] {
        let error = verifier.verify(malformed).await.unwrap_err();
        assert_eq!(error.token_rejection(), Some(TokenRejection::Malformed), "{malformed:?}");
    }
    assert_eq!(sandbox.requests(Endpoint::Introspect), before, "malformed tokens are refused without asking");

    let refresh = sandbox.mint_consumer_token(&TestUser::default()).unwrap().refresh_token;
    let error = verifier.verify(refresh.expose_secret()).await.unwrap_err();
    assert_eq!(error.token_rejection(), Some(TokenRejection::WrongType));
}

#[tokio::test]
async fn an_active_token_without_a_subject_is_a_clients_not_a_malformed_one() {
    use axum::routing::post;
    // As a certified provider answers for an opaque client-credentials token: active, no `sub`.
    let introspect = post(|| async {
        axum::Json(serde_json::json!({
            "active": true, "client_id": "some-service", "token_type": "Bearer", "exp": 4_102_444_800_u64,
            "scope": "read"
        }))
    });
    let routes = axum::Router::new()
        .route(TOKEN_PATH, post(|| async { axum::Json(token_answer()) }))
        .route("/auth/realms/invescore/protocol/openid-connect/token/introspect", introspect);
    let environment = fake_pocket(routes).await;
    let client = PocketClient::builder(environment, Credentials::new("shop", "secret")).build().unwrap();
    let error =
        IntrospectionVerifier::new(client).accept_service_accounts(true).verify("opaque-token").await.unwrap_err();
    assert_eq!(error.token_rejection(), Some(TokenRejection::ServiceAccount), "{error}");
    assert!(error.to_string().contains("sub"), "{error}");
}
