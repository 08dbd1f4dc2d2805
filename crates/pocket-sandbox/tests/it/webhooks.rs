//! Webhook delivery: the documented body, retries, and every misbehaviour on demand.

use crate::common;

use std::time::Duration;

use common::*;
use pocket_core::{InvoiceId, WebhookNotice};
use pocket_sandbox::{
    DeliveryKind, DeliveryOutcome, FieldStyle, Forgery, Redelivery, SandboxError, StateCase, WebhookBehaviour,
};
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(5);

fn id(text: &str) -> InvoiceId {
    InvoiceId::new(text).unwrap()
}

#[tokio::test]
async fn paying_posts_the_documented_notice_to_the_fallback_url() {
    let sandbox = start().await;
    let receiver = Receiver::start(&[]).await;
    let merchant = merchant_token(&sandbox).await;
    set_webhook(&sandbox, &merchant, &receiver.url).await;
    let invoice = new_invoice(&sandbox, &merchant).await;
    sandbox.pay(&id(&invoice)).unwrap();
    let log = sandbox.wait_for_deliveries(1, WAIT).await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].outcome, DeliveryOutcome::Answered(200));
    assert_eq!(log[0].kind, DeliveryKind::Genuine);
    let bodies = receiver.bodies();
    assert_eq!(bodies.len(), 1);
    let body = &bodies[0];
    for field in ["id", "amount", "info", "invoiceId", "invoiceState", "phoneNumber"] {
        assert!(body.get(field).is_some(), "{field} missing from {body}");
    }
    assert_eq!(body["invoiceId"].to_string(), invoice);
    assert_eq!(body["amount"], 560);
    assert_eq!(body["phoneNumber"], "99112233");
    assert_eq!(body["invoiceState"], "paid");
    let notice: WebhookNotice = serde_json::from_value(body.clone()).unwrap();
    assert!(notice.invoice_state.unwrap().is_paid());
}

/// The form of a notice: `codes` (integer state), `strings` (text amount) or `numbers`.
fn form(body: &Value) -> &'static str {
    match (&body["invoiceState"], &body["amount"]) {
        (Value::Number(_), _) => "codes",
        (_, Value::String(_)) => "strings",
        _ => "numbers",
    }
}

/// The forms of every delivery of `payments` payments with two extra copies each, per invoice.
async fn varied_forms(seed: u64, payments: usize) -> Vec<Vec<&'static str>> {
    let sandbox = fast_config().seed(seed).start().await.unwrap();
    let mut behaviour = WebhookBehaviour::field_style(FieldStyle::Varied);
    behaviour.duplicates = 2;
    sandbox.set_webhook_behaviour(behaviour);
    let receiver = Receiver::start(&[]).await;
    let merchant = merchant_token(&sandbox).await;
    set_webhook(&sandbox, &merchant, &receiver.url).await;
    let mut invoices = Vec::new();
    for _ in 0..payments {
        let invoice = new_invoice(&sandbox, &merchant).await;
        sandbox.pay(&id(&invoice)).unwrap();
        invoices.push(invoice);
    }
    let log = sandbox.wait_for_deliveries(3 * payments, WAIT).await;
    assert_eq!(log.len(), 3 * payments);
    invoices
        .iter()
        .map(|invoice| {
            let mut forms: Vec<_> = log.iter().filter(|d| &d.invoice_id == invoice).map(|d| form(&d.body)).collect();
            forms.sort_unstable();
            forms
        })
        .collect()
}

#[tokio::test]
async fn varied_notices_change_form_between_deliveries_and_repeat_with_the_seed() {
    let forms = varied_forms(7, 8).await;
    let all: Vec<_> = forms.iter().flatten().copied().collect();
    for expected in ["numbers", "strings", "codes"] {
        assert!(all.contains(&expected), "no {expected} notice in {forms:?}");
    }
    assert!(forms.iter().any(|copies| copies.first() != copies.last()), "copies of one notice differ: {forms:?}");
    assert_eq!(varied_forms(7, 8).await, forms, "the same seed gives the same forms");
    assert_ne!(varied_forms(8, 8).await, forms, "another seed gives other forms");
}

