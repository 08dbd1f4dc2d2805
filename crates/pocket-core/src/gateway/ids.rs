//! The gateway's identifiers and codes: order numbers, terminals, branches, invoice types and
//! sales channels.

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::{ValidationError, lenient};

/// The merchant's own number for an order: the key Pocket's gateway finds an invoice by, and
/// what makes a lost `generate` answer recoverable.
///
/// 1 to 24 characters (characters, not bytes: integrators cut order numbers to 24), no control
/// characters, no leading or trailing whitespace. Compared exactly as written.
///
/// ```
/// use pocket_core::OrderNumber;
///
/// let order: OrderNumber = "SHOP-2026-000117".parse()?;
/// assert_eq!(order.as_str(), "SHOP-2026-000117");
/// assert!("x".repeat(25).parse::<OrderNumber>().is_err());
/// # Ok::<(), pocket_core::ValidationError>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct OrderNumber(String);

impl OrderNumber {
    /// The longest order number, in characters.
    pub const MAX_CHARS: usize = 24;

    /// Validates `order` as an order number.
    pub fn new(order: impl Into<String>) -> Result<OrderNumber, ValidationError> {
        let order = order.into();
        let refuse = |reason: String| Err(ValidationError::Invalid { field: "orderNumber", reason });
        let chars = order.chars().count();
        if chars == 0 {
            return refuse("the order number is empty".to_owned());
        }
        if chars > Self::MAX_CHARS {
            return refuse(format!(
                "the order number is {chars} characters long; at most {} are accepted",
                Self::MAX_CHARS
            ));
        }
        if order.chars().any(char::is_control) {
            return refuse("the order number contains a control character".to_owned());
        }
        if order.trim() != order {
            return refuse("the order number starts or ends with whitespace".to_owned());
        }
        Ok(OrderNumber(order))
    }

    /// The order number as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A merchant terminal at Pocket's gateway. Its ids exceed 32 bits (`74686381183671`), so it is
/// a 64-bit number; Pocket may send it as a number or as a numeric string. Sent as a number.
///
/// ```
/// use pocket_core::TerminalId;
///
/// let from_number: TerminalId = serde_json::from_str("74686381183671")?;
/// let from_text: TerminalId = serde_json::from_str("\" 74686381183671 \"")?;
/// assert_eq!(from_number, from_text);
/// assert_eq!(serde_json::to_string(&from_text)?, "74686381183671");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct TerminalId(i64);

impl TerminalId {
    /// The terminal with this number.
    pub const fn new(id: i64) -> TerminalId {
        TerminalId(id)
    }

    /// Its number.
    pub const fn get(self) -> i64 {
        self.0
    }
}

impl From<i64> for TerminalId {
    fn from(id: i64) -> Self {
        TerminalId(id)
    }
}

impl FromStr for TerminalId {
    type Err = ValidationError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        text.trim().parse::<i64>().map(TerminalId).map_err(|_| ValidationError::Invalid {
            field: "terminalId",
            reason: format!("{text:?} is not a 64-bit terminal number"),
        })
    }
}

impl fmt::Display for TerminalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl<'de> Deserialize<'de> for TerminalId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(TerminalNumber)
    }
}

struct TerminalNumber;

impl Visitor<'_> for TerminalNumber {
    type Value = TerminalId;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a 64-bit terminal number, as a number or a string")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<TerminalId, E> {
        Ok(TerminalId(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<TerminalId, E> {
        i64::try_from(v).map(TerminalId).map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<TerminalId, E> {
        // Exact integers only: a float beyond 2^53 may already have lost the terminal's digits.
        const EXACT: f64 = 9_007_199_254_740_992.0;
        if v.fract() == 0.0 && v.abs() <= EXACT {
            Ok(TerminalId(v as i64))
        } else {
            Err(E::invalid_value(de::Unexpected::Float(v), &self))
        }
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<TerminalId, E> {
        v.parse().map_err(|_| E::invalid_value(de::Unexpected::Str(v), &self))
    }
}

/// A branch of the merchant at Pocket's gateway (its terminals are listed per branch). Pocket
/// may send the id as a number or a string; it is kept as text and goes into a URL path, so it
/// must be non-empty, at most 256 characters, without control characters, and not `.` or `..`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct BranchId(String);

impl BranchId {
    /// Validates `id` as a branch id.
    pub fn new(id: impl Into<String>) -> Result<BranchId, ValidationError> {
        let id = id.into();
        path_segment("branchId", &id)?;
        Ok(BranchId(id))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Refuses text that could not travel as exactly one URL path segment.
fn path_segment(field: &'static str, text: &str) -> Result<(), ValidationError> {
    let reason = if text.is_empty() {
        "it is empty"
    } else if text == "." || text == ".." {
        "`.` and `..` cannot be a URL path segment"
    } else if text.chars().count() > 256 {
        "it is longer than 256 characters"
    } else if text.chars().any(char::is_control) {
        "it contains a control character"
    } else {
        return Ok(());
    };
    Err(ValidationError::Invalid { field, reason: reason.to_owned() })
}

impl From<u64> for BranchId {
    fn from(id: u64) -> Self {
        BranchId(id.to_string())
    }
}

/// `FromStr`, `Display`, `Debug` (`Name("text")`) and lenient `Deserialize` (a string or a
/// number, then validated by `new`) for a validated text newtype.
macro_rules! validated_text {
    ($type:ident) => {
        impl FromStr for $type {
            type Err = ValidationError;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                $type::new(text)
            }
        }

        impl fmt::Display for $type {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $type {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($type), "({:?})"), self.0)
            }
        }

        impl<'de> Deserialize<'de> for $type {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                $type::new(lenient::text(deserializer)?).map_err(de::Error::custom)
            }
        }
    };
}

validated_text!(OrderNumber);
validated_text!(BranchId);

/// How the payer pays a gateway invoice. Read in any case; anything else is kept as sent.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum InvoiceType {
    /// `PURCHASE`: from the wallet balance (the default).
    #[default]
    Purchase,
    /// `ZERO`: Pocket Zero, buy now and pay later.
    Zero,
    /// A type this SDK does not know (`LEASING` has been seen once), as Pocket wrote it.
    Other(String),
}

