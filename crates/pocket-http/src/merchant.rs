//! The merchant API: invoices and the webhook address.

use async_trait::async_trait;
use pocket_core::{
    Error, Invoice, InvoiceId, InvoiceStatus, MerchantApi, MerchantInvoice, NewInvoice, NewMerchantInvoice,
    PaymentConfig, ValidationError,
};
use reqwest::Method;

use crate::client::{Creation, PocketClient, Repeat};
use crate::transport::decode;

/// What [`PocketClient::ensure_webhook_url`] found and did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WebhookChange {
    /// Pocket already had this address; nothing was written.
    Unchanged,
    /// The address was set; `previous` is what Pocket had before.
    Updated {
        /// The former address, if there was one.
        previous: Option<String>,
    },
}

/// The merchant API, callable without importing a trait; [`MerchantApi`] delegates here.
impl PocketClient {
    /// Creates an invoice for the wallet user whose token is in `invoice`. Never sent twice once
    /// it may have reached Pocket: such a failure is [`ErrorKind::Ambiguous`](pocket_core::ErrorKind::Ambiguous).
    pub async fn create_invoice(&self, invoice: &NewInvoice) -> Result<Invoice, Error> {
        let url = self.environment().create_invoice_url();
        self.create("create an invoice", url, Creation::Invoice(invoice), |created: &Invoice| &created.id).await
    }

    /// Creates a merchant QR invoice (`POST {api}/invoice` `{amount, info}`): no wallet user;
    /// whoever scans its `qr` pays it, and [`check_invoice`](Self::check_invoice) follows it.
    /// Observed in public code, not in Pocket's documents. Never sent twice once it may have
    /// reached Pocket: such a failure is [`ErrorKind::Ambiguous`](pocket_core::ErrorKind::Ambiguous).
    pub async fn create_merchant_invoice(&self, invoice: &NewMerchantInvoice) -> Result<MerchantInvoice, Error> {
        let url = self.environment().merchant_invoice_url();
        self.create("create a QR invoice", url, Creation::Merchant(invoice), |created: &MerchantInvoice| &created.id)
            .await
    }

    /// Asks Pocket for an invoice's state and details.
    pub async fn check_invoice(&self, id: &InvoiceId) -> Result<InvoiceStatus, Error> {
        let operation = "check an invoice";
        self.traced(operation, Some(id.as_str()), async {
            let url = self.environment().check_invoice_url(id);
            let answer = self.call(operation, Method::GET, &url, None, Repeat::Safe).await?;
            decode(operation, &answer)
        })
        .await
    }

    /// Reads the merchant's payment configuration (the webhook address).
    pub async fn payment_config(&self) -> Result<PaymentConfig, Error> {
        let operation = "read the payment configuration";
        self.traced(operation, None, async {
            let url = self.environment().payment_config_url();
            let answer = self.call(operation, Method::GET, &url, None, Repeat::Safe).await?;
            decode(operation, &answer)
        })
        .await
    }

    /// Sets the address Pocket posts payment webhooks to (`fallBackUrl`): https, or http for a
    /// custom environment only.
    pub async fn set_webhook_url(&self, url: &str) -> Result<(), Error> {
        let operation = "set the webhook address";
        self.traced(operation, None, async {
            self.check_webhook_url(url)?;
            let body = serde_json::to_vec(&PaymentConfig::with_fall_back_url(url))
                .map_err(|e| Error::new(pocket_core::ErrorKind::Validation, format!("{operation}: {e}")))?;
            let config_url = self.environment().payment_config_url();
            // Setting the same address twice is harmless, so this call is retried.
            self.call(operation, Method::POST, &config_url, Some(body), Repeat::Safe).await.map(drop)
        })
        .await
    }
}

