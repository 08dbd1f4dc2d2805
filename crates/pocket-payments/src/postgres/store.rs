//! [`PgStore`]: claims, done payments and the reconciler's shared list in PostgreSQL tables.

use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, Weak};
use std::time::Duration;

use async_trait::async_trait;
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::{Postgres, Row};

use super::error::{PgFailure, PgStoreError};
use super::schema::{Names, SCHEMA_VERSION, Statements};
use crate::ledger::{GivenUp, claim_token, readable, replica_name};
use crate::redact::redact_url;
use crate::store::{Claim, ClaimToken, PaymentStore, StoreError};
use crate::{Unresolved, WatchJournal, Watched};

/// How many rows one pruning batch deletes at most.
const PRUNE_BATCH: i64 = 1_000;

/// A [`PaymentStore`] and [`WatchJournal`] in PostgreSQL, for replicas sharing a database — and
/// the store of a [transactional](crate::Payments::transactional) pipeline, whose handler
/// writes the merchant's orders and the payment's record in one transaction.
///
/// Plain claims are rows `held` under a token until a lease counted on the database's clock;
/// completing and releasing compare the token first, so a claim whose lease lapsed cannot touch
/// its successor's. Done payments are kept for the retention (default 365 days — rows are
/// small) and pruned in bounded batches by a background task. Every operation waits at most the
/// acquire bound for a connection and the operation timeout for its answer; past them it fails
/// and the delivery is answered 503, never left hanging.
///
/// Its tables are created by [`migrate`](Self::migrate), and only when the app calls it.
///
/// ```no_run
/// # async fn run() -> Result<(), pocket_payments::PgStoreError> {
/// use pocket_payments::PgStore;
///
/// let store = PgStore::builder("postgres://shop:secret@db.internal/shop").schema("pocket").connect().await?;
/// store.migrate().await?;
/// # let _ = store; Ok(()) }
/// ```
#[derive(Clone)]
pub struct PgStore {
    inner: Arc<Shared>,
}

pub(crate) struct Shared {
    pub pool: PgPool,
    pub sql: Statements,
    names: Names,
    pub lock_class: i32,
    retention: Duration,
    acquire_wait: Duration,
    pub operation_timeout: Duration,
    /// Where the database is, without its password, for errors and Debug output.
    pub shown: String,
    password: Option<String>,
    /// This store's identity among replicas, for the reconciler's polling.
    replica: String,
}

/// Where a [`PgStore`] gets its connections: a URL, or a pool the app already has (then the
/// store shares it, and the pool's own settings stand).
pub enum PgSource {
    /// `postgres://user:password@host:port/database?sslmode=…`
    Url(String),
    /// The app's pool.
    Pool(PgPool),
}

impl From<&str> for PgSource {
    fn from(url: &str) -> PgSource {
        PgSource::Url(url.to_owned())
    }
}

impl From<String> for PgSource {
    fn from(url: String) -> PgSource {
        PgSource::Url(url)
    }
}

impl From<PgPool> for PgSource {
    fn from(pool: PgPool) -> PgSource {
        PgSource::Pool(pool)
    }
}

impl fmt::Debug for PgSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PgSource::Url(url) => f.debug_tuple("Url").field(&redact_url(url, "PostgreSQL")).finish(),
            PgSource::Pool(_) => f.write_str("Pool(..)"),
        }
    }
}

/// Builds a [`PgStore`].
#[must_use]
pub struct PgStoreBuilder {
    source: PgSource,
    schema: String,
    prefix: String,
    retention: Duration,
    acquire_wait: Duration,
    operation_timeout: Duration,
    max_connections: u32,
    prune_every: Duration,
}

impl fmt::Debug for PgStoreBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgStoreBuilder")
            .field("source", &self.source)
            .field("schema", &self.schema)
            .field("prefix", &self.prefix)
            .field("retention", &self.retention)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for PgStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgStore")
            .field("at", &self.inner.shown)
            .field("schema", &self.inner.names.schema)
            .field("prefix", &self.inner.names.prefix)
            .field("retention", &self.inner.retention)
            .finish_non_exhaustive()
    }
}

/// Where a pool connects, as `postgres://user@host:port/database`.
fn shown(options: &PgConnectOptions) -> String {
    let database = options.get_database().unwrap_or_default();
    format!("postgres://{}@{}:{}/{database}", options.get_username(), options.get_host(), options.get_port())
}

impl PgStore {
    /// A store on `source`: a URL (the store makes its own pool) or the app's [`PgPool`].
    pub fn builder(source: impl Into<PgSource>) -> PgStoreBuilder {
        PgStoreBuilder {
            source: source.into(),
            schema: "public".to_owned(),
            prefix: "pocket_".to_owned(),
            retention: Duration::from_secs(365 * 24 * 3600),
            acquire_wait: Duration::from_secs(2),
            operation_timeout: Duration::from_secs(5),
            max_connections: 16,
            prune_every: Duration::from_secs(600),
        }
    }

