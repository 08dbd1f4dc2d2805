//! The webhook router against the sandbox's deliveries, genuine and otherwise.

use crate::common;

use std::time::Duration;

use common::*;
use pocket_axum::{Expected, OrderCheck};
use pocket_core::{Amount, InvoiceId};
use pocket_sandbox::{DeliveryOutcome, Endpoint, Fault, FieldStyle, Forgery, WebhookBehaviour};
use serde_json::json;

#[tokio::test]
async fn a_genuine_payment_runs_the_handler_once() {
    let shop = shop().await;
    let id = shop.invoice(560).await;
    shop.sandbox.pay(&id).unwrap();
    let log = shop.sandbox.wait_for_deliveries(1, WAIT).await;
    assert_eq!(log[0].outcome, DeliveryOutcome::Answered(200));
    assert_eq!(shop.recorder.calls(), 1);
    let paid = shop.recorder.paid.lock()[0].clone();
    assert_eq!(paid.invoice_id(), &id);
    assert_eq!(paid.amount(), Some(Amount::from_tugrik(560).unwrap()));
    assert!(paid.answer().state.is_paid());
    assert_eq!(paid.unverified_notice().unwrap().phone_number.as_deref(), Some("99112233"));
}

#[tokio::test]
async fn a_merchant_qr_invoice_is_confirmed_through_the_v1_check_and_shipped_once() {
    let shop = shop().await;
    let mut behaviour = WebhookBehaviour::field_style(FieldStyle::Varied);
    behaviour.duplicates = 2;
    shop.sandbox.set_webhook_behaviour(behaviour);
    let qr =
        pocket_core::NewMerchantInvoice::new(Amount::from_tugrik(4_500).unwrap(), "Кофе".parse().unwrap()).unwrap();
    let id = shop.client.create_merchant_invoice(&qr).await.unwrap().id;
    shop.sandbox.pay(&id).unwrap();
    let log = shop.sandbox.wait_for_deliveries(3, WAIT).await;
    assert!(log.iter().any(|d| d.outcome == DeliveryOutcome::Answered(200)), "{log:?}");
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(shop.recorder.successes(), 1, "three copies, one shipment");
    let paid = shop.recorder.paid.lock()[0].clone();
    assert_eq!((paid.invoice_id(), paid.amount()), (&id, Some(Amount::from_tugrik(4_500).unwrap())));
}

#[tokio::test]
async fn ten_concurrent_duplicates_run_the_handler_once() {
    let shop = shop().await;
    shop.sandbox.set_webhook_behaviour(WebhookBehaviour::duplicates(9));
    let id = shop.invoice(560).await;
    shop.sandbox.pay(&id).unwrap();
    shop.sandbox.wait_for_deliveries(10, WAIT).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let log = shop.sandbox.deliveries();
    assert!(log.len() >= 10);
    for delivery in &log {
        assert!(
            matches!(delivery.outcome, DeliveryOutcome::Answered(200) | DeliveryOutcome::Answered(503)),
            "{:?}",
            delivery.outcome
        );
    }
    assert_eq!(shop.recorder.calls(), 1);
    assert_eq!(shop.recorder.successes(), 1);
}

#[tokio::test]
async fn a_delivery_after_success_is_answered_without_the_handler() {
    let shop = shop().await;
    let id = shop.invoice(560).await;
    shop.sandbox.pay(&id).unwrap();
    let log = shop.sandbox.wait_for_deliveries(1, WAIT).await;
    let (status, body) = shop.post(log[0].body.to_string()).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("already_handled")));
    assert_eq!(shop.recorder.calls(), 1);
}

#[tokio::test]
async fn a_forged_notice_for_an_unpaid_invoice_runs_nothing_and_is_asked_again() {
    let shop = shop().await;
    let id = shop.invoice(560).await;
    let forged = shop.sandbox.send_forged_webhook(Forgery::UnpaidInvoice(id.clone())).await.unwrap();
    // Pending is not final: it may be a genuine early notice, so the sender is asked to come
    // again (503), never told to give up — and nothing runs.
    assert_eq!(forged.outcome, DeliveryOutcome::Answered(503));
    assert_eq!(shop.recorder.calls(), 0);
    shop.sandbox.pay(&id).unwrap();
    shop.sandbox.wait_for_deliveries(2, WAIT).await;
    assert_eq!(shop.recorder.calls(), 1, "the genuine payment, later, still goes through");
}

#[tokio::test]
async fn a_notice_for_an_unknown_invoice_is_refused() {
    let shop = shop().await;
    let forged = shop.sandbox.send_forged_webhook(Forgery::UnknownInvoice).await.unwrap();
    assert_eq!(forged.outcome, DeliveryOutcome::Answered(422));
    assert_eq!(shop.recorder.calls(), 0);
}