#[tokio::test]
async fn states_are_lower_case_unless_the_sandbox_is_told_otherwise() {
    let sandbox = start().await;
    let receiver = Receiver::start(&[]).await;
    let merchant = merchant_token(&sandbox).await;
    set_webhook(&sandbox, &merchant, &receiver.url).await;
    sandbox.set_webhook_behaviour(WebhookBehaviour::default().with_state_case(StateCase::Upper));
    sandbox.pay(&id(&new_invoice(&sandbox, &merchant).await)).unwrap();
    sandbox.wait_for_deliveries(1, WAIT).await;
    assert_eq!(receiver.bodies()[0]["invoiceState"], "PAID");
}

#[tokio::test]
async fn failed_deliveries_are_retried_until_one_succeeds() {
    let sandbox = start().await;
    let receiver = Receiver::start(&[500, 503]).await;
    let merchant = merchant_token(&sandbox).await;
    set_webhook(&sandbox, &merchant, &receiver.url).await;
    sandbox.pay(&id(&new_invoice(&sandbox, &merchant).await)).unwrap();
    let log = sandbox.wait_for_deliveries(3, WAIT).await;
    let outcomes: Vec<_> = log.iter().map(|d| (d.attempt, d.outcome.clone())).collect();
    assert_eq!(
        outcomes,
        [(1, DeliveryOutcome::Answered(500)), (2, DeliveryOutcome::Answered(503)), (3, DeliveryOutcome::Answered(200))]
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(sandbox.deliveries().len(), 3, "no attempt after a success");
}

#[tokio::test]
async fn retries_are_bounded_by_the_schedule() {
    let sandbox = start().await;
    let receiver = Receiver::start(&[503; 10]).await;
    let merchant = merchant_token(&sandbox).await;
    set_webhook(&sandbox, &merchant, &receiver.url).await;
    sandbox.pay(&id(&new_invoice(&sandbox, &merchant).await)).unwrap();
    let attempts = 1 + FAST_RETRIES.len();
    sandbox.wait_for_deliveries(attempts, WAIT).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let log = sandbox.deliveries();
    assert_eq!(log.len(), attempts);
    assert!(log.iter().all(|d| d.outcome == DeliveryOutcome::Answered(503)));
    assert_eq!(receiver.bodies().len(), attempts);
}

#[tokio::test]
async fn an_unreachable_webhook_is_retried_and_logged_as_failed() {
    let sandbox = start().await;
    let merchant = merchant_token(&sandbox).await;
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", closed.local_addr().unwrap());
    drop(closed);
    set_webhook(&sandbox, &merchant, &url).await;
    sandbox.pay(&id(&new_invoice(&sandbox, &merchant).await)).unwrap();
    let log = sandbox.wait_for_deliveries(1 + FAST_RETRIES.len(), WAIT).await;
    assert_eq!(log.len(), 1 + FAST_RETRIES.len());
    assert!(log.iter().all(|d| matches!(d.outcome, DeliveryOutcome::Failed(_))), "{log:?}");
}

#[tokio::test]
async fn without_a_fallback_url_nothing_is_sent() {
    let sandbox = start().await;
    let merchant = merchant_token(&sandbox).await;
    sandbox.pay(&id(&new_invoice(&sandbox, &merchant).await)).unwrap();
    let log = sandbox.wait_for_deliveries(1, WAIT).await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].outcome, DeliveryOutcome::NoAddress);
    assert_eq!(log[0].url, None);
}

#[tokio::test]
async fn duplicates_are_sent_on_demand() {
    let sandbox = start().await;
    let receiver = Receiver::start(&[]).await;
    let merchant = merchant_token(&sandbox).await;
    set_webhook(&sandbox, &merchant, &receiver.url).await;
    sandbox.set_webhook_behaviour(WebhookBehaviour::duplicates(2));
    let invoice = new_invoice(&sandbox, &merchant).await;
    sandbox.pay(&id(&invoice)).unwrap();
    let log = sandbox.wait_for_deliveries(3, WAIT).await;
    assert_eq!(log.iter().filter(|d| d.kind == DeliveryKind::Duplicate).count(), 2);
    assert_eq!(log.iter().filter(|d| d.kind == DeliveryKind::Genuine).count(), 1);
    let bodies = receiver.bodies();
    assert_eq!(bodies.len(), 3);
    assert!(bodies.iter().all(|b| *b == bodies[0]), "duplicates are identical");
}

