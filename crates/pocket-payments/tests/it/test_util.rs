//! A merchant's own handler, unit-tested with the `test-util` builders and no server.

use std::sync::Mutex;

use pocket_core::{Amount, InvoiceId, InvoiceState, InvoiceStatus, WebhookNotice};
use pocket_payments::{FailedPayment, HandlerError, PaymentHandler, Source, VerifiedPayment};

/// The kind of handler a shop writes: marks orders paid or released.
#[derive(Default)]
struct Shop {
    ledger: Mutex<Vec<String>>,
}

#[async_trait::async_trait]
impl PaymentHandler for Shop {
    async fn paid(&self, payment: VerifiedPayment) -> Result<(), HandlerError> {
        let amount = payment.amount().ok_or("no amount")?;
        self.ledger.lock().unwrap().push(format!("paid {} {}", payment.invoice_id(), amount.to_decimal_string()));
        Ok(())
    }

    async fn failed(&self, payment: FailedPayment) -> Result<(), HandlerError> {
        self.ledger.lock().unwrap().push(format!("released {} ({})", payment.invoice_id(), payment.state()));
        Ok(())
    }
}

#[tokio::test]
async fn a_handler_is_tested_with_built_payments() {
    let shop = Shop::default();
    let mut status = InvoiceStatus::new(InvoiceState::Paid);
    status.amount = Some(Amount::from_tugrik(560).unwrap());
    let payment = VerifiedPayment::for_test(InvoiceId::from(42), status.clone())
        .with_notice(WebhookNotice::new(InvoiceId::from(42)));
    assert_eq!(payment.source(), Source::Webhook);
    assert!(payment.unverified_notice().is_some());
    shop.paid(payment).await.unwrap();
    let polled = VerifiedPayment::for_test(InvoiceId::from(43), status).polled();
    assert_eq!((polled.source(), polled.unverified_notice().is_none()), (Source::Poll, true));
    shop.paid(polled).await.unwrap();
    let no_amount = VerifiedPayment::for_test(InvoiceId::from(44), InvoiceStatus::new(InvoiceState::Paid));
    assert!(shop.paid(no_amount).await.is_err());

    let mut cancelled = InvoiceStatus::new(InvoiceState::Cancelled);
    cancelled.description = Some("the payer cancelled".into());
    let failed = FailedPayment::for_test(InvoiceId::from(45), cancelled);
    assert_eq!(failed.description(), Some("the payer cancelled"));
    shop.failed(failed).await.unwrap();

    assert_eq!(*shop.ledger.lock().unwrap(), ["paid 42 560.00", "paid 43 560.00", "released 45 (cancelled)"]);
}
