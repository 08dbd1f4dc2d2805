//! The merchant token: one request for many callers, renewal, refresh first, 401 replay,
//! and an SSO outage.

use crate::common;

use std::time::{Duration, SystemTime};

use common::*;
use pocket_core::{ErrorKind, InvoiceId};
use pocket_http::PocketClient;
use pocket_sandbox::{Endpoint, Fault, SandboxConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_calls_on_a_cold_client_share_one_token_request() {
    let sandbox = sandbox().await;
    let client = client(&sandbox);
    let created = client.create_invoice(&invoice(&sandbox, 560)).await.unwrap();
    let cold = builder(&sandbox).build().unwrap();
    let calls = (0..1000).map(|_| {
        let (client, id) = (cold.clone(), created.id.clone());
        tokio::spawn(async move { client.check_invoice(&id).await })
    });
    let results = futures_join_all(calls).await;
    assert!(results.iter().all(|r| r.is_ok()), "{:?}", results.iter().find(|r| r.is_err()));
    assert_eq!(sandbox.requests(Endpoint::Token), 2, "one for the warm client, one for the cold one");
    assert_eq!(sandbox.requests(Endpoint::CheckInvoice), 1000);
}

async fn futures_join_all<T>(handles: impl Iterator<Item = tokio::task::JoinHandle<T>>) -> Vec<T> {
    let mut results = Vec::new();
    for handle in handles.collect::<Vec<_>>() {
        results.push(handle.await.unwrap());
    }
    results
}

#[tokio::test]
async fn the_token_is_fetched_lazily_and_reused() {
    let sandbox = sandbox().await;
    let client = client(&sandbox);
    assert_eq!(client.token_expires_at(), None);
    assert_eq!(sandbox.requests(Endpoint::Token), 0, "building a client sends nothing");
    for _ in 0..5 {
        client.payment_config().await.unwrap();
    }
    assert_eq!(sandbox.requests(Endpoint::Token), 1);
    let expires = client.token_expires_at().unwrap();
    let life = expires.duration_since(SystemTime::now()).unwrap();
    assert!(life > Duration::from_secs(590) && life <= Duration::from_secs(600), "{life:?}");
}

#[tokio::test]
async fn the_token_is_renewed_before_it_expires_by_the_refresh_grant() {
    let sandbox = sandbox_with(SandboxConfig::default().token_lifetime(Duration::from_secs(2))).await;
    let client = builder(&sandbox).renew_before(Duration::from_secs(30)).build().unwrap();
    client.payment_config().await.unwrap();
    let first_expiry = client.token_expires_at().unwrap();
    client.payment_config().await.unwrap();
    assert_eq!(sandbox.token_grants(), ["client_credentials"], "fresh for the first half of its life");
    tokio::time::sleep(Duration::from_millis(1200)).await;
    client.payment_config().await.unwrap();
    // The renewal runs in the background; the call above did not wait for it.
    for _ in 0..100 {
        if client.token_expires_at().unwrap() > first_expiry {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(sandbox.token_grants(), ["client_credentials", "refresh_token"]);
    assert!(client.token_expires_at().unwrap() > first_expiry);
}

#[tokio::test]
async fn a_refused_refresh_falls_back_to_client_credentials_and_a_401_is_replayed_once() {
    let sandbox = sandbox().await;
    let client = client(&sandbox);
    client.payment_config().await.unwrap();
    sandbox.revoke_merchant_tokens();
    let config = client.payment_config().await;
    assert!(config.is_ok(), "{config:?}");
    assert_eq!(sandbox.token_grants(), ["client_credentials", "refresh_token", "client_credentials"]);
    assert_eq!(sandbox.requests(Endpoint::ReadConfig), 3, "the call, its 401, and one replay");
}

#[tokio::test]
async fn a_401_is_replayed_once_and_never_loops() {
    let sandbox = sandbox().await;
    let client = client(&sandbox);
    client.warm_up().await.unwrap();
    sandbox.set_fault(Endpoint::CheckInvoice, Fault::fail_next(10, 401));
    let error = client.check_invoice(&InvoiceId::from(1)).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unauthorized);
    assert_eq!(sandbox.requests(Endpoint::CheckInvoice), 2);
    assert_eq!(sandbox.requests(Endpoint::Token), 2, "one renewal");
}

#[tokio::test]
async fn concurrent_401s_renew_the_token_once() {
    let sandbox = sandbox().await;
    let client = client(&sandbox);
    client.warm_up().await.unwrap();
    sandbox.revoke_merchant_tokens();
    let calls: Vec<_> = (0..20)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.payment_config().await })
        })
        .collect();
    for call in calls {
        call.await.unwrap().unwrap();
    }
    let grants = sandbox.token_grants();
    assert_eq!(grants.iter().filter(|g| *g == "client_credentials").count(), 2, "{grants:?}");
}

