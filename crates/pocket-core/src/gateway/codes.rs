//! The gateway's codes: invoice types and sales channels, read in any case, unknown ones kept.

use std::fmt;
use std::str::FromStr;

use serde::Deserializer;
use serde::{Deserialize, Serialize, Serializer};

use crate::lenient;

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
}
