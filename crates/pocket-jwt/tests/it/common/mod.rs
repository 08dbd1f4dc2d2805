//! Shared helpers: the sandbox as the realm, and hand-made tokens.
#![allow(dead_code)]

use std::time::{SystemTime, UNIX_EPOCH};

use pocket_core::{Error, PocketUser, TokenRejection};
use pocket_jwt::{JwtVerifier, JwtVerifierBuilder};
use pocket_sandbox::{Sandbox, TestSignature};
use serde_json::{Value, json};

pub async fn sandbox() -> Sandbox {
    Sandbox::start().await.expect("the sandbox starts")
}

pub fn builder(sandbox: &Sandbox) -> JwtVerifierBuilder {
    JwtVerifier::builder(sandbox.environment())
}

pub fn verifier(sandbox: &Sandbox) -> JwtVerifier {
    builder(sandbox).build().expect("a verifier")
}

pub fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

/// Claims of a valid wallet-user access token of the sandbox's realm.
pub fn claims(sandbox: &Sandbox) -> Value {
    json!({
        "exp": now() + 300, "iat": now(), "jti": "j-1", "iss": sandbox.realm_url(), "aud": "account",
        "sub": "user-1", "typ": "Bearer", "azp": "sandbox-merchant", "sid": "s-1",
        "scope": "openid profile phone", "preferred_username": "99112233",
        "given_name": "Бат", "family_name": "Дорж", "phone_number": "99112233",
        "realm_access": {"roles": ["offline_access", "uma_authorization"]}
    })
}

/// The header the realm writes.
pub fn header(sandbox: &Sandbox) -> Value {
    json!({"alg": "RS256", "typ": "JWT", "kid": sandbox.signing_kid()})
}

pub fn sign(sandbox: &Sandbox, header: &Value, claims: &Value) -> String {
    sign_as(sandbox, TestSignature::Rs256, header, claims)
}

pub fn sign_as(sandbox: &Sandbox, how: TestSignature, header: &Value, claims: &Value) -> String {
    sandbox.sign_token_with(how, header.to_string().as_bytes(), claims.to_string().as_bytes()).unwrap()
}

/// A valid token with `changes` applied to the claims (`null` removes a claim).
pub fn token_with(sandbox: &Sandbox, changes: Value) -> String {
    let mut body = claims(sandbox);
    for (key, value) in changes.as_object().unwrap() {
        if value.is_null() {
            body.as_object_mut().unwrap().remove(key);
        } else {
            body[key] = value.clone();
        }
    }
    sign(sandbox, &header(sandbox), &body)
}

/// The rejection reason, after checking the error never echoes the token.
pub fn reason(token: &str, result: Result<PocketUser, Error>) -> Option<TokenRejection> {
    let error = result.err()?;
    let shown = format!("{error} {error:?}");
    for part in token.split('.').filter(|p| p.len() > 8) {
        assert!(!shown.contains(part), "the error echoes the token: {shown}");
    }
    error.token_rejection()
}
