//! Exact money in Mongolian tögrög (MNT, ₮).

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// An exact amount of Mongolian tögrög, held as a whole number of möngö (1 ₮ = 100 möngö).
///
/// Money never passes through binary floating point here. On the wire an amount is a JSON
/// number (`560`, `560.5`); `Amount` also accepts numeric strings (`"560"`, `"560.00"`), the
/// form the wallet bridge uses. At most two decimal places are accepted, because Pocket has no
/// smaller unit than the möngö.
///
/// ```
/// use pocket_core::Amount;
///
/// let price: Amount = "560.50".parse()?;
/// assert_eq!(price, Amount::from_mongo(56_050));
/// assert_eq!(price.to_string(), "560.50 ₮");
/// assert_eq!(Amount::from_tugrik(560)?.to_string(), "560 ₮");
/// assert!(Amount::from_tugrik(499)? < Amount::MIN_INVOICE);
/// # Ok::<(), pocket_core::AmountError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Amount(u64);

/// Why a value is not an [`Amount`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AmountError {
    /// The text was empty.
    #[error("the amount is empty")]
    Empty,
    /// The value was below zero.
    #[error("the amount is negative")]
    Negative,
    /// The value was not a decimal number (`560` or `560.50`).
    #[error("{input:?} is not a decimal number of tögrög such as 560 or 560.50")]
    NotANumber {
        /// The offending text, shortened to 32 characters.
        input: String,
    },
    /// The value had a non-zero digit after the second decimal place.
    #[error("the amount has more than two decimal places (the smallest unit is 0.01 ₮)")]
    TooManyDecimals,
    /// The value exceeded [`Amount::MAX`].
    #[error("the amount exceeds the largest supported amount, {}", Amount::MAX)]
    TooLarge,
    /// The value is a valid amount but too small for an invoice.
    #[error("{amount} is below the minimum invoice amount of {minimum}")]
    BelowMinimum {
        /// The amount that was given.
        amount: Amount,
        /// The smallest amount Pocket accepts.
        minimum: Amount,
    },
}

const MONGO_PER_TUGRIK: u64 = 100;

impl Amount {
    /// Zero tögrög.
    pub const ZERO: Amount = Amount(0);
    /// The smallest amount Pocket accepts for an invoice: 500 ₮.
    pub const MIN_INVOICE: Amount = Amount(500 * MONGO_PER_TUGRIK);
    /// The largest supported amount: 9 999 999 999 999.99 ₮.
    ///
    /// Fifteen significant digits is the range in which a JSON number survives every JSON
    /// library (including JavaScript's) exactly, so larger values are refused rather than rounded.
    pub const MAX: Amount = Amount(999_999_999_999_999);

    /// An amount of whole tögrög.
    pub const fn from_tugrik(tugrik: u64) -> Result<Amount, AmountError> {
        match tugrik.checked_mul(MONGO_PER_TUGRIK) {
            Some(mongo) if mongo <= Self::MAX.0 => Ok(Amount(mongo)),
            _ => Err(AmountError::TooLarge),
        }
    }

    /// An amount of möngö (hundredths of a tögrög), saturating at [`Amount::MAX`].
    pub const fn from_mongo(mongo: u64) -> Amount {
        if mongo > Self::MAX.0 { Self::MAX } else { Amount(mongo) }
    }

    /// The amount in möngö (hundredths of a tögrög).
    pub const fn as_mongo(self) -> u64 {
        self.0
    }

    /// The whole tögrög, without the möngö.
    pub const fn whole_tugrik(self) -> u64 {
        self.0 / MONGO_PER_TUGRIK
    }

    /// Whether the amount is a whole number of tögrög.
    pub const fn is_whole(self) -> bool {
        self.0.is_multiple_of(MONGO_PER_TUGRIK)
    }

    /// The sum, or `None` past [`Amount::MAX`].
    pub fn checked_add(self, other: Amount) -> Option<Amount> {
        self.0.checked_add(other.0).filter(|sum| *sum <= Self::MAX.0).map(Amount)
    }

    /// The amount times `quantity`, or `None` past [`Amount::MAX`].
    pub fn checked_mul(self, quantity: u64) -> Option<Amount> {
        self.0.checked_mul(quantity).filter(|product| *product <= Self::MAX.0).map(Amount)
    }

