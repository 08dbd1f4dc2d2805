//! `PocketAuth::builder`: pinned `azp`/`aud`, introspection, service accounts, and faults of
//! the app's own configuration answered as a logged 500 rather than as the user's invalid token.

use crate::extractor;

use axum::http::StatusCode;
use extractor::{app, call, error_of};
use pocket_axum::PocketAuth;
use pocket_sandbox::{Sandbox, TestUser};

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

#[tokio::test]
async fn the_builder_pins_the_authorized_party_and_audience() {
    let sandbox = Sandbox::start().await.unwrap();
    let token = sandbox.mint_consumer_token(&TestUser::default()).unwrap().access_token.expose_secret().to_owned();
    let client_id = sandbox.credentials().client_id().to_owned();
    let pinned = |party: &str, audience: &str| {
        PocketAuth::builder(sandbox.environment()).authorized_party(party).audience(audience).build().unwrap()
    };
    let ours = app(pinned(&client_id, "account"));
    assert_eq!(call(&ours, "/me", &[("authorization", &bearer(&token))]).await.0, StatusCode::OK);
    let theirs = app(pinned("another-mini-app", "account"));
    let (status, _, body) = call(&theirs, "/me", &[("authorization", &bearer(&token))]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body.contains("wrong authorized party"), "{body}");
    let elsewhere = app(pinned(&client_id, "another-api"));
    assert_eq!(call(&elsewhere, "/me", &[("authorization", &bearer(&token))]).await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn introspection_pins_the_same_way_and_refuses_the_merchants_own_token() {
    let sandbox = Sandbox::start().await.unwrap();
    let client = pocket_http::PocketClient::builder(sandbox.environment(), sandbox.credentials()).build().unwrap();
    let token = sandbox.mint_consumer_token(&TestUser::default()).unwrap().access_token.expose_secret().to_owned();
    let introspecting = |party: &str| {
        PocketAuth::builder(sandbox.environment())
            .introspection(client.clone())
            .authorized_party(party)
            .build()
            .unwrap()
    };
    let ours = app(introspecting(sandbox.credentials().client_id()));
    assert_eq!(call(&ours, "/me", &[("authorization", &bearer(&token))]).await.0, StatusCode::OK);
    let theirs = app(introspecting("another-mini-app"));
    assert_eq!(call(&theirs, "/me", &[("authorization", &bearer(&token))]).await.0, StatusCode::UNAUTHORIZED);

    let own = sandbox.mint_merchant_token().unwrap();
    let (status, _, body) = call(&ours, "/me", &[("authorization", &bearer(&own))]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body.contains("service account"), "{body}");
}

#[tokio::test]
async fn a_misconfigured_verifier_is_a_logged_500_not_an_invalid_token() {
    let sandbox = Sandbox::start().await.unwrap();
    let wrong = pocket_http::PocketClient::builder(
        sandbox.environment(),
        pocket_core::Credentials::new(sandbox.credentials().client_id(), "not-the-secret"),
    )
    .build()
    .unwrap();
    let app = app(PocketAuth::builder(sandbox.environment()).introspection(wrong).build().unwrap());
    let token = sandbox.mint_consumer_token(&TestUser::default()).unwrap().access_token.expose_secret().to_owned();
    let logs = pocket_test_support::LogCapture::new();
    let guard = logs.install();
    let (status, _, body) = call(&app, "/me", &[("authorization", &bearer(&token))]).await;
    drop(guard);
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
    assert_eq!(error_of(&body), "server_error");
    let logged = logs.text();
    assert!(logged.contains("ERROR") && logged.contains("misconfigured"), "{logged}");
    assert!(!logged.contains("not-the-secret") && !logged.contains(&token), "{logged}");
}
