//! Gateway invoices: the generate request, its answer, and the detail lookups answer.

use std::fmt;

use serde::ser::SerializeStruct;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};

use super::{Channel, InvoiceType};
use crate::invoice::resolve_state;
use crate::{
    Amount, AmountError, InvoiceId, InvoiceNote, InvoiceState, InvoiceStatus, OrderNumber, TerminalId,
    UnconfirmedInvoice, ValidationError, lenient,
};

/// A request to generate a QR / deep-link invoice for an order on one of the merchant's
/// terminals (`POST v2/invoicing/generate-invoice`), validated when it is made.
///
/// Serializes to `{terminalId, amount, info, orderNumber, invoiceType, channel}`. The amount
/// must be at least [`Amount::MIN_INVOICE`], as for mini-app invoices (Pocket documents no
/// other minimum for the gateway).
///
/// ```
/// use pocket_core::{Amount, Channel, NewGatewayInvoice, TerminalId};
///
/// let invoice = NewGatewayInvoice::new(
///     TerminalId::new(74686381183671),
///     Amount::from_tugrik(12_500)?,
///     "Захиалга #117".parse()?,
///     "SHOP-117".parse()?,
/// )?
/// .with_channel(Channel::Pos);
/// let body = serde_json::to_value(&invoice)?;
/// assert_eq!(body["orderNumber"], "SHOP-117");
/// assert_eq!(body["channel"], "pos");
/// assert_eq!(body["invoiceType"], "PURCHASE");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewGatewayInvoice {
    terminal_id: TerminalId,
    amount: Amount,
    info: InvoiceNote,
    order_number: OrderNumber,
    invoice_type: InvoiceType,
    channel: Channel,
}

impl NewGatewayInvoice {
    /// An invoice of `amount` for `order_number` on `terminal_id`, with the note `info`; paid
    /// from the wallet balance ([`InvoiceType::Purchase`]) in a web shop ([`Channel::Ecommerce`]).
    pub fn new(
        terminal_id: TerminalId,
        amount: Amount,
        info: InvoiceNote,
        order_number: OrderNumber,
    ) -> Result<NewGatewayInvoice, ValidationError> {
        if amount < Amount::MIN_INVOICE {
            return Err(AmountError::BelowMinimum { amount, minimum: Amount::MIN_INVOICE }.into());
        }
        Ok(NewGatewayInvoice {
            terminal_id,
            amount,
            info,
            order_number,
            invoice_type: InvoiceType::Purchase,
            channel: Channel::Ecommerce,
        })
    }

    /// The same invoice, paid as `invoice_type` says.
    pub fn with_invoice_type(mut self, invoice_type: InvoiceType) -> Self {
        self.invoice_type = invoice_type;
        self
    }

    /// The same invoice, sold through `channel`.
    pub fn with_channel(mut self, channel: Channel) -> Self {
        self.channel = channel;
        self
    }

    /// The terminal.
    pub fn terminal_id(&self) -> TerminalId {
        self.terminal_id
    }

    /// The amount to pay.
    pub fn amount(&self) -> Amount {
        self.amount
    }

    /// The note shown to the payer.
    pub fn info(&self) -> &InvoiceNote {
        &self.info
    }

    /// The merchant's order number.
    pub fn order_number(&self) -> &OrderNumber {
        &self.order_number
    }

    /// How it is paid.
    pub fn invoice_type(&self) -> &InvoiceType {
        &self.invoice_type
    }

    /// Where it is sold.
    pub fn channel(&self) -> &Channel {
        &self.channel
    }
}

impl Serialize for NewGatewayInvoice {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut body = serializer.serialize_struct("NewGatewayInvoice", 6)?;
        body.serialize_field("terminalId", &self.terminal_id)?;
        body.serialize_field("amount", &self.amount)?;
        body.serialize_field("info", &self.info)?;
        body.serialize_field("orderNumber", &self.order_number)?;
        body.serialize_field("invoiceType", &self.invoice_type)?;
        body.serialize_field("channel", &self.channel)?;
        body.end()
    }
}