#[tokio::test]
async fn fields_can_be_sent_as_strings_or_by_turns() {
    let sandbox = start().await;
    let receiver = Receiver::start(&[]).await;
    let merchant = merchant_token(&sandbox).await;
    set_webhook(&sandbox, &merchant, &receiver.url).await;
    sandbox.set_webhook_behaviour(WebhookBehaviour::field_style(FieldStyle::Strings));
    let invoice = new_invoice(&sandbox, &merchant).await;
    sandbox.pay(&id(&invoice)).unwrap();
    sandbox.wait_for_deliveries(1, WAIT).await;
    let body = &receiver.bodies()[0];
    assert_eq!(body["amount"], "560.00");
    assert_eq!(body["invoiceId"], Value::String(invoice.clone()));
    assert!(body["id"].is_string());

    sandbox.set_webhook_behaviour(WebhookBehaviour::field_style(FieldStyle::Alternate));
    for _ in 0..2 {
        let invoice = new_invoice(&sandbox, &merchant).await;
        sandbox.pay(&id(&invoice)).unwrap();
    }
    sandbox.wait_for_deliveries(3, WAIT).await;
    let kinds: Vec<bool> = receiver.bodies()[1..].iter().map(|b| b["amount"].is_string()).collect();
    assert!(kinds.contains(&true) && kinds.contains(&false), "{kinds:?}");
    for body in receiver.bodies() {
        let notice: WebhookNotice = serde_json::from_value(body).unwrap();
        assert_eq!(notice.amount, Some(pocket_core::Amount::from_tugrik(560).unwrap()));
    }
}

#[tokio::test]
async fn out_of_order_delivery_shuffles_notices() {
    let sandbox = start().await;
    let receiver = Receiver::start(&[]).await;
    let merchant = merchant_token(&sandbox).await;
    set_webhook(&sandbox, &merchant, &receiver.url).await;
    sandbox.set_webhook_behaviour(WebhookBehaviour::out_of_order(Duration::from_millis(600)));
    let mut paid = Vec::new();
    for _ in 0..8 {
        let invoice = new_invoice(&sandbox, &merchant).await;
        sandbox.pay(&id(&invoice)).unwrap();
        paid.push(invoice);
    }
    sandbox.wait_for_deliveries(8, WAIT).await;
    let arrived: Vec<String> = receiver.bodies().iter().map(|b| b["invoiceId"].to_string()).collect();
    let mut sorted = arrived.clone();
    sorted.sort();
    let mut expected = paid.clone();
    expected.sort();
    assert_eq!(sorted, expected, "every notice arrives");
    assert_ne!(arrived, paid, "but not in the order of payment");
}

#[tokio::test]
async fn forged_notices_look_paid_but_pocket_knows_better() {
    let sandbox = start().await;
    let receiver = Receiver::start(&[]).await;
    let merchant = merchant_token(&sandbox).await;
    set_webhook(&sandbox, &merchant, &receiver.url).await;
    let unpaid = new_invoice(&sandbox, &merchant).await;
    let paid = new_invoice(&sandbox, &merchant).await;
    sandbox.pay(&id(&paid)).unwrap();
    sandbox.wait_for_deliveries(1, WAIT).await;

    let forged = sandbox.send_forged_webhook(Forgery::UnpaidInvoice(id(&unpaid))).await.unwrap();
    assert_eq!(forged.body["invoiceState"], "paid");
    assert_eq!(forged.body["invoiceId"].to_string(), unpaid);
    assert!(!sandbox.invoice(&id(&unpaid)).unwrap().state.is_paid(), "the forgery changes nothing at Pocket");

    let unknown = sandbox.send_forged_webhook(Forgery::UnknownInvoice).await.unwrap();
    assert!(sandbox.invoice(&id(&unknown.invoice_id)).is_none());

    let inflated = sandbox.send_forged_webhook(Forgery::WrongAmount(id(&paid))).await.unwrap();
    assert_eq!(inflated.body["amount"], 5600);
    assert_eq!(receiver.bodies().len(), 4);
    assert!(matches!(inflated.kind, DeliveryKind::Forged(Forgery::WrongAmount(_))));

    let refused = sandbox.send_forged_webhook(Forgery::UnpaidInvoice(id(&paid))).await;
    assert!(matches!(refused, Err(SandboxError::Forgery(_))));
}

