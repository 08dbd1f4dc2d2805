//! Invoices: the create request, the create response, and the check response.

use std::fmt;
use std::str::FromStr;

use serde::ser::SerializeStruct;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::{Amount, AmountError, ConsumerToken, InvoiceNote, InvoiceState, ValidationError, lenient};

/// Pocket's id of an invoice. Pocket sends it as a number or a string; it is kept as text.
///
/// An id goes into a URL path (`/invoice/check/{id}`), so it is refused when it could not be one
/// path segment: empty, `.` or `..`, longer than 256 characters, or with control characters. Every
/// other character is allowed and percent-encoded when the URL is built.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct InvoiceId(String);

/// Why a text is not an [`InvoiceId`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvoiceIdError {
    /// The id was empty.
    #[error("the invoice id is empty")]
    Empty,
    /// The id was `.` or `..`, which no URL can carry as a path segment.
    #[error("the invoice id {0:?} cannot be a URL path segment")]
    DotSegment(String),
    /// The id was longer than 256 characters.
    #[error("the invoice id is {len} characters long; at most {max} are accepted")]
    TooLong {
        /// Its length in characters.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The id contained a control character.
    #[error("the invoice id contains a control character")]
    ControlCharacter,
}

impl InvoiceId {
    const MAX_LEN: usize = 256;

    /// Validates `id` as an invoice id.
    pub fn new(id: impl Into<String>) -> Result<InvoiceId, InvoiceIdError> {
        let id = id.into();
        if id.is_empty() {
            return Err(InvoiceIdError::Empty);
        }
        if id == "." || id == ".." {
            return Err(InvoiceIdError::DotSegment(id));
        }
        let chars = id.chars().count();
        if chars > Self::MAX_LEN {
            return Err(InvoiceIdError::TooLong { len: chars, max: Self::MAX_LEN });
        }
        if id.chars().any(char::is_control) {
            return Err(InvoiceIdError::ControlCharacter);
        }
        Ok(InvoiceId(id))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The number a Java `Long` path variable (Spring's number conversion, as Pocket's merchant
    /// services read an id) reads from this id, if it reads one: every character Java calls
    /// whitespace is dropped (not the no-break spaces U+00A0, U+2007 and U+202F), `0x`, `0X` or
    /// `#` after an optional `-` mean hexadecimal, otherwise one `+` or `-` may lead, and the
    /// digits may be those of any script — so `4242`, `04242`, `+4242`, ` 42 42`, `0x1092`,
    /// `٤٢٤٢` and `４２４２` are all invoice 4242, while `4242\u{a0}` and `+0x1092` are no number.
    ///
    /// ```
    /// use pocket_core::InvoiceId;
    ///
    /// for spelling in ["4242", "004242", "+4242", " 42 42", "0x1092", "#1092", "٤٢٤٢", "᠔᠒᠔᠒"] {
    ///     assert_eq!(InvoiceId::new(spelling)?.as_number(), Some(4242), "{spelling}");
    /// }
    /// for not_a_number in ["INV-42", "4242\u{a0}", "+0x1092", "-+4242"] {
    ///     assert_eq!(InvoiceId::new(not_a_number)?.as_number(), None, "{not_a_number}");
    /// }
    /// # Ok::<(), pocket_core::InvoiceIdError>(())
    /// ```
    pub fn as_number(&self) -> Option<i64> {
        crate::java_long::parse(&self.0)
    }

    /// The invoice as Pocket identifies it: the plain decimal form of the number the id reads
    /// as, or the id's exact text when it is no number. Two ids name one invoice exactly when
    /// their keys are equal (no text that is no number equals a number's key, which reads as
    /// that number); stores key payments on it.
    ///
    /// ```
    /// use pocket_core::InvoiceId;
    ///
    /// assert_eq!(InvoiceId::new("+04242")?.key(), InvoiceId::new("4242")?.key());
    /// assert_eq!(InvoiceId::new(" INV-7 ")?.key(), " INV-7 ");
    /// # Ok::<(), pocket_core::InvoiceIdError>(())
    /// ```
    pub fn key(&self) -> String {
        match self.as_number() {
            Some(number) => number.to_string(),
            None => self.0.clone(),
        }
    }
}

impl From<u64> for InvoiceId {
    fn from(id: u64) -> Self {
        InvoiceId(id.to_string())
    }
}

impl FromStr for InvoiceId {
    type Err = InvoiceIdError;

    fn from_str(id: &str) -> Result<Self, Self::Err> {
        InvoiceId::new(id)
    }
}

impl fmt::Display for InvoiceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for InvoiceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "InvoiceId({:?})", self.0)
    }
}

