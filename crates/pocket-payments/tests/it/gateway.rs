//! Payments of gateway (QR / deep-link) invoices: a notice carrying `orderNumber`/`heldId` is
//! confirmed through the gateway's detail lookup, any notice falls back to the other API when
//! the first does not know the invoice, the handler runs once whichever way the payment is
//! seen, and the reconciler watches an order by its number.

use crate::common;

use std::time::Duration;

use common::*;
use pocket_core::{ErrorKind, OrderNumber, TerminalId};
use pocket_payments::{Expected, Outcome, Payments, Refusal};

fn gateway_notice(id: &str, tugrik: u64) -> pocket_core::WebhookNotice {
    let mut notice = notice_for(id, tugrik);
    notice.order_number = Some(format!("SHOP-{id}"));
    notice.held_id = Some("330001".to_owned());
    notice
}

fn pipeline(pocket: &FakePocket, gateway: &FakeGateway, recorder: &Recorder) -> Payments {
    Payments::builder(pocket.clone(), recorder.clone())
        .gateway(gateway.clone(), [TerminalId::new(1), TERMINAL])
        .poll_schedule(Duration::from_millis(20), Duration::from_millis(40))
        .build()
}

#[tokio::test]
async fn a_gateway_notice_is_confirmed_through_the_gateway_once() {
    let (pocket, gateway, recorder) = (FakePocket::default(), FakeGateway::default(), Recorder::default());
    gateway.detail(9001, "PAID", 12_500);
    let payments = pipeline(&pocket, &gateway, &recorder);
    assert_eq!(payments.receive(gateway_notice("9001", 12_500)).await, Outcome::Handled);
    assert_eq!(payments.receive(gateway_notice("09001", 12_500)).await, Outcome::AlreadyHandled);
    assert_eq!(pocket.checks(), 0, "the merchant API's check was not needed");
    assert_eq!(gateway.lookups(), 2, "terminal 1 does not know it, the invoice's terminal does");
    let paid = recorder.paid.lock()[0].clone();
    assert_eq!(paid.answer().order_number.as_deref(), Some("SHOP-9001"), "Pocket's order number reaches the handler");
    assert_eq!(paid.answer().extra["holdId"], "330001");
    assert_eq!(recorder.calls(), 1);
}

#[tokio::test]
async fn a_notice_that_names_the_wrong_api_is_still_confirmed_by_the_other() {
    let (pocket, gateway, recorder) = (FakePocket::default(), FakeGateway::default(), Recorder::default());
    gateway.detail(9002, "PAID", 5_000);
    pocket.paid(9003, 700);
    let payments = pipeline(&pocket, &gateway, &recorder);
    // A gateway payment whose notice lacks orderNumber/heldId: the check does not know it.
    assert_eq!(payments.receive(notice_for("9002", 5_000)).await, Outcome::Handled);
    // A mini-app payment whose notice carries an order number: the gateway does not know it.
    let mut v1 = notice_for("9003", 700);
    v1.order_number = Some("ORD-9003".to_owned());
    assert_eq!(payments.receive(v1).await, Outcome::Handled);
    assert_eq!(recorder.successes(), 2);
}

#[tokio::test]
async fn forged_gateway_notices_are_refused() {
    let (pocket, gateway, recorder) = (FakePocket::default(), FakeGateway::default(), Recorder::default());
    gateway.detail(9004, "PENDING", 5_000);
    gateway.detail(9005, "PAID", 5_000);
    let payments = pipeline(&pocket, &gateway, &recorder);
    let unknown = payments.receive(gateway_notice("4242", 5_000)).await;
    assert_eq!(unknown, Outcome::Refused(Refusal::UnknownInvoice));
    assert_eq!(pocket.checks(), 1, "neither API knows it: both were asked");
    assert!(matches!(payments.receive(gateway_notice("9004", 5_000)).await, Outcome::NotFinal(_)));
    let inflated = payments.receive(gateway_notice("9005", 50_000)).await;
    assert_eq!(inflated, Outcome::Refused(Refusal::AmountMismatch));
    assert_eq!(recorder.calls(), 0);
}

#[tokio::test]
async fn the_reconciler_watches_an_order_by_its_number() {
    let (pocket, gateway, recorder) = (FakePocket::default(), FakeGateway::default(), Recorder::default());
    gateway.detail(9006, "PENDING", 3_000);
    let payments = pipeline(&pocket, &gateway, &recorder);
    let reconciler = payments.reconciler();
    let order: OrderNumber = "SHOP-9006".parse().unwrap();
    let watched = reconciler.watch_order(TERMINAL, &order, Some(Expected::amount(tugrik(3_000)))).await.unwrap();
    assert_eq!(watched.as_str(), "9006");
    assert_eq!(reconciler.watched()[0].terminal, Some(TERMINAL));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(recorder.calls(), 0, "pending: nothing to do yet");
    gateway.detail(9006, "PAID", 3_000);
    eventually(WAIT, "the paid order is processed", || recorder.successes() == 1).await;
    eventually(WAIT, "the watch ends", || reconciler.watched().is_empty()).await;
    assert_eq!(pocket.checks(), 0, "a watched gateway invoice is asked about through the gateway");
    // The webhook arriving late changes nothing.
    assert_eq!(payments.receive(gateway_notice("9006", 3_000)).await, Outcome::AlreadyHandled);

    let missing = reconciler.watch_order(TERMINAL, &"SHOP-1".parse().unwrap(), None).await.unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::NotFound);
    assert!(reconciler.watched().is_empty(), "nothing watched for an order Pocket does not know");
}

#[tokio::test]
async fn watching_an_order_needs_a_gateway() {
    let payments = Payments::builder(FakePocket::default(), Recorder::default()).build();
    let error = payments.reconciler().watch_order(TERMINAL, &"SHOP-1".parse().unwrap(), None).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Configuration);
}