#[tokio::test]
async fn an_invoice_is_settled_once() {
    let sandbox = start().await;
    let merchant = merchant_token(&sandbox).await;
    let first = new_invoice(&sandbox, &merchant).await;
    sandbox.pay(&id(&first)).unwrap();
    assert!(matches!(sandbox.pay(&id(&first)), Err(SandboxError::NotPending { .. })));
    assert!(matches!(sandbox.reject(&id(&first)), Err(SandboxError::NotPending { .. })));
    let second = new_invoice(&sandbox, &merchant).await;
    sandbox.reject(&id(&second)).unwrap();
    assert!(matches!(sandbox.pay(&id(&second)), Err(SandboxError::NotPending { .. })));
    assert!(matches!(sandbox.pay(&id("424242")), Err(SandboxError::UnknownInvoice(_))));
    sandbox.wait_for_deliveries(1, WAIT).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(sandbox.deliveries().len(), 1, "a rejection sends no webhook");
}

#[tokio::test]
async fn the_control_api_pays_and_reports_over_http() {
    let sandbox = start().await;
    let merchant = merchant_token(&sandbox).await;
    let invoice = new_invoice(&sandbox, &merchant).await;
    let base = format!("{}/_sandbox", sandbox.base_url());
    let paid = http().post(format!("{base}/invoices/{invoice}/pay")).send().await.unwrap();
    assert_eq!(paid.status(), 200);
    assert_eq!(paid.headers()["access-control-allow-origin"], "*");
    let again = http().post(format!("{base}/invoices/{invoice}/pay")).send().await.unwrap();
    assert_eq!(again.status(), 409);
    assert_eq!(http().post(format!("{base}/invoices/77/reject")).send().await.unwrap().status(), 404);
    sandbox.wait_for_deliveries(1, WAIT).await;
    let log: Vec<Value> = http().get(format!("{base}/deliveries")).send().await.unwrap().json().await.unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["error"], "no fallBackUrl configured");
    let forged =
        http().post(format!("{base}/forgeries")).json(&serde_json::json!({"kind": "nonsense"})).send().await.unwrap();
    assert_eq!(forged.status(), 400);
}

#[tokio::test]
async fn redelivery_policies_stop_where_a_real_sender_might() {
    for (policy, script, expected) in [
        (Redelivery::ServerErrors, vec![422], vec![DeliveryOutcome::Answered(422)]),
        (
            Redelivery::ServerErrors,
            vec![503, 422],
            vec![DeliveryOutcome::Answered(503), DeliveryOutcome::Answered(422)],
        ),
        (Redelivery::Never, vec![503], vec![DeliveryOutcome::Answered(503)]),
        (Redelivery::AnyFailure, vec![422], vec![DeliveryOutcome::Answered(422), DeliveryOutcome::Answered(200)]),
    ] {
        let sandbox = start().await;
        sandbox.set_webhook_behaviour(WebhookBehaviour::redelivery(policy));
        let receiver = Receiver::start(&script).await;
        let merchant = merchant_token(&sandbox).await;
        set_webhook(&sandbox, &merchant, &receiver.url).await;
        sandbox.pay(&id(&new_invoice(&sandbox, &merchant).await)).unwrap();
        sandbox.wait_for_deliveries(expected.len(), WAIT).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let outcomes: Vec<_> = sandbox.deliveries().into_iter().map(|d| d.outcome).collect();
        assert_eq!(outcomes, expected, "{policy:?} answered {script:?}");
    }
}

#[tokio::test]
async fn a_dropped_notice_is_logged_and_never_sent() {
    let sandbox = start().await;
    sandbox.set_webhook_behaviour(WebhookBehaviour::dropped());
    let receiver = Receiver::start(&[]).await;
    let merchant = merchant_token(&sandbox).await;
    set_webhook(&sandbox, &merchant, &receiver.url).await;
    sandbox.pay(&id(&new_invoice(&sandbox, &merchant).await)).unwrap();
    let log = sandbox.wait_for_deliveries(1, WAIT).await;
    assert_eq!(log[0].outcome, DeliveryOutcome::Dropped);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(receiver.bodies().is_empty());
    assert_eq!(sandbox.deliveries().len(), 1, "not retried");
}

#[tokio::test]
async fn integer_coded_states_in_notices() {
    let sandbox = start().await;
    sandbox.set_webhook_behaviour(WebhookBehaviour::field_style(FieldStyle::Codes));
    let receiver = Receiver::start(&[]).await;
    let merchant = merchant_token(&sandbox).await;
    set_webhook(&sandbox, &merchant, &receiver.url).await;
    sandbox.pay(&id(&new_invoice(&sandbox, &merchant).await)).unwrap();
    sandbox.wait_for_deliveries(1, WAIT).await;
    let body = &receiver.bodies()[0];
    assert_eq!(body["invoiceState"], 20);
    assert!(body["invoiceId"].is_u64());
}