impl<'de> Deserialize<'de> for InvoiceId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        InvoiceId::new(lenient::text(deserializer)?).map_err(serde::de::Error::custom)
    }
}

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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<InvoiceId>,
    /// The invoice's state.
    #[serde(default)]
    pub state: InvoiceState,
    /// The amount of the invoice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<Amount>,
    /// The note.
    #[serde(default, deserialize_with = "lenient::opt_string", skip_serializing_if = "Option::is_none")]
    pub info: Option<String>,
    /// A longer description, if Pocket has one.
    #[serde(default, deserialize_with = "lenient::opt_string", skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// When the invoice was created, as Pocket wrote it.
    #[serde(default, deserialize_with = "lenient::opt_string", skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// The merchant's terminal.
    #[serde(default, deserialize_with = "lenient::opt_string", skip_serializing_if = "Option::is_none")]
    pub terminal_id: Option<String>,
    /// An order number, if Pocket has one.
    #[serde(default, deserialize_with = "lenient::opt_string", skip_serializing_if = "Option::is_none")]
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invoice_ids_come_as_numbers_or_strings() {
        let id: InvoiceId = serde_json::from_str("42").unwrap();
        assert_eq!(id.as_str(), "42");
        let id: InvoiceId = serde_json::from_str("\"INV-42\"").unwrap();
        assert_eq!(id.as_str(), "INV-42");
        assert_eq!(serde_json::to_string(&InvoiceId::from(7)).unwrap(), "\"7\"");
    }

    #[test]
    fn ids_read_as_a_java_long_would() {
        let number = |id: &str| InvoiceId::new(id).unwrap().as_number();
        assert_eq!(number("0"), Some(0));
        assert_eq!(number("-0x10"), Some(-16));
        assert_eq!(number("9223372036854775807"), Some(i64::MAX));
        assert_eq!(number("-9223372036854775808"), Some(i64::MIN));
        assert_eq!(number("9223372036854775808"), None, "beyond a Long");
        assert_eq!(number(&format!("{}7", "0".repeat(200))), Some(7));
        assert_eq!(number("٤٢"), Some(42), "any script's decimal digits");
        assert_eq!(number("-#10"), Some(-16));
        assert_eq!(number("-0x8000000000000000"), Some(i64::MIN));
        for not_a_number in ["+", "-", "0x", "#", "4242.0", "1e3", "42a", "++1", "+0x10", "0x-1", "4\u{a0}2", "²"] {
            assert_eq!(number(not_a_number), None, "{not_a_number}");
        }
    }

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

    #[test]
    fn invoice_ids_that_cannot_be_a_path_segment_are_refused() {
        assert_eq!(InvoiceId::new(""), Err(InvoiceIdError::Empty));
        assert!(matches!(InvoiceId::new(".."), Err(InvoiceIdError::DotSegment(_))));
        assert!(matches!(InvoiceId::new("."), Err(InvoiceIdError::DotSegment(_))));
        assert_eq!(InvoiceId::new("a\nb"), Err(InvoiceIdError::ControlCharacter));
        assert!(matches!(InvoiceId::new("9".repeat(257)), Err(InvoiceIdError::TooLong { len: 257, .. })));
        assert!(InvoiceId::new("Ж".repeat(256)).is_ok(), "counted in characters, as JSON Schema counts");
        assert!(serde_json::from_str::<InvoiceId>("\"\"").is_err());
        assert!(serde_json::from_str::<InvoiceId>("null").is_err());
        assert!(InvoiceId::new("../x").is_ok(), "kept, and encoded as one segment later");
    }
}
