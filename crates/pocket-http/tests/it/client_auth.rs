//! How the merchant authenticates to the realm (`client_secret_post` or `client_secret_basic`),
//! introspection of any token format, and what the realm's answers mean for a wallet user's
//! token: inactive or unknown formats are invalid tokens; refused merchant credentials are a
//! configuration fault; the merchant's own token is no wallet user.

use crate::common;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::post;
use common::*;
use pocket_core::{ConsumerTokenVerifier, Credentials, ErrorKind, TokenRejection};
use pocket_http::{ClientAuth, IntrospectionVerifier, PocketClient};
use pocket_sandbox::SandboxConfig;
use serde_json::json;

/// A secret with a `:`, a `+` and a non-ASCII letter: Basic must form-encode it (RFC 6749 §2.3.1).
const ODD_SECRET: &str = "s3:cr+ét";

async fn basic_only_sandbox() -> pocket_sandbox::Sandbox {
    sandbox_with(SandboxConfig::default().basic_only_client("basic-shop", ODD_SECRET)).await
}

fn client_as(sandbox: &pocket_sandbox::Sandbox, auth: ClientAuth) -> PocketClient {
    PocketClient::builder(sandbox.environment(), Credentials::new("basic-shop", ODD_SECRET))
        .client_auth(auth)
        .retry(fast_retries())
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_basic_only_client_is_refused_in_the_form_and_served_with_basic() {
    let sandbox = basic_only_sandbox().await;
    let error = client_as(&sandbox, ClientAuth::Post).warm_up().await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unauthorized, "{error}");

    let client = client_as(&sandbox, ClientAuth::Basic);
    client.warm_up().await.unwrap();
    let answer = client.introspect(user_token(&sandbox).expose_secret()).await.unwrap();
    assert!(answer.active, "introspection authenticates with Basic too");
    assert!(!format!("{client:?}").contains(ODD_SECRET));
}

#[tokio::test]
async fn opaque_tokens_are_asked_about_not_refused_as_malformed() {
    let sandbox = sandbox().await;
    let verifier = IntrospectionVerifier::new(client(&sandbox));
    let error = verifier.verify("2YotnFZFEjr1zCsicMWpAA").await.unwrap_err();
    assert_eq!(error.token_rejection(), Some(TokenRejection::Inactive), "{error}");
    let error = verifier.verify("not a token").await.unwrap_err();
    assert_eq!(error.token_rejection(), Some(TokenRejection::Malformed), "{error}");
}

#[tokio::test]
async fn an_unsupported_token_type_is_an_inactive_token() {
    let routes = Router::new().route(TOKEN_PATH, post(|| async { axum::Json(token_answer()) })).route(
        &format!("{TOKEN_PATH}/introspect"),
        post(|| async {
            (StatusCode::BAD_REQUEST, axum::Json(json!({"error": "unsupported_token_type", "error_description": "x"})))
        }),
    );
    let environment = fake_pocket(routes).await;
    let client = PocketClient::builder(environment, Credentials::new("shop", "secret")).build().unwrap();
    assert!(!client.introspect("opaque-token").await.unwrap().active);
    let error = IntrospectionVerifier::new(client).verify("opaque-token").await.unwrap_err();
    assert_eq!(error.token_rejection(), Some(TokenRejection::Inactive));
}

#[tokio::test]
async fn refused_merchant_credentials_are_a_configuration_fault_not_an_invalid_token() {
    let sandbox = sandbox().await;
    let wrong = PocketClient::builder(sandbox.environment(), Credentials::new("sandbox-merchant", "wrong"))
        .retry(fast_retries())
        .build()
        .unwrap();
    let error = IntrospectionVerifier::new(wrong).verify(user_token(&sandbox).expose_secret()).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unauthorized, "{error}");
    assert_eq!(error.token_rejection(), None);
}

#[tokio::test]
async fn the_merchants_own_token_is_no_wallet_user() {
    let sandbox = sandbox().await;
    let own = sandbox.mint_merchant_token().unwrap();
    let verifier = IntrospectionVerifier::new(client(&sandbox));
    let error = verifier.verify(&own).await.unwrap_err();
    assert_eq!(error.token_rejection(), Some(TokenRejection::ServiceAccount), "{error}");
    let user = verifier.accept_service_accounts(true).verify(&own).await.unwrap();
    assert!(user.service_account_mark().is_some());
    // A genuine user's token issued to the merchant's own client is a user.
    let user = IntrospectionVerifier::new(client(&sandbox)).verify(user_token(&sandbox).expose_secret()).await.unwrap();
    assert_eq!(user.authorized_party.as_deref(), Some(sandbox.credentials().client_id()));
}
