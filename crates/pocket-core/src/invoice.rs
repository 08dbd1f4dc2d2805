//! Invoices: the create request, the create response, and the check response.

use std::fmt;

use serde::ser::SerializeStruct;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::{
    Amount, AmountError, ConsumerToken, InvoiceId, InvoiceNote, InvoiceState, UnconfirmedInvoice, ValidationError,
    lenient,
};

/// A request to create an invoice for a wallet user, validated when it is made.
///
/// Serializes to exactly the documented body: `{"amount", "info", "consumerToken"}`.
///
/// ```
/// use pocket_core::{Amount, ConsumerToken, NewInvoice};
///
/// let token = ConsumerToken::new("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln")?;
/// let invoice = NewInvoice::new(Amount::from_tugrik(560)?, "Нэхэмжлэх".parse()?, token)?;
/// assert_eq!(invoice.amount().to_string(), "560 ₮");
///
/// let too_small = NewInvoice::new(Amount::from_tugrik(499)?, "Tea".parse()?, invoice.consumer_token().clone());
/// assert!(too_small.is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct NewInvoice {
    amount: Amount,
    info: InvoiceNote,
    consumer_token: ConsumerToken,
}

impl NewInvoice {
    /// A new invoice of `amount` (at least [`Amount::MIN_INVOICE`]) with the note `info`, for the
    /// wallet user whose ID token is `consumer_token`.
    pub fn new(
        amount: Amount,
        info: InvoiceNote,
        consumer_token: ConsumerToken,
    ) -> Result<NewInvoice, ValidationError> {
        if amount < Amount::MIN_INVOICE {
            return Err(AmountError::BelowMinimum { amount, minimum: Amount::MIN_INVOICE }.into());
        }
        Ok(NewInvoice { amount, info, consumer_token })
    }

    /// The amount to pay.
    pub fn amount(&self) -> Amount {
        self.amount
    }

    /// The note shown to the payer.
    pub fn info(&self) -> &InvoiceNote {
        &self.info
    }

    /// The wallet user's ID token.
    pub fn consumer_token(&self) -> &ConsumerToken {
        &self.consumer_token
    }
}

impl fmt::Debug for NewInvoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewInvoice")
            .field("amount", &self.amount)
            .field("info", &self.info)
            .field("consumer_token", &self.consumer_token)
            .finish()
    }
}

impl Serialize for NewInvoice {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut body = serializer.serialize_struct("NewInvoice", 3)?;
        body.serialize_field("amount", &self.amount)?;
        body.serialize_field("info", &self.info)?;
        body.serialize_field("consumerToken", self.consumer_token.expose_secret())?;
        body.end()
    }
}

/// An invoice as Pocket returns it from `POST consumer/invoice`: at least `{id, info, amount,
/// terminalId}`. Only `id` is required; every other field Pocket sends is kept in
/// [`extra`](Self::extra).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Invoice {
    /// Pocket's id of the invoice.
    pub id: InvoiceId,
    /// The note, as Pocket stored it.
    #[serde(default, deserialize_with = "lenient::opt_string", skip_serializing_if = "Option::is_none")]
    pub info: Option<String>,
    /// The amount, as Pocket stored it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<Amount>,
    /// The merchant's terminal that the invoice belongs to (the wallet's pay screen needs it).
    #[serde(default, deserialize_with = "lenient::opt_string", skip_serializing_if = "Option::is_none")]
    pub terminal_id: Option<String>,
    /// Every other field of the response.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Invoice {
    /// An invoice with only its id; the other fields can be filled in afterwards.
    pub fn new(id: InvoiceId) -> Invoice {
        Invoice { id, info: None, amount: None, terminal_id: None, extra: Map::new() }
    }
}

