//! Creating an invoice is never repeated once the request may have reached Pocket: such a
//! failure is ambiguous, and says what was asked so the caller can reconcile.

use crate::common;

use std::time::Duration;

use common::*;
use pocket_core::{Amount, ErrorKind};
use pocket_sandbox::{Endpoint, Fault, SandboxConfig};

#[tokio::test]
async fn a_503_is_a_definite_refusal_and_is_not_repeated() {
    let sandbox = sandbox().await;
    let client = client(&sandbox);
    client.warm_up().await.unwrap();
    sandbox.set_fault(Endpoint::CreateInvoice, Fault::fail_next(1, 503));
    let error = client.create_invoice(&invoice(&sandbox, 560)).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unavailable);
    assert_eq!(sandbox.requests(Endpoint::CreateInvoice), 1);
    assert!(sandbox.invoices().is_empty());
}

#[tokio::test]
async fn a_dropped_connection_is_ambiguous_and_carries_the_request() {
    let sandbox = sandbox().await;
    let client = client(&sandbox);
    client.warm_up().await.unwrap();
    sandbox.set_fault(Endpoint::CreateInvoice, Fault::drop_next(1));
    let error = client.create_invoice(&invoice(&sandbox, 2500)).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Ambiguous);
    assert!(!error.is_retryable());
    let asked = error.unconfirmed_invoice().expect("the request, minus the token");
    assert_eq!(asked.amount, Amount::from_tugrik(2500).unwrap());
    assert_eq!(asked.info.as_str(), "Нэхэмжлэх");
    assert_eq!(sandbox.requests(Endpoint::CreateInvoice), 1, "never re-sent");
    assert!(!format!("{error:?}").contains("eyJ"), "the user's token is not in the error");
}

#[tokio::test]
async fn a_timeout_after_sending_is_ambiguous_even_when_pocket_created_it() {
    let sandbox = sandbox().await;
    let client = builder(&sandbox).timeout(Duration::from_millis(200)).build().unwrap();
    client.warm_up().await.unwrap();
    sandbox.set_fault(Endpoint::CreateInvoice, Fault::latency(Duration::from_millis(400)));
    let error = client.create_invoice(&invoice(&sandbox, 560)).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Ambiguous);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(sandbox.invoices().len(), 1, "Pocket did create it — which is why the error is ambiguous");
    assert_eq!(sandbox.requests(Endpoint::CreateInvoice), 1);
}

#[tokio::test]
async fn gateway_errors_and_500_are_ambiguous_but_429_is_not() {
    let sandbox = sandbox().await;
    let client = client(&sandbox);
    client.warm_up().await.unwrap();
    for (status, kind) in [
        (500, ErrorKind::Ambiguous),
        (502, ErrorKind::Ambiguous),
        (504, ErrorKind::Ambiguous),
        (429, ErrorKind::RateLimited),
    ] {
        sandbox.set_fault(Endpoint::CreateInvoice, Fault::fail_next(1, status));
        let error = client.create_invoice(&invoice(&sandbox, 560)).await.unwrap_err();
        assert_eq!(error.kind(), kind, "{status}");
        assert_eq!(error.status(), Some(status), "what was seen is kept: {error}");
    }
    assert_eq!(sandbox.requests(Endpoint::CreateInvoice), 4);
}

#[tokio::test]
async fn a_connection_that_was_never_made_is_retried_and_not_ambiguous() {
    let sandbox = sandbox().await;
    let client = client(&sandbox);
    client.warm_up().await.unwrap();
    let new_invoice = invoice(&sandbox, 560);
    sandbox.shutdown().await;
    let error = client.create_invoice(&new_invoice).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unavailable, "{error}");
    assert!(error.to_string().contains("could not connect"), "{error}");
}

#[tokio::test]
async fn a_rejected_token_is_renewed_and_the_invoice_created_exactly_once() {
    let sandbox = sandbox().await;
    let client = client(&sandbox);
    client.warm_up().await.unwrap();
    sandbox.revoke_merchant_tokens();
    client.create_invoice(&invoice(&sandbox, 560)).await.unwrap();
    assert_eq!(sandbox.invoices().len(), 1);
    assert_eq!(sandbox.requests(Endpoint::CreateInvoice), 2, "the 401 and the replay");
}

#[tokio::test]
async fn under_random_faults_no_invoice_appears_that_the_client_did_not_report() {
    let sandbox = sandbox_with(SandboxConfig::default().seed(2024)).await;
    let client = builder(&sandbox).timeout(Duration::from_millis(300)).build().unwrap();
    client.warm_up().await.unwrap();
    let phases = [
        // Gateway errors and dropped connections before Pocket does anything.
        Fault { error_rate: 0.3, drop_rate: 0.2, status: Some(502), ..Fault::default() },
        // Answers slower than the client waits: Pocket creates the invoice after the client gave up.
        Fault { error_rate: 0.2, latency_ms: 350, status: Some(503), ..Fault::default() },
        // Rate limits and unavailability: definite refusals.
        Fault { error_rate: 0.5, status: Some(429), ..Fault::default() },
    ];
    let (mut created, mut ambiguous, mut refused) = (0, 0, 0);
    for fault in phases {
        sandbox.set_fault(Endpoint::CreateInvoice, fault);
        for round in 0..15 {
            match client.create_invoice(&invoice(&sandbox, 500 + round)).await {
                Ok(_) => created += 1,
                Err(error) if error.kind() == ErrorKind::Ambiguous => ambiguous += 1,
                Err(_) => refused += 1,
            }
        }
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let in_sandbox = sandbox.invoices().len();
    let tally = format!("{created} created, {ambiguous} ambiguous, {refused} refused, {in_sandbox} in the sandbox");
    assert!(created > 0 && ambiguous > 0 && refused > 0, "every kind of fault was exercised: {tally}");
    assert!(in_sandbox >= created, "every reported invoice exists: {tally}");
    assert!(in_sandbox <= created + ambiguous, "no unreported invoice: {tally}");
    assert_eq!(sandbox.requests(Endpoint::CreateInvoice), 45, "never re-sent: {tally}");
}
