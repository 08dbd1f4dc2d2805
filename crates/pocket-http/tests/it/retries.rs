//! Retries of idempotent calls under injected faults, and none where a repeat could do harm.

use crate::common;

use std::time::Duration;

use common::*;
use pocket_core::{ErrorKind, InvoiceId};
use pocket_sandbox::{Endpoint, Fault};

#[tokio::test]
async fn checks_are_retried_through_503s() {
    let sandbox = sandbox().await;
    let client = client(&sandbox);
    let id = client.create_invoice(&invoice(&sandbox, 560)).await.unwrap().id;
    sandbox.set_fault(Endpoint::CheckInvoice, Fault::fail_next(2, 503));
    client.check_invoice(&id).await.unwrap();
    assert_eq!(sandbox.requests(Endpoint::CheckInvoice), 3);
}

#[tokio::test]
async fn each_transient_status_is_retried_and_others_are_not() {
    let sandbox = sandbox().await;
    let client = client(&sandbox);
    client.warm_up().await.unwrap();
    let mut expected = 0;
    for status in [429, 502, 503, 504] {
        sandbox.set_fault(Endpoint::ReadConfig, Fault::fail_next(1, status));
        client.payment_config().await.unwrap_or_else(|e| panic!("{status}: {e}"));
        expected += 2;
        assert_eq!(sandbox.requests(Endpoint::ReadConfig), expected, "{status} is retried");
    }
    for (status, kind) in [(500, ErrorKind::Unavailable), (400, ErrorKind::Rejected), (403, ErrorKind::Unauthorized)] {
        sandbox.set_fault(Endpoint::ReadConfig, Fault::fail_next(1, status));
        let error = client.payment_config().await.unwrap_err();
        assert_eq!(error.kind(), kind);
        expected += 1;
        assert_eq!(sandbox.requests(Endpoint::ReadConfig), expected, "{status} is not retried");
    }
}

#[tokio::test]
async fn dropped_connections_are_retried_for_idempotent_calls() {
    let sandbox = sandbox().await;
    let client = client(&sandbox);
    client.warm_up().await.unwrap();
    sandbox.set_fault(Endpoint::ReadConfig, Fault::drop_next(2));
    client.payment_config().await.unwrap();
    assert_eq!(sandbox.requests(Endpoint::ReadConfig), 3);
}

#[tokio::test]
async fn timeouts_are_retried_then_reported() {
    let sandbox = sandbox().await;
    let client = builder(&sandbox).timeout(Duration::from_millis(150)).build().unwrap();
    client.warm_up().await.unwrap();
    sandbox.set_fault(Endpoint::ReadConfig, Fault::latency(Duration::from_millis(400)));
    let error = client.payment_config().await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Timeout);
    assert!(error.is_retryable());
    assert_eq!(sandbox.requests(Endpoint::ReadConfig), 3);
}

#[tokio::test]
async fn attempts_are_capped() {
    let sandbox = sandbox().await;
    let client = builder(&sandbox).retry(fast_retries().max_attempts(4)).build().unwrap();
    client.warm_up().await.unwrap();
    sandbox.set_fault(Endpoint::CheckInvoice, Fault::fail_next(100, 503));
    let error = client.check_invoice(&InvoiceId::from(1)).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unavailable);
    assert_eq!(sandbox.requests(Endpoint::CheckInvoice), 4);
}

#[tokio::test]
async fn retry_after_is_honoured_within_the_time_budget() {
    let sandbox = sandbox().await;
    let client = builder(&sandbox).retry(fast_retries().max_elapsed(Duration::from_secs(3))).build().unwrap();
    client.warm_up().await.unwrap();
    sandbox.set_fault(Endpoint::ReadConfig, Fault::fail_next(1, 429).with_retry_after(1));
    let started = std::time::Instant::now();
    client.payment_config().await.unwrap();
    assert!(started.elapsed() >= Duration::from_secs(1), "waited as Pocket asked");
    sandbox.set_fault(Endpoint::ReadConfig, Fault::fail_next(1, 429).with_retry_after(60));
    let error = client.payment_config().await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::RateLimited);
    assert_eq!(error.retry_after(), Some(Duration::from_secs(60)));
    assert_eq!(sandbox.requests(Endpoint::ReadConfig), 3, "a wait past the budget is not started");
}

#[tokio::test]
async fn setting_the_same_webhook_address_is_retried() {
    let sandbox = sandbox().await;
    let client = client(&sandbox);
    client.warm_up().await.unwrap();
    sandbox.set_fault(Endpoint::WriteConfig, Fault::fail_next(1, 503));
    client.set_webhook_url("http://127.0.0.1:9/hook").await.unwrap();
    assert_eq!(sandbox.requests(Endpoint::WriteConfig), 2);
}

#[tokio::test]
async fn the_token_request_is_retried() {
    let sandbox = sandbox().await;
    sandbox.set_fault(Endpoint::Token, Fault::fail_next(1, 502));
    client(&sandbox).warm_up().await.unwrap();
    assert_eq!(sandbox.requests(Endpoint::Token), 2);
}

#[tokio::test]
async fn random_faults_on_checks_are_absorbed() {
    let sandbox = sandbox_with(pocket_sandbox::SandboxConfig::default().seed(11)).await;
    let client = builder(&sandbox).retry(fast_retries().max_attempts(6)).build().unwrap();
    let id = client.create_invoice(&invoice(&sandbox, 560)).await.unwrap().id;
    sandbox.set_fault(Endpoint::CheckInvoice, Fault { error_rate: 0.25, drop_rate: 0.1, ..Fault::default() });
    for _ in 0..30 {
        client.check_invoice(&id).await.unwrap();
    }
    assert!(sandbox.requests(Endpoint::CheckInvoice) > 30, "some requests failed and were retried");
}
