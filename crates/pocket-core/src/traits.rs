//! The two seams of the SDK: talking to Pocket's merchant API, and verifying a wallet user.
//! Applications depend on these traits, so their tests can use the mocks (feature `mock`).

use std::sync::Arc;

use async_trait::async_trait;

use crate::{Error, Invoice, InvoiceId, InvoiceStatus, NewInvoice, PaymentConfig, PocketUser};

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

    /// Asks Pocket for an invoice's state and details.
    async fn check_invoice(&self, id: &InvoiceId) -> Result<InvoiceStatus, Error>;

    /// Reads the merchant's payment configuration (the webhook address).
    async fn payment_config(&self) -> Result<PaymentConfig, Error>;

    /// Sets the address Pocket posts payment webhooks to (`fallBackUrl`).
    async fn set_webhook_url(&self, url: &str) -> Result<(), Error>;
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
impl<T: ConsumerTokenVerifier + ?Sized> ConsumerTokenVerifier for Arc<T> {
    async fn verify(&self, token: &str) -> Result<PocketUser, Error> {
        (**self).verify(token).await
    }
}
