//! Property tests of every decoder a wallet user's token goes through: the compact form, the
//! header, the claims, and the realm's JWKS. Whatever arrives, the verifier answers with a user
//! or a typed error — never a panic — in bounded time, and nothing it accepts breaks a rule:
//! an accepted token is RS256 under the realm's key, of the realm, and unexpired.
//!
//! 2,000 cases per property; `POCKET_FUZZ_CASES=N` for more.

use crate::common;

use std::sync::LazyLock;
use std::time::{Duration, Instant};

use common::*;
use pocket_core::{ErrorKind, PocketUser};
use pocket_jwt::JwtVerifier;
use pocket_sandbox::{Sandbox, TestSignature};
use pocket_test_support::fuzz::{bytes_like, cases, json_like};
use proptest::prelude::*;
use serde_json::Value;

const CLAIM_KEYS: &[&str] = &[
    "exp",
    "iat",
    "nbf",
    "iss",
    "aud",
    "sub",
    "typ",
    "azp",
    "scope",
    "preferred_username",
    "phone_number",
    "given_name",
    "family_name",
    "clientId",
    "client_id",
    "realm_access",
];
const HEADER_KEYS: &[&str] = &["alg", "typ", "kid", "crit", "jku", "x5u", "cty", "enc"];
const JWKS_KEYS: &[&str] = &["keys", "kid", "kty", "alg", "use", "n", "e", "x5c", "crv", "x", "y"];

static RUNTIME: LazyLock<tokio::runtime::Runtime> =
    LazyLock::new(|| tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap());
static REALM: LazyLock<(Sandbox, JwtVerifier)> = LazyLock::new(|| {
    RUNTIME.block_on(async {
        let sandbox = sandbox().await;
        let verifier = verifier(&sandbox);
        verifier.refresh_keys().await.expect("the sandbox's keys");
        (sandbox, verifier)
    })
});

/// Verifies `token`, failing the property on a slow answer or an untyped one.
fn verify(token: &str) -> Result<Result<PocketUser, pocket_core::Error>, TestCaseError> {
    let started = Instant::now();
    let outcome = RUNTIME.block_on(REALM.1.verify(token));
    prop_assert!(started.elapsed() < Duration::from_secs(1), "verifying took {:?}", started.elapsed());
    if let Err(error) = &outcome {
        prop_assert!(
            matches!(error.kind(), ErrorKind::InvalidToken(_)),
            "a bad token is the user's fault, not {:?}: {error}",
            error.kind()
        );
    }
    Ok(outcome)
}

/// Valid claims with `changes` laid over them.
fn claims_with(changes: &Value) -> Value {
    let mut body = claims(&REALM.0);
    if let (Some(body), Some(changes)) = (body.as_object_mut(), changes.as_object()) {
        body.extend(changes.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    body
}

proptest! {
    #![proptest_config(cases())]

    #[test]
    fn any_text_as_a_token(token in prop_oneof![
        ".{0,300}",
        "[A-Za-z0-9_-]{0,80}\\.[A-Za-z0-9_-]{0,200}\\.[A-Za-z0-9_-]{0,100}",
        "[A-Za-z0-9_=+/.-]{0,400}",
    ]) {
        prop_assert!(verify(&token)?.is_err(), "{token:?} was accepted");
    }

    #[test]
    fn any_bytes_as_header_or_payload(header in bytes_like(json_like(HEADER_KEYS)), payload in bytes_like(json_like(CLAIM_KEYS))) {
        let token = REALM.0.sign_token_with(TestSignature::Rs256, &header, &payload).unwrap();
        prop_assert!(verify(&token)?.is_err(), "a token of arbitrary bytes was accepted");
    }

    #[test]
    fn odd_headers_over_valid_claims(changes in json_like(HEADER_KEYS)) {
        let mut header = header(&REALM.0);
        if let (Some(header), Some(changes)) = (header.as_object_mut(), changes.as_object()) {
            header.extend(changes.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        let token = sign(&REALM.0, &header, &claims(&REALM.0));
        if verify(&token)?.is_ok() {
            prop_assert_eq!(&header["alg"], "RS256");
            prop_assert_eq!(header["kid"].as_str().map(str::to_owned), Some(REALM.0.signing_kid()));
            prop_assert!(header.get("crit").is_none_or(Value::is_null), "a critical extension was ignored");
        }
    }

    #[test]
    fn odd_claims_signed_by_the_realm(changes in json_like(CLAIM_KEYS)) {
        let claims = claims_with(&changes);
        let token = sign(&REALM.0, &header(&REALM.0), &claims);
        if let Ok(user) = verify(&token)? {
            prop_assert_eq!(claims["iss"].as_str().map(str::to_owned), Some(REALM.0.realm_url()));
            prop_assert!(claims["exp"].as_f64().is_some_and(|exp| exp > now() as f64), "expired: {}", claims["exp"]);
            prop_assert_eq!(Some(user.subject.as_str()), claims["sub"].as_str());
        }
    }

    #[test]
    fn any_jwks_document(document in bytes_like(json_like(JWKS_KEYS))) {
        let started = Instant::now();
        let built = JwtVerifier::builder_for_issuer(REALM.0.realm_url())
            .jwks_document(String::from_utf8_lossy(&document).into_owned())
            .build();
        prop_assert!(started.elapsed() < Duration::from_secs(1));
        if let Ok(verifier) = built {
            let token = sign(&REALM.0, &header(&REALM.0), &claims(&REALM.0));
            let accepted = RUNTIME.block_on(verifier.verify(&token)).is_ok();
            prop_assert!(!accepted, "a token verified under a random key set");
        }
    }
}
