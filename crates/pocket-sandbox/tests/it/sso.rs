//! The Keycloak-shaped SSO, driven with plain HTTP.

use crate::common;

use std::time::Duration;

use aws_lc_rs::signature::{RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use common::*;
use pocket_sandbox::{SandboxConfig, TestUser};
use serde_json::Value;

async fn form(sandbox: &pocket_sandbox::Sandbox, url: &str, body: &str) -> (u16, Value) {
    let answer = http()
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    let _ = sandbox;
    (answer.status().as_u16(), answer.json().await.unwrap_or(Value::Null))
}

fn grant(sandbox: &pocket_sandbox::Sandbox) -> String {
    let client = &sandbox.clients()[0];
    format!("grant_type=client_credentials&client_id={}&client_secret={}", client.client_id, client.client_secret)
}

/// Checks a token's RS256 signature against the JWKS entry with its kid.
fn signature_verifies(token: &str, jwks: &Value) -> bool {
    let kid = header(token)["kid"].as_str().unwrap().to_owned();
    let Some(key) = jwks["keys"].as_array().unwrap().iter().find(|k| k["kid"] == kid.as_str() && k["use"] == "sig")
    else {
        return false;
    };
    let decode = |field: &str| URL_SAFE_NO_PAD.decode(key[field].as_str().unwrap()).unwrap();
    let (n, e) = (decode("n"), decode("e"));
    let (signed, signature) = token.rsplit_once('.').unwrap();
    let signature = URL_SAFE_NO_PAD.decode(signature).unwrap();
    RsaPublicKeyComponents { n: &n, e: &e }.verify(&RSA_PKCS1_2048_8192_SHA256, signed.as_bytes(), &signature).is_ok()
}

async fn jwks(sandbox: &pocket_sandbox::Sandbox) -> Value {
    http().get(sandbox.environment().certs_url()).send().await.unwrap().json().await.unwrap()
}

#[tokio::test]
async fn client_credentials_by_form_fields_returns_a_signed_keycloak_token() {
    let sandbox = start().await;
    let (status, body) = form(&sandbox, &token_url(&sandbox), &grant(&sandbox)).await;
    assert_eq!(status, 200, "{body}");
    for field in ["access_token", "refresh_token", "session_state", "scope"] {
        assert!(body[field].is_string(), "{field} missing in {body}");
    }
    assert_eq!(body["expires_in"], 600);
    assert_eq!(body["refresh_expires_in"], 604_800);
    assert_eq!(body["token_type"], "Bearer");
    assert!(body["not-before-policy"].is_number());
    let token = body["access_token"].as_str().unwrap();
    let claims = claims(token);
    assert_eq!(claims["iss"], sandbox.realm_url());
    assert_eq!(claims["azp"], "sandbox-merchant");
    assert_eq!(claims["typ"], "Bearer");
    assert_eq!(header(token)["alg"], "RS256");
    assert!(signature_verifies(token, &jwks(&sandbox).await), "the token must verify against the JWKS");
}

#[tokio::test]
async fn client_credentials_by_http_basic() {
    let sandbox = start().await;
    let client = &sandbox.clients()[0];
    let basic = STANDARD.encode(format!("{}:{}", client.client_id, client.client_secret));
    let answer = http()
        .post(token_url(&sandbox))
        .header("authorization", format!("Basic {basic}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let wrong = STANDARD.encode(format!("{}:nope", client.client_id));
    let answer = http()
        .post(token_url(&sandbox))
        .header("authorization", format!("Basic {wrong}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 401);
}

#[tokio::test]
async fn bad_clients_get_keycloak_errors() {
    let sandbox = start().await;
    let url = token_url(&sandbox);
    let cases = [
        ("grant_type=client_credentials&client_id=sandbox-merchant&client_secret=wrong", 401, "invalid_client"),
        ("grant_type=client_credentials&client_id=nobody&client_secret=sandbox-secret", 401, "invalid_client"),
        ("grant_type=client_credentials&client_id=sandbox-merchant", 401, "invalid_client"),
        ("grant_type=client_credentials", 400, "invalid_request"),
        ("client_id=sandbox-merchant&client_secret=sandbox-secret", 400, "invalid_request"),
        ("grant_type=password&client_id=sandbox-merchant&client_secret=sandbox-secret", 400, "unsupported_grant_type"),
        (
            "grant_type=client_credentials&grant_type=client_credentials&client_id=sandbox-merchant&client_secret=sandbox-secret",
            400,
            "invalid_request",
        ),
    ];
    for (body, status, error) in cases {
        let (got, answer) = form(&sandbox, &url, body).await;
        assert_eq!((got, answer["error"].as_str()), (status, Some(error)), "{body} → {answer}");
        assert!(answer["error_description"].as_str().is_some_and(|d| !d.is_empty()));
        assert!(!answer.to_string().contains("sandbox-secret"), "errors never echo the secret");
    }
}

#[tokio::test]
async fn a_wrong_content_type_is_an_invalid_request() {
    let sandbox = start().await;
    let answer = http()
        .post(token_url(&sandbox))
        .json(&serde_json::json!({"grant_type": "client_credentials", "client_id": "sandbox-merchant", "client_secret": "sandbox-secret"}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 400);
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");
}

#[tokio::test]
async fn refresh_grant_renews_and_refuses_foreign_or_bad_refresh_tokens() {
    let sandbox = fast_config().client("other-shop", "other-secret").start().await.unwrap();
    let (_, first) = form(&sandbox, &token_url(&sandbox), &grant(&sandbox)).await;
    let refresh = first["refresh_token"].as_str().unwrap();
    let body = format!(
        "grant_type=refresh_token&client_id=sandbox-merchant&client_secret=sandbox-secret&refresh_token={refresh}"
    );
    let (status, renewed) = form(&sandbox, &token_url(&sandbox), &body).await;
    assert_eq!(status, 200, "{renewed}");
    assert_ne!(renewed["access_token"], first["access_token"]);
    assert_eq!(renewed["session_state"], first["session_state"], "a refresh keeps the session");

    let foreign =
        format!("grant_type=refresh_token&client_id=other-shop&client_secret=other-secret&refresh_token={refresh}");
    let (status, answer) = form(&sandbox, &token_url(&sandbox), &foreign).await;
    assert_eq!((status, answer["error"].as_str()), (400, Some("invalid_grant")));
    let garbage =
        "grant_type=refresh_token&client_id=sandbox-merchant&client_secret=sandbox-secret&refresh_token=a.b.c";
    let (status, answer) = form(&sandbox, &token_url(&sandbox), garbage).await;
    assert_eq!((status, answer["error"].as_str()), (400, Some("invalid_grant")));
    let missing = "grant_type=refresh_token&client_id=sandbox-merchant&client_secret=sandbox-secret";
    let (status, answer) = form(&sandbox, &token_url(&sandbox), missing).await;
    assert_eq!((status, answer["error"].as_str()), (400, Some("invalid_request")));
    assert_eq!(
        sandbox.token_grants(),
        ["client_credentials", "refresh_token", "refresh_token", "refresh_token", "refresh_token"]
    );
    let access = first["access_token"].as_str().unwrap();
    let wrong_kind = format!(
        "grant_type=refresh_token&client_id=sandbox-merchant&client_secret=sandbox-secret&refresh_token={access}"
    );
    let (status, _) = form(&sandbox, &token_url(&sandbox), &wrong_kind).await;
    assert_eq!(status, 400, "an access token is not a refresh token");
}

#[tokio::test]
async fn introspection_requires_the_client_and_reports_activity() {
    let sandbox = start().await;
    let url = sandbox.environment().introspection_url();
    let merchant = merchant_token(&sandbox).await;
    let auth = "client_id=sandbox-merchant&client_secret=sandbox-secret";

    let (status, active) = form(&sandbox, &url, &format!("{auth}&token={merchant}")).await;
    assert_eq!(status, 200);
    assert_eq!(active["active"], true);
    assert_eq!(active["client_id"], "sandbox-merchant");
    assert_eq!(active["iss"], sandbox.realm_url());

    let consumer = consumer_token(&sandbox);
    let (_, user) = form(&sandbox, &url, &format!("{auth}&token={consumer}")).await;
    assert_eq!(user["active"], true);
    assert_eq!(user["sub"], TestUser::default().subject);
    assert_eq!(user["phone_number"], "99112233");

    let (_, foreign) = form(&sandbox, &url, &format!("{auth}&token=eyJhbGciOiJSUzI1NiJ9.e30.c2ln")).await;
    assert_eq!(foreign, serde_json::json!({"active": false}));

    let (status, refused) =
        form(&sandbox, &url, &format!("client_id=sandbox-merchant&client_secret=no&token={merchant}")).await;
    assert_eq!((status, refused["error"].as_str()), (401, Some("invalid_client")));
    let (status, _) = form(&sandbox, &url, auth).await;
    assert_eq!(status, 400, "no token given");
    // No client at all: a failed authentication, as Keycloak answers it (Authlib reads it so).
    let (status, anonymous) = form(&sandbox, &url, &format!("token={merchant}")).await;
    assert_eq!((status, anonymous["error"].as_str()), (401, Some("invalid_client")), "{anonymous}");

    assert!(sandbox.revoke_token(&merchant));
    let (_, revoked) = form(&sandbox, &url, &format!("{auth}&token={merchant}")).await;
    assert_eq!(revoked["active"], false);
}

#[tokio::test]
async fn tokens_expire_for_the_merchant_api_and_for_introspection() {
    let sandbox = fast_config().token_lifetime(Duration::from_secs(1)).start().await.unwrap();
    let merchant = merchant_token(&sandbox).await;
    let read = || http().get(sandbox.environment().payment_config_url()).bearer_auth(&merchant).send();
    assert_eq!(read().await.unwrap().status(), 200);
    let (_, body) = form(&sandbox, &token_url(&sandbox), &grant(&sandbox)).await;
    assert_eq!(body["expires_in"], 1);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let expired = read().await.unwrap();
    assert_eq!(expired.status(), 401);
    assert!(expired.headers().contains_key("www-authenticate"));
    let auth = format!("client_id=sandbox-merchant&client_secret=sandbox-secret&token={merchant}");
    let (_, introspected) = form(&sandbox, &sandbox.environment().introspection_url(), &auth).await;
    assert_eq!(introspected["active"], false);
}

#[tokio::test]
async fn revoked_merchant_tokens_get_401() {
    let sandbox = start().await;
    let merchant = merchant_token(&sandbox).await;
    assert!(sandbox.revoke_merchant_tokens() >= 2, "the access and the refresh token");
    let answer = http().get(sandbox.environment().payment_config_url()).bearer_auth(&merchant).send().await.unwrap();
    assert_eq!(answer.status(), 401);
    let body: Value = answer.json().await.unwrap();
    assert!(body["message"].as_str().unwrap().contains("revoked"), "{body}");
}

#[tokio::test]
async fn jwks_publishes_signing_and_encryption_keys_like_keycloak() {
    let sandbox = start().await;
    let document = jwks(&sandbox).await;
    let keys = document["keys"].as_array().unwrap();
    let sig: Vec<&Value> = keys.iter().filter(|k| k["use"] == "sig").collect();
    assert_eq!(sig.len(), 1);
    assert_eq!(sig[0]["kid"], sandbox.signing_kid());
    assert_eq!(sig[0]["alg"], "RS256");
    assert_eq!(sig[0]["kty"], "RSA");
    assert_eq!(URL_SAFE_NO_PAD.decode(sig[0]["n"].as_str().unwrap()).unwrap().len(), 256, "2048-bit modulus");
    let enc: Vec<&Value> = keys.iter().filter(|k| k["use"] == "enc").collect();
    assert_eq!(enc.len(), 1);
    assert_eq!(enc[0]["kid"], sandbox.encryption_kid());
    assert_eq!(enc[0]["alg"], "RSA-OAEP");
    assert!(sandbox.public_key_pem().unwrap().starts_with("-----BEGIN PUBLIC KEY-----\nMIIB"));
}

#[tokio::test]
async fn key_rotation_signs_with_the_new_key_and_keeps_the_old_for_the_grace_period() {
    let sandbox = start().await;
    let before = merchant_token(&sandbox).await;
    let old_kid = sandbox.signing_kid();
    sandbox.rotate_keys().unwrap();
    let after = merchant_token(&sandbox).await;
    assert_ne!(header(&after)["kid"], header(&before)["kid"]);
    let document = jwks(&sandbox).await;
    assert!(signature_verifies(&after, &document));
    assert!(signature_verifies(&before, &document), "old tokens verify during the grace period");
    let sig: Vec<&Value> = document["keys"].as_array().unwrap().iter().filter(|k| k["use"] == "sig").collect();
    assert_eq!(sig[0]["kid"], sandbox.signing_kid(), "the current key comes first");
    assert_eq!(sig[1]["kid"], old_kid.as_str());

    let no_grace = fast_config().key_grace_period(Duration::ZERO).start().await.unwrap();
    let old = merchant_token(&no_grace).await;
    no_grace.rotate_keys().unwrap();
    assert!(!signature_verifies(&old, &jwks(&no_grace).await), "without a grace period the old key is gone");
}

#[tokio::test]
async fn discovery_names_the_realm_endpoints() {
    let sandbox = start().await;
    let document: Value = http().get(sandbox.environment().discovery_url()).send().await.unwrap().json().await.unwrap();
    let env = sandbox.environment();
    assert_eq!(document["issuer"], env.realm_url());
    assert_eq!(document["token_endpoint"], env.token_url());
    assert_eq!(document["introspection_endpoint"], env.introspection_url());
    assert_eq!(document["jwks_uri"], env.certs_url());

    // Every endpoint advertised answers (an empty request is refused, but by the endpoint), and
    // no grant is advertised that the token endpoint refuses.
    let endpoints: Vec<&str> = document
        .as_object()
        .unwrap()
        .iter()
        .filter(|(name, _)| name.ends_with("_endpoint") || name.ends_with("_uri"))
        .map(|(_, url)| url.as_str().unwrap())
        .collect();
    assert!(endpoints.len() >= 3, "{document}");
    for url in endpoints {
        let got = http().get(url).send().await.unwrap().status().as_u16();
        let posted = http()
            .post(url)
            .header("content-type", "application/x-www-form-urlencoded")
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
        assert!(got != 404 && posted != 404, "{url} is advertised but not served ({got}, {posted})");
    }
    let auth = "client_id=sandbox-merchant&client_secret=sandbox-secret";
    for grant in document["grant_types_supported"].as_array().unwrap() {
        let grant = grant.as_str().unwrap();
        let (_, answer) = form(&sandbox, &env.token_url(), &format!("{auth}&grant_type={grant}")).await;
        assert_ne!(answer["error"], "unsupported_grant_type", "{grant} is advertised: {answer}");
    }
}

#[tokio::test]
async fn a_kid_always_names_the_same_key_across_rotations() {
    let sandbox = start().await;
    let mut seen: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    for rotation in 0..3 {
        if rotation > 0 {
            sandbox.rotate_keys().unwrap();
        }
        for key in jwks(&sandbox).await["keys"].as_array().unwrap() {
            let (kid, modulus) = (key["kid"].as_str().unwrap(), key["n"].as_str().unwrap());
            let first = seen.entry(kid.to_owned()).or_insert_with(|| modulus.to_owned());
            assert_eq!(
                first, modulus,
                "kid {kid} ({}) names other key material after {rotation} rotations",
                key["use"]
            );
        }
    }
    assert!(seen.len() >= 6, "three signing keys and three encryption entries: {}", seen.len());
}

#[tokio::test]
async fn consumer_tokens_carry_claims_per_consent() {
    let sandbox = SandboxConfig::default().start().await.unwrap();
    let full = sandbox.mint_consumer_token(&TestUser::default()).unwrap();
    let claims_full = claims(full.access_token.expose_secret());
    assert_eq!(claims_full["iss"], sandbox.realm_url());
    assert_eq!(claims_full["typ"], "Bearer");
    assert_eq!(claims_full["azp"], "sandbox-merchant");
    assert_eq!(claims_full["given_name"], "Бат-Эрдэнэ");
    assert_eq!(claims_full["phone_number"], "99112233");
    assert!(claims_full["sid"].is_string() && claims_full["jti"].is_string());
    let profile_only = sandbox.mint_consumer_token(&TestUser::default().with_scopes(&["openid", "profile"])).unwrap();
    let claims_profile = claims(profile_only.access_token.expose_secret());
    assert_eq!(claims_profile["family_name"], "Дорж");
    assert!(claims_profile.get("phone_number").is_none() && claims_profile.get("email").is_none());
    assert_eq!(claims_profile["scope"], "openid profile");
}
