//! The merchant QR invoice (v1, no wallet user): `POST {api}/invoice` `{amount, info}` answers
//! `{id, qr, …}`; the shop shows `qr` as a QR code, any wallet that scans it pays, and the
//! invoice is checked like any v1 invoice. Observed in public code (an erxes payment plugin),
//! not in Pocket's documents.

use std::fmt;

use serde::ser::SerializeStruct;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::{Amount, AmountError, InvoiceId, InvoiceNote, UnconfirmedInvoice, ValidationError, lenient};

/// A request to create a merchant QR invoice, validated when it is made: an amount of at least
/// [`Amount::MIN_INVOICE`] and a note, as for [`NewInvoice`](crate::NewInvoice), but for no
/// particular wallet user — whoever scans the code pays.
///
/// Serializes to `{amount, info}`.
///
/// ```
/// use pocket_core::{Amount, NewMerchantInvoice};
///
/// let invoice = NewMerchantInvoice::new(Amount::from_tugrik(4_500)?, "Кофе".parse()?)?;
/// assert_eq!(serde_json::to_value(&invoice)?, serde_json::json!({"amount": 4500, "info": "Кофе"}));
/// assert!(NewMerchantInvoice::new(Amount::from_tugrik(499)?, "Tea".parse()?).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMerchantInvoice {
    amount: Amount,
    info: InvoiceNote,
}

impl NewMerchantInvoice {
    /// A QR invoice of `amount` (at least [`Amount::MIN_INVOICE`]) with the note `info`.
    pub fn new(amount: Amount, info: InvoiceNote) -> Result<NewMerchantInvoice, ValidationError> {
        if amount < Amount::MIN_INVOICE {
            return Err(AmountError::BelowMinimum { amount, minimum: Amount::MIN_INVOICE }.into());
        }
        Ok(NewMerchantInvoice { amount, info })
    }

    /// The amount to pay.
    pub fn amount(&self) -> Amount {
        self.amount
    }

    /// The note shown to the payer.
    pub fn info(&self) -> &InvoiceNote {
        &self.info
    }
}

impl Serialize for NewMerchantInvoice {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut body = serializer.serialize_struct("NewMerchantInvoice", 2)?;
        body.serialize_field("amount", &self.amount)?;
        body.serialize_field("info", &self.info)?;
        body.end()
    }
}

/// A created merchant QR invoice: `{id, qr, …}`. Only `id` is required; the answer's other
/// fields are unknown and kept in [`extra`](Self::extra).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MerchantInvoice {
    /// Pocket's id of the invoice: check it with `check_invoice` like any v1 invoice.
    pub id: InvoiceId,
    /// The text to show as a QR code for the wallet's scanner (render it, don't parse it).
    #[serde(default, deserialize_with = "lenient::opt_string", skip_serializing_if = "Option::is_none")]
    pub qr: Option<String>,
    /// Every other field of the answer.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl MerchantInvoice {
    /// An invoice with only its id and QR text.
    pub fn new(id: InvoiceId, qr: Option<String>) -> MerchantInvoice {
        MerchantInvoice { id, qr, extra: Map::new() }
    }
}

impl fmt::Display for MerchantInvoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "QR invoice {}", self.id)
    }
}

impl From<&NewMerchantInvoice> for UnconfirmedInvoice {
    fn from(invoice: &NewMerchantInvoice) -> UnconfirmedInvoice {
        UnconfirmedInvoice { amount: invoice.amount(), info: invoice.info().clone(), order: None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_answer_is_read_whatever_pocket_adds_or_leaves_out() {
        let full: MerchantInvoice =
            serde_json::from_str(r#"{"id": 10001, "qr": "0002010102", "amount": "4500.00", "state": null}"#).unwrap();
        assert_eq!((full.id.as_str(), full.qr.as_deref()), ("10001", Some("0002010102")));
        assert_eq!(full.extra["amount"], "4500.00");
        let bare: MerchantInvoice = serde_json::from_str(r#"{"id": "10002", "qr": null}"#).unwrap();
        assert_eq!((bare.id.as_str(), bare.qr), ("10002", None));
        assert!(serde_json::from_str::<MerchantInvoice>(r#"{"qr": "x"}"#).is_err(), "no id");
    }

    #[cfg(feature = "qr")]
    #[test]
    fn its_qr_text_is_drawn_and_a_missing_one_is_an_error_naming_the_invoice() {
        let invoice = MerchantInvoice::new(InvoiceId::from(10_001), Some("pocket-sandbox:pay:10001".to_owned()));
        assert!(invoice.qr_svg(4).unwrap().contains("<svg"));
        assert!(invoice.qr_png(2).unwrap().starts_with(b"\x89PNG"));
        let error = MerchantInvoice::new(InvoiceId::from(10_002), None).qr_svg(4).unwrap_err();
        assert!(error.to_string().contains("10002"), "{error}");
    }
}
