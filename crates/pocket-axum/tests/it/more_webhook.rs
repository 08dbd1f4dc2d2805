//! The shorthand router, a store shared by replicas, Pocket's word over the notice's, and what
//! the logs may say.

use crate::common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::*;
use pocket_axum::{InMemoryStore, PocketWebhook, handler_fn, webhook_router};
use pocket_core::InvoiceId;
use pocket_sandbox::{DeliveryOutcome, Forgery};
use serde_json::json;

#[tokio::test]
async fn the_shorthand_router_with_a_closure_handler() {
    let shop = shop().await;
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    let router = webhook_router(
        shop.client.clone(),
        handler_fn(move |payment| {
            let seen = seen.clone();
            async move {
                assert!(payment.answer().state.is_paid());
                seen.fetch_add(1, Ordering::SeqCst);
                Ok(())
            }
        }),
    );
    let base = serve(router).await;
    shop.client.set_webhook_url(&format!("{base}/pocket/webhook")).await.unwrap();
    let id = shop.invoice(560).await;
    shop.sandbox.pay(&id).unwrap();
    let log = shop.sandbox.wait_for_deliveries(1, WAIT).await;
    assert_eq!(log[0].outcome, DeliveryOutcome::Answered(200));
    assert_eq!(count.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn replicas_sharing_a_store_process_a_payment_once() {
    let shop = shop().await;
    let store = Arc::new(InMemoryStore::default());
    let recorder = recorder();
    let mut urls = Vec::new();
    for _ in 0..2 {
        let router = PocketWebhook::new(shop.client.clone(), recorder.clone()).store(store.clone()).into_router();
        urls.push(format!("{}/pocket/webhook", serve(router).await));
    }
    let id = shop.invoice(560).await;
    shop.client.set_webhook_url("http://127.0.0.1:9/unused").await.unwrap();
    shop.sandbox.pay(&id).unwrap();
    let body = json!({"invoiceId": id.as_str(), "amount": 560, "invoiceState": "PAID"}).to_string();
    let posts = urls.iter().cycle().take(8).map(|url| reqwest::Client::new().post(url).body(body.clone()).send());
    let mut statuses = Vec::new();
    for post in posts.collect::<Vec<_>>() {
        statuses.push(post.await.unwrap().status().as_u16());
    }
    assert!(statuses.iter().all(|s| *s == 200 || *s == 503), "{statuses:?}");
    assert_eq!(recorder.successes(), 1);
}

#[tokio::test]
async fn pockets_word_wins_over_the_notices_claims() {
    let shop = shop().await;
    let declined = shop.invoice(560).await;
    shop.sandbox.reject(&declined).unwrap();
    let (status, body) =
        shop.post(json!({"invoiceId": declined.as_str(), "invoiceState": "PAID", "amount": 560}).to_string()).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("not_paid")),
        "Pocket says rejected: final, acknowledged, never the paid handler: {body}"
    );
    assert_eq!(shop.recorder.calls(), 0);

    let paid = shop.invoice(1200).await;
    shop.client.set_webhook_url("http://127.0.0.1:9/unused").await.unwrap();
    shop.sandbox.pay(&paid).unwrap();
    let (status, _) = shop.post(json!({"invoiceId": paid.as_str(), "invoiceState": "pending"}).to_string()).await;
    assert_eq!(status, 200, "a notice without an amount and with a stale state is still checked with Pocket");
    let payment = shop.recorder.paid.lock()[0].clone();
    assert_eq!(payment.amount(), Some(pocket_core::Amount::from_tugrik(1200).unwrap()), "the amount is Pocket's");
    assert_eq!(shop.recorder.calls(), 1);
}

#[tokio::test]
async fn an_invoice_id_pocket_never_issued_is_not_trusted_even_with_a_plausible_body() {
    let shop = shop().await;
    let (status, _) = shop
        .post(
            json!({"invoiceId": "424242", "amount": 560, "invoiceState": "PAID", "phoneNumber": "99112233"})
                .to_string(),
        )
        .await;
    assert_eq!(status, 422);
    let forged = shop.sandbox.send_forged_webhook(Forgery::UnknownInvoice).await.unwrap();
    assert_eq!(forged.outcome, DeliveryOutcome::Answered(422));
    assert_eq!(shop.recorder.calls(), 0);
    let _ = InvoiceId::from(424_242);
}

async fn logged_delivery(log_phone: bool) -> String {
    let captured = pocket_test_support::LogCapture::new();
    let _guard = captured.install();
    let shop = shop_with(|webhook| webhook.log_personal_data(log_phone)).await;
    let id = shop.invoice(560).await;
    shop.sandbox.pay(&id).unwrap();
    shop.sandbox.wait_for_deliveries(1, WAIT).await;
    let (status, _) = shop.post(json!({"invoiceId": id.as_str(), "phoneNumber": "88776655"}).to_string()).await;
    assert_eq!(status, 200);
    captured.text()
}

#[tokio::test(flavor = "current_thread")]
async fn deliveries_are_logged_with_the_invoice_and_without_personal_data() {
    let output = logged_delivery(false).await;
    assert!(output.contains("pocket.webhook") && output.contains("invoice_id="), "{output}");
    assert!(!output.contains("88776655"), "the phone number stays out of the logs:\n{output}");
}

#[tokio::test(flavor = "current_thread")]
async fn personal_data_is_logged_only_when_the_app_enables_it() {
    let output = logged_delivery(true).await;
    assert!(output.contains("88776655"), "{output}");
}