#[tokio::test]
async fn an_amount_mismatch_is_refused() {
    let shop = shop().await;
    let id = shop.invoice(700).await;
    // Paid while Pocket's webhook went nowhere: the shop has not processed it yet.
    shop.client.set_webhook_url("http://127.0.0.1:9/nowhere").await.unwrap();
    shop.sandbox.pay(&id).unwrap();
    shop.sandbox.wait_for_deliveries(4, WAIT).await;
    shop.client.set_webhook_url(&shop.url).await.unwrap();
    let inflated = shop.sandbox.send_forged_webhook(Forgery::WrongAmount(id.clone())).await.unwrap();
    assert_eq!(inflated.body["amount"], 7000);
    assert_eq!(inflated.outcome, DeliveryOutcome::Answered(422), "paid, but not 10 × the amount");
    assert_eq!(shop.recorder.calls(), 0);
    let (status, _) = shop.post(json!({"invoiceId": id.as_str(), "amount": "700.00"}).to_string()).await;
    assert_eq!(status, 200, "the right amount for the same invoice is accepted");
    assert_eq!(shop.recorder.successes(), 1);
}

#[tokio::test]
async fn string_and_number_variants_are_both_accepted() {
    let shop = shop().await;
    shop.sandbox.set_webhook_behaviour(WebhookBehaviour::field_style(FieldStyle::Alternate));
    for _ in 0..2 {
        let id = shop.invoice(560).await;
        shop.sandbox.pay(&id).unwrap();
    }
    let log = shop.sandbox.wait_for_deliveries(2, WAIT).await;
    assert!(log[0].body["amount"].is_string() != log[1].body["amount"].is_string(), "one of each");
    assert!(log.iter().all(|d| d.outcome == DeliveryOutcome::Answered(200)));
    assert_eq!(shop.recorder.successes(), 2);
}

