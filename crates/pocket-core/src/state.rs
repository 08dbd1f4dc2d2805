//! The state of an invoice as Pocket reports it.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// The state of an invoice.
///
/// Pocket has not published its list of states. These are the ones seen in public
/// integrations, matched case-insensitively; anything else is kept as [`Unknown`](Self::Unknown)
/// with the text Pocket sent, never an error.
///
/// | Pocket sends | state |
/// |---|---|
/// | `pending` | [`Pending`](Self::Pending) |
/// | `processing` | [`Processing`](Self::Processing) |
/// | `paid` | [`Paid`](Self::Paid) |
/// | `cancelled`, `canceled` | [`Cancelled`](Self::Cancelled) |
/// | `rejected` | [`Rejected`](Self::Rejected) |
/// | `failed`, `unsuccess`, `unsuccessful` | [`Failed`](Self::Failed) |
/// | anything else — also `processed` | [`Unknown`](Self::Unknown) |
///
/// `processed` is seen beside `paid` in third-party code, and nobody has documented whether it
/// means "settled" or "still being processed"; treating it as paid could ship goods that were
/// never paid for, so it stays unknown (not paid, not final) until Pocket says what it is.
///
/// ```
/// use pocket_core::InvoiceState;
///
/// let state: InvoiceState = serde_json::from_str("\"PAID\"")?;
/// assert!(state.is_paid() && state.is_final());
/// let state: InvoiceState = serde_json::from_str("\"on_hold\"")?;
/// assert_eq!(state, InvoiceState::Unknown("on_hold".into()));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum InvoiceState {
    /// Created, waiting for the payer.
    Pending,
    /// The payment is under way.
    Processing,
    /// Paid.
    Paid,
    /// Cancelled before it was paid.
    Cancelled,
    /// The payer declined it.
    Rejected,
    /// The payment failed.
    Failed,
    /// A state this SDK does not know, as Pocket wrote it (empty when Pocket sent none).
    Unknown(String),
}

impl InvoiceState {
    /// Reads a state as Pocket writes it, ignoring case and surrounding whitespace.
    pub fn parse(text: &str) -> InvoiceState {
        match text.trim().to_ascii_lowercase().as_str() {
            "pending" => InvoiceState::Pending,
            "processing" => InvoiceState::Processing,
            "paid" => InvoiceState::Paid,
            "cancelled" | "canceled" => InvoiceState::Cancelled,
            "rejected" => InvoiceState::Rejected,
            "failed" | "unsuccess" | "unsuccessful" => InvoiceState::Failed,
            _ => InvoiceState::Unknown(text.to_owned()),
        }
    }

    /// Whether the invoice has been paid.
    pub fn is_paid(&self) -> bool {
        matches!(self, InvoiceState::Paid)
    }

    /// Whether the state can no longer change (paid, cancelled, rejected or failed).
    pub fn is_final(&self) -> bool {
        matches!(self, InvoiceState::Paid | InvoiceState::Cancelled | InvoiceState::Rejected | InvoiceState::Failed)
    }

    /// The state's wire name: lowercase for known states, Pocket's own text for unknown ones.
    pub fn as_str(&self) -> &str {
        match self {
            InvoiceState::Pending => "pending",
            InvoiceState::Processing => "processing",
            InvoiceState::Paid => "paid",
            InvoiceState::Cancelled => "cancelled",
            InvoiceState::Rejected => "rejected",
            InvoiceState::Failed => "failed",
            InvoiceState::Unknown(text) => text,
        }
    }
}

impl Default for InvoiceState {
    /// "Pocket sent no state": unknown and empty.
    fn default() -> Self {
        InvoiceState::Unknown(String::new())
    }
}

impl fmt::Display for InvoiceState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for InvoiceState {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for InvoiceState {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StateVisitor)
    }
}

struct StateVisitor;

impl Visitor<'_> for StateVisitor {
    type Value = InvoiceState;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an invoice state such as \"paid\"")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<InvoiceState, E> {
        Ok(InvoiceState::parse(text))
    }

    // Numeric state codes have not been seen, but they are kept rather than refused.
    fn visit_u64<E: de::Error>(self, code: u64) -> Result<InvoiceState, E> {
        Ok(InvoiceState::Unknown(code.to_string()))
    }

    fn visit_i64<E: de::Error>(self, code: i64) -> Result<InvoiceState, E> {
        Ok(InvoiceState::Unknown(code.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_observed_states_in_any_case() {
        let cases = [
            ("pending", InvoiceState::Pending),
            ("PENDING", InvoiceState::Pending),
            ("Processing", InvoiceState::Processing),
            ("paid", InvoiceState::Paid),
            ("PAID", InvoiceState::Paid),
            (" Paid ", InvoiceState::Paid),
            ("cancelled", InvoiceState::Cancelled),
            ("CANCELED", InvoiceState::Cancelled),
            ("rejected", InvoiceState::Rejected),
            ("UNSUCCESS", InvoiceState::Failed),
            ("failed", InvoiceState::Failed),
        ];
        for (text, expected) in cases {
            assert_eq!(InvoiceState::parse(text), expected, "{text}");
        }
    }

    #[test]
    fn keeps_unknown_states_as_data() {
        assert_eq!(InvoiceState::parse("processed"), InvoiceState::Unknown("processed".into()));
        assert_eq!(InvoiceState::parse("Refunded"), InvoiceState::Unknown("Refunded".into()));
        let state: InvoiceState = serde_json::from_str("7").unwrap();
        assert_eq!(state, InvoiceState::Unknown("7".into()));
        assert_eq!(serde_json::to_string(&InvoiceState::Unknown("Refunded".into())).unwrap(), "\"Refunded\"");
    }

    #[test]
    fn only_paid_is_paid_and_only_settled_states_are_final() {
        let all = [
            InvoiceState::Pending,
            InvoiceState::Processing,
            InvoiceState::Paid,
            InvoiceState::Cancelled,
            InvoiceState::Rejected,
            InvoiceState::Failed,
            InvoiceState::Unknown("processed".into()),
            InvoiceState::default(),
        ];
        let paid: Vec<_> = all.iter().filter(|s| s.is_paid()).collect();
        assert_eq!(paid, [&InvoiceState::Paid]);
        let fin: Vec<_> = all.iter().filter(|s| s.is_final()).map(InvoiceState::as_str).collect();
        assert_eq!(fin, ["paid", "cancelled", "rejected", "failed"]);
    }
}
