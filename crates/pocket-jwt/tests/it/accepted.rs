//! Tokens that must verify, and what the user looks like afterwards.

use crate::common;

use std::time::Duration;

use common::*;
use pocket_core::{ConsumerTokenVerifier, Environment};
use pocket_jwt::JwtVerifier;
use pocket_sandbox::{TestSignature, TestUser};
use serde_json::json;

#[tokio::test]
async fn a_token_the_realm_issued_verifies_into_the_user() {
    let sandbox = sandbox().await;
    let issued = sandbox.mint_consumer_token(&TestUser::default()).unwrap().access_token;
    let user = verifier(&sandbox).verify(issued.expose_secret()).await.unwrap();
    assert_eq!(user.subject, TestUser::default().subject);
    assert_eq!(user.given_name.as_deref(), Some("Бат-Эрдэнэ"));
    assert_eq!(user.phone_number.as_deref(), Some("99112233"));
    assert_eq!(user.authorized_party.as_deref(), Some("sandbox-merchant"));
    assert!(user.has_scope("phone"));
    assert_eq!(user.extra.get("iss").unwrap(), sandbox.realm_url());
    assert_eq!(user.token(), &issued);
}

#[tokio::test]
async fn extra_claims_are_kept() {
    let sandbox = sandbox().await;
    let token = token_with(&sandbox, json!({"custom": {"tier": "gold"}}));
    let user = verifier(&sandbox).verify(&token).await.unwrap();
    assert_eq!(user.extra.get("custom").unwrap()["tier"], "gold");
    assert_eq!(user.extra.get("realm_access").unwrap()["roles"][0], "offline_access");
}

#[tokio::test]
async fn large_payloads_and_escaped_names_verify_like_small_ones() {
    let sandbox = sandbox().await;
    let head = header(&sandbox).to_string();
    // Payloads up to 2 KiB are decoded on the stack, larger ones on the heap: both must work.
    for roles in [1, 150] {
        let many: Vec<String> = (0..roles).map(|n| format!("role-number-{n}")).collect();
        let mut body = claims(&sandbox);
        body["roles"] = json!(many);
        body.as_object_mut().unwrap().remove("given_name");
        // A user field and an extra claim, each named with an escape.
        let body = body.to_string().replacen("{", r#"{"given_n\u0061me":"Дорж","ti\u0065r":"gold","#, 1);
        let token = sandbox.sign_token_with(TestSignature::Rs256, head.as_bytes(), body.as_bytes()).unwrap();
        assert_eq!(token.len() > 3000, roles > 1, "{roles} roles: {} bytes", token.len());
        let user = JwtVerifier::builder(sandbox.environment()).max_token_size(16 * 1024).build().unwrap();
        let user = user.verify(&token).await.unwrap();
        assert_eq!(user.extra.get("roles").unwrap().as_array().unwrap().len(), roles, "{roles} roles");
        assert_eq!(user.extra.get("tier").unwrap(), "gold", "{roles} roles");
        assert_eq!(user.given_name.as_deref(), Some("Дорж"), "{roles} roles");
        assert_eq!(user.extra.to_map().len(), user.extra.len());
    }
}

#[tokio::test]
async fn it_is_a_consumer_token_verifier() {
    let sandbox = sandbox().await;
    let verifier: std::sync::Arc<dyn ConsumerTokenVerifier> = std::sync::Arc::new(verifier(&sandbox));
    let token = token_with(&sandbox, json!({}));
    assert_eq!(verifier.verify(&token).await.unwrap().subject, "user-1");
}

#[tokio::test]
async fn exp_within_the_leeway_passes_and_the_leeway_is_configurable() {
    let sandbox = sandbox().await;
    let token = token_with(&sandbox, json!({"exp": now() - 10}));
    assert!(verifier(&sandbox).verify(&token).await.is_ok());
    let strict = builder(&sandbox).leeway(Duration::ZERO).build().unwrap();
    assert_eq!(reason(&token, strict.verify(&token).await), Some(pocket_core::TokenRejection::Expired));
}

#[tokio::test]
async fn azp_audience_and_scope_rules_accept_matching_tokens() {
    let sandbox = sandbox().await;
    let verifier = builder(&sandbox)
        .authorized_party("other-shop")
        .authorized_party("sandbox-merchant")
        .audience("shop-api")
        .required_scope("phone")
        .build()
        .unwrap();
    let token = token_with(&sandbox, json!({"aud": ["account", "shop-api"]}));
    assert!(verifier.verify(&token).await.is_ok());
}

#[tokio::test]
async fn other_token_types_can_be_accepted_when_configured() {
    let sandbox = sandbox().await;
    let token = token_with(&sandbox, json!({"typ": "ID"}));
    let verifier = builder(&sandbox).accepted_types(["Bearer", "ID"]).build().unwrap();
    assert!(verifier.verify(&token).await.is_ok());
}

#[tokio::test]
async fn a_static_pem_key_verifies_without_any_fetch() {
    let sandbox = sandbox().await;
    let verifier = JwtVerifier::builder_for_issuer(sandbox.realm_url())
        .public_key_pem(sandbox.public_key_pem().unwrap())
        .build()
        .unwrap();
    let token = token_with(&sandbox, json!({}));
    assert!(verifier.verify(&token).await.is_ok());
    assert_eq!(sandbox.requests(pocket_sandbox::Endpoint::Certs), 0);
    let bad_pem = JwtVerifier::builder_for_issuer("x")
        .public_key_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----")
        .build();
    assert!(bad_pem.is_err());
}

#[tokio::test]
async fn a_jwks_document_in_memory_verifies() {
    let sandbox = sandbox().await;
    let document = reqwest::get(sandbox.environment().certs_url()).await.unwrap().text().await.unwrap();
    let verifier = JwtVerifier::builder_for_issuer(sandbox.realm_url()).jwks_document(document).build().unwrap();
    assert_eq!(verifier.key_count(), 1, "the enc entry is skipped");
    assert!(verifier.verify(&token_with(&sandbox, json!({}))).await.is_ok());
    assert!(JwtVerifier::builder_for_issuer("x").jwks_document(r#"{"keys": []}"#).build().is_err());
}

#[tokio::test]
async fn a_verifier_needs_a_key_source() {
    let error = JwtVerifier::builder_for_issuer("https://sso.example/auth/realms/x").build().unwrap_err();
    assert_eq!(error.kind(), pocket_core::ErrorKind::Validation);
    let verifier = JwtVerifier::builder(&Environment::Production).build().unwrap();
    assert_eq!(verifier.key_count(), 0, "nothing is fetched before the first verification");
}
