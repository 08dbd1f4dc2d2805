//! Every way a token must fail, each with its own reason.

use crate::common;

use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use common::*;
use pocket_core::TokenRejection::{self, *};
use pocket_sandbox::{Sandbox, TestSignature, TestUser};
use serde_json::{Value, json};

async fn check(sandbox: &Sandbox, token: &str) -> Option<TokenRejection> {
    reason(token, verifier(sandbox).verify(token).await)
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

#[tokio::test]
async fn alg_none_in_any_spelling_is_refused() {
    let sandbox = sandbox().await;
    let body = b64(claims(&sandbox).to_string().as_bytes());
    for alg in ["none", "None", "NONE"] {
        let head = b64(json!({"alg": alg, "kid": sandbox.signing_kid()}).to_string().as_bytes());
        assert_eq!(check(&sandbox, &format!("{head}.{body}.")).await, Some(Malformed), "{alg}, stripped signature");
        assert_eq!(check(&sandbox, &format!("{head}.{body}.AAAA")).await, Some(UnsupportedAlgorithm), "{alg}");
    }
}

#[tokio::test]
async fn hs256_signed_with_the_public_key_is_refused() {
    let sandbox = sandbox().await;
    let pem = sandbox.public_key_pem().unwrap();
    let der_b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = STANDARD.decode(der_b64).unwrap();
    let jwks: Value =
        serde_json::from_str(&reqwest::get(sandbox.environment().certs_url()).await.unwrap().text().await.unwrap())
            .unwrap();
    let modulus = URL_SAFE_NO_PAD.decode(jwks["keys"][0]["n"].as_str().unwrap()).unwrap();
    let input = format!(
        "{}.{}",
        b64(json!({"alg": "HS256", "kid": sandbox.signing_kid()}).to_string().as_bytes()),
        b64(claims(&sandbox).to_string().as_bytes())
    );
    for secret in [pem.as_bytes(), der.as_slice(), modulus.as_slice()] {
        let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, secret), input.as_bytes());
        let token = format!("{input}.{}", b64(tag.as_ref()));
        assert_eq!(check(&sandbox, &token).await, Some(UnsupportedAlgorithm));
    }
}

#[tokio::test]
async fn other_algorithms_are_refused_even_when_validly_signed() {
    let sandbox = sandbox().await;
    for (how, alg) in [
        (TestSignature::Rs384, "RS384"),
        (TestSignature::Rs512, "RS512"),
        (TestSignature::Ps256, "PS256"),
        (TestSignature::Es256, "ES256"),
    ] {
        let token = sign_as(&sandbox, how, &json!({"alg": alg, "kid": sandbox.signing_kid()}), &claims(&sandbox));
        assert_eq!(check(&sandbox, &token).await, Some(UnsupportedAlgorithm), "{alg}");
    }
}

#[tokio::test]
async fn tampered_signatures_and_payloads_are_bad_signatures() {
    let sandbox = sandbox().await;
    let good = token_with(&sandbox, json!({}));
    let (signed, signature) = good.rsplit_once('.').unwrap();
    let mut bytes = URL_SAFE_NO_PAD.decode(signature).unwrap();
    bytes[17] ^= 0x01;
    assert_eq!(check(&sandbox, &format!("{signed}.{}", b64(&bytes))).await, Some(BadSignature), "a flipped bit");

    let other = token_with(&sandbox, json!({"sub": "someone-else"}));
    let parts: Vec<&str> = good.split('.').collect();
    let swapped = format!("{}.{}.{}", parts[0], other.split('.').nth(1).unwrap(), parts[2]);
    assert_eq!(check(&sandbox, &swapped).await, Some(BadSignature), "a swapped payload");

    assert_eq!(check(&sandbox, &format!("{signed}.")).await, Some(Malformed), "a stripped signature");
    assert_eq!(check(&sandbox, &format!("{signed}.AAAA")).await, Some(BadSignature), "a short signature");
    let long = b64(&[0x5a; 1025]);
    assert_eq!(check(&sandbox, &format!("{signed}.{long}")).await, Some(BadSignature), "longer than any key makes");
    let trailing_bits = format!("{signed}.{}B", &signature[..signature.len() - 1]);
    assert_eq!(check(&sandbox, &trailing_bits).await, Some(Malformed), "stray bits after the last byte");
}