    /// Creates or updates the store's tables to the schema this crate knows. Idempotent (run it
    /// at every start, or from a deploy step); several processes running it at once take turns.
    /// A database whose schema is at a version newer than this crate knows is refused: upgrade
    /// pocket-payments (or use another schema or prefix).
    pub async fn migrate(&self) -> Result<(), PgStoreError> {
        let shared = &self.inner;
        let mut connection = shared.acquire("migrate its tables").await?;
        let migrator = shared.names.migrator();
        let result = migrator.run(&mut *connection).await;
        if result.is_err() {
            // The migrator's session lock may still be held on this connection: end it.
            connection.close_on_drop();
        }
        match result {
            Ok(()) => Ok(()),
            Err(sqlx::migrate::MigrateError::VersionMissing(version)) => Err(PgStoreError::new(
                "migrate its tables",
                &shared.shown,
                PgFailure::Schema,
                format!(
                    "the database's schema is at version {version}, newer than this pocket-payments knows ({SCHEMA_VERSION}); upgrade pocket-payments, or give this app another schema or prefix"
                ),
            )),
            Err(error) => Err(shared.failed("migrate its tables", sqlx::Error::Migrate(Box::new(error)))),
        }
    }

    /// The schema version the database is at (`None` before the first migration).
    pub async fn schema_version(&self) -> Result<Option<i64>, PgStoreError> {
        let shared = &self.inner;
        let operation = "read its schema version";
        let mut connection = shared.acquire(operation).await?;
        let version =
            shared.bounded(operation, sqlx::query_scalar(shared.sql.version.clone()).fetch_one(&mut *connection)).await;
        match version {
            Ok(version) => Ok(version),
            Err(error) if error.failure() == PgFailure::Database => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// Deletes one bounded batch of what the retention lets go (done payments older than it,
    /// claims that lapsed an hour ago, stale polling marks); the number of rows deleted. The
    /// store runs this in the background; call it from a scheduled job if you prefer.
    pub async fn prune(&self) -> Result<u64, PgStoreError> {
        let shared = &self.inner;
        let operation = "prune old payments";
        let mut connection = shared.acquire(operation).await?;
        let retention = shared.retention.as_secs_f64();
        let payments = sqlx::query(shared.sql.prune_payments.clone()).bind(retention).bind(PRUNE_BATCH);
        let deleted = shared.bounded(operation, payments.execute(&mut *connection)).await?.rows_affected();
        let pollers = sqlx::query(shared.sql.prune_pollers.clone()).bind(PRUNE_BATCH);
        Ok(deleted + shared.bounded(operation, pollers.execute(&mut *connection)).await?.rows_affected())
    }

    /// The pool the store uses (to give the app's own queries the same connections).
    pub fn pool(&self) -> &PgPool {
        &self.inner.pool
    }

    pub(crate) fn shared(&self) -> &Shared {
        &self.inner
    }
}

impl Shared {
    /// A connection, waiting at most the acquire bound (an exhausted pool is an error, not a hang).
    pub async fn acquire(&self, operation: &'static str) -> Result<PoolConnection<Postgres>, PgStoreError> {
        match tokio::time::timeout(self.acquire_wait, self.pool.acquire()).await {
            Ok(Ok(connection)) => Ok(connection),
            Ok(Err(error)) => Err(self.failed(operation, error)),
            Err(_) => Err(PgStoreError::new(
                operation,
                &self.shown,
                PgFailure::PoolExhausted,
                format!("no connection of the pool was free within {:?}", self.acquire_wait),
            )),
        }
    }

    /// `query`'s answer within the operation timeout.
    pub async fn bounded<T>(
        &self,
        operation: &'static str,
        query: impl Future<Output = Result<T, sqlx::Error>>,
    ) -> Result<T, PgStoreError> {
        match tokio::time::timeout(self.operation_timeout, query).await {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(error)) => Err(self.failed(operation, error)),
            Err(_) => Err(PgStoreError::new(
                operation,
                &self.shown,
                PgFailure::Unreachable,
                format!("no answer within {:?}", self.operation_timeout),
            )),
        }
    }

    pub fn failed(&self, operation: &'static str, error: sqlx::Error) -> PgStoreError {
        PgStoreError::from_sqlx(operation, &self.shown, self.password.as_deref(), error)
    }

    async fn fetch_optional(
        &self,
        operation: &'static str,
        query: sqlx::query::Query<'_, Postgres, sqlx::postgres::PgArguments>,
    ) -> Result<Option<PgRow>, PgStoreError> {
        let mut connection = self.acquire(operation).await?;
        self.bounded(operation, query.fetch_optional(&mut *connection)).await
    }
}

impl PgStoreBuilder {
    /// Put the tables in this schema (default `public`; created by [`PgStore::migrate`] if
    /// absent). A plain lower-case SQL identifier.
    pub fn schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = schema.into();
        self
    }

