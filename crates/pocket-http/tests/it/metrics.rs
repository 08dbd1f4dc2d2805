//! The client's metrics (feature `metrics`), exact after scripted flows against the sandbox: a
//! token fetched once and reused, a token revoked (the 401, the refused refresh, the new
//! token, the replay), retries counted per attempt, and the token's expiry as a timestamp.

use crate::common;

use std::time::{Duration, SystemTime};

use common::*;
use pocket_sandbox::{Endpoint, Fault};
use pocket_test_support::metrics::recorded;

const REQUESTS: &str = "pocket_http_requests_total";
const FETCHES: &str = "pocket_http_token_fetches_total";
const EXPIRY: &str = "pocket_http_merchant_token_expiry_timestamp_seconds";

#[test]
fn a_token_fetch_its_reuse_a_revocation_and_a_retry_are_counted_exactly() {
    let (expires_at, metrics) = recorded(async {
        let sandbox = sandbox().await;
        let client = builder(&sandbox).retry(fast_retries()).build().unwrap();
        client.payment_config().await.unwrap();
        client.payment_config().await.unwrap();
        sandbox.revoke_merchant_tokens();
        client.payment_config().await.unwrap();
        sandbox.set_fault(Endpoint::ReadConfig, Fault::fail_next(1, 503));
        client.payment_config().await.unwrap();
        client.token_expires_at().unwrap()
    });
    let requests = |operation, status| metrics.counter(REQUESTS, &[("operation", operation), ("status", status)]);
    // Two calls, then the revoked token's 401 and its replay, then a 503 and its retry.
    assert_eq!(requests("payment_config", "200"), 4);
    assert_eq!(requests("payment_config", "401"), 1);
    assert_eq!(requests("payment_config", "503"), 1);
    assert_eq!(requests("token", "200"), 2, "the first token and the one after the revocation");
    assert_eq!(metrics.counter(FETCHES, &[("grant", "client_credentials"), ("result", "ok")]), 2);
    assert_eq!(metrics.counter(FETCHES, &[("grant", "refresh_token"), ("result", "refused")]), 1);
    assert_eq!(metrics.counter_total(FETCHES), 3);
    assert_eq!(requests("token", "400") + requests("token", "401"), 1, "the refused refresh");
    let durations = metrics.histogram("pocket_http_request_duration_seconds", &[("operation", "payment_config")]);
    assert_eq!(durations.len(), 6, "one per attempt");
    let expiry = metrics.gauge(EXPIRY, &[]).expect("the expiry is set");
    let expected = expires_at.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs_f64();
    assert!((expiry - expected).abs() < 1.0, "{expiry} vs {expected}");
    let now = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs_f64();
    assert!(expiry > now + 60.0, "a fresh token's expiry is ahead");
    // Labels are fixed words: no URL, no token.
    for labels in metrics.label_sets(REQUESTS) {
        assert!(labels.iter().all(|label| !label.contains('/') && !label.contains("eyJ")), "{labels:?}");
    }
}

#[test]
fn a_failed_token_fetch_is_counted_as_an_error_and_sets_no_expiry() {
    let (_, metrics) = recorded(async {
        let sandbox = sandbox().await;
        sandbox.set_fault(Endpoint::Token, Fault::fail_next(10, 503));
        let client = builder(&sandbox).retry(pocket_http::RetryPolicy::none()).build().unwrap();
        assert!(client.payment_config().await.is_err());
        tokio::time::sleep(Duration::from_millis(10)).await;
    });
    assert_eq!(metrics.counter(FETCHES, &[("grant", "client_credentials"), ("result", "error")]), 1);
    assert_eq!(metrics.counter(REQUESTS, &[("operation", "token"), ("status", "503")]), 1);
    assert_eq!(metrics.counter_total("pocket_http_requests_total"), 1, "no API call without a token");
    assert_eq!(metrics.gauge(EXPIRY, &[]), None);
}
