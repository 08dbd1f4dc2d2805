//! The state of an invoice as Pocket reports it.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// The state of an invoice.
///
/// Pocket has not published its list of states. These are the ones seen in public
/// integrations, matched case-insensitively, or as the integer codes one integration reports
/// for the webhook; anything else is kept as [`Unknown`](Self::Unknown) with what Pocket sent,
/// never an error, and `null` is an empty `Unknown`.
///
/// | Pocket sends | code | state |
/// |---|---|---|
/// | `pending` | 10 | [`Pending`](Self::Pending) |
/// | `paid` | 20 | [`Paid`](Self::Paid) |
/// | `cancelled`, `canceled` | 30 | [`Cancelled`](Self::Cancelled) |
/// | `rejected` | 40 | [`Rejected`](Self::Rejected) |
/// | `failed`, `unsuccess`, `unsuccessful` | 50 | [`Failed`](Self::Failed) |
/// | `processing` | 60 | [`Processing`](Self::Processing) |
/// | `processed` | 70 | [`Processed`](Self::Processed) |
/// | anything else, `null` | | [`Unknown`](Self::Unknown) |
///
/// `processed` is seen beside `paid` in third-party code, and nobody has documented whether it
/// means "paid and settled" or "still being processed"; treating it as paid could ship goods
/// that were never paid for, so [`is_paid`](Self::is_paid) and [`is_final`](Self::is_final) are
/// false for it. pocket-payments lets an app that learns otherwise treat it as paid.
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
#[non_exhaustive]
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
    /// `processed`: its meaning is unknown (see above); neither paid nor final.
    Processed,
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
            "processed" => InvoiceState::Processed,
            _ => InvoiceState::Unknown(text.to_owned()),
        }
    }

    /// Reads one of Pocket's integer state codes (10 pending, 20 paid, 30 cancelled, 40
    /// rejected, 50 unsuccess, 60 processing, 70 processed); any other code is kept as
    /// [`Unknown`](Self::Unknown) with its digits.
    pub fn from_code(code: i64) -> InvoiceState {
        match code {
            10 => InvoiceState::Pending,
            20 => InvoiceState::Paid,
            30 => InvoiceState::Cancelled,
            40 => InvoiceState::Rejected,
            50 => InvoiceState::Failed,
            60 => InvoiceState::Processing,
            70 => InvoiceState::Processed,
            other => InvoiceState::Unknown(other.to_string()),
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
            InvoiceState::Processed => "processed",
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

impl<'de> Visitor<'de> for StateVisitor {
    type Value = InvoiceState;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an invoice state such as \"paid\" or 20")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<InvoiceState, E> {
        // A code written as text ("20") means the same as the number.
        match text.trim().parse::<i64>() {
            Ok(code) => Ok(InvoiceState::from_code(code)),
            Err(_) => Ok(InvoiceState::parse(text)),
        }
    }

    fn visit_u64<E: de::Error>(self, code: u64) -> Result<InvoiceState, E> {
        Ok(i64::try_from(code).map_or_else(|_| InvoiceState::Unknown(code.to_string()), InvoiceState::from_code))
    }

    fn visit_i64<E: de::Error>(self, code: i64) -> Result<InvoiceState, E> {
        Ok(InvoiceState::from_code(code))
    }

    fn visit_f64<E: de::Error>(self, code: f64) -> Result<InvoiceState, E> {
        if code.fract() == 0.0 && code.abs() < 1e15 {
            Ok(InvoiceState::from_code(code as i64))
        } else {
            Ok(InvoiceState::Unknown(code.to_string()))
        }
    }

    fn visit_bool<E: de::Error>(self, flag: bool) -> Result<InvoiceState, E> {
        Ok(InvoiceState::Unknown(flag.to_string()))
    }

    fn visit_unit<E: de::Error>(self) -> Result<InvoiceState, E> {
        Ok(InvoiceState::default())
    }

    fn visit_none<E: de::Error>(self) -> Result<InvoiceState, E> {
        Ok(InvoiceState::default())
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<InvoiceState, D::Error> {
        deserializer.deserialize_any(self)
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
        assert_eq!(InvoiceState::parse("Refunded"), InvoiceState::Unknown("Refunded".into()));
        let state: InvoiceState = serde_json::from_str("7").unwrap();
        assert_eq!(state, InvoiceState::Unknown("7".into()));
        let state: InvoiceState = serde_json::from_str("null").unwrap();
        assert_eq!(state, InvoiceState::default(), "null is unknown, not an error");
        let state: InvoiceState = serde_json::from_str("true").unwrap();
        assert_eq!(state, InvoiceState::Unknown("true".into()));
        assert_eq!(serde_json::to_string(&InvoiceState::Unknown("Refunded".into())).unwrap(), "\"Refunded\"");
    }

    #[test]
    fn reads_integer_codes_as_numbers_or_text() {
        let cases = [
            ("10", InvoiceState::Pending),
            ("20", InvoiceState::Paid),
            ("\"20\"", InvoiceState::Paid),
            ("20.0", InvoiceState::Paid),
            ("30", InvoiceState::Cancelled),
            ("40", InvoiceState::Rejected),
            ("50", InvoiceState::Failed),
            ("60", InvoiceState::Processing),
            ("70", InvoiceState::Processed),
            ("-20", InvoiceState::Unknown("-20".into())),
            ("18446744073709551615", InvoiceState::Unknown("18446744073709551615".into())),
        ];
        for (json, expected) in cases {
            assert_eq!(serde_json::from_str::<InvoiceState>(json).unwrap(), expected, "{json}");
        }
        assert_eq!(InvoiceState::parse("PROCESSED"), InvoiceState::Processed);
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
            InvoiceState::Processed,
            InvoiceState::Unknown("processed later".into()),
            InvoiceState::default(),
        ];
        let paid: Vec<_> = all.iter().filter(|s| s.is_paid()).collect();
        assert_eq!(paid, [&InvoiceState::Paid]);
        let fin: Vec<_> = all.iter().filter(|s| s.is_final()).map(InvoiceState::as_str).collect();
        assert_eq!(fin, ["paid", "cancelled", "rejected", "failed"]);
    }
}
