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
/// `orderNumber` have been observed. Field names are read in any case, with or without `_`
/// (`invoice_id`, `InvoiceID`); every field may arrive as a string or a number. Only
/// `invoiceId` is required: a body without a usable one is an error. Every other field that
/// cannot be read (an amount of `""`, a state that is an object) is kept in
/// [`extra`](Self::extra) and named in [`unreadable`](Self::unreadable) — a notice is a hint,
/// and a hint with odd fields still names the invoice to ask Pocket about. Everything else
/// Pocket sends is kept in `extra` too.
/// `Debug` hides the payer's phone number and shows only the names of the extra fields.
///
/// ```
/// use pocket_core::WebhookNotice;
///
/// let notice: WebhookNotice = serde_json::from_str(
///     r#"{"id": 9, "amount": "560,00", "invoiceId": 42, "invoiceState": "PAID", "ref": "x"}"#,
/// )?;
/// assert_eq!(notice.invoice_id.as_str(), "42");
/// assert_eq!(notice.amount, None, "not an amount this SDK can read");
/// assert_eq!(notice.unreadable, ["amount"]);
/// assert_eq!(notice.extra["ref"], "x");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct WebhookNotice {
    /// The transaction record number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The amount paid, as claimed by the sender.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<Amount>,
    /// The invoice's note.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub info: Option<String>,
    /// The invoice the notice is about.
    pub invoice_id: InvoiceId,
    /// The invoice's state, as claimed by the sender.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invoice_state: Option<InvoiceState>,
    /// The payer's phone number (personal data).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    /// Observed, undocumented.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub held_id: Option<String>,
    /// Observed, undocumented.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_number: Option<String>,
    /// The names of the known fields whose values could not be read (their values are in
    /// [`extra`](Self::extra)).
    #[serde(skip)]
    pub unreadable: Vec<String>,
    /// Every other field of the body.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The fields a notice reads, by their name with case and `_`/`-` ignored.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Field {
    Id,
    Amount,
    Info,
    InvoiceId,
    InvoiceState,
    PhoneNumber,
    HeldId,
    OrderNumber,
}

impl Field {
    fn of(name: &str) -> Option<Field> {
        // Folded without allocating: `_` and `-` dropped, ASCII lower-cased. Every field name is
        // ASCII, and no other character lower-cases to a letter of one (the Kelvin sign's `k`
        // is in none), so a name with any other character is no field.
        let mut buffer = [0u8; 16];
        let mut len = 0;
        for byte in name.bytes().filter(|b| !matches!(b, b'_' | b'-')) {
            if !byte.is_ascii() || len == buffer.len() {
                return None;
            }
            buffer[len] = byte.to_ascii_lowercase();
            len += 1;
        }
        Some(match &buffer[..len] {
            b"id" => Field::Id,
            b"amount" => Field::Amount,
            b"info" => Field::Info,
            b"invoiceid" => Field::InvoiceId,
            b"invoicestate" => Field::InvoiceState,
            b"phonenumber" => Field::PhoneNumber,
            b"heldid" => Field::HeldId,
            b"ordernumber" => Field::OrderNumber,
            _ => return None,
        })
    }
}

/// Text from a string or a number; `None` for null; `Err` for anything else.
fn text(value: &Value) -> Result<Option<String>, ()> {
    lenient::opt_string(value).map_err(|_: serde_json::Error| ())
}

/// The invoice a notice names, or why it names none.
fn invoice_id(value: &Value) -> Result<InvoiceId, String> {
    match text(value) {
        Ok(Some(id)) => InvoiceId::new(id).map_err(|error| error.to_string()),
        Ok(None) => Err("invoiceId is null: the notice names no invoice".to_owned()),
        Err(()) => Err(format!("invoiceId is not a string or a whole number: {value}")),
    }
}

impl<'de> Deserialize<'de> for WebhookNotice {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let body = Map::<String, Value>::deserialize(deserializer)?;
        let mut invoice: Option<InvoiceId> = None;
        let mut notice = WebhookNotice::new(InvoiceId::from(0));
        let mut known: Vec<(Field, String, Value)> = Vec::new();
        for (name, value) in body {
            match Field::of(&name) {
                Some(Field::InvoiceId) => {
                    let id = invoice_id(&value).map_err(D::Error::custom)?;
                    if invoice.as_ref().is_some_and(|first| *first != id) {
                        return Err(D::Error::custom("the notice names two invoices (invoiceId given twice)"));
                    }
                    invoice = Some(id);
                }
                Some(field) => known.push((field, name, value)),
                None => {
                    notice.extra.insert(name, value);
                }
            }
        }
        for (field, name, value) in &known {
            // A field given twice under two spellings is believed in neither (and never read).
            let repeated = known.iter().filter(|(other, ..)| other == field).count() > 1;
            if repeated || !notice.read(*field, value) {
                notice.unreadable.push(name.clone());
                notice.extra.insert(name.clone(), value.clone());
            }
        }
        notice.invoice_id = invoice.ok_or_else(|| D::Error::missing_field("invoiceId"))?;
        Ok(notice)
    }
}

impl WebhookNotice {
    /// Reads one known field; `false` when its value cannot be read.
    fn read(&mut self, field: Field, value: &Value) -> bool {
        let as_text = || text(value).ok();
        match field {
            Field::Amount => match value {
                Value::Null => true,
                _ => Amount::deserialize(value).map(|amount| self.amount = Some(amount)).is_ok(),
            },
            Field::InvoiceState => match value {
                Value::Null => true,
                _ => InvoiceState::deserialize(value).map(|state| self.invoice_state = Some(state)).is_ok(),
            },
            Field::Id | Field::Info | Field::PhoneNumber | Field::HeldId | Field::OrderNumber => {
                let Some(read) = as_text() else { return false };
                *self.text_field(field) = read;
                true
            }
            Field::InvoiceId => false,
        }
    }

    fn text_field(&mut self, field: Field) -> &mut Option<String> {
        match field {
            Field::Id => &mut self.id,
            Field::Info => &mut self.info,
            Field::PhoneNumber => &mut self.phone_number,
            Field::HeldId => &mut self.held_id,
            _ => &mut self.order_number,
        }
    }
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
            .field("unreadable", &self.unreadable)
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
            unreadable: Vec::new(),
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

#[cfg(test)]
mod tests {
    use super::Field;

    #[test]
    fn field_names_are_read_in_any_case_with_or_without_separators() {
        for name in ["invoiceId", "invoice_id", "INVOICE-ID", "InvoiceID", "invoice__id", "_invoiceid_"] {
            assert!(matches!(Field::of(name), Some(Field::InvoiceId)), "{name}");
        }
        assert!(matches!(Field::of("phone_number"), Some(Field::PhoneNumber)));
        for other in ["invoiceİd", "invoice id", "invoiceidentifiers", "", "x".repeat(40).as_str(), "ınfo"] {
            assert!(Field::of(other).is_none(), "{other:?}");
        }
    }
}
