//! The payment gateway (v2) against the sandbox: generate, both lookups, is-paid (400 is an
//! answer), cancel, listings over every page, and an ambiguous generate recovered by its order
//! number — under both things Pocket may do with a second invoice for one order.

use crate::common;

use std::time::Duration;

use common::*;
use futures_util::TryStreamExt;
use pocket_core::{
    Amount, BranchId, Channel, ErrorKind, InvoiceState, InvoiceType, NewGatewayInvoice, OrderNumber, TerminalId,
};
use pocket_sandbox::{DuplicateOrders, Endpoint, Fault, SandboxConfig};

const TERMINAL: TerminalId = TerminalId::new(74_686_381_183_671);

fn order(number: &str) -> OrderNumber {
    number.parse().unwrap()
}

fn gateway_invoice(order_number: &str, tugrik: u64) -> NewGatewayInvoice {
    NewGatewayInvoice::new(
        TERMINAL,
        Amount::from_tugrik(tugrik).unwrap(),
        "Захиалга".parse().unwrap(),
        order(order_number),
    )
    .unwrap()
}

#[tokio::test]
async fn an_order_is_generated_looked_up_paid_and_cancelled() {
    let sandbox = sandbox().await;
    let client = client(&sandbox);
    let new = gateway_invoice("SHOP-117", 12_500).with_channel(Channel::Pos).with_invoice_type(InvoiceType::Zero);
    let generated = client.generate_invoice(&new).await.unwrap();
    assert_eq!(generated.order_number.as_deref(), Some("SHOP-117"));
    assert_eq!(generated.qr.as_deref(), Some(format!("pocket-sandbox:pay:{}", generated.id).as_str()));
    assert!(generated.deeplink.as_deref().unwrap().ends_with(&format!("/wallet/pay/{}", generated.id)));

    let by_order = client.invoice_by_order_number(TERMINAL, &order("SHOP-117")).await.unwrap();
    assert_eq!((by_order.id.as_ref(), &by_order.state), (Some(&generated.id), &InvoiceState::Pending));
    assert_eq!(by_order.amount, Some(Amount::from_tugrik(12_500).unwrap()));
    assert_eq!((by_order.terminal_id, by_order.invoice_type.clone()), (Some(TERMINAL), Some(InvoiceType::Zero)));
    assert_eq!(by_order.branch_id.as_deref(), Some("1"));
    assert!(!client.is_paid(TERMINAL, &order("SHOP-117")).await.unwrap(), "a 400 is the answer 'not paid'");

    sandbox.pay(&generated.id).unwrap();
    assert!(client.is_paid(TERMINAL, &order("SHOP-117")).await.unwrap());
    let paid = client.invoice_by_id(TERMINAL, &generated.id).await.unwrap();
    assert_eq!(paid.state, InvoiceState::Paid);
    let hold = paid.held_id.clone().expect("a paid gateway invoice has a hold");
    assert!(
        paid.sender_name.is_some() && !format!("{paid:?}").contains("Бат-Эрдэнэ"),
        "the payer's name is kept out of Debug"
    );

    client.cancel(&hold).await.unwrap();
    client.cancel(&hold).await.expect("cancelling twice is harmless");
    let cancelled = client.invoice_by_order_number(TERMINAL, &order("SHOP-117")).await.unwrap();
    assert_eq!(cancelled.state, InvoiceState::Cancelled);
    assert!(!client.is_paid(TERMINAL, &order("SHOP-117")).await.unwrap());
}

#[tokio::test]
async fn unknown_orders_and_foreign_terminals_are_errors_not_answers() {
    let sandbox = sandbox().await;
    let client = client(&sandbox);
    let missing = client.invoice_by_order_number(TERMINAL, &order("NOPE")).await.unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::NotFound);
    assert_eq!(client.is_paid(TERMINAL, &order("NOPE")).await.unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(client.recover_invoice(TERMINAL, &order("NOPE")).await.unwrap(), None);

    let foreign = NewGatewayInvoice::new(
        TerminalId::new(1),
        Amount::from_tugrik(500).unwrap(),
        "x".parse().unwrap(),
        order("O-1"),
    )
    .unwrap();
    let error = client.generate_invoice(&foreign).await.unwrap_err();
    assert_eq!((error.kind(), error.status()), (ErrorKind::NotFound, Some(404)));
    assert!(error.to_string().contains("not one of this merchant's terminals"), "Spring's message is read: {error}");
    assert!(error.to_string().contains("/v2/invoicing/generate-invoice"), "the URL is named: {error}");
    assert_eq!(client.cancel("999").await.unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(client.cancel("").await.unwrap_err().kind(), ErrorKind::Validation);
}

#[tokio::test]
async fn listings_follow_every_page() {
    let sandbox = sandbox_with(SandboxConfig::default().branch("Зайсан", 8).page_size_limit(3)).await;
    let client = client(&sandbox);
    let branches: Vec<_> = client.branches().try_collect().await.unwrap();
    assert_eq!(branches.iter().map(|b| b.id.as_str()).collect::<Vec<_>>(), ["1", "2"]);
    assert_eq!(branches[0].merchant_id.as_deref(), Some("sandbox-merchant"));
    assert!(branches[0].account_number.is_some() && branches[0].address.is_some());

    let terminals: Vec<_> = client.terminals(&branches[1].id).try_collect().await.unwrap();
    assert_eq!(terminals.len(), 8, "8 terminals in pages of 3");
    assert_eq!(sandbox.requests(Endpoint::Terminals), 3, "pages 0, 1 and 2; the last says so");
    let mut ids: Vec<_> = terminals.iter().map(|t| t.id).collect();
    ids.dedup();
    assert_eq!(ids.len(), 8, "no terminal twice");
    let first: Vec<_> = client.terminals(&branches[0].id).try_collect().await.unwrap();
    assert!(first.iter().any(|t| t.id == TERMINAL), "a 64-bit terminal id survives");

    let unknown = BranchId::new("404").unwrap();
    let error = client.terminals(&unknown).try_collect::<Vec<_>>().await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NotFound);
}

