//! The verifier's metrics (feature `metrics`), exact after scripted flows against the sandbox:
//! valid tokens, rejected ones by reason, the JWKS fetched once and held, and an outage.

use crate::common;

use common::*;
use pocket_test_support::metrics::recorded;
use serde_json::json;

const VERIFICATIONS: &str = "pocket_jwt_verifications_total";
const FETCHES: &str = "pocket_jwt_jwks_fetches_total";

#[test]
fn valid_and_rejected_tokens_are_counted_by_result_and_the_keys_held() {
    let (_, metrics) = recorded(async {
        let sandbox = sandbox().await;
        let verifier = verifier(&sandbox);
        let token = token_with(&sandbox, json!({}));
        verifier.verify(&token).await.unwrap();
        verifier.verify(&token).await.unwrap();
        let expired = token_with(&sandbox, json!({"exp": now() - 3600, "iat": now() - 7200}));
        assert!(verifier.verify(&expired).await.is_err());
        assert!(verifier.verify("not.a.token").await.is_err());
        let foreign = token_with(&sandbox, json!({"iss": "https://sso.example.com/realms/other"}));
        assert!(verifier.verify(&foreign).await.is_err());
    });
    let verified = |result| metrics.counter(VERIFICATIONS, &[("result", result)]);
    assert_eq!((verified("valid"), verified("expired"), verified("malformed"), verified("wrong_issuer")), (2, 1, 1, 1));
    assert_eq!(metrics.counter_total(VERIFICATIONS), 5);
    assert_eq!(metrics.counter(FETCHES, &[("result", "ok")]), 1, "the keys are fetched once and kept");
    assert_eq!(metrics.counter_total(FETCHES), 1);
    assert!(metrics.gauge("pocket_jwt_jwks_keys", &[]).is_some_and(|keys| keys >= 1.0));
    // Only fixed words: nothing of a token or its user.
    for labels in metrics.label_sets(VERIFICATIONS) {
        let word = |label: &String| {
            label.strip_prefix("result=").is_some_and(|w| w.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
        };
        assert!(labels.iter().all(word), "{labels:?}");
    }
}

#[test]
fn an_unreachable_jwks_is_counted_and_verifications_say_keys_unavailable() {
    let (_, metrics) = recorded(async {
        let sandbox = sandbox().await;
        let verifier = verifier(&sandbox);
        let token = token_with(&sandbox, json!({}));
        sandbox.set_jwks_outage(true);
        assert!(verifier.verify(&token).await.is_err());
    });
    assert_eq!(metrics.counter(FETCHES, &[("result", "error")]), 1);
    assert_eq!(metrics.counter(VERIFICATIONS, &[("result", "keys_unavailable")]), 1);
    assert_eq!(metrics.gauge("pocket_jwt_jwks_keys", &[]), Some(0.0));
}
