//! Keys that recover: a failed JWKS fetch is retried within about a second, keys loaded at
//! start-up are refreshed in the background (a removed key is dropped), the fetch timeout is
//! the app's, discovery finds the issuer and the keys, and a static key is consistent about kid.

use crate::common;

use std::time::{Duration, Instant};

use common::*;
use pocket_core::{ErrorKind, TokenRejection};
use pocket_jwt::JwtVerifier;
use pocket_sandbox::{Endpoint, Fault, SandboxConfig};
use serde_json::json;

#[tokio::test]
async fn logins_work_again_within_a_second_of_the_realms_return() {
    let sandbox = sandbox().await;
    let verifier = verifier(&sandbox);
    let token = token_with(&sandbox, json!({}));
    sandbox.set_jwks_outage(true);
    let error = verifier.verify(&token).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unavailable);
    sandbox.set_jwks_outage(false);
    let back = Instant::now();
    while verifier.verify(&token).await.is_err() {
        assert!(
            back.elapsed() < Duration::from_millis(1500),
            "still refused {:?} after the realm came back",
            back.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    eprintln!("logins worked again {:?} after the realm's return", back.elapsed());
    // The retry backs off: a login storm during the outage was not a fetch storm.
    assert!(sandbox.requests(Endpoint::Certs) <= 4, "{} fetches", sandbox.requests(Endpoint::Certs));
}

#[tokio::test]
async fn a_long_outage_is_retried_with_a_backoff_that_stays_short() {
    let sandbox = sandbox().await;
    let verifier = verifier(&sandbox);
    let token = token_with(&sandbox, json!({}));
    sandbox.set_jwks_outage(true);
    let down = Instant::now();
    while down.elapsed() < Duration::from_secs(3) {
        let _ = verifier.verify(&token).await;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // 0.5 + 1 + 2 s of backoff: four attempts in three seconds, not one per login.
    let fetches = sandbox.requests(Endpoint::Certs);
    assert!((2..=5).contains(&fetches), "{fetches} fetches in 3 s of logins");
    sandbox.set_jwks_outage(false);
    let back = Instant::now();
    while verifier.verify(&token).await.is_err() {
        assert!(back.elapsed() < Duration::from_millis(4500), "the backoff exceeded its cap");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    eprintln!("after a 3 s outage, logins worked again {:?} after the realm's return", back.elapsed());
}

#[tokio::test]
async fn keys_warmed_at_start_up_are_refreshed_and_removed_keys_dropped() {
    let sandbox = SandboxConfig::default().key_grace_period(Duration::ZERO).start().await.unwrap();
    let verifier = builder(&sandbox).refresh_interval(Duration::from_secs(1)).build().unwrap();
    verifier.refresh_keys().await.unwrap();
    let old_kid = sandbox.signing_kid();
    assert!(verifier.knows_kid(&old_kid));
    sandbox.rotate_keys().unwrap();
    let new_kid = sandbox.signing_kid();
    let rotated = Instant::now();
    while verifier.knows_kid(&old_kid) || !verifier.knows_kid(&new_kid) {
        assert!(rotated.elapsed() < Duration::from_secs(3), "the background refresh did not run");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let stale = sign(&sandbox, &json!({"alg": "RS256", "kid": old_kid}), &claims(&sandbox));
    assert!(verifier.verify(&stale).await.is_err());
}

#[tokio::test]
async fn the_fetch_timeout_is_the_apps() {
    let sandbox = sandbox().await;
    sandbox.set_fault(Endpoint::Certs, Fault::latency(Duration::from_secs(5)));
    let verifier = builder(&sandbox).fetch_timeout(Duration::from_millis(200)).build().unwrap();
    let started = Instant::now();
    let error = verifier.refresh_keys().await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unavailable);
    assert!(started.elapsed() < Duration::from_secs(2), "waited {:?}", started.elapsed());
}

#[tokio::test]
async fn discovery_names_the_issuer_and_the_keys() {
    let sandbox = sandbox().await;
    let verifier = JwtVerifier::discover(sandbox.environment()).await.unwrap().build().unwrap();
    verifier.verify(&token_with(&sandbox, json!({}))).await.unwrap();

    let nowhere = pocket_core::Environment::custom()
        .sso_base(pocket_test_support::serve(axum::Router::new()).await)
        .api_base("http://127.0.0.1:9/merchant")
        .build()
        .unwrap();
    let error = JwtVerifier::discover(&nowhere).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unavailable, "{error}");
    let odd = axum::Router::new().route(
        "/auth/realms/invescore/.well-known/openid-configuration",
        axum::routing::get(|| async { axum::Json(json!({"issuer": "x", "jwks_uri": "file:///etc/passwd"})) }),
    );
    let odd = pocket_core::Environment::custom()
        .sso_base(pocket_test_support::serve(odd).await)
        .api_base("http://127.0.0.1:9/merchant")
        .build()
        .unwrap();
    let error = JwtVerifier::discover(odd).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Protocol, "{error}");
}

#[tokio::test]
async fn discovery_stops_reading_an_oversized_document_and_uses_the_apps_client() {
    // 300 KiB streamed without a length: refused once the limit is passed, not buffered whole.
    let huge = axum::Router::new().route(
        "/auth/realms/invescore/.well-known/openid-configuration",
        axum::routing::get(|| async {
            let chunks = (0..300).map(|_| Ok::<_, std::io::Error>(vec![b' '; 1024]));
            axum::body::Body::from_stream(futures_util::stream::iter(chunks))
        }),
    );
    let huge = pocket_core::Environment::custom()
        .sso_base(pocket_test_support::serve(huge).await)
        .api_base("http://127.0.0.1:9/merchant")
        .build()
        .unwrap();
    let error = JwtVerifier::discover(huge).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Protocol, "{error}");
    assert!(error.to_string().contains("too large"), "{error}");

    // The app's client fetches the document, and then the keys: a realm that answers only
    // requests carrying the header that client sets serves both.
    let sandbox = sandbox().await;
    let certs = reqwest::get(format!("{}/protocol/openid-connect/certs", sandbox.realm_url())).await.unwrap();
    let jwks: serde_json::Value = serde_json::from_slice(&certs.bytes().await.unwrap()).unwrap();
    let issuer = sandbox.realm_url();
    let only_mine = |headers: &axum::http::HeaderMap| headers.get("x-app-client").is_some_and(|v| v == "mine");
    let keys_url_slot = std::sync::Arc::new(std::sync::OnceLock::<String>::new());
    let slot = keys_url_slot.clone();
    let realm = axum::Router::new()
        .route(
            "/auth/realms/invescore/.well-known/openid-configuration",
            axum::routing::get(move |headers: axum::http::HeaderMap| async move {
                if !only_mine(&headers) {
                    return Err(axum::http::StatusCode::FORBIDDEN);
                }
                Ok(axum::Json(json!({"issuer": issuer, "jwks_uri": slot.get().unwrap()})))
            }),
        )
        .route(
            "/keys",
            axum::routing::get(move |headers: axum::http::HeaderMap| async move {
                if !only_mine(&headers) {
                    return Err(axum::http::StatusCode::FORBIDDEN);
                }
                Ok(axum::Json(jwks))
            }),
        );
    let base = pocket_test_support::serve(realm).await;
    keys_url_slot.set(format!("{base}/keys")).unwrap();
    let realm =
        pocket_core::Environment::custom().sso_base(&base).api_base("http://127.0.0.1:9/merchant").build().unwrap();
    let error = JwtVerifier::discover(realm.clone()).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unavailable, "a default client is refused: {error}");
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("x-app-client", reqwest::header::HeaderValue::from_static("mine"));
    let app_client = reqwest::Client::builder().default_headers(headers).build().unwrap();
    let verifier = JwtVerifier::discover_with(realm, app_client).await.unwrap().build().unwrap();
    verifier.verify(&token_with(&sandbox, json!({}))).await.unwrap();
}

#[tokio::test]
async fn a_static_key_ignores_kid_and_a_jwks_requires_one() {
    let sandbox = sandbox().await;
    let without_kid = sign(&sandbox, &json!({"alg": "RS256"}), &claims(&sandbox));
    let other_kid = sign(&sandbox, &json!({"alg": "RS256", "kid": "anything"}), &claims(&sandbox));
    let pem = JwtVerifier::builder_for_issuer(sandbox.realm_url())
        .public_key_pem(sandbox.public_key_pem().unwrap())
        .build()
        .unwrap();
    pem.verify(&without_kid).await.unwrap();
    pem.verify(&other_kid).await.unwrap();

    let jwks = verifier(&sandbox);
    let error = jwks.verify(&without_kid).await.unwrap_err();
    assert_eq!(error.token_rejection(), Some(TokenRejection::Malformed), "{error}");
    assert_eq!(jwks.verify(&other_kid).await.unwrap_err().token_rejection(), Some(TokenRejection::UnknownKey));
}