impl InvoiceType {
    /// The wire name: `PURCHASE`, `ZERO`, or the unknown type as sent.
    pub fn as_str(&self) -> &str {
        match self {
            InvoiceType::Purchase => "PURCHASE",
            InvoiceType::Zero => "ZERO",
            InvoiceType::Other(other) => other,
        }
    }

    fn read(text: &str) -> InvoiceType {
        match text.trim().to_ascii_uppercase().as_str() {
            "PURCHASE" => InvoiceType::Purchase,
            "ZERO" => InvoiceType::Zero,
            _ => InvoiceType::Other(text.to_owned()),
        }
    }
}

/// Where a gateway invoice is paid. Read in any case; anything else is kept as sent.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Channel {
    /// `ecommerce`: a web shop (the default).
    #[default]
    Ecommerce,
    /// `pos`: a till.
    Pos,
    /// A channel this SDK does not know (one client sends `merchant`), as written.
    Other(String),
}

impl Channel {
    /// The wire name: `ecommerce`, `pos`, or the unknown channel as sent.
    pub fn as_str(&self) -> &str {
        match self {
            Channel::Ecommerce => "ecommerce",
            Channel::Pos => "pos",
            Channel::Other(other) => other,
        }
    }

    fn read(text: &str) -> Channel {
        match text.trim().to_ascii_lowercase().as_str() {
            "ecommerce" => Channel::Ecommerce,
            "pos" => Channel::Pos,
            _ => Channel::Other(text.to_owned()),
        }
    }
}

/// `Display`, `FromStr` (never fails), and serde as the wire name, for the two code types.
macro_rules! wire_code {
    ($type:ident) => {
        impl fmt::Display for $type {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $type {
            type Err = std::convert::Infallible;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                Ok($type::read(text))
            }
        }

        impl Serialize for $type {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $type {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                Ok($type::read(&lenient::text(deserializer)?))
            }
        }
    };
}

wire_code!(InvoiceType);
wire_code!(Channel);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_numbers_are_one_to_24_plain_characters() {
        assert!(OrderNumber::new("А".repeat(24)).is_ok(), "Cyrillic counts by character");
        for bad in ["", " ORD-1", "ORD-1 ", "ORD\n1"] {
            let error = OrderNumber::new(bad).unwrap_err();
            assert_eq!(error.field(), "orderNumber", "{bad:?}");
        }
        assert!(OrderNumber::new("x".repeat(25)).unwrap_err().to_string().contains("25 characters"));
        let order: OrderNumber = serde_json::from_str("117").unwrap();
        assert_eq!(order.as_str(), "117", "numbers are read as text");
    }

    #[test]
    fn terminal_ids_are_64_bit_from_numbers_or_strings() {
        let read = |json: &str| serde_json::from_str::<TerminalId>(json);
        assert_eq!(read("74686381183671").unwrap().get(), 74_686_381_183_671);
        assert_eq!(read("\"74686381183671\"").unwrap().get(), 74_686_381_183_671);
        assert_eq!(read("7.4686381183671e13").unwrap().get(), 74_686_381_183_671);
        for bad in ["\"T-1\"", "1.5", "18446744073709551615", "null", "\"\"", "1e300"] {
            assert!(read(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn codes_are_read_in_any_case_and_unknown_ones_kept() {
        let kind = |json: &str| serde_json::from_str::<InvoiceType>(json).unwrap();
        assert_eq!(kind("\"purchase\""), InvoiceType::Purchase);
        assert_eq!(kind("\"Zero\""), InvoiceType::Zero);
        assert_eq!(kind("\"LEASING\""), InvoiceType::Other("LEASING".into()));
        let channel = |json: &str| serde_json::from_str::<Channel>(json).unwrap();
        assert_eq!(channel("\"POS\""), Channel::Pos);
        assert_eq!(channel("\"merchant\""), Channel::Other("merchant".into()));
        assert_eq!(serde_json::to_string(&Channel::Ecommerce).unwrap(), "\"ecommerce\"");
        assert_eq!(serde_json::to_string(&InvoiceType::Zero).unwrap(), "\"ZERO\"");
    }

    #[test]
    fn branch_ids_must_be_one_path_segment() {
        assert_eq!(serde_json::from_str::<BranchId>("12").unwrap().as_str(), "12");
        for bad in ["", ".", "..", "a\u{7}b"] {
            assert!(BranchId::new(bad).is_err(), "{bad:?}");
        }
        assert!(BranchId::new("9".repeat(257)).is_err());
    }
}
