//! The seams of the SDK: talking to Pocket's merchant API and its payment gateway, and
//! verifying a wallet user.
//! Applications depend on these traits, so their tests can use the mocks (feature `mock`).

use std::sync::Arc;

use async_trait::async_trait;

use crate::{
    Branch, BranchId, Error, GatewayInvoice, Invoice, InvoiceDetail, InvoiceId, InvoiceStatus, MerchantInvoice,
    NewGatewayInvoice, NewInvoice, NewMerchantInvoice, OrderNumber, Page, PaymentConfig, PocketUser, Terminal,
    TerminalId,
};

/// Pocket's merchant API, called with the merchant's own token.
///
/// pocket-http's `PocketClient` implements it over HTTP; with the `mock` feature,
/// `MockMerchantApi` implements it for tests.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait MerchantApi: Send + Sync {
    /// Creates an invoice for the wallet user whose token is in `invoice`.
    ///
    /// Pocket has no idempotency key, so a failure after the request may have reached Pocket is
    /// reported as [`ErrorKind::Ambiguous`](crate::ErrorKind::Ambiguous), never retried.
    async fn create_invoice(&self, invoice: &NewInvoice) -> Result<Invoice, Error>;

    /// Creates a merchant QR invoice: no wallet user, whoever scans its `qr` pays it; checked
    /// with [`check_invoice`](Self::check_invoice). Observed in public code, not in Pocket's
    /// documents. Never repeated once it may have reached Pocket, like `create_invoice`.
    async fn create_merchant_invoice(&self, invoice: &NewMerchantInvoice) -> Result<MerchantInvoice, Error>;

    /// Asks Pocket for an invoice's state and details.
    async fn check_invoice(&self, id: &InvoiceId) -> Result<InvoiceStatus, Error>;

    /// Reads the merchant's payment configuration (the webhook address).
    async fn payment_config(&self) -> Result<PaymentConfig, Error>;

    /// Sets the address Pocket posts payment webhooks to (`fallBackUrl`).
    async fn set_webhook_url(&self, url: &str) -> Result<(), Error>;
}

/// Pocket's payment gateway (v2): QR and deep-link invoices for the merchant's own order
/// numbers on its terminals, called with the merchant's own token.
///
/// pocket-http's `PocketClient` implements it over HTTP (and adds streams over every page of
/// the listings); with the `mock` feature, `MockGatewayApi` implements it for tests.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait GatewayApi: Send + Sync {
    /// Generates an invoice for an order. Never repeated once it may have reached Pocket: such a
    /// failure is [`ErrorKind::Ambiguous`](crate::ErrorKind::Ambiguous), and the invoice is then
    /// found by its order number ([`invoice_by_order_number`](Self::invoice_by_order_number)).
    async fn generate_invoice(&self, invoice: &NewGatewayInvoice) -> Result<GatewayInvoice, Error>;

    /// The invoice of an order on a terminal.
    async fn invoice_by_order_number(&self, terminal: TerminalId, order: &OrderNumber) -> Result<InvoiceDetail, Error>;

    /// A gateway invoice by Pocket's id, on a terminal.
    async fn invoice_by_id(&self, terminal: TerminalId, id: &InvoiceId) -> Result<InvoiceDetail, Error>;

    /// Whether the order's invoice is paid. "Pending or cancelled" is `Ok(false)`, not an error.
    /// A hint for a page that polls: confirm a payment from the invoice's detail before
    /// shipping anything.
    async fn is_paid(&self, terminal: TerminalId, order: &OrderNumber) -> Result<bool, Error>;

    /// One page (from 0) of the merchant's branches.
    async fn branches_page(&self, page: u32) -> Result<Page<Branch>, Error>;

    /// One page (from 0) of a branch's terminals.
    async fn terminals_page(&self, branch: &BranchId, page: u32) -> Result<Page<Terminal>, Error>;

    /// Cancels a held payment (`heldId` of its notice). **Unconfirmed**: one integration lists this
    /// endpoint, Pocket documents nothing about it.
    async fn cancel(&self, held_id: &str) -> Result<(), Error>;
}

/// Verifies a wallet user's ID token and reads the user from it.
///
/// pocket-jwt's `JwtVerifier` verifies locally against the realm's keys; pocket-http offers one
/// that asks the realm's introspection endpoint. With the `mock` feature,
/// `MockConsumerTokenVerifier` implements it for tests.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait ConsumerTokenVerifier: Send + Sync {
    /// Verifies `token` (the compact JWT as the page sent it) and returns its user. A token that
    /// is not acceptable is an [`ErrorKind::InvalidToken`](crate::ErrorKind::InvalidToken)
    /// error with the reason; being unable to check it at all is
    /// [`ErrorKind::Unavailable`](crate::ErrorKind::Unavailable).
    async fn verify(&self, token: &str) -> Result<PocketUser, Error>;
}

#[async_trait]
impl<T: MerchantApi + ?Sized> MerchantApi for Arc<T> {
    async fn create_invoice(&self, invoice: &NewInvoice) -> Result<Invoice, Error> {
        (**self).create_invoice(invoice).await
    }

    async fn create_merchant_invoice(&self, invoice: &NewMerchantInvoice) -> Result<MerchantInvoice, Error> {
        (**self).create_merchant_invoice(invoice).await
    }

    async fn check_invoice(&self, id: &InvoiceId) -> Result<InvoiceStatus, Error> {
        (**self).check_invoice(id).await
    }

    async fn payment_config(&self) -> Result<PaymentConfig, Error> {
        (**self).payment_config().await
    }

    async fn set_webhook_url(&self, url: &str) -> Result<(), Error> {
        (**self).set_webhook_url(url).await
    }
}

#[async_trait]
impl<T: GatewayApi + ?Sized> GatewayApi for Arc<T> {
    async fn generate_invoice(&self, invoice: &NewGatewayInvoice) -> Result<GatewayInvoice, Error> {
        (**self).generate_invoice(invoice).await
    }

    async fn invoice_by_order_number(&self, terminal: TerminalId, order: &OrderNumber) -> Result<InvoiceDetail, Error> {
        (**self).invoice_by_order_number(terminal, order).await
    }

    async fn invoice_by_id(&self, terminal: TerminalId, id: &InvoiceId) -> Result<InvoiceDetail, Error> {
        (**self).invoice_by_id(terminal, id).await
    }

    async fn is_paid(&self, terminal: TerminalId, order: &OrderNumber) -> Result<bool, Error> {
        (**self).is_paid(terminal, order).await
    }

    async fn branches_page(&self, page: u32) -> Result<Page<Branch>, Error> {
        (**self).branches_page(page).await
    }

    async fn terminals_page(&self, branch: &BranchId, page: u32) -> Result<Page<Terminal>, Error> {
        (**self).terminals_page(branch, page).await
    }

    async fn cancel(&self, held_id: &str) -> Result<(), Error> {
        (**self).cancel(held_id).await
    }
}

#[async_trait]
impl<T: ConsumerTokenVerifier + ?Sized> ConsumerTokenVerifier for Arc<T> {
    async fn verify(&self, token: &str) -> Result<PocketUser, Error> {
        (**self).verify(token).await
    }
}