    /// The amount as a plain decimal with two places, as the wallet bridge sends it: `"560.00"`.
    pub fn to_decimal_string(self) -> String {
        format!("{}.{:02}", self.whole_tugrik(), self.0 % MONGO_PER_TUGRIK)
    }

    /// The shortest exact decimal: `"560"`, `"560.5"`, `"560.05"`.
    fn to_shortest_decimal(self) -> String {
        let (whole, fraction) = (self.whole_tugrik(), self.0 % MONGO_PER_TUGRIK);
        match fraction {
            0 => whole.to_string(),
            f if f % 10 == 0 => format!("{whole}.{}", f / 10),
            f => format!("{whole}.{f:02}"),
        }
    }

    /// Parses decimal text: digits, optionally a point and decimals. Decimals beyond the
    /// second are accepted only when they are zeros, since they do not change the value.
    fn parse_decimal(text: &str) -> Result<Amount, AmountError> {
        if text.is_empty() {
            return Err(AmountError::Empty);
        }
        if text.starts_with('-') {
            return Err(AmountError::Negative);
        }
        let not_a_number = || AmountError::NotANumber { input: text.chars().take(32).collect() };
        let (whole, fraction) = match text.split_once('.') {
            Some((whole, fraction)) if !fraction.is_empty() => (whole, fraction),
            Some(_) => return Err(not_a_number()),
            None => (text, ""),
        };
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || !all_digits(whole) || !all_digits(fraction) {
            return Err(not_a_number());
        }
        let (cents, beyond) = fraction.split_at(fraction.len().min(2));
        if beyond.bytes().any(|b| b != b'0') {
            return Err(AmountError::TooManyDecimals);
        }
        let mut mongo: u64 = 0;
        for digit in whole.bytes() {
            mongo = mongo
                .checked_mul(10)
                .and_then(|m| m.checked_add(u64::from(digit - b'0')))
                .ok_or(AmountError::TooLarge)?;
        }
        let mut mongo = mongo.checked_mul(MONGO_PER_TUGRIK).ok_or(AmountError::TooLarge)?;
        let mut place = 10;
        for digit in cents.bytes() {
            mongo += u64::from(digit - b'0') * place;
            place /= 10;
        }
        if mongo > Self::MAX.0 {
            return Err(AmountError::TooLarge);
        }
        Ok(Amount(mongo))
    }
}

impl FromStr for Amount {
    type Err = AmountError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Amount::parse_decimal(text)
    }
}

impl fmt::Display for Amount {
    /// `560 ₮` for whole amounts, `560.50 ₮` otherwise.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_whole() {
            write!(f, "{} ₮", self.whole_tugrik())
        } else {
            write!(f, "{} ₮", self.to_decimal_string())
        }
    }
}

impl fmt::Debug for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Amount({})", self.to_shortest_decimal())
    }
}

impl Serialize for Amount {
    /// Whole amounts are written as JSON integers (`560`); others as JSON numbers with their
    /// decimals (`560.5`). A data format can only carry a fractional number as a float, so the
    /// exact decimal text is handed over as one: every value up to [`Amount::MAX`] (15
    /// significant digits) is printed back to the same decimal by any shortest-round-trip
    /// formatter, serde_json's included.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.is_whole() {
            return serializer.serialize_u64(self.whole_tugrik());
        }
        let transport = self.to_shortest_decimal().parse().map_err(serde::ser::Error::custom)?;
        serializer.serialize_f64(transport)
    }
}

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(AmountVisitor)
    }
}

struct AmountVisitor;

