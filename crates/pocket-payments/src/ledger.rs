//! What a shared store and journal hold, read for operators (the `pocket payments` command):
//! whether a payment is done and when, who holds its claim, what is watched and by whom, and
//! what the reconciler gave up on. Reading changes nothing; only [`Ledger::rewatch`] writes.

use std::time::SystemTime;

use async_trait::async_trait;
use pocket_core::InvoiceId;
use serde::Serialize;

use crate::store::StoreError;
use crate::{Unresolved, Watched};

/// What the store holds under one payment key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
#[non_exhaustive]
pub enum StoreEntry {
    /// Nothing: never acted on, or forgotten after the store's retention.
    Absent,
    /// A delivery or poll is acting on it now.
    Claimed {
        /// The replica holding the claim (`host:pid:…`), when the store knows it.
        #[serde(skip_serializing_if = "Option::is_none")]
        by: Option<String>,
        /// When the claim's lease ends.
        #[serde(skip_serializing_if = "Option::is_none")]
        until: Option<SystemTime>,
    },
    /// Done: the handler ran to success (or, for `failed`, the callback was told).
    Done {
        /// When it was recorded done (absent for records older stores wrote).
        #[serde(skip_serializing_if = "Option::is_none")]
        at: Option<SystemTime>,
    },
}

/// What the store holds about one invoice's payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct PaymentRecord {
    /// The invoice as Pocket identifies it (every spelling of one number is one key).
    pub key: String,
    /// Its payment (the `paid` handler).
    pub paid: StoreEntry,
    /// Its refusal (the `failed` callback: Pocket said it will not be paid).
    pub failed: StoreEntry,
}

/// A watched invoice as the shared journal holds it, and who polls it now.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct JournalEntry {
    /// The invoice, its deadline, last state, polls and next poll.
    pub watched: Watched,
    /// The replica polling it now (`host:pid:…`), if one holds its polling.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub polled_by: Option<String>,
}

/// An invoice given up on, as the journal keeps it: what the `unresolved` callback got, and the
/// watch as it was (so that watching it again keeps the app's order and terminal).
#[cfg(any(feature = "redis", feature = "postgres"))]
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub(crate) struct GivenUp {
    pub unresolved: Unresolved,
    pub watched: Watched,
}

/// The operator's view of a shared [`PaymentStore`](crate::PaymentStore) and
/// [`WatchJournal`](crate::WatchJournal); `RedisStore` and `PgStore` implement it.
#[async_trait]
pub trait Ledger: Send + Sync {
    /// What the store holds about `invoice`'s payment.
    async fn payment(&self, invoice: &InvoiceId) -> Result<PaymentRecord, StoreError>;
    /// Everything the journal holds as watched, by every replica, oldest first.
    async fn watched(&self) -> Result<Vec<JournalEntry>, StoreError>;
    /// Every invoice the reconciler gave up on, oldest first, until it is watched again.
    async fn unresolved(&self) -> Result<Vec<Unresolved>, StoreError>;
    /// Watches `invoice` again until `deadline` (with the app's order and terminal it was
    /// watched with, if it was) and takes it off the unresolved list. Replicas take it over at
    /// their next reading of the journal. `true` if it was on the unresolved list.
    async fn rewatch(&self, invoice: &InvoiceId, deadline: SystemTime) -> Result<bool, StoreError>;
}

/// The watch to write down when an invoice is watched again.
#[cfg(any(feature = "redis", feature = "postgres"))]
pub(crate) fn rewatched(invoice: &InvoiceId, given_up: Option<GivenUp>, deadline: SystemTime) -> Watched {
    let mut watched = Watched::new(invoice.clone(), None, deadline);
    if let Some(before) = given_up {
        watched.expected = before.watched.expected;
        watched.terminal = before.watched.terminal;
        watched.last_state = before.unresolved.last_state;
    }
    watched
}

/// A record the store wrote as JSON, or `None` (logged) when it cannot be read: one unreadable
/// record must not hide the others from an operator.
#[cfg(any(feature = "redis", feature = "postgres"))]
pub(crate) fn readable<T: serde::de::DeserializeOwned>(json: &str, what: &str, store: &str) -> Option<T> {
    match serde_json::from_str(json) {
        Ok(value) => Some(value),
        Err(error) => {
            tracing::error!(%error, "{what} in {store} is unreadable; skipped");
            None
        }
    }
}

/// This process's name among replicas, for claims and polling marks: host, process id and a
/// random part (two stores in one process are two replicas).
#[cfg(any(feature = "redis", feature = "postgres"))]
pub(crate) fn replica_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|host| host.trim().to_owned())
        .filter(|host| !host.is_empty() && host.len() <= 64)
        .unwrap_or_else(|| "host".to_owned());
    format!("{host}:{}:{:08x}", std::process::id(), fastrand::u32(..))
}

/// A claim token no other claim shares, in any process: 128 random bits, and the replica that
/// holds it (so that an operator sees who does).
#[cfg(any(feature = "redis", feature = "postgres"))]
pub(crate) fn claim_token(replica: &str) -> crate::ClaimToken {
    crate::ClaimToken::new(format!("c-{:032x}@{replica}", fastrand::u128(..)))
}

/// The replica named in a claim token, if it names one.
#[cfg(any(feature = "redis", feature = "postgres"))]
pub(crate) fn token_owner(token: &str) -> Option<String> {
    token.split_once('@').map(|(_, replica)| replica.to_owned())
}

#[cfg(all(test, any(feature = "redis", feature = "postgres")))]
mod tests {
    use super::*;

    #[test]
    fn a_token_names_its_replica_and_is_unique() {
        let replica = replica_name();
        let (a, b) = (claim_token(&replica), claim_token(&replica));
        assert_ne!(a, b);
        assert!(a.as_str().starts_with("c-"), "no token may read as a done record");
        assert_eq!(token_owner(a.as_str()).as_deref(), Some(replica.as_str()));
        assert_eq!(token_owner("c-0123"), None, "tokens of older stores name nobody");
        assert_eq!(replica.matches(':').count(), 2, "{replica}");
    }
}