#[tokio::test]
async fn the_check_can_lag_the_webhook_and_reads_ids_as_numbers() {
    let sandbox = start().await;
    sandbox.set_webhook_behaviour(WebhookBehaviour::default().with_check_lag(Duration::from_millis(300)));
    let merchant = merchant_token(&sandbox).await;
    let invoice = new_invoice(&sandbox, &merchant).await;
    sandbox.pay(&id(&invoice)).unwrap();
    let check = |spelling: String| {
        let url = format!("{}/merchant/invoice/check/{spelling}", sandbox.base_url());
        let merchant = merchant.clone();
        async move {
            let answer = http().get(url).bearer_auth(merchant).send().await.unwrap();
            (answer.status().as_u16(), answer.json::<Value>().await.unwrap())
        }
    };
    let (status, early) = check(invoice.clone()).await;
    assert_eq!((status, early["state"].as_str()), (200, Some("processing")), "{early}");
    tokio::time::sleep(Duration::from_millis(350)).await;
    let number: u64 = invoice.parse().unwrap();
    for spelling in [invoice.clone(), format!("0{invoice}"), format!("%2B{invoice}"), format!("0x{number:x}")] {
        let (status, late) = check(spelling.clone()).await;
        assert_eq!((status, late["state"].as_str()), (200, Some("paid")), "{spelling}: {late}");
        assert_eq!(late["id"], number);
    }
    let (status, _) = check("INV-1".to_owned()).await;
    assert_eq!(status, 400, "not a number at all");
}

#[tokio::test]
async fn a_low_tier_wallet_over_its_limits_fails_the_payment_and_pocket_says_so() {
    use pocket_sandbox::{SandboxConfig, TestUser, WalletTier};
    let sandbox = SandboxConfig::default()
        .wallet_user(TestUser::default().with_tier(WalletTier::Low))
        .webhook_retry_schedule(vec![])
        .start()
        .await
        .unwrap();
    let receiver = Receiver::start(&[]).await;
    let merchant = merchant_token(&sandbox).await;
    set_webhook(&sandbox, &merchant, &receiver.url).await;
    let invoice_of = |tugrik: u64| {
        let (sandbox, merchant) = (&sandbox, merchant.clone());
        async move {
            let body = serde_json::json!({"amount": tugrik, "info": "Гутал", "consumerToken": consumer_token(sandbox)});
            let created: Value = create_invoice(sandbox, &merchant, body).await.json().await.unwrap();
            id(&created["id"].to_string())
        }
    };

    // Over the 20 000 ₮ a payment: failed, with the reason, and its notice sent.
    let big = invoice_of(25_000).await;
    let failed = sandbox.pay(&big).unwrap();
    assert_eq!(failed.state, pocket_core::InvoiceState::Failed);
    let check_url = sandbox.environment().check_invoice_url(&big);
    let check: Value = http().get(&check_url).bearer_auth(&merchant).send().await.unwrap().json().await.unwrap();
    assert_eq!(check["state"], "unsuccess", "{check}");
    assert!(check["description"].as_str().unwrap().contains("limit of 20000 ₮ a payment"), "{check}");
    sandbox.wait_for_deliveries(1, WAIT).await;
    assert_eq!(receiver.bodies()[0]["invoiceState"], "unsuccess");

    // 40 000 ₮ a day: two of 15 000 pass, a third fails.
    for _ in 0..2 {
        assert!(sandbox.pay(&invoice_of(15_000).await).unwrap().state.is_paid());
    }
    let third = sandbox.pay(&invoice_of(15_000).await).unwrap();
    assert_eq!(third.state, pocket_core::InvoiceState::Failed);
    assert!(third.failure.unwrap().contains("a day"));

    // A high-tier wallet (the default) pays up to 5 000 000 ₮.
    let high = start().await;
    let merchant = merchant_token(&high).await;
    let body =
        |tugrik: u64| serde_json::json!({"amount": tugrik, "info": "Машин", "consumerToken": consumer_token(&high)});
    let fine: Value = create_invoice(&high, &merchant, body(5_000_000)).await.json().await.unwrap();
    assert!(high.pay(&id(&fine["id"].to_string())).unwrap().state.is_paid());
    let over: Value = create_invoice(&high, &merchant, body(5_000_001)).await.json().await.unwrap();
    assert_eq!(high.pay(&id(&over["id"].to_string())).unwrap().state, pocket_core::InvoiceState::Failed);
}