#[tokio::test]
async fn a_token_of_another_key_or_realm_is_refused() {
    let sandbox = sandbox().await;
    let foreign = sign_as(&sandbox, TestSignature::ForeignRs256, &header(&sandbox), &claims(&sandbox));
    assert_eq!(check(&sandbox, &foreign).await, Some(BadSignature), "our kid, another key");

    let other_realm = common::sandbox().await;
    let theirs = other_realm.mint_consumer_token(&TestUser::default()).unwrap().access_token;
    assert_eq!(check(&sandbox, theirs.expose_secret()).await, Some(UnknownKey), "another realm's kid");
    let theirs_our_kid = token_with(&sandbox, json!({"iss": other_realm.realm_url()}));
    assert_eq!(check(&sandbox, &theirs_our_kid).await, Some(WrongIssuer), "another realm's issuer");
}

#[tokio::test]
async fn the_issuer_must_match_exactly() {
    let sandbox = sandbox().await;
    let realm = sandbox.realm_url();
    let variants = [
        json!(pocket_core::Environment::Staging.realm_url()),
        json!(format!("{realm}/")),
        json!(realm.replacen("http://", "https://", 1)),
        json!(realm.replacen("/auth", "", 1)),
        json!(realm.to_uppercase()),
        json!(""),
        json!(5),
        Value::Null,
    ];
    for iss in variants {
        let token = token_with(&sandbox, json!({"iss": iss.clone()}));
        assert_eq!(check(&sandbox, &token).await, Some(WrongIssuer), "{iss}");
    }
}

#[tokio::test]
async fn audience_and_azp_mismatches_are_refused() {
    let sandbox = sandbox().await;
    let strict = builder(&sandbox).audience("shop-api").build().unwrap();
    for aud in [json!("account"), json!(["account", "other"]), json!(null)] {
        let token = token_with(&sandbox, json!({"aud": aud}));
        assert_eq!(reason(&token, strict.verify(&token).await), Some(WrongAudience), "{aud}");
    }
    let strict = builder(&sandbox).authorized_party("my-shop").build().unwrap();
    for azp in [json!("sandbox-merchant"), json!(null), json!(["my-shop"])] {
        let token = token_with(&sandbox, json!({"azp": azp}));
        assert_eq!(reason(&token, strict.verify(&token).await), Some(WrongAuthorizedParty), "{azp}");
    }
    let scoped = builder(&sandbox).required_scope("email").build().unwrap();
    let token = token_with(&sandbox, json!({}));
    assert_eq!(reason(&token, scoped.verify(&token).await), Some(MissingScope));
}

#[tokio::test]
async fn id_and_refresh_tokens_are_not_access_tokens() {
    let sandbox = sandbox().await;
    for typ in [json!("ID"), json!("Refresh"), json!("Offline"), json!(null), json!("")] {
        let token = token_with(&sandbox, json!({"typ": typ}));
        assert_eq!(check(&sandbox, &token).await, Some(WrongType), "{typ}");
    }
    let refresh = sandbox.mint_consumer_token(&TestUser::default()).unwrap().refresh_token;
    assert_eq!(check(&sandbox, refresh.expose_secret()).await, Some(WrongType), "the wallet's refresh token");
}

#[tokio::test]
async fn expiry_and_validity_times_are_enforced() {
    let sandbox = sandbox().await;
    assert_eq!(check(&sandbox, &token_with(&sandbox, json!({"exp": now() - 31}))).await, Some(Expired));
    assert_eq!(check(&sandbox, &token_with(&sandbox, json!({"exp": now() - 3600}))).await, Some(Expired));
    for exp in [Value::Null, json!("9999999999"), json!(1e300), json!(-5), json!(true)] {
        let token = token_with(&sandbox, json!({"exp": exp.clone()}));
        assert_eq!(check(&sandbox, &token).await, Some(Malformed), "exp {exp}");
    }
    assert_eq!(check(&sandbox, &token_with(&sandbox, json!({"nbf": now() + 120}))).await, Some(NotYetValid));
    assert_eq!(check(&sandbox, &token_with(&sandbox, json!({"iat": now() + 120}))).await, Some(NotYetValid));
    assert!(
        check(&sandbox, &token_with(&sandbox, json!({"nbf": now() + 10, "iat": now() + 10}))).await.is_none(),
        "inside the leeway"
    );
}

#[tokio::test]
async fn kids_must_be_present_and_name_a_signing_key() {
    let sandbox = sandbox().await;
    let no_kid = sign(&sandbox, &json!({"alg": "RS256", "typ": "JWT"}), &claims(&sandbox));
    assert_eq!(check(&sandbox, &no_kid).await, Some(Malformed));
    let enc = sign(&sandbox, &json!({"alg": "RS256", "kid": sandbox.encryption_kid()}), &claims(&sandbox));
    assert_eq!(check(&sandbox, &enc).await, Some(UnknownKey), "the enc key's kid, though its material would verify");
}