    /// Prefix the tables' names with this (default `pocket_`: `pocket_payments`,
    /// `pocket_watched`, `pocket_pollers`, `pocket_migrations`). Two apps in one schema need
    /// two prefixes.
    pub fn table_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// How long a done payment is kept (default 365 days): the reach of "once" for the plain
    /// handler, and of "already processed" for both.
    pub fn retention(mut self, retention: Duration) -> Self {
        self.retention = retention;
        self
    }

    /// How long an operation waits for a free connection (default 2 s) and for its answer
    /// (default 5 s); past either it fails and the delivery is answered 503.
    pub fn timeouts(mut self, acquire: Duration, operation: Duration) -> Self {
        self.acquire_wait = acquire;
        self.operation_timeout = operation;
        self
    }

    /// The size of the pool the store makes from a URL (default 16). A transactional handler
    /// holds a connection while it runs: size the pool for the handlers that run at once.
    pub fn max_connections(mut self, connections: u32) -> Self {
        self.max_connections = connections.max(1);
        self
    }

    /// How often the background task prunes what the retention lets go (default 10 min).
    pub fn prune_every(mut self, every: Duration) -> Self {
        self.prune_every = every;
        self
    }

    /// The store. Connects lazily: an unreachable database is not an error here, but every
    /// operation fails until it is back; a malformed URL or name is an error. Starts the
    /// pruning task on the current tokio runtime (it ends with the last clone of the store).
    pub async fn connect(self) -> Result<PgStore, PgStoreError> {
        let (pool, shown, password) = match self.source {
            PgSource::Url(url) => {
                let shown = redact_url(&url, "PostgreSQL");
                let options = PgConnectOptions::from_str(&url)
                    .map_err(|error| PgStoreError::from_sqlx("use its URL", &shown, None, error))?;
                let password = url::Url::parse(&url).ok().and_then(|url| url.password().map(str::to_owned));
                let pool = PgPoolOptions::new()
                    .max_connections(self.max_connections)
                    .acquire_timeout(self.acquire_wait)
                    .connect_lazy_with(options.application_name("pocket-payments"));
                (pool, shown, password)
            }
            PgSource::Pool(pool) => {
                let shown = shown(&pool.connect_options());
                (pool, shown, None)
            }
        };
        let names = Names::new(&self.schema, &self.prefix)
            .map_err(|reason| PgStoreError::new("use its names", &shown, PgFailure::Configuration, reason))?;
        let shared = Arc::new(Shared {
            pool,
            sql: Statements::new(&names),
            lock_class: names.lock_class(),
            names,
            retention: self.retention,
            acquire_wait: self.acquire_wait,
            operation_timeout: self.operation_timeout,
            shown,
            password,
            replica: replica_name(),
        });
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(prune_while_used(Arc::downgrade(&shared), self.prune_every));
        }
        Ok(PgStore { inner: shared })
    }
}

/// Prunes every `every` until the store is dropped: batches until one deletes less than a
/// full batch (at most 100 a round, so that one round stays bounded).
async fn prune_while_used(store: Weak<Shared>, every: Duration) {
    loop {
        tokio::time::sleep(every).await;
        for _ in 0..100 {
            let Some(shared) = store.upgrade() else { return };
            match (PgStore { inner: shared }).prune().await {
                Ok(deleted) if deleted < PRUNE_BATCH as u64 => break,
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!(%error, "pruning old payments failed; tried again later");
                    break;
                }
            }
        }
    }
}

fn boxed(error: PgStoreError) -> StoreError {
    Box::new(error)
}

#[async_trait]
impl PaymentStore for PgStore {
    async fn claim(&self, key: &str, lease: Duration) -> Result<Claim, StoreError> {
        let shared = &self.inner;
        let operation = "claim a payment";
        let mut connection = shared.acquire(operation).await?;
        // A row deleted (released) between the two statements is claimed on the next try.
        for _ in 0..3 {
            let token = claim_token(&shared.replica);
            let claim = sqlx::query(shared.sql.claim.clone()).bind(key).bind(token.as_str()).bind(lease.as_secs_f64());
            if shared.bounded(operation, claim.fetch_optional(&mut *connection)).await?.is_some() {
                return Ok(Claim::Acquired(token));
            }
            let state = sqlx::query(shared.sql.state.clone()).bind(key);
            match shared.bounded(operation, state.fetch_optional(&mut *connection)).await? {
                Some(row) if row.try_get::<bool, _>("done").unwrap_or(false) => return Ok(Claim::Done),
                Some(_) => return Ok(Claim::InProgress),
                None => {}
            }
        }
        Ok(Claim::InProgress)
    }

