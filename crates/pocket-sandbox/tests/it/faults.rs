//! Faults: error statuses, latency, dropped connections and outages, per endpoint and seeded.

use crate::common;

use std::time::{Duration, Instant};

use common::*;
use pocket_sandbox::{Endpoint, Fault, Sandbox};

async fn config_status(sandbox: &Sandbox, merchant: &str) -> Result<u16, reqwest::Error> {
    let answer = http().get(sandbox.environment().payment_config_url()).bearer_auth(merchant).send().await?;
    let status = answer.status().as_u16();
    answer.bytes().await?;
    Ok(status)
}

#[tokio::test]
async fn the_next_requests_fail_with_the_chosen_status_and_retry_after() {
    let sandbox = start().await;
    let merchant = merchant_token(&sandbox).await;
    sandbox.set_fault(Endpoint::ReadConfig, Fault::fail_next(2, 429).with_retry_after(7));
    let url = sandbox.environment().payment_config_url();
    let first = http().get(&url).bearer_auth(&merchant).send().await.unwrap();
    assert_eq!(first.status(), 429);
    assert_eq!(first.headers()["retry-after"], "7");
    assert_eq!(config_status(&sandbox, &merchant).await.unwrap(), 429);
    assert_eq!(config_status(&sandbox, &merchant).await.unwrap(), 200);
    assert_eq!(sandbox.requests(Endpoint::ReadConfig), 3);
    assert_eq!(sandbox.requests(Endpoint::WriteConfig), 0, "GET and POST of pg/config are separate endpoints");
}

#[tokio::test]
async fn a_dropped_connection_is_not_an_http_answer() {
    let sandbox = start().await;
    let merchant = merchant_token(&sandbox).await;
    sandbox.set_fault(Endpoint::ReadConfig, Fault::drop_next(1));
    let dropped = config_status(&sandbox, &merchant).await;
    assert!(dropped.is_err(), "expected a transport error, got {dropped:?}");
    assert_eq!(config_status(&sandbox, &merchant).await.unwrap(), 200);
}

#[tokio::test]
async fn latency_delays_the_answer() {
    let sandbox = start().await;
    sandbox.set_fault(Endpoint::Discovery, Fault::latency(Duration::from_millis(300)));
    let started = Instant::now();
    let answer = http().get(sandbox.environment().discovery_url()).send().await.unwrap();
    assert_eq!(answer.status(), 200);
    assert!(started.elapsed() >= Duration::from_millis(300), "{:?}", started.elapsed());
    let timed_out =
        http().get(sandbox.environment().discovery_url()).timeout(Duration::from_millis(50)).send().await.unwrap_err();
    assert!(timed_out.is_timeout());
}

async fn statuses(seed: u64) -> Vec<u16> {
    let sandbox = fast_config().seed(seed).start().await.unwrap();
    sandbox.set_fault(Endpoint::Certs, Fault::error_rate(0.5, 502));
    let mut seen = Vec::new();
    for _ in 0..40 {
        seen.push(http().get(sandbox.environment().certs_url()).send().await.unwrap().status().as_u16());
    }
    seen
}

#[tokio::test]
async fn random_faults_are_deterministic_for_a_seed() {
    let first = statuses(7).await;
    assert_eq!(first, statuses(7).await);
    assert_ne!(first, statuses(8).await);
    assert!(first.contains(&502) && first.contains(&200), "{first:?}");
}

#[tokio::test]
async fn a_jwks_outage_and_its_end() {
    let sandbox = start().await;
    let certs = sandbox.environment().certs_url();
    sandbox.set_jwks_outage(true);
    for _ in 0..3 {
        assert_eq!(http().get(&certs).send().await.unwrap().status(), 503);
    }
    sandbox.set_jwks_outage(false);
    assert_eq!(http().get(&certs).send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn faults_are_set_over_http_too() {
    let sandbox = start().await;
    let base = format!("{}/_sandbox/faults", sandbox.base_url());
    let set = http()
        .put(format!("{base}/token"))
        .json(&serde_json::json!({"fail_next": 1, "status": 500}))
        .send()
        .await
        .unwrap();
    assert_eq!(set.status(), 204);
    let token = http().post(token_url(&sandbox)).send().await.unwrap();
    assert_eq!(token.status(), 500);
    let unknown = http().put(format!("{base}/nope")).json(&serde_json::json!({})).send().await.unwrap();
    assert_eq!(unknown.status(), 404);
    let bad = http().put(format!("{base}/token")).json(&serde_json::json!({"fail_nxt": 1})).send().await.unwrap();
    assert_eq!(bad.status(), 400, "unknown fields are refused, not ignored");
    sandbox.set_fault(pocket_sandbox::Endpoint::Token, Fault::outage());
    assert_eq!(http().delete(&base).send().await.unwrap().status(), 204);
    assert_eq!(merchant_token(&sandbox).await.split('.').count(), 3, "cleared faults let requests through");
}

#[tokio::test]
async fn faulted_create_requests_create_nothing() {
    let sandbox = start().await;
    let merchant = merchant_token(&sandbox).await;
    sandbox.set_fault(Endpoint::CreateInvoice, Fault::fail_next(1, 503));
    let body = serde_json::json!({"amount": 560, "info": "x", "consumerToken": consumer_token(&sandbox)});
    assert_eq!(create_invoice(&sandbox, &merchant, body.clone()).await.status(), 503);
    assert!(sandbox.invoices().is_empty());
    assert_eq!(create_invoice(&sandbox, &merchant, body).await.status(), 200);
    assert_eq!(sandbox.invoices().len(), 1);
}
