//! The key store: unknown kids, rotation, outages, odd JWKS documents.

use crate::common;

use std::time::Duration;

use axum::Router;
use axum::routing::get;
use common::*;
use pocket_core::{ErrorKind, TokenRejection};
use pocket_jwt::JwtVerifier;
use pocket_sandbox::{Endpoint, Fault};
use serde_json::{Value, json};

fn with_kid(sandbox: &pocket_sandbox::Sandbox, kid: &str) -> String {
    sign(sandbox, &json!({"alg": "RS256", "kid": kid}), &claims(sandbox))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_unknown_kids_fetches_the_jwks_at_most_once_per_cooldown() {
    let sandbox = sandbox().await;
    let verifier = verifier(&sandbox);
    let tasks: Vec<_> = (0..1000)
        .map(|i| {
            let token = with_kid(&sandbox, &format!("random-{i}-{}", fastrand::u64(..)));
            let verifier = verifier.clone();
            tokio::spawn(async move { verifier.verify(&token).await })
        })
        .collect();
    for task in tasks {
        let error = task.await.unwrap().unwrap_err();
        assert_eq!(error.token_rejection(), Some(TokenRejection::UnknownKey));
    }
    assert_eq!(sandbox.requests(Endpoint::Certs), 1);
    assert!(verifier.verify(&token_with(&sandbox, json!({}))).await.is_ok(), "known kids still verify");
}

#[tokio::test]
async fn after_the_cooldown_an_unknown_kid_fetches_again() {
    let sandbox = sandbox().await;
    let verifier = builder(&sandbox).unknown_kid_cooldown(Duration::from_millis(200)).build().unwrap();
    for _ in 0..3 {
        let _ = verifier.verify(&with_kid(&sandbox, "nope")).await;
    }
    assert_eq!(sandbox.requests(Endpoint::Certs), 1);
    tokio::time::sleep(Duration::from_millis(250)).await;
    let _ = verifier.verify(&with_kid(&sandbox, "still-nope")).await;
    assert_eq!(sandbox.requests(Endpoint::Certs), 2);
}

#[tokio::test]
async fn rotated_keys_verify_without_a_restart() {
    let sandbox = sandbox().await;
    let verifier = builder(&sandbox).unknown_kid_cooldown(Duration::from_millis(100)).build().unwrap();
    let before = token_with(&sandbox, json!({}));
    verifier.verify(&before).await.unwrap();
    sandbox.rotate_keys().unwrap();
    tokio::time::sleep(Duration::from_millis(150)).await;
    let after = token_with(&sandbox, json!({}));
    assert_ne!(header_kid(&before), header_kid(&after));
    verifier.verify(&after).await.expect("the new key is fetched");
    verifier.verify(&before).await.expect("the old key is still published during its grace period");
}

fn header_kid(token: &str) -> String {
    use base64::Engine;
    let header = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(token.split('.').next().unwrap()).unwrap();
    serde_json::from_slice::<Value>(&header).unwrap()["kid"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn while_the_jwks_endpoint_is_down_cached_keys_still_verify() {
    let sandbox = sandbox().await;
    let verifier = verifier(&sandbox);
    verifier.verify(&token_with(&sandbox, json!({}))).await.unwrap();
    sandbox.set_jwks_outage(true);
    assert_eq!(verifier.refresh_keys().await.unwrap_err().kind(), ErrorKind::Unavailable);
    assert_eq!(verifier.key_count(), 1, "the last good keys stay");
    verifier.verify(&token_with(&sandbox, json!({"sub": "another"}))).await.unwrap();
}

#[tokio::test]
async fn no_keys_at_all_is_unavailable_not_an_invalid_token() {
    let sandbox = sandbox().await;
    sandbox.set_jwks_outage(true);
    let error = verifier(&sandbox).verify(&token_with(&sandbox, json!({}))).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unavailable);
    assert_eq!(error.token_rejection(), None);
    assert!(error.is_retryable());
    sandbox.set_fault(Endpoint::Certs, Fault::drop_next(1));
    let error = verifier(&sandbox).verify(&token_with(&sandbox, json!({}))).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unavailable);
}

async fn serve(document: Value) -> String {
    let app = Router::new().route("/certs", get(move || async move { axum::Json(document) }));
    format!("{}/certs", pocket_test_support::serve(app).await)
}

#[tokio::test]
async fn a_jwks_with_enc_unknown_kty_and_garbage_entries_still_works() {
    let sandbox = sandbox().await;
    let mut document: Value =
        serde_json::from_str(&reqwest::get(sandbox.environment().certs_url()).await.unwrap().text().await.unwrap())
            .unwrap();
    let keys = document["keys"].as_array_mut().unwrap();
    keys.insert(0, json!({"kid": "ec", "kty": "EC", "crv": "P-256", "x": "AA", "y": "AA", "use": "sig"}));
    keys.insert(0, json!("garbage"));
    keys.insert(0, json!({"kid": "short", "kty": "RSA", "use": "sig", "alg": "RS256", "n": "AQAB", "e": "AQAB"}));
    keys.push(json!({"kid": "oct", "kty": "oct", "k": "c2VjcmV0"}));
    keys.push(json!(null));
    let url = serve(document).await;
    let verifier = JwtVerifier::builder_for_issuer(sandbox.realm_url()).jwks_url(url).build().unwrap();
    verifier.verify(&token_with(&sandbox, json!({}))).await.unwrap();
    assert_eq!(verifier.key_count(), 1);
    let error = verifier.verify(&with_kid(&sandbox, "short")).await.unwrap_err();
    assert_eq!(error.token_rejection(), Some(TokenRejection::UnknownKey), "a 1-byte RSA key is never trusted");
}

#[tokio::test]
async fn a_jwks_without_usable_keys_keeps_nothing_and_says_so() {
    let url = serve(json!({"keys": [{"kty": "EC"}]})).await;
    let verifier =
        JwtVerifier::builder_for_issuer("http://127.0.0.1/auth/realms/invescore").jwks_url(url).build().unwrap();
    let error = verifier.refresh_keys().await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unavailable);
    assert!(error.to_string().contains("no usable RS256 signing key"), "{error}");
}

#[tokio::test]
async fn keys_are_fetched_once_and_then_served_from_memory() {
    let sandbox = sandbox().await;
    let verifier = verifier(&sandbox);
    for _ in 0..50 {
        verifier.verify(&token_with(&sandbox, json!({}))).await.unwrap();
    }
    assert_eq!(sandbox.requests(Endpoint::Certs), 1);
}

#[tokio::test]
async fn the_keys_are_refreshed_in_the_background() {
    let sandbox = sandbox().await;
    let verifier = builder(&sandbox).refresh_interval(Duration::from_secs(1)).build().unwrap();
    verifier.verify(&token_with(&sandbox, json!({}))).await.unwrap();
    sandbox.rotate_keys().unwrap();
    tokio::time::sleep(Duration::from_millis(2300)).await;
    assert!(sandbox.requests(Endpoint::Certs) >= 2, "a background refresh happened");
    let fetches = sandbox.requests(Endpoint::Certs);
    verifier.verify(&token_with(&sandbox, json!({}))).await.expect("the rotated key is already known");
    assert_eq!(sandbox.requests(Endpoint::Certs), fetches, "no fetch on the verification path");
}