impl Visitor<'_> for AmountVisitor {
    type Value = Amount;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an amount of tögrög as a number or a numeric string, such as 560 or \"560.00\"")
    }

    fn visit_u64<E: de::Error>(self, tugrik: u64) -> Result<Amount, E> {
        Amount::from_tugrik(tugrik).map_err(E::custom)
    }

    fn visit_i64<E: de::Error>(self, tugrik: i64) -> Result<Amount, E> {
        let tugrik = u64::try_from(tugrik).map_err(|_| E::custom(AmountError::Negative))?;
        self.visit_u64(tugrik)
    }

    /// JSON parsers hand a number with a fraction over as the nearest float. Its shortest
    /// round-trip text is the decimal that was written, for every value up to 15 significant
    /// digits, so the amount is recovered exactly from that text — no arithmetic on the float.
    fn visit_f64<E: de::Error>(self, transport: f64) -> Result<Amount, E> {
        if !transport.is_finite() {
            return Err(E::custom(AmountError::NotANumber { input: transport.to_string() }));
        }
        if transport.is_sign_negative() {
            return Err(E::custom(AmountError::Negative));
        }
        Amount::parse_decimal(&transport.to_string()).map_err(E::custom)
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Amount, E> {
        Amount::parse_decimal(text).map_err(E::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(text: &str) -> Result<Amount, String> {
        serde_json::from_str::<Amount>(text).map_err(|e| e.to_string())
    }

    #[test]
    fn parses_json_numbers_and_numeric_strings() {
        assert_eq!(json("560"), Ok(Amount(56_000)));
        assert_eq!(json("560.0"), Ok(Amount(56_000)));
        assert_eq!(json("560.5"), Ok(Amount(56_050)));
        assert_eq!(json("560.05"), Ok(Amount(56_005)));
        assert_eq!(json("5e2"), Ok(Amount(50_000)));
        assert_eq!(json("\"560\""), Ok(Amount(56_000)));
        assert_eq!(json("\"560.00\""), Ok(Amount(56_000)));
        assert_eq!(json("\"560.500\""), Ok(Amount(56_050)));
        assert_eq!(json("\"0560.1\""), Ok(Amount(56_010)));
    }

    #[test]
    fn rejects_bad_amounts_with_a_typed_reason() {
        assert_eq!("".parse::<Amount>(), Err(AmountError::Empty));
        assert_eq!("-1".parse::<Amount>(), Err(AmountError::Negative));
        assert_eq!("560.123".parse::<Amount>(), Err(AmountError::TooManyDecimals));
        assert_eq!("99999999999999999999999".parse::<Amount>(), Err(AmountError::TooLarge));
        assert_eq!("10000000000000".parse::<Amount>(), Err(AmountError::TooLarge));
        for junk in ["abc", "5 60", " 560", "560 ", "560.", ".5", "1,5", "+5", "5e2", "٥٦٠", "0x10"] {
            assert!(
                matches!(junk.parse::<Amount>(), Err(AmountError::NotANumber { .. })),
                "{junk:?} must be rejected as not a number"
            );
        }
    }

    #[test]
    fn rejects_bad_json_numbers() {
        assert!(json("-1").unwrap_err().contains("negative"));
        assert!(json("-0.5").unwrap_err().contains("negative"));
        assert!(json("560.123").unwrap_err().contains("more than two decimal places"));
        assert!(json("1e300").unwrap_err().contains("exceeds"));
        assert!(json("18446744073709551615").unwrap_err().contains("exceeds"));
        assert!(json("true").unwrap_err().contains("an amount of tögrög"));
        assert!(json("null").unwrap_err().contains("an amount of tögrög"));
        assert!(json("\"\"").unwrap_err().contains("empty"));
    }

    #[test]
    fn serializes_as_a_json_number() {
        assert_eq!(serde_json::to_string(&Amount(56_000)).unwrap(), "560");
        assert_eq!(serde_json::to_string(&Amount(56_050)).unwrap(), "560.5");
        assert_eq!(serde_json::to_string(&Amount(56_005)).unwrap(), "560.05");
        assert_eq!(serde_json::to_string(&Amount::MAX).unwrap(), "9999999999999.99");
    }

    #[test]
    fn displays_with_the_tugrik_sign() {
        assert_eq!(Amount(56_000).to_string(), "560 ₮");
        assert_eq!(Amount(56_050).to_string(), "560.50 ₮");
        assert_eq!(Amount(5).to_string(), "0.05 ₮");
        assert_eq!(Amount(56_000).to_decimal_string(), "560.00");
        assert_eq!(format!("{:?}", Amount(56_050)), "Amount(560.5)");
    }

    #[test]
    fn arithmetic_is_checked() {
        let price = Amount::from_tugrik(1_500).unwrap();
        assert_eq!(price.checked_mul(3), Some(Amount::from_tugrik(4_500).unwrap()));
        assert_eq!(price.checked_add(Amount(50)), Some(Amount(150_050)));
        assert_eq!(Amount::MAX.checked_add(Amount(1)), None);
        assert_eq!(Amount::MAX.checked_mul(2), None);
        assert_eq!(Amount::from_tugrik(u64::MAX), Err(AmountError::TooLarge));
        assert_eq!(Amount::from_mongo(u64::MAX), Amount::MAX);
    }
}