/// A generated gateway invoice: `{id, qr, orderNumber, deeplink}`. Only `id` is required;
/// everything else Pocket sends is kept in [`extra`](Self::extra).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", from = "GatewayWire")]
#[non_exhaustive]
pub struct GatewayInvoice {
    /// Pocket's id of the invoice.
    pub id: InvoiceId,
    /// The text to show as a QR code for the wallet's scanner (render it, don't parse it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qr: Option<String>,
    /// The order number, as Pocket stored it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_number: Option<String>,
    /// A link that opens the wallet's pay screen on a phone (`deeplink`, or `deepLink`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deeplink: Option<String>,
    /// Every other field of the answer.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The generate answer as it arrives, with both spellings of the deep link.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GatewayWire {
    id: InvoiceId,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    qr: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    order_number: Option<String>,
    #[serde(default, rename = "deeplink", deserialize_with = "lenient::opt_string")]
    deeplink: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    deep_link: Option<String>,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

impl From<GatewayWire> for GatewayInvoice {
    fn from(wire: GatewayWire) -> GatewayInvoice {
        let mut extra = wire.extra;
        let deeplink = either_spelling(wire.deeplink, ("deepLink", wire.deep_link), &mut extra);
        GatewayInvoice { id: wire.id, qr: wire.qr, order_number: wire.order_number, deeplink, extra }
    }
}

/// A field Pocket may spell two ways: the first spelling when given, else the second; when both
/// are, the second is kept in `extra` under its name.
fn either_spelling(
    first: Option<String>,
    (name, second): (&str, Option<String>),
    extra: &mut Map<String, Value>,
) -> Option<String> {
    match (first, second) {
        (Some(first), Some(second)) => {
            extra.insert(name.to_owned(), Value::String(second));
            Some(first)
        }
        (first, second) => first.or(second),
    }
}

impl GatewayInvoice {
    /// An invoice with only its id; the other fields can be filled in afterwards.
    pub fn new(id: InvoiceId) -> GatewayInvoice {
        GatewayInvoice { id, qr: None, order_number: None, deeplink: None, extra: Map::new() }
    }
}

/// A gateway invoice as the detail lookups return it (by order number or by id).
///
/// Every field is optional and read leniently, like the check answer ([`InvoiceStatus`]): ids
/// and names as strings or numbers, the state as text in any case or as an integer code, from
/// `state` or else `invoiceState`; `holdId` also as `heldId` (the webhook's spelling). Unknown
/// fields are kept in [`extra`](Self::extra). `Debug` hides the sender's and receiver's names.
///
/// ```
/// use pocket_core::{InvoiceDetail, InvoiceState};
///
/// let detail: InvoiceDetail = serde_json::from_str(
///     r#"{"id": 9001, "state": "paid", "amount": "12500.00", "terminalId": "74686381183671",
///         "orderNumber": "SHOP-117", "invoiceType": "PURCHASE", "senderName": "Б. Бат"}"#,
/// )?;
/// assert_eq!(detail.state, InvoiceState::Paid);
/// assert!(!format!("{detail:?}").contains("Бат"));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", from = "DetailWire")]
#[non_exhaustive]
pub struct InvoiceDetail {
    /// Pocket's id of the invoice.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<InvoiceId>,
    /// The invoice's state.
    pub state: InvoiceState,
    /// Text Pocket adds (the failure text of an unsuccessful payment).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The payer's name (personal data).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sender_name: Option<String>,
    /// The receiving merchant's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receiver_name: Option<String>,
    /// The amount of the invoice.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<Amount>,
    /// The note.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub info: Option<String>,
    /// The hold of the payment (`holdId`, or `heldId` as the webhook spells it; with both,
    /// `holdId` wins and `heldId` is kept in `extra`).
    #[serde(rename = "holdId", default, skip_serializing_if = "Option::is_none")]
    pub held_id: Option<String>,
    /// When the invoice was created, as Pocket wrote it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// The merchant's name as the payer sees it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alias_name: Option<String>,
    /// The terminal.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub terminal_id: Option<TerminalId>,
    /// The branch's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub branch_name: Option<String>,
    /// The branch's id, as text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub branch_id: Option<String>,
    /// The merchant's order number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_number: Option<String>,
    /// How it is paid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invoice_type: Option<InvoiceType>,
    /// Every other field of the answer.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The detail answer as it arrives, with every accepted spelling.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DetailWire {
    #[serde(default)]
    id: Option<InvoiceId>,
    #[serde(default)]
    state: Option<InvoiceState>,
    #[serde(default)]
    invoice_state: Option<Value>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    description: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    sender_name: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    receiver_name: Option<String>,
    #[serde(default)]
    amount: Option<Amount>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    info: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    hold_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    held_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    created_at: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    alias_name: Option<String>,
    #[serde(default)]
    terminal_id: Option<TerminalId>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    branch_name: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    branch_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    order_number: Option<String>,
    #[serde(default)]
    invoice_type: Option<InvoiceType>,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

impl From<DetailWire> for InvoiceDetail {
    fn from(wire: DetailWire) -> InvoiceDetail {
        let mut extra = wire.extra;
        let state = resolve_state(wire.state, wire.invoice_state, &mut extra);
        let hold_id = either_spelling(wire.hold_id, ("heldId", wire.held_id), &mut extra);
        InvoiceDetail {
            id: wire.id,
            state,
            description: wire.description,
            sender_name: wire.sender_name,
            receiver_name: wire.receiver_name,
            amount: wire.amount,
            info: wire.info,
            held_id: hold_id,
            created_at: wire.created_at,
            alias_name: wire.alias_name,
            terminal_id: wire.terminal_id,
            branch_name: wire.branch_name,
            branch_id: wire.branch_id,
            order_number: wire.order_number,
            invoice_type: wire.invoice_type,
            extra,
        }
    }
}

impl InvoiceDetail {
    /// A detail with a state and nothing else; the other fields can be filled in afterwards.
    pub fn new(state: InvoiceState) -> InvoiceDetail {
        InvoiceDetail::from(DetailWire {
            id: None,
            state: Some(state),
            invoice_state: None,
            description: None,
            sender_name: None,
            receiver_name: None,
            amount: None,
            info: None,
            hold_id: None,
            held_id: None,
            created_at: None,
            alias_name: None,
            terminal_id: None,
            branch_name: None,
            branch_id: None,
            order_number: None,
            invoice_type: None,
            extra: Map::new(),
        })
    }

