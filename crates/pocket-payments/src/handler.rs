//! The merchant's code: what runs for a confirmed payment, and how the app's own orders are
//! consulted before it does.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use async_trait::async_trait;
use pocket_core::InvoiceId;

use crate::{Expected, FailedPayment, Unresolved, VerifiedPayment};

/// What a handler's failure carries; it is logged, and the payment is tried again later.
pub type HandlerError = Box<dyn std::error::Error + Send + Sync>;

/// The merchant's code for payments: mark the order paid, ship, …
///
/// `paid` runs once per confirmed payment within the store's retention. Return `Ok` only once
/// the effect is durable; an `Err` (or a panic, or running past the handler timeout) releases
/// the claim, so a later delivery or poll runs it again. For horizons longer than the store's
/// retention, keep the app's own order idempotent too (an order moves `awaiting → paid` once).
#[async_trait]
pub trait PaymentHandler: Send + Sync + 'static {
    /// Acts on a confirmed payment.
    async fn paid(&self, payment: VerifiedPayment) -> Result<(), HandlerError>;

    /// Pocket says the invoice will not be paid (cancelled, rejected, failed): release stock,
    /// tell the customer. Runs once per invoice like `paid`. The default does nothing.
    async fn failed(&self, payment: FailedPayment) -> Result<(), HandlerError> {
        let _ = payment;
        Ok(())
    }

    /// The reconciler gave up on an invoice at its deadline (or found it cannot be confirmed):
    /// someone should look at it. The default logs it at error level.
    async fn unresolved(&self, invoice: Unresolved) {
        log_unresolved(&invoice);
    }
}

/// What the default `unresolved` callbacks do.
pub(crate) fn log_unresolved(invoice: &Unresolved) {
    tracing::error!(
        invoice_id = %invoice.invoice_id,
        last_state = ?invoice.last_state.as_ref().map(|state| state.as_str()),
        reason = %invoice.reason,
        "an invoice was watched until its deadline without a verdict; look at it by hand"
    );
}

/// A handler the app shares with other pipelines or its own code.
#[async_trait]
impl<T: PaymentHandler + ?Sized> PaymentHandler for Arc<T> {
    async fn paid(&self, payment: VerifiedPayment) -> Result<(), HandlerError> {
        (**self).paid(payment).await
    }

    async fn failed(&self, payment: FailedPayment) -> Result<(), HandlerError> {
        (**self).failed(payment).await
    }

    async fn unresolved(&self, invoice: Unresolved) {
        (**self).unresolved(invoice).await
    }
}

/// The merchant's code as the pipeline holds it: run under a claim in the payment store, or
/// inside a PostgreSQL transaction that also records the payment.
#[derive(Clone)]
pub(crate) enum Handler {
    Plain(Arc<dyn PaymentHandler>),
    #[cfg(feature = "postgres")]
    InTransaction {
        handler: Arc<dyn crate::TransactionalHandler>,
        store: crate::PgStore,
    },
}

impl Handler {
    pub(crate) async fn unresolved(&self, invoice: Unresolved) {
        match self {
            Handler::Plain(handler) => handler.unresolved(invoice).await,
            #[cfg(feature = "postgres")]
            Handler::InTransaction { handler, .. } => handler.unresolved(invoice).await,
        }
    }
}

/// What the merchant's code is asked to do for one payment. Short-lived and moved once, so
/// the size of its larger variant costs nothing worth a box.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Job {
    Paid(VerifiedPayment),
    Failed(FailedPayment),
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// A [`PaymentHandler`] made of an async closure (for `paid`; the other callbacks keep their
/// defaults).
pub struct HandlerFn<F>(F);

/// Makes a [`PaymentHandler`] of an async closure:
/// `handler_fn(|payment| async move { … Ok(()) })`.
pub fn handler_fn<F, Fut>(
    f: F,
) -> HandlerFn<impl Fn(VerifiedPayment) -> BoxFuture<Result<(), HandlerError>> + Send + Sync>
where
    F: Fn(VerifiedPayment) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), HandlerError>> + Send + 'static,
{
    HandlerFn(move |payment| Box::pin(f(payment)) as BoxFuture<_>)
}

#[async_trait]
impl<F> PaymentHandler for HandlerFn<F>
where
    F: Fn(VerifiedPayment) -> BoxFuture<Result<(), HandlerError>> + Send + Sync + 'static,
{
    async fn paid(&self, payment: VerifiedPayment) -> Result<(), HandlerError> {
        (self.0)(payment).await
    }
}

/// Compares a payment Pocket confirmed with the app's own order before the handler runs.
#[async_trait]
pub trait OrderCheck: Send + Sync + 'static {
    /// What the app expects of this invoice, or `None` when it has no order for it (then
    /// Pocket's word alone decides, as without an order check).
    async fn expected(&self, invoice: &InvoiceId) -> Result<Option<Expected>, HandlerError>;
}
