//! The gateway's listings: Spring pages of branches and terminals.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::{BranchId, TerminalId, lenient};

/// One page of a Spring `Page` answer: `{content, totalElements, totalPages, number, size,
/// first, last, …}`. Only `content` matters to the SDK (a missing or `null` one is empty); the
/// counters are kept when Pocket sends them, as numbers or numeric strings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[serde(bound(deserialize = "T: DeserializeOwned"))]
#[non_exhaustive]
pub struct Page<T> {
    /// The items of this page.
    #[serde(default, deserialize_with = "null_is_empty")]
    pub content: Vec<T>,
    /// How many items all pages hold.
    #[serde(default, deserialize_with = "lenient::opt_u64", skip_serializing_if = "Option::is_none")]
    pub total_elements: Option<u64>,
    /// How many pages there are.
    #[serde(default, deserialize_with = "lenient::opt_u64", skip_serializing_if = "Option::is_none")]
    pub total_pages: Option<u64>,
    /// This page's number, from 0.
    #[serde(default, deserialize_with = "lenient::opt_u64", skip_serializing_if = "Option::is_none")]
    pub number: Option<u64>,
    /// The page size asked for.
    #[serde(default, deserialize_with = "lenient::opt_u64", skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Whether this is the first page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first: Option<bool>,
    /// Whether this is the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last: Option<bool>,
    /// Every other field (Spring's `pageable`, `sort`, …).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl<T> Page<T> {
    /// A page holding `content` and nothing else.
    pub fn new(content: Vec<T>) -> Page<T> {
        Page {
            content,
            total_elements: None,
            total_pages: None,
            number: None,
            size: None,
            first: None,
            last: None,
            extra: Map::new(),
        }
    }

    /// Whether a page after this one may exist, judged from what Pocket said: not when this one
    /// is empty, says it is the last, or is numbered at or past the page count.
    pub fn has_next(&self) -> bool {
        if self.content.is_empty() || self.last == Some(true) {
            return false;
        }
        match (self.number, self.total_pages) {
            (Some(number), Some(pages)) => number + 1 < pages,
            _ => true,
        }
    }
}

fn null_is_empty<'de, D: Deserializer<'de>, T: DeserializeOwned>(deserializer: D) -> Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(deserializer)?.unwrap_or_default())
}

/// A branch of the merchant: `{id, name, address, accountNumber, merchantId}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Branch {
    /// The branch's id (to list its terminals).
    pub id: BranchId,
    /// Its name.
    #[serde(default, deserialize_with = "lenient::opt_string", skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Its address.
    #[serde(default, deserialize_with = "lenient::opt_string", skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// The bank account its payments go to.
    #[serde(default, deserialize_with = "lenient::opt_string", skip_serializing_if = "Option::is_none")]
    pub account_number: Option<String>,
    /// The merchant it belongs to.
    #[serde(default, deserialize_with = "lenient::opt_string", skip_serializing_if = "Option::is_none")]
    pub merchant_id: Option<String>,
    /// Every other field.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Branch {
    /// A branch with only its id.
    pub fn new(id: BranchId) -> Branch {
        Branch { id, name: None, address: None, account_number: None, merchant_id: None, extra: Map::new() }
    }
}

/// A terminal of a branch. Its fields beyond the id are not documented; `name` and `branchId`
/// are read when present and everything else is kept in [`extra`](Self::extra).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Terminal {
    /// The terminal's id (what invoices are generated on).
    pub id: TerminalId,
    /// Its name.
    #[serde(default, deserialize_with = "lenient::opt_string", skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Its branch.
    #[serde(default, deserialize_with = "lenient::opt_string", skip_serializing_if = "Option::is_none")]
    pub branch_id: Option<String>,
    /// Every other field.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Terminal {
    /// A terminal with only its id.
    pub fn new(id: TerminalId) -> Terminal {
        Terminal { id, name: None, branch_id: None, extra: Map::new() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spring_pages_are_read_with_any_counters() {
        let page: Page<Branch> = serde_json::from_str(
            r#"{"content": [{"id": 3, "name": "Төв", "accountNumber": 5001, "merchantId": "m-1"}],
                "totalElements": "41", "totalPages": 3, "number": 0, "size": 20, "first": true, "last": false,
                "pageable": {"pageNumber": 0}, "empty": false}"#,
        )
        .unwrap();
        assert_eq!(page.content[0].id.as_str(), "3");
        assert_eq!(page.content[0].account_number.as_deref(), Some("5001"));
        assert_eq!(page.total_elements, Some(41));
        assert!(page.has_next());
        assert!(page.extra.contains_key("pageable"));
        let last: Page<Terminal> =
            serde_json::from_str(r#"{"content": [{"id": "74686381183671"}], "number": 2, "totalPages": 3}"#).unwrap();
        assert!(!last.has_next(), "page 2 of 3 is the last");
        let empty: Page<Terminal> = serde_json::from_str(r#"{"content": null}"#).unwrap();
        assert!(empty.content.is_empty() && !empty.has_next());
        let unknown_end: Page<Terminal> = serde_json::from_str(r#"{"content": [{"id": 1}]}"#).unwrap();
        assert!(unknown_end.has_next(), "without counters, only an empty page ends the listing");
    }
}
