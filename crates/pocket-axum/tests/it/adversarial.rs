//! The webhook as an attacker and an unlucky operator would try it, against the sandbox.

use crate::common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use pocket_axum::{InMemoryStore, PocketWebhook};
use pocket_sandbox::{DeliveryOutcome, FieldStyle, Redelivery, WebhookBehaviour};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paid_invoice_replayed_under_other_spellings_runs_once() {
    let shop = shop().await;
    let id = shop.invoice(560).await;
    shop.client.set_webhook_url("http://127.0.0.1:9/unused").await.unwrap();
    shop.sandbox.pay(&id).unwrap();
    let n = id.as_str();
    let spellings = [
        json!(n),
        json!(format!("0{n}")),
        json!(format!("+{n}")),
        json!(format!(" {n}")),
        json!(n.parse::<u64>().unwrap()),
    ];
    let posts: Vec<_> = (0..20)
        .map(|i| {
            let body = json!({"invoiceId": spellings[i % spellings.len()], "amount": 560, "invoiceState": "PAID"});
            let url = shop.url.clone();
            tokio::spawn(async move {
                reqwest::Client::new().post(url).body(body.to_string()).send().await.unwrap().status().as_u16()
            })
        })
        .collect();
    for post in posts {
        let status = post.await.unwrap();
        assert!(status == 200 || status == 503, "{status}");
    }
    for spelling in &spellings {
        let (status, body) = shop.post(json!({"invoiceId": spelling}).to_string()).await;
        assert_eq!((status, body["status"].as_str()), (200, Some("already_handled")), "{spelling}");
    }
    assert_eq!(shop.recorder.calls(), 1);
}

#[tokio::test]
async fn a_check_that_lags_the_webhook_does_not_drop_the_payment_even_when_4xx_stops_the_sender() {
    let shop = shop().await;
    // A sender that gives up on any 4xx, and a check that says PROCESSING for a while: the
    // webhook must answer something retryable, and the reconciler must finish the job.
    shop.sandbox.set_webhook_behaviour(
        WebhookBehaviour::redelivery(Redelivery::ServerErrors).with_check_lag(Duration::from_millis(400)),
    );
    let id = shop.invoice(560).await;
    shop.sandbox.pay(&id).unwrap();
    let log = shop.sandbox.wait_for_deliveries(1, WAIT).await;
    assert_eq!(log[0].outcome, DeliveryOutcome::Answered(503), "not final yet: deliver again");
    eventually(WAIT, "the payment is confirmed once", || shop.recorder.successes() == 1).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(shop.recorder.calls(), 1);
}

#[tokio::test]
async fn a_webhook_that_never_comes_is_caught_by_the_reconciler() {
    let shop = shop().await;
    shop.sandbox.set_webhook_behaviour(WebhookBehaviour::dropped());
    let id = shop.invoice(560).await;
    shop.payments
        .reconciler()
        .watch(id.clone(), Some(pocket_axum::Expected::amount(pocket_core::Amount::from_tugrik(560).unwrap())));
    shop.sandbox.pay(&id).unwrap();
    let log = shop.sandbox.wait_for_deliveries(1, WAIT).await;
    assert_eq!(log[0].outcome, DeliveryOutcome::Dropped);
    eventually(WAIT, "the poll confirms it", || shop.recorder.successes() == 1).await;
    let paid = shop.recorder.paid.lock()[0].clone();
    assert_eq!(paid.invoice_id(), &id);
    assert!(paid.unverified_notice().is_none());
    eventually(WAIT, "the reconciler lets go", || shop.payments.reconciler().watched().is_empty()).await;
    assert_eq!(shop.recorder.calls(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_duplicates_and_the_poll_racing_run_once() {
    let shop = shop().await;
    shop.sandbox.set_webhook_behaviour(WebhookBehaviour::duplicates(4));
    for _ in 0..5 {
        let id = shop.invoice(560).await;
        shop.payments.reconciler().watch(id.clone(), None);
        tokio::time::sleep(Duration::from_millis(25)).await;
        shop.sandbox.pay(&id).unwrap();
    }
    eventually(WAIT, "five payments", || shop.recorder.successes() == 5).await;
    eventually(WAIT, "nothing left to watch", || shop.payments.reconciler().watched().is_empty()).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(shop.recorder.calls(), 5);
}

#[tokio::test]
async fn integer_coded_states_are_read() {
    let shop = shop().await;
    shop.sandbox.set_webhook_behaviour(WebhookBehaviour::field_style(FieldStyle::Codes));
    let id = shop.invoice(560).await;
    shop.sandbox.pay(&id).unwrap();
    let log = shop.sandbox.wait_for_deliveries(1, WAIT).await;
    assert_eq!(log[0].body["invoiceState"], 20);
    assert_eq!(log[0].outcome, DeliveryOutcome::Answered(200));
    assert_eq!(shop.recorder.successes(), 1);
}

#[tokio::test]
async fn a_panicking_handler_is_answered_500_and_the_redelivery_succeeds_once() {
    let shop = shop().await;
    shop.recorder.then(&[Misbehave::Panic]);
    let id = shop.invoice(560).await;
    shop.sandbox.pay(&id).unwrap();
    let log = shop.sandbox.wait_for_deliveries(2, WAIT).await;
    assert_eq!(log[0].outcome, DeliveryOutcome::Answered(500));
    assert_eq!(log[1].outcome, DeliveryOutcome::Answered(200));
    assert_eq!((shop.recorder.calls(), shop.recorder.successes()), (2, 1));
}

#[tokio::test]
async fn retryable_answers_carry_retry_after() {
    let shop = shop().await;
    let id = shop.invoice(560).await;
    let answer = reqwest::Client::new()
        .post(&shop.url)
        .body(json!({"invoiceId": id.as_str(), "invoiceState": "PAID"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 503, "pending");
    assert_eq!(answer.headers()["retry-after"], "5");
    let body: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(body["status"], "not_final");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_concurrent_duplicates_at_each_of_three_routers_sharing_a_store_run_once() {
    let shop = shop().await;
    let store = Arc::new(InMemoryStore::default());
    let recorder = recorder();
    let mut urls = Vec::new();
    for _ in 0..3 {
        let router = PocketWebhook::new(shop.client.clone(), recorder.clone()).store(store.clone()).into_router();
        urls.push(format!("{}/pocket/webhook", serve(router).await));
    }
    shop.client.set_webhook_url("http://127.0.0.1:9/unused").await.unwrap();
    pay_and_deliver_to_every_replica(&shop, &urls, &recorder, 3, 10).await;
    assert_eq!(recorder.calls(), 3);
}
