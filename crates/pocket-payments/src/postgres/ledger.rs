//! The operator's view of the PostgreSQL store: payment rows with their times and claim
//! holders, the watched table with its pollers, and the unresolved table.

use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use pocket_core::InvoiceId;
use sqlx::Row;
use sqlx::postgres::PgRow;

use super::store::{PgStore, read_watched};
use crate::ledger::{GivenUp, JournalEntry, Ledger, PaymentRecord, StoreEntry, readable, rewatched, token_owner};

const STORE: &str = "PostgreSQL";
use crate::Unresolved;
use crate::store::StoreError;

/// A moment the database wrote as milliseconds since the epoch.
fn moment(row: &PgRow, column: &str) -> Option<SystemTime> {
    let millis: i64 = row.try_get::<Option<i64>, _>(column).ok().flatten()?;
    Some(SystemTime::UNIX_EPOCH + Duration::from_millis(u64::try_from(millis).ok()?))
}

fn record(row: Option<&PgRow>) -> StoreEntry {
    let Some(row) = row else { return StoreEntry::Absent };
    let state: String = row.try_get("state").unwrap_or_default();
    if state == "done" {
        return StoreEntry::Done { at: moment(row, "done_ms") };
    }
    let token: Option<String> = row.try_get("token").ok().flatten();
    StoreEntry::Claimed { by: token.as_deref().and_then(token_owner), until: moment(row, "until_ms") }
}

#[async_trait]
impl Ledger for PgStore {
    async fn payment(&self, invoice: &InvoiceId) -> Result<PaymentRecord, StoreError> {
        let shared = self.shared();
        let key = invoice.key();
        let (paid, failed) = (format!("paid:{key}"), format!("failed:{key}"));
        let operation = "read a payment";
        let mut connection = shared.acquire(operation).await?;
        let query = sqlx::query(shared.sql.records.clone()).bind(vec![paid.clone(), failed.clone()]);
        let rows = shared.bounded(operation, query.fetch_all(&mut *connection)).await?;
        let find =
            |wanted: &str| rows.iter().find(|row| row.try_get::<String, _>("key").is_ok_and(|key| key == wanted));
        Ok(PaymentRecord { paid: record(find(&paid)), failed: record(find(&failed)), key })
    }

    async fn watched(&self) -> Result<Vec<JournalEntry>, StoreError> {
        let shared = self.shared();
        let operation = "read the watched invoices";
        let mut connection = shared.acquire(operation).await?;
        let rows =
            shared.bounded(operation, sqlx::query(shared.sql.journal.clone()).fetch_all(&mut *connection)).await?;
        Ok(rows
            .iter()
            .filter_map(|row| {
                let watched = read_watched(row)?;
                Some(JournalEntry { watched, polled_by: row.try_get("replica").ok().flatten() })
            })
            .collect())
    }

    async fn unresolved(&self) -> Result<Vec<Unresolved>, StoreError> {
        let shared = self.shared();
        let operation = "read the unresolved invoices";
        let mut connection = shared.acquire(operation).await?;
        let query = sqlx::query_scalar::<_, String>(shared.sql.unresolved.clone());
        let rows = shared.bounded(operation, query.fetch_all(&mut *connection)).await?;
        Ok(rows
            .iter()
            .filter_map(|json| readable::<GivenUp>(json, "an unresolved invoice", STORE))
            .map(|g| g.unresolved)
            .collect())
    }

    async fn rewatch(&self, invoice: &InvoiceId, deadline: SystemTime) -> Result<bool, StoreError> {
        let shared = self.shared();
        let key = invoice.key();
        let operation = "watch an invoice again";
        let mut connection = shared.acquire(operation).await?;
        let before = sqlx::query_scalar::<_, String>(shared.sql.given_up.clone()).bind(&key);
        let before = shared.bounded(operation, before.fetch_optional(&mut *connection)).await?;
        let given_up = before.and_then(|json| readable::<GivenUp>(&json, "an unresolved invoice", STORE));
        let json = serde_json::to_string(&rewatched(invoice, given_up, deadline))?;
        let query = sqlx::query_scalar(shared.sql.rewatch.clone()).bind(&key).bind(json);
        Ok(shared.bounded(operation, query.fetch_one(&mut *connection)).await?)
    }
}
