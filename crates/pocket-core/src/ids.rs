//! Pocket's identifiers, each validated where it is made and read leniently from the wire (a
//! number or a string): invoices, the gateway's order numbers, terminals and branches. Each has
//! an error of its own; [`ValidationError`](crate::ValidationError) wraps them all.

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};

use crate::lenient;

/// Why a text could not travel as exactly one URL path segment (ids go into paths).
enum SegmentProblem {
    Empty,
    Dot,
    TooLong(usize),
    Control,
}

impl SegmentProblem {
    fn of(text: &str, max_chars: usize) -> Option<SegmentProblem> {
        let chars = text.chars().count();
        if text.is_empty() {
            Some(SegmentProblem::Empty)
        } else if text == "." || text == ".." {
            Some(SegmentProblem::Dot)
        } else if chars > max_chars {
            Some(SegmentProblem::TooLong(chars))
        } else if text.chars().any(char::is_control) {
            Some(SegmentProblem::Control)
        } else {
            None
        }
    }
}

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
        match SegmentProblem::of(&id, Self::MAX_LEN) {
            None => Ok(InvoiceId(id)),
            Some(SegmentProblem::Empty) => Err(InvoiceIdError::Empty),
            Some(SegmentProblem::Dot) => Err(InvoiceIdError::DotSegment(id)),
            Some(SegmentProblem::TooLong(len)) => Err(InvoiceIdError::TooLong { len, max: Self::MAX_LEN }),
            Some(SegmentProblem::Control) => Err(InvoiceIdError::ControlCharacter),
        }
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
/// # Ok::<(), pocket_core::OrderNumberError>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct OrderNumber(String);

/// Why a text is not an [`OrderNumber`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OrderNumberError {
    /// The order number was empty.
    #[error("the order number is empty")]
    Empty,
    /// It was longer than [`OrderNumber::MAX_CHARS`] characters.
    #[error("the order number is {len} characters long; at most {max} are accepted")]
    TooLong {
        /// Its length in characters.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// It contained a control character.
    #[error("the order number contains a control character")]
    ControlCharacter,
    /// It started or ended with whitespace.
    #[error("the order number starts or ends with whitespace")]
    SurroundingWhitespace,
}

impl OrderNumber {
    /// The longest order number, in characters.
    pub const MAX_CHARS: usize = 24;

    /// Validates `order` as an order number.
    pub fn new(order: impl Into<String>) -> Result<OrderNumber, OrderNumberError> {
        let order = order.into();
        let chars = order.chars().count();
        if chars == 0 {
            return Err(OrderNumberError::Empty);
        }
        if chars > Self::MAX_CHARS {
            return Err(OrderNumberError::TooLong { len: chars, max: Self::MAX_CHARS });
        }
        if order.chars().any(char::is_control) {
            return Err(OrderNumberError::ControlCharacter);
        }
        if order.trim() != order {
            return Err(OrderNumberError::SurroundingWhitespace);
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

/// Why a text is not a [`TerminalId`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text:?} is not a 64-bit terminal number")]
pub struct TerminalIdError {
    text: String,
}

impl FromStr for TerminalId {
    type Err = TerminalIdError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        text.trim().parse::<i64>().map(TerminalId).map_err(|_| TerminalIdError { text: text.to_owned() })
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

/// Why a text is not a [`BranchId`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BranchIdError {
    /// The id was empty.
    #[error("the branch id is empty")]
    Empty,
    /// The id was `.` or `..`, which no URL can carry as a path segment.
    #[error("the branch id {0:?} cannot be a URL path segment")]
    DotSegment(String),
    /// The id was longer than 256 characters.
    #[error("the branch id is {len} characters long; at most {max} are accepted")]
    TooLong {
        /// Its length in characters.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The id contained a control character.
    #[error("the branch id contains a control character")]
    ControlCharacter,
}

impl BranchId {
    const MAX_LEN: usize = 256;

    /// Validates `id` as a branch id.
    pub fn new(id: impl Into<String>) -> Result<BranchId, BranchIdError> {
        let id = id.into();
        match SegmentProblem::of(&id, Self::MAX_LEN) {
            None => Ok(BranchId(id)),
            Some(SegmentProblem::Empty) => Err(BranchIdError::Empty),
            Some(SegmentProblem::Dot) => Err(BranchIdError::DotSegment(id)),
            Some(SegmentProblem::TooLong(len)) => Err(BranchIdError::TooLong { len, max: Self::MAX_LEN }),
            Some(SegmentProblem::Control) => Err(BranchIdError::ControlCharacter),
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<u64> for BranchId {
    fn from(id: u64) -> Self {
        BranchId(id.to_string())
    }
}

/// `FromStr`, `Display`, `Debug` (`Name("text")`) and lenient `Deserialize` (a string or a
/// number, then validated by `new`) for a validated text newtype.
macro_rules! validated_text {
    ($type:ident, $error:ident) => {
        impl FromStr for $type {
            type Err = $error;

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

validated_text!(OrderNumber, OrderNumberError);
validated_text!(BranchId, BranchIdError);

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

    #[test]
    fn order_numbers_are_one_to_24_plain_characters() {
        assert!(OrderNumber::new("А".repeat(24)).is_ok(), "Cyrillic counts by character");
        assert_eq!(OrderNumber::new(""), Err(OrderNumberError::Empty));
        for bad in [" ORD-1", "ORD-1 "] {
            assert_eq!(OrderNumber::new(bad), Err(OrderNumberError::SurroundingWhitespace), "{bad:?}");
        }
        assert_eq!(OrderNumber::new("ORD\n1"), Err(OrderNumberError::ControlCharacter));
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
        let error = "T-1".parse::<TerminalId>().unwrap_err();
        assert_eq!(error.to_string(), "\"T-1\" is not a 64-bit terminal number");
    }

    #[test]
    fn branch_ids_must_be_one_path_segment() {
        assert_eq!(serde_json::from_str::<BranchId>("12").unwrap().as_str(), "12");
        assert_eq!(BranchId::new(""), Err(BranchIdError::Empty));
        for dot in [".", ".."] {
            assert_eq!(BranchId::new(dot), Err(BranchIdError::DotSegment(dot.to_owned())));
        }
        assert_eq!(BranchId::new("a\u{7}b"), Err(BranchIdError::ControlCharacter));
        assert!(matches!(BranchId::new("9".repeat(257)), Err(BranchIdError::TooLong { len: 257, max: 256 })));
    }
}
