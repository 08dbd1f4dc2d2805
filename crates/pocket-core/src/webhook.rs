//! What Pocket posts to the merchant after a payment, and where it posts it.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{Amount, InvoiceId, InvoiceState, lenient};

/// A payment webhook body exactly as it arrived: **unverified, it proves nothing**.
///
/// Pocket's webhook is not signed, so anyone who learns the address can post one. Treat a
/// notice only as a hint to ask Pocket about [`invoice_id`](Self::invoice_id) — which is what
/// pocket-axum's webhook router does before it calls the merchant's handler.
///
/// Documented fields: `{id, amount, info, invoiceId, invoiceState, phoneNumber}`; `heldId` and
/// `orderNumber` have been observed. Every field may arrive as a string or a number; only
/// `invoiceId` is required, and everything else Pocket sends is kept in [`extra`](Self::extra).
/// `Debug` hides the payer's phone number and shows only the names of the extra fields.
///
/// ```
/// use pocket_core::WebhookNotice;
///
/// let notice: WebhookNotice = serde_json::from_str(
///     r#"{"id": 9, "amount": "560.00", "invoiceId": 42, "invoiceState": "PAID", "ref": "x"}"#,
/// )?;
/// assert_eq!(notice.invoice_id.as_str(), "42");
/// assert_eq!(notice.extra["ref"], "x");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct WebhookNotice {
    /// The transaction record number.
    #[serde(default, deserialize_with = "lenient::opt_string", skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The amount paid, as claimed by the sender.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<Amount>,
    /// The invoice's note.
    #[serde(default, deserialize_with = "lenient::opt_string", skip_serializing_if = "Option::is_none")]
    pub info: Option<String>,
    /// The invoice the notice is about.
    pub invoice_id: InvoiceId,
    /// The invoice's state, as claimed by the sender.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_state: Option<InvoiceState>,
    /// The payer's phone number (personal data).
    #[serde(default, deserialize_with = "lenient::opt_string", skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    /// Observed, undocumented.
    #[serde(default, deserialize_with = "lenient::opt_string", skip_serializing_if = "Option::is_none")]
    pub held_id: Option<String>,
    /// Observed, undocumented.
    #[serde(default, deserialize_with = "lenient::opt_string", skip_serializing_if = "Option::is_none")]
    pub order_number: Option<String>,
    /// Every other field of the body.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl std::fmt::Debug for WebhookNotice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookNotice")
            .field("id", &self.id)
            .field("amount", &self.amount)
            .field("info", &self.info)
            .field("invoice_id", &self.invoice_id)
            .field("invoice_state", &self.invoice_state)
            .field("phone_number", &crate::user::presence(&self.phone_number))
            .field("held_id", &self.held_id)
            .field("order_number", &self.order_number)
            .field("extra", &self.extra.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl WebhookNotice {
    /// A notice about `invoice_id` with nothing else in it; for tests and tools that post one.
    pub fn new(invoice_id: InvoiceId) -> WebhookNotice {
        WebhookNotice {
            id: None,
            amount: None,
            info: None,
            invoice_id,
            invoice_state: None,
            phone_number: None,
            held_id: None,
            order_number: None,
            extra: Map::new(),
        }
    }
}

/// The merchant's payment configuration at Pocket (`GET`/`POST pg/config`): where the payment
/// webhook goes.
///
/// ```
/// use pocket_core::PaymentConfig;
///
/// let config: PaymentConfig = serde_json::from_str(r#"{"fallBackUrl": "https://shop.mn/pocket/webhook"}"#)?;
/// assert_eq!(config.fall_back_url.as_deref(), Some("https://shop.mn/pocket/webhook"));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PaymentConfig {
    /// The webhook address (`fallBackUrl`), as Pocket stored it; `None` when none is set.
    #[serde(
        rename = "fallBackUrl",
        alias = "fallbackUrl",
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub fall_back_url: Option<String>,
    /// Every other field Pocket returns.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl PaymentConfig {
    /// A configuration whose webhook address is `url`.
    pub fn with_fall_back_url(url: impl Into<String>) -> PaymentConfig {
        PaymentConfig { fall_back_url: Some(url.into()), extra: Map::new() }
    }
}