/// The answer to generate is lost after Pocket made the invoice (the answer comes after the
/// client's timeout). The error is ambiguous, names the order, and recovery finds the invoice —
/// without a second one being made.
async fn lost_answer_is_recovered(policy: DuplicateOrders) {
    let sandbox = sandbox_with(SandboxConfig::default().duplicate_orders(policy)).await;
    let client = builder(&sandbox).timeout(Duration::from_millis(300)).build().unwrap();
    client.warm_up().await.unwrap();
    sandbox.set_fault(Endpoint::GenerateInvoice, Fault { latency_ms: 600, ..Fault::default() });
    let error = client.generate_invoice(&gateway_invoice("SHOP-9", 4_000)).await.unwrap_err();
    sandbox.clear_faults();
    assert_eq!(error.kind(), ErrorKind::Ambiguous);
    assert_eq!(sandbox.requests(Endpoint::GenerateInvoice), 1, "never re-sent");
    let unconfirmed = error.unconfirmed_invoice().expect("what was asked is kept");
    assert_eq!(unconfirmed.order, Some((TERMINAL, order("SHOP-9"))));
    assert!(error.to_string().contains("recover_invoice"), "the error says what to do: {error}");

    let found = client.recover_invoice(TERMINAL, &order("SHOP-9")).await.unwrap().expect("Pocket made it");
    assert_eq!(found.state, InvoiceState::Pending);
    assert_eq!(sandbox.invoices().len(), 1, "recovery made no second invoice");
}

#[tokio::test]
async fn a_lost_generate_answer_is_recovered_when_pocket_refuses_duplicates() {
    lost_answer_is_recovered(DuplicateOrders::Refuse).await;
}

#[tokio::test]
async fn a_lost_generate_answer_is_recovered_when_pocket_replaces_duplicates() {
    lost_answer_is_recovered(DuplicateOrders::Replace).await;
}

#[tokio::test]
async fn a_generate_that_never_arrived_is_not_found_so_generating_again_is_safe() {
    let sandbox = sandbox().await;
    let client = client(&sandbox);
    client.warm_up().await.unwrap();
    sandbox.set_fault(Endpoint::GenerateInvoice, Fault::fail_next(1, 503));
    let error = client.generate_invoice(&gateway_invoice("SHOP-10", 4_000)).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unavailable, "a 503 is a definite refusal");
    assert_eq!(client.recover_invoice(TERMINAL, &order("SHOP-10")).await.unwrap(), None);
    client.generate_invoice(&gateway_invoice("SHOP-10", 4_000)).await.expect("generating again is safe");
}

#[tokio::test]
async fn one_order_never_has_two_payable_invoices() {
    // Pocket refuses a second invoice for the order: the first stays the one to pay.
    let sandbox = sandbox().await;
    let client = client(&sandbox);
    let first = client.generate_invoice(&gateway_invoice("SHOP-5", 1_000)).await.unwrap();
    let again = client.generate_invoice(&gateway_invoice("SHOP-5", 1_000)).await.unwrap_err();
    assert_eq!((again.kind(), again.status()), (ErrorKind::Rejected, Some(409)));
    assert!(again.to_string().contains("already has an invoice"), "{again}");
    assert_eq!(sandbox.invoices().len(), 1);
    sandbox.pay(&first.id).unwrap();
    let after_paid = client.generate_invoice(&gateway_invoice("SHOP-5", 1_000)).await.unwrap_err();
    assert!(after_paid.to_string().contains("already paid"), "{after_paid}");

    // Pocket makes a second one: the first is cancelled, and the lookup finds the newest.
    let sandbox = sandbox_with(SandboxConfig::default().duplicate_orders(DuplicateOrders::Replace)).await;
    let replacing = common::client(&sandbox);
    let first = replacing.generate_invoice(&gateway_invoice("SHOP-6", 1_000)).await.unwrap();
    let second = replacing.generate_invoice(&gateway_invoice("SHOP-6", 1_000)).await.unwrap();
    assert_ne!(first.id, second.id);
    assert!(sandbox.pay(&first.id).is_err(), "the replaced invoice cannot be paid");
    let current = replacing.invoice_by_order_number(TERMINAL, &order("SHOP-6")).await.unwrap();
    assert_eq!(current.id, Some(second.id));
}