    async fn complete(&self, key: &str, token: &ClaimToken) -> Result<bool, StoreError> {
        let shared = &self.inner;
        let operation = "record a processed payment";
        let mut connection = shared.acquire(operation).await?;
        let query = sqlx::query(shared.sql.complete.clone()).bind(key).bind(token.as_str());
        Ok(shared.bounded(operation, query.execute(&mut *connection)).await?.rows_affected() == 1)
    }

    async fn release(&self, key: &str, token: &ClaimToken) -> Result<bool, StoreError> {
        let shared = &self.inner;
        let operation = "release a claim";
        let mut connection = shared.acquire(operation).await?;
        let query = sqlx::query(shared.sql.release.clone()).bind(key).bind(token.as_str());
        Ok(shared.bounded(operation, query.execute(&mut *connection)).await?.rows_affected() == 1)
    }

    async fn is_done(&self, key: &str) -> Result<bool, StoreError> {
        let shared = &self.inner;
        let operation = "read a payment";
        let mut connection = shared.acquire(operation).await?;
        let query = sqlx::query_scalar(shared.sql.is_done.clone()).bind(key);
        Ok(shared.bounded(operation, query.fetch_one(&mut *connection)).await?)
    }
}

/// The watched invoice of a journal row; `None` (logged) when it cannot be read.
pub(super) fn read_watched(row: &PgRow) -> Option<Watched> {
    let json: String = row.try_get("watched").ok()?;
    readable(&json, "a watched invoice", "PostgreSQL")
}

/// The reconciler's shared list: a table of watched invoices (JSON, by key), and a table of
/// polling marks so that one replica at a time polls each invoice.
#[async_trait]
impl WatchJournal for PgStore {
    async fn save(&self, key: &str, watched: &Watched) -> Result<(), StoreError> {
        let json = serde_json::to_string(watched)?;
        let shared = &self.inner;
        let operation = "write a watched invoice down";
        let mut connection = shared.acquire(operation).await?;
        let query = sqlx::query(shared.sql.save.clone()).bind(key).bind(json);
        shared.bounded(operation, query.execute(&mut *connection)).await.map_err(boxed)?;
        Ok(())
    }

    async fn forget(&self, key: &str) -> Result<bool, StoreError> {
        let shared = &self.inner;
        let operation = "cross a watched invoice out";
        let mut connection = shared.acquire(operation).await?;
        let query = sqlx::query_scalar(shared.sql.forget.clone()).bind(key);
        Ok(shared.bounded(operation, query.fetch_one(&mut *connection)).await?)
    }

    async fn load(&self) -> Result<Vec<Watched>, StoreError> {
        let shared = &self.inner;
        let operation = "read the watched invoices";
        let mut connection = shared.acquire(operation).await?;
        let rows = shared.bounded(operation, sqlx::query(shared.sql.load.clone()).fetch_all(&mut *connection)).await?;
        Ok(rows.iter().filter_map(read_watched).collect())
    }

    async fn find(&self, key: &str) -> Result<Option<Watched>, StoreError> {
        let shared = &self.inner;
        let row =
            shared.fetch_optional("read a watched invoice", sqlx::query(shared.sql.find.clone()).bind(key)).await?;
        Ok(row.as_ref().and_then(read_watched))
    }

    async fn try_poll(&self, key: &str, lease: Duration) -> Result<bool, StoreError> {
        let shared = &self.inner;
        let query = sqlx::query(shared.sql.try_poll.clone()).bind(key).bind(&shared.replica).bind(lease.as_secs_f64());
        Ok(shared.fetch_optional("take a poll", query).await?.is_some())
    }

    /// Crosses the invoice out and writes it into the unresolved table, in one statement.
    async fn give_up(&self, key: &str, unresolved: &Unresolved, watched: &Watched) -> Result<bool, StoreError> {
        let record = GivenUp { unresolved: unresolved.clone(), watched: watched.clone() };
        let json = serde_json::to_string(&record)?;
        let shared = &self.inner;
        let operation = "write an unresolved invoice down";
        let mut connection = shared.acquire(operation).await?;
        let query = sqlx::query_scalar(shared.sql.give_up.clone()).bind(key).bind(json);
        Ok(shared.bounded(operation, query.fetch_one(&mut *connection)).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_unique() {
        let replica = replica_name();
        assert_ne!(claim_token(&replica), claim_token(&replica));
    }
}