#[tokio::test]
async fn while_the_sso_is_down_a_valid_token_keeps_serving() {
    let sandbox = sandbox_with(SandboxConfig::default().token_lifetime(Duration::from_secs(4))).await;
    let client = builder(&sandbox).renew_before(Duration::from_secs(3)).build().unwrap();
    client.warm_up().await.unwrap();
    sandbox.set_fault(Endpoint::Token, Fault::outage());
    tokio::time::sleep(Duration::from_millis(2300)).await;
    for _ in 0..3 {
        client.payment_config().await.expect("the cached token still serves");
    }
    let tried = sandbox.requests(Endpoint::Token);
    assert!(tried > 1, "renewal was attempted");
    assert!(tried <= 1 + 3, "and paused after failing, not repeated on every call: {tried}");
    tokio::time::sleep(Duration::from_millis(2000)).await;
    let error = client.payment_config().await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unavailable, "{error}");
}

#[tokio::test]
async fn without_any_token_an_sso_outage_is_an_error_after_retries() {
    let sandbox = sandbox().await;
    sandbox.set_fault(Endpoint::Token, Fault::outage());
    let error = client(&sandbox).payment_config().await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unavailable);
    assert_eq!(error.status(), Some(503));
    assert!(error.is_retryable());
    assert_eq!(sandbox.requests(Endpoint::Token), 3);
    assert_eq!(sandbox.requests(Endpoint::ReadConfig), 0);
}

#[tokio::test]
async fn bad_credentials_are_unauthorized_with_keycloaks_code() {
    let sandbox = sandbox().await;
    let client =
        PocketClient::builder(sandbox.environment(), pocket_core::Credentials::new("sandbox-merchant", "wrong-secret"))
            .retry(fast_retries())
            .build()
            .unwrap();
    let error = client.warm_up().await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unauthorized);
    assert_eq!(error.code(), Some("invalid_client"));
    assert_eq!(sandbox.requests(Endpoint::Token), 1, "a refusal is not retried");
    assert!(!format!("{error} {error:?}").contains("wrong-secret"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_renewal_never_stalls_a_caller_that_holds_a_valid_token() {
    // Tokens live 4 s; the client renews in the last 2 s (half a short life).
    let sandbox = SandboxConfig::default().token_lifetime(Duration::from_secs(4)).start().await.unwrap();
    let client = client(&sandbox);
    let created = client.create_invoice(&invoice(&sandbox, 560)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(2_300)).await;
    // Now in the renewal window, with an SSO that takes 1.5 s to answer.
    sandbox.set_fault(Endpoint::Token, Fault::latency(Duration::from_millis(1_500)));
    let mut slowest = Duration::ZERO;
    for _ in 0..20 {
        let started = std::time::Instant::now();
        client.check_invoice(&created.id).await.unwrap();
        slowest = slowest.max(started.elapsed());
    }
    assert!(slowest < Duration::from_millis(700), "a caller waited {slowest:?} for a renewal it did not need");
    tokio::time::sleep(Duration::from_millis(1_600)).await;
    assert_eq!(sandbox.token_grants().len(), 2, "one background renewal: {:?}", sandbox.token_grants());
    client.check_invoice(&created.id).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callers_without_a_token_share_one_fetch_also_when_it_fails() {
    let sandbox = sandbox().await;
    sandbox.set_fault(Endpoint::Token, Fault::outage().with_latency(Duration::from_millis(200)));
    let cold = builder(&sandbox).retry(pocket_http::RetryPolicy::none()).build().unwrap();
    let calls: Vec<_> = (0..20)
        .map(|_| {
            let client = cold.clone();
            tokio::spawn(async move { client.check_invoice(&InvoiceId::from(1)).await })
        })
        .collect();
    for call in calls {
        let error = call.await.unwrap().unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Unavailable, "{error}");
    }
    let fetches = sandbox.requests(Endpoint::Token);
    assert!(fetches <= 2, "{fetches} token requests for 20 waiting callers during an outage");
}