    /// The same facts as a check answer, for code that confirms payments from either API. The
    /// fields a check answer has no place for stay in its `extra`, personal data excepted.
    pub fn to_status(&self) -> InvoiceStatus {
        let mut status = InvoiceStatus::new(self.state.clone());
        status.id = self.id.clone();
        status.amount = self.amount;
        status.info = self.info.clone();
        status.description = self.description.clone();
        status.created_at = self.created_at.clone();
        status.terminal_id = self.terminal_id.map(|id| id.to_string());
        status.order_number = self.order_number.clone();
        status.extra = self.extra.clone();
        if let Some(hold) = &self.held_id {
            status.extra.insert("holdId".to_owned(), Value::String(hold.clone()));
        }
        status
    }
}

impl fmt::Debug for InvoiceDetail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InvoiceDetail")
            .field("id", &self.id)
            .field("state", &self.state)
            .field("amount", &self.amount)
            .field("order_number", &self.order_number)
            .field("terminal_id", &self.terminal_id)
            .field("held_id", &self.held_id)
            .field("invoice_type", &self.invoice_type)
            .field("sender_name", &crate::user::presence(&self.sender_name))
            .field("receiver_name", &self.receiver_name)
            .field("created_at", &self.created_at)
            .field("extra", &self.extra.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// A gateway invoice keeps its terminal and order number, by which it can be looked up.
impl From<&NewGatewayInvoice> for UnconfirmedInvoice {
    fn from(invoice: &NewGatewayInvoice) -> UnconfirmedInvoice {
        UnconfirmedInvoice {
            amount: invoice.amount(),
            info: invoice.info().clone(),
            order: Some((invoice.terminal_id(), invoice.order_number().clone())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generate_requests_are_validated() {
        let make = |tugrik| {
            NewGatewayInvoice::new(
                TerminalId::new(1),
                Amount::from_tugrik(tugrik).unwrap(),
                "Tea".parse().unwrap(),
                "O-1".parse().unwrap(),
            )
        };
        assert_eq!(make(499).unwrap_err().field(), "amount");
        let body = serde_json::to_value(make(500).unwrap().with_invoice_type(InvoiceType::Zero)).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"terminalId": 1, "amount": 500, "info": "Tea", "orderNumber": "O-1",
                               "invoiceType": "ZERO", "channel": "ecommerce"})
        );
    }

    #[test]
    fn generate_answers_are_read_leniently() {
        let answer: GatewayInvoice = serde_json::from_str(
            r#"{"id": "77", "qr": "0002010102", "orderNumber": 117, "deepLink": "pocket://x", "ttl": 5}"#,
        )
        .unwrap();
        assert_eq!(answer.id.as_str(), "77");
        assert_eq!(answer.order_number.as_deref(), Some("117"));
        assert_eq!(answer.deeplink.as_deref(), Some("pocket://x"));
        assert_eq!(answer.extra["ttl"], 5);
        let both: GatewayInvoice =
            serde_json::from_str(r#"{"id": 1, "deeplink": "pocket://a", "deepLink": "pocket://b"}"#).unwrap();
        assert_eq!(
            (both.deeplink.as_deref(), &both.extra["deepLink"]),
            (Some("pocket://a"), &Value::from("pocket://b"))
        );
        assert!(serde_json::from_str::<GatewayInvoice>(r#"{"qr": "x"}"#).is_err(), "an answer without an id");
    }

    #[test]
    fn details_read_every_observed_shape() {
        let read = |json: &str| serde_json::from_str::<InvoiceDetail>(json).unwrap();
        let detail = read(
            r#"{"id": 9001, "state": null, "invoiceState": 20, "amount": 12500, "heldId": 55,
                "terminalId": 74686381183671, "branchId": 3, "invoiceType": "zero", "createdAt": null}"#,
        );
        assert_eq!(detail.state, InvoiceState::Paid);
        assert_eq!(detail.held_id.as_deref(), Some("55"));
        assert_eq!(detail.branch_id.as_deref(), Some("3"));
        assert_eq!(detail.invoice_type, Some(InvoiceType::Zero));
        assert_eq!(read("{}").state, InvoiceState::default());
        let spelt_twice = read(r#"{"holdId": "1", "heldId": "2"}"#);
        assert_eq!((spelt_twice.held_id.as_deref(), &spelt_twice.extra["heldId"]), (Some("1"), &Value::from("2")));
        let both = read(r#"{"state": "PENDING", "invoiceState": "PAID"}"#);
        assert_eq!(both.state, InvoiceState::Pending, "`state` wins, as in the check answer");
        let status = detail.to_status();
        assert_eq!(status.terminal_id.as_deref(), Some("74686381183671"));
        assert_eq!(status.extra["holdId"], "55");
        assert!(serde_json::from_str::<InvoiceDetail>(r#"{"terminalId": "T-1"}"#).is_err());
    }
}