#[tokio::test]
async fn malformed_and_oversized_bodies_are_refused() {
    let shop = shop().await;
    for body in [
        "{not json",
        "[]",
        "{}",
        r#"{"invoiceId": ""}"#,
        r#"{"invoiceId": "..", "amount": 5}"#,
        r#"{"invoiceId": {"id": 1}, "amount": 5}"#,
    ] {
        let (status, answer) = shop.post(body).await;
        assert_eq!((status, answer["status"].as_str()), (400, Some("malformed")), "{body}");
    }
    let (status, _) = shop.post(format!(r#"{{"invoiceId": 1, "pad": "{}"}}"#, "x".repeat(70 * 1024))).await;
    assert_eq!(status, 413);
    assert_eq!(shop.sandbox.requests(Endpoint::CheckInvoice), 0, "nothing was asked of Pocket");
}

#[tokio::test]
async fn when_pocket_cannot_be_asked_the_answer_is_503_and_redelivery_succeeds() {
    let shop = shop().await;
    let id = shop.invoice(560).await;
    shop.sandbox.set_fault(Endpoint::CheckInvoice, Fault::fail_next(1, 503));
    shop.sandbox.pay(&id).unwrap();
    let log = shop.sandbox.wait_for_deliveries(2, WAIT).await;
    assert_eq!(log[0].outcome, DeliveryOutcome::Answered(503));
    assert_eq!(log[1].outcome, DeliveryOutcome::Answered(200));
    assert_eq!(shop.recorder.successes(), 1);
}

#[tokio::test]
async fn a_failed_handler_is_retried_on_redelivery_and_succeeds_once() {
    let shop = shop().await;
    shop.recorder.then(&[Misbehave::Fail]);
    let id = shop.invoice(560).await;
    shop.sandbox.pay(&id).unwrap();
    let log = shop.sandbox.wait_for_deliveries(2, WAIT).await;
    assert_eq!(log[0].outcome, DeliveryOutcome::Answered(500));
    assert_eq!(log[1].outcome, DeliveryOutcome::Answered(200));
    assert_eq!(shop.recorder.calls(), 2);
    assert_eq!(shop.recorder.successes(), 1);
}

#[tokio::test]
async fn a_secret_path_segment_is_required_when_configured() {
    let shop = shop_with(|webhook| webhook.secret_path_segment("s3cr3t-Xy")).await;
    let base = shop.url.clone();
    shop.client.set_webhook_url(&format!("{base}/s3cr3t-Xy")).await.unwrap();
    let id = shop.invoice(560).await;
    shop.sandbox.pay(&id).unwrap();
    let log = shop.sandbox.wait_for_deliveries(1, WAIT).await;
    assert_eq!(log[0].outcome, DeliveryOutcome::Answered(200));
    for wrong in [format!("{base}/s3cr3t-xy"), format!("{base}/s3cr3t-Xy2"), format!("{base}/")] {
        let answer = reqwest::Client::new().post(&wrong).body(log[0].body.to_string()).send().await.unwrap();
        assert!(matches!(answer.status().as_u16(), 404 | 405), "{wrong}: {}", answer.status());
    }
    let bare = reqwest::Client::new().post(&base).body("{}").send().await.unwrap();
    assert!(matches!(bare.status().as_u16(), 404 | 405));
    assert_eq!(shop.recorder.calls(), 1);
}

struct Orders(Amount);

#[async_trait::async_trait]
impl OrderCheck for Orders {
    async fn expected(&self, _: &InvoiceId) -> Result<Option<Expected>, pocket_axum::HandlerError> {
        Ok(Some(Expected::amount(self.0)))
    }
}

#[tokio::test]
async fn the_apps_own_order_can_veto_a_payment() {
    let shop = shop_with(|webhook| webhook.order_check(Orders(Amount::from_tugrik(999).unwrap()))).await;
    let id = shop.invoice(560).await;
    shop.sandbox.pay(&id).unwrap();
    let log = shop.sandbox.wait_for_deliveries(1, WAIT).await;
    assert_eq!(log[0].outcome, DeliveryOutcome::Answered(422));
    assert_eq!(shop.recorder.calls(), 0);

    let agreeing = shop_with(|webhook| webhook.order_check(Orders(Amount::from_tugrik(560).unwrap()))).await;
    let id = agreeing.invoice(560).await;
    agreeing.sandbox.pay(&id).unwrap();
    agreeing.sandbox.wait_for_deliveries(1, WAIT).await;
    assert_eq!(agreeing.recorder.successes(), 1);
}

#[tokio::test]
async fn a_notice_with_odd_fields_still_names_the_invoice_pocket_is_asked_about() {
    let shop = shop().await;
    let mut ids = Vec::new();
    for _ in 0..7 {
        let id = shop.invoice(560).await;
        shop.sandbox.pay(&id).unwrap();
        ids.push(id);
    }
    shop.sandbox.wait_for_deliveries(7, WAIT).await;
    shop.recorder.paid.lock().clear();
    let odd = [
        r#""amount": """#,
        r#""amount": "560,00""#,
        r#""amount": "5.6E+2""#,
        r#""amount": " 560""#,
        r#""phoneNumber": {"n": 1}"#,
        r#""invoiceState": {"s": "PAID"}"#,
        r#""info": 12.5"#,
    ];
    for (id, field) in ids.iter().zip(odd) {
        let (status, answer) = shop.post(format!(r#"{{"invoiceId": {id}, {field}}}"#)).await;
        assert_eq!((status, answer["status"].as_str()), (200, Some("already_handled")), "{field}");
    }
    let (status, answer) = shop.post(r#"{"invoiceId": 987654, "amount": ""}"#).await;
    assert_eq!((status, answer["status"].as_str()), (422, Some("refused")), "Pocket was asked, and does not know it");
}

/// Opens a connection to the webhook and sends the headers of a `length`-byte body, then one
/// byte of it every `every`; returns the status line's code once the server answers.
async fn trickle(url: &str, length: usize, every: Duration) -> Option<u16> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (address, path) = url.trim_start_matches("http://").split_once('/').unwrap();
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let head = format!(
        "POST /{path} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {length}\r\n\r\n{{"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = [0u8; 64];
    for _ in 1..length {
        tokio::select! {
            read = stream.read(&mut answer) => {
                let read = read.ok()?;
                let line = String::from_utf8_lossy(&answer[..read]).to_string();
                return line.split(' ').nth(1).and_then(|code| code.parse().ok());
            }
            () = tokio::time::sleep(every) => {
                if stream.write_all(b" ").await.is_err() {
                    return None;
                }
            }
        }
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_trickled_byte_by_byte_is_cut_off_at_the_body_timeout() {
    let shop = shop_with(|webhook| webhook.body_timeout(Duration::from_millis(300))).await;
    let started = std::time::Instant::now();
    let slow: Vec<_> = (0..100)
        .map(|_| {
            let url = shop.url.clone();
            tokio::spawn(async move { trickle(&url, 1_000, Duration::from_millis(50)).await })
        })
        .collect();
    for connection in slow {
        assert_eq!(connection.await.unwrap(), Some(408));
    }
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    assert_eq!(shop.sandbox.requests(Endpoint::CheckInvoice), 0);
}