#[tokio::test]
async fn headers_that_point_elsewhere_are_refused() {
    let sandbox = sandbox().await;
    let kid = sandbox.signing_kid();
    for extra in [
        json!({"crit": ["exp"]}),
        json!({"jku": "http://127.0.0.1:9/jwks"}),
        json!({"x5u": "http://127.0.0.1:9/cert"}),
        json!({"jwk": {"kty": "RSA", "n": "AQAB", "e": "AQAB"}}),
        json!({"x5c": ["MIIB"]}),
        json!({"cty": "JWT"}),
    ] {
        let mut head = json!({"alg": "RS256", "kid": kid});
        head.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        let token = sign(&sandbox, &head, &claims(&sandbox));
        assert_eq!(check(&sandbox, &token).await, Some(Malformed), "{extra}");
    }
}

#[tokio::test]
async fn duplicate_claims_and_odd_payloads_are_malformed() {
    let sandbox = sandbox().await;
    let head = header(&sandbox).to_string();
    let sign_raw = |payload: &[u8]| sandbox.sign_token_with(TestSignature::Rs256, head.as_bytes(), payload).unwrap();
    let body = claims(&sandbox).to_string();
    let duplicated = body.replacen("{", r#"{"sub":"admin","#, 1);
    assert_eq!(check(&sandbox, &sign_raw(duplicated.as_bytes())).await, Some(Malformed), "sub twice");
    let duplicated_exp = body.replacen("{", &format!(r#"{{"exp":{},"#, now() + 99_999), 1);
    assert_eq!(check(&sandbox, &sign_raw(duplicated_exp.as_bytes())).await, Some(Malformed), "exp twice");
    // Claims the verifier only notes (and skips) count too: `iss` twice, a custom claim twice,
    // and a name written once plainly and once with an escape.
    let duplicated_iss = body.replacen("{", r#"{"iss":"https://evil.example","#, 1);
    assert_eq!(check(&sandbox, &sign_raw(duplicated_iss.as_bytes())).await, Some(Malformed), "iss twice");
    let duplicated_custom = body.replacen("{", r#"{"tier":"gold","tier":{"x":1},"#, 1);
    assert_eq!(check(&sandbox, &sign_raw(duplicated_custom.as_bytes())).await, Some(Malformed), "a claim twice");
    let escaped = body.replacen("{", r#"{"tier":"gold","ti\u0065r":"x","#, 1);
    assert_eq!(check(&sandbox, &sign_raw(escaped.as_bytes())).await, Some(Malformed), "a claim twice, escaped");
    assert_eq!(check(&sandbox, &sign_raw(b"[1, 2]")).await, Some(Malformed), "an array");
    assert_eq!(check(&sandbox, &sign_raw(b"\"claims\"")).await, Some(Malformed), "a string");
    assert_eq!(check(&sandbox, &sign_raw(&[0x7b, 0xff, 0xfe, 0x7d])).await, Some(Malformed), "bad UTF-8");
    let bad_header = sandbox.sign_token_with(TestSignature::Rs256, &[0xff, 0x00], body.as_bytes()).unwrap();
    assert_eq!(check(&sandbox, &bad_header).await, Some(Malformed), "a header of bad UTF-8");
}

#[tokio::test]
async fn shapes_other_than_three_base64url_parts_are_malformed() {
    let sandbox = sandbox().await;
    let good = token_with(&sandbox, json!({}));
    let parts: Vec<&str> = good.split('.').collect();
    let cases = [
        format!("{}.{}", parts[0], parts[1]),
        format!("{good}.{}", parts[2]),
        format!("{good}=="),
        format!("{}.{}.{}+{}", parts[0], parts[1], &parts[2][..10], &parts[2][11..]),
        format!("{}.{}.{}/{}", parts[0], parts[1], &parts[2][..10], &parts[2][11..]),
        format!(" {good}"),
        format!("{good}\n"),
        format!("Bearer {good}"),
        String::new(),
    ];
    for token in cases {
        assert_eq!(check(&sandbox, &token).await, Some(Malformed), "{token:?}");
    }
}

#[tokio::test]
async fn a_huge_token_is_refused_before_decoding() {
    let sandbox = sandbox().await;
    let huge = format!("{}.{}.{}", "a".repeat(512 * 1024), "b".repeat(512 * 1024), "c");
    assert_eq!(check(&sandbox, &huge).await, Some(TooLarge));
    assert_eq!(sandbox.requests(pocket_sandbox::Endpoint::Certs), 0, "not even the keys were fetched");
    let limited = builder(&sandbox).max_token_size(100).build().unwrap();
    let token = token_with(&sandbox, json!({}));
    assert_eq!(reason(&token, limited.verify(&token).await), Some(TooLarge));
}