impl PocketClient {
    /// Sends a creation to `url` once — never again once it may have reached Pocket — and reads
    /// what Pocket made; `id` names it in the call's span.
    pub(crate) async fn create<T: serde::de::DeserializeOwned>(
        &self,
        operation: &'static str,
        url: String,
        creation: Creation<'_>,
        id: fn(&T) -> &InvoiceId,
    ) -> Result<T, Error> {
        self.traced(operation, None, async {
            let body = creation.body().map_err(|e| {
                Error::new(
                    pocket_core::ErrorKind::Validation,
                    format!("{operation}: the invoice could not be written: {e}"),
                )
            })?;
            let answer = self.call(operation, Method::POST, &url, Some(body), Repeat::Create(creation)).await?;
            let created: T = decode_created(operation, &answer, creation)?;
            tracing::Span::current().record("invoice_id", id(&created).as_str());
            Ok(created)
        })
        .await
    }
}

/// Decodes the answer to a creation Pocket accepted (2xx). The invoice exists even if its answer
/// cannot be read, so an unreadable one is ambiguous — never a plain protocol error a caller
/// would retry.
fn decode_created<T: serde::de::DeserializeOwned>(
    operation: &str,
    answer: &[u8],
    creation: Creation<'_>,
) -> Result<T, Error> {
    decode(operation, answer).map_err(|unreadable| {
        tracing::warn!(error = %unreadable, "Pocket accepted an invoice but its answer cannot be read");
        let ambiguous = creation
            .ambiguous(format_args!("{unreadable}; Pocket accepted the request, so the invoice probably exists"));
        match unreadable.json_path() {
            Some(path) => ambiguous.with_json_path(path),
            None => ambiguous,
        }
    })
}

#[async_trait]
impl MerchantApi for PocketClient {
    async fn create_invoice(&self, invoice: &NewInvoice) -> Result<Invoice, Error> {
        PocketClient::create_invoice(self, invoice).await
    }

    async fn create_merchant_invoice(&self, invoice: &NewMerchantInvoice) -> Result<MerchantInvoice, Error> {
        PocketClient::create_merchant_invoice(self, invoice).await
    }

    async fn check_invoice(&self, id: &InvoiceId) -> Result<InvoiceStatus, Error> {
        PocketClient::check_invoice(self, id).await
    }

    async fn payment_config(&self) -> Result<PaymentConfig, Error> {
        PocketClient::payment_config(self).await
    }

    async fn set_webhook_url(&self, url: &str) -> Result<(), Error> {
        PocketClient::set_webhook_url(self, url).await
    }
}

impl PocketClient {
    /// Sets the webhook address only if Pocket does not already have it: reads first, writes
    /// when different. Call it at start-up.
    pub async fn ensure_webhook_url(&self, url: &str) -> Result<WebhookChange, Error> {
        self.check_webhook_url(url)?;
        let current = self.payment_config().await?;
        if current.fall_back_url.as_deref() == Some(url) {
            return Ok(WebhookChange::Unchanged);
        }
        self.set_webhook_url(url).await?;
        Ok(WebhookChange::Updated { previous: current.fall_back_url })
    }

    /// The webhook address must be an absolute https URL — Pocket posts payment data to it.
    /// Plain http is allowed only for a custom environment (the sandbox, a local test).
    fn check_webhook_url(&self, url: &str) -> Result<(), Error> {
        let invalid = |reason: String| Error::from(ValidationError::Invalid { field: "fallBackUrl", reason });
        let parsed = url::Url::parse(url).map_err(|e| invalid(format!("{url:?} is not an absolute URL: {e}")))?;
        if parsed.host_str().is_none_or(str::is_empty) {
            return Err(invalid(format!("{url:?} has no host")));
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(invalid("the webhook address must not carry credentials".to_owned()));
        }
        match parsed.scheme() {
            "https" => Ok(()),
            "http" if self.environment().is_custom() => Ok(()),
            "http" => Err(invalid(format!(
                "{url:?} is plain http; Pocket's {} environment must post payment webhooks over https \
                 (http is accepted only for a custom environment such as the sandbox)",
                self.environment().name()
            ))),
            other => Err(invalid(format!("the scheme {other:?} is not http(s)"))),
        }
    }
}