/// An invoice's state and details, as Pocket returns them from `GET invoice/check/{id}`.
///
/// The response's shape is not documented; every field is optional and unknown ones are kept in
/// [`extra`](Self::extra). The state is read from `state`, as text in any case or as an integer
/// code; when `state` is missing or `null`, from `invoiceState`; when both are given, `state`
/// wins and `invoiceState` is kept in `extra`. With neither it is an empty
/// [`InvoiceState::Unknown`], which is neither paid nor final.
///
/// ```
/// use pocket_core::{InvoiceState, InvoiceStatus};
///
/// let status: InvoiceStatus = serde_json::from_str(r#"{"id": 7, "state": null, "invoiceState": 20}"#)?;
/// assert_eq!(status.state, InvoiceState::Paid);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", from = "StatusWire")]
#[non_exhaustive]
pub struct InvoiceStatus {
    /// Pocket's id of the invoice.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<InvoiceId>,
    /// The invoice's state.
    pub state: InvoiceState,
    /// The amount of the invoice.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<Amount>,
    /// The note.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub info: Option<String>,
    /// A longer description, if Pocket has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// When the invoice was created, as Pocket wrote it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// The merchant's terminal.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub terminal_id: Option<String>,
    /// An order number, if Pocket has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_number: Option<String>,
    /// Every other field of the response.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The check answer as it arrives, with both spellings of the state.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StatusWire {
    #[serde(default)]
    id: Option<InvoiceId>,
    #[serde(default)]
    state: Option<InvoiceState>,
    #[serde(default)]
    invoice_state: Option<Value>,
    #[serde(default)]
    amount: Option<Amount>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    info: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    description: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    created_at: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    terminal_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    order_number: Option<String>,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

impl From<StatusWire> for InvoiceStatus {
    fn from(wire: StatusWire) -> InvoiceStatus {
        let mut extra = wire.extra;
        let state = resolve_state(wire.state, wire.invoice_state, &mut extra);
        InvoiceStatus {
            id: wire.id,
            state,
            amount: wire.amount,
            info: wire.info,
            description: wire.description,
            created_at: wire.created_at,
            terminal_id: wire.terminal_id,
            order_number: wire.order_number,
            extra,
        }
    }
}

/// The state of an answer that may carry `state`, `invoiceState` or both: `state` unless it is
/// missing or `null`, then `invoiceState`; when both are given, `invoiceState` is kept in `extra`.
pub(crate) fn resolve_state(
    state: Option<InvoiceState>,
    alias: Option<Value>,
    extra: &mut Map<String, Value>,
) -> InvoiceState {
    let alias = alias.filter(|value| !value.is_null());
    match (state.filter(|state| *state != InvoiceState::default()), alias) {
        (Some(state), Some(other)) => {
            extra.insert("invoiceState".to_owned(), other);
            state
        }
        (Some(state), None) => state,
        (None, Some(other)) => InvoiceState::deserialize(&other).unwrap_or_default(),
        (None, None) => InvoiceState::default(),
    }
}

impl InvoiceStatus {
    /// A status with a state and nothing else; the other fields can be filled in afterwards.
    pub fn new(state: InvoiceState) -> InvoiceStatus {
        InvoiceStatus {
            id: None,
            state,
            amount: None,
            info: None,
            description: None,
            created_at: None,
            terminal_id: None,
            order_number: None,
            extra: Map::new(),
        }
    }
}

impl From<&NewInvoice> for UnconfirmedInvoice {
    fn from(invoice: &NewInvoice) -> UnconfirmedInvoice {
        UnconfirmedInvoice { amount: invoice.amount(), info: invoice.info().clone(), order: None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_answers_with_null_duplicate_or_coded_states() {
        let read = |json: &str| serde_json::from_str::<InvoiceStatus>(json).unwrap();
        assert_eq!(read(r#"{"state": null}"#).state, InvoiceState::default());
        assert_eq!(read(r#"{"state": null, "invoiceState": "PAID"}"#).state, InvoiceState::Paid);
        let both = read(r#"{"state": "PENDING", "invoiceState": 20}"#);
        assert_eq!(both.state, InvoiceState::Pending, "`state` wins");
        assert_eq!(both.extra["invoiceState"], 20, "the other is kept");
        assert_eq!(read(r#"{"invoiceState": 70}"#).state, InvoiceState::Processed);
        assert_eq!(read(r#"{"state": 30, "id": null, "amount": null}"#).state, InvoiceState::Cancelled);
    }
}
