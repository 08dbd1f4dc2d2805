//! The operator's view of the Redis store: claims and done records with their times, the
//! watched hash with its polling marks, and the unresolved hash.

use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use pocket_core::InvoiceId;

use super::{DONE, RedisStore};
use crate::ledger::{GivenUp, JournalEntry, Ledger, PaymentRecord, StoreEntry, readable, rewatched, token_owner};

const STORE: &str = "Redis";
use crate::store::StoreError;
use crate::{Unresolved, Watched};

/// A key's value and what is left of its expiry (`PTTL`: milliseconds, or negative for none).
fn record(value: Option<String>, ttl_millis: i64) -> StoreEntry {
    let until = u64::try_from(ttl_millis).ok().map(|millis| SystemTime::now() + Duration::from_millis(millis));
    match value {
        None => StoreEntry::Absent,
        Some(value) if value.starts_with(DONE) => {
            let at = value
                .strip_prefix("done:")
                .and_then(|millis| millis.parse::<u64>().ok())
                .map(|millis| SystemTime::UNIX_EPOCH + Duration::from_millis(millis));
            StoreEntry::Done { at }
        }
        Some(token) => StoreEntry::Claimed { by: token_owner(&token), until },
    }
}

impl RedisStore {
    async fn given_up(&self, key: &str) -> Result<Option<GivenUp>, StoreError> {
        let mut connection = self.connection.clone();
        let json: Option<String> = redis::cmd("HGET")
            .arg(self.key("unresolved"))
            .arg(key)
            .query_async(&mut connection)
            .await
            .map_err(|error| self.failed("read an unresolved invoice", error))?;
        Ok(json.and_then(|json| readable(&json, "an unresolved invoice", STORE)))
    }
}

#[async_trait]
impl Ledger for RedisStore {
    async fn payment(&self, invoice: &InvoiceId) -> Result<PaymentRecord, StoreError> {
        let key = invoice.key();
        let (paid, failed) = (self.key(&format!("paid:{key}")), self.key(&format!("failed:{key}")));
        let mut connection = self.connection.clone();
        let (paid_value, paid_ttl, failed_value, failed_ttl): (Option<String>, i64, Option<String>, i64) =
            redis::pipe()
                .get(&paid)
                .pttl(&paid)
                .get(&failed)
                .pttl(&failed)
                .query_async(&mut connection)
                .await
                .map_err(|error| self.failed("read a payment", error))?;
        Ok(PaymentRecord { key, paid: record(paid_value, paid_ttl), failed: record(failed_value, failed_ttl) })
    }

    async fn watched(&self) -> Result<Vec<JournalEntry>, StoreError> {
        let mut connection = self.connection.clone();
        let all: Vec<(String, String)> = redis::cmd("HGETALL")
            .arg(self.key("watching"))
            .query_async(&mut connection)
            .await
            .map_err(|error| self.failed("read the watched invoices", error))?;
        let mut markers = redis::pipe();
        for (key, _) in &all {
            markers.get(self.key(&format!("polling:{key}")));
        }
        let owners: Vec<Option<String>> = if all.is_empty() {
            Vec::new()
        } else {
            markers.query_async(&mut connection).await.map_err(|error| self.failed("read who polls", error))?
        };
        let mut entries: Vec<JournalEntry> = all
            .iter()
            .zip(owners)
            .filter_map(|((_, json), polled_by)| {
                readable::<Watched>(json, "a watched invoice", STORE).map(|watched| JournalEntry { watched, polled_by })
            })
            .collect();
        entries.sort_by_key(|entry| entry.watched.since);
        Ok(entries)
    }

    async fn unresolved(&self) -> Result<Vec<Unresolved>, StoreError> {
        let mut connection = self.connection.clone();
        let values: Vec<String> = redis::cmd("HVALS")
            .arg(self.key("unresolved"))
            .query_async(&mut connection)
            .await
            .map_err(|error| self.failed("read the unresolved invoices", error))?;
        let mut unresolved: Vec<Unresolved> = values
            .iter()
            .filter_map(|json| readable::<GivenUp>(json, "an unresolved invoice", STORE))
            .map(|given_up| given_up.unresolved)
            .collect();
        unresolved.sort_by_key(|unresolved| unresolved.at);
        Ok(unresolved)
    }

    async fn rewatch(&self, invoice: &InvoiceId, deadline: SystemTime) -> Result<bool, StoreError> {
        let key = invoice.key();
        let given_up = self.given_up(&key).await?;
        let was_unresolved = given_up.is_some();
        let watched = rewatched(invoice, given_up, deadline);
        let json = serde_json::to_string(&watched)?;
        let mut connection = self.connection.clone();
        let (_, _): (i64, i64) = redis::pipe()
            .atomic()
            .hset(self.key("watching"), &key, json)
            .hdel(self.key("unresolved"), &key)
            .query_async(&mut connection)
            .await
            .map_err(|error| self.failed("watch an invoice again", error))?;
        Ok(was_unresolved)
    }
}
