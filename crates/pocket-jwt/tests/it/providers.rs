//! A crate that depends on pocket-jwt may also enable jsonwebtoken's `rust_crypto` backend (this
//! test crate does, through its dev-dependencies). Then jsonwebtoken cannot pick a process-wide
//! crypto provider and its own `decode` panics. pocket-jwt chose aws-lc-rs explicitly and never
//! asks jsonwebtoken for a default provider, so verification keeps working.

use crate::common;

use common::*;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Value, json};

#[tokio::test]
async fn verification_works_with_both_jsonwebtoken_backends_compiled_in() {
    let sandbox = sandbox().await;
    let token = token_with(&sandbox, json!({}));
    assert_eq!(verifier(&sandbox).verify(&token).await.unwrap().subject, "user-1");
}

#[tokio::test]
async fn plain_jsonwebtoken_would_panic_in_this_configuration() {
    let sandbox = sandbox().await;
    let token = token_with(&sandbox, json!({}));
    let key = DecodingKey::from_rsa_pem(sandbox.public_key_pem().unwrap().as_bytes()).unwrap();
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&[sandbox.realm_url()]);
    validation.validate_aud = false;
    let outcome = std::panic::catch_unwind(|| jsonwebtoken::decode::<Value>(&token, &key, &validation));
    assert!(
        outcome.is_err(),
        "jsonwebtoken's decode panics without an installed provider — the hazard this crate avoids"
    );
}
