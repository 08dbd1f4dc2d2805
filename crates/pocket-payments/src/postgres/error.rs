//! What went wrong with PostgreSQL, typed, and never with the database's password in it.

use std::fmt;

/// What kind of failure a [`PgStoreError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PgFailure {
    /// The database could not be reached in time (refused, dropped, timed out, TLS, I/O): the
    /// pipeline answers 503 and the pool reconnects by itself.
    Unreachable,
    /// Every connection of the pool was busy for longer than the acquire bound.
    PoolExhausted,
    /// The database answered with an error (a missing table: run
    /// [`PgStore::migrate`](crate::PgStore::migrate)).
    Database,
    /// The database's schema is at a version this crate does not know, or was changed by hand.
    Schema,
    /// The URL or a name given to the builder cannot be used.
    Configuration,
}

/// Why PostgreSQL could not do what the store asked. Boxed into a
/// [`StoreError`](crate::StoreError) by the store's trait methods; downcast to read it.
///
/// ```no_run
/// # async fn run(store: pocket_payments::PgStore) {
/// use pocket_payments::{PaymentStore, PgFailure, PgStoreError};
///
/// if let Err(error) = store.is_done("paid:42").await {
///     match error.downcast_ref::<PgStoreError>() {
///         Some(pg) if pg.failure() == PgFailure::Unreachable => eprintln!("PostgreSQL is down: {pg}"),
///         _ => eprintln!("{error}"),
///     }
/// }
/// # }
/// ```
#[derive(Debug)]
pub struct PgStoreError {
    operation: &'static str,
    at: String,
    failure: PgFailure,
    reason: String,
    source: Option<sqlx::Error>,
}

impl PgStoreError {
    pub(crate) fn new(operation: &'static str, at: &str, failure: PgFailure, reason: impl Into<String>) -> Self {
        PgStoreError { operation, at: at.to_owned(), failure, reason: reason.into(), source: None }
    }

    /// From sqlx's error, classified. `secret` (the URL's password, when known) is cut out of
    /// the text should a server or driver ever repeat it.
    pub(crate) fn from_sqlx(operation: &'static str, at: &str, secret: Option<&str>, error: sqlx::Error) -> Self {
        let failure = match &error {
            sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::Protocol(_) | sqlx::Error::WorkerCrashed => {
                PgFailure::Unreachable
            }
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => PgFailure::PoolExhausted,
            sqlx::Error::Configuration(_) => PgFailure::Configuration,
            sqlx::Error::Migrate(_) => PgFailure::Schema,
            sqlx::Error::Database(database) if is_shutting_down(database.code().as_deref()) => PgFailure::Unreachable,
            _ => PgFailure::Database,
        };
        let mut reason = error.to_string();
        if let Some(secret) = secret.filter(|secret| !secret.is_empty()) {
            reason = reason.replace(secret, "REDACTED");
        }
        // The source is kept for its type (a caller may downcast it), unless it could carry the
        // URL: configuration errors are told in words only.
        let source = (failure != PgFailure::Configuration).then_some(error);
        PgStoreError { operation, at: at.to_owned(), failure, reason, source }
    }

    /// What kind of failure this is.
    pub fn failure(&self) -> PgFailure {
        self.failure
    }

    /// Whether PostgreSQL could not be used for now (unreachable, or the pool exhausted): a
    /// later delivery may succeed.
    pub fn is_unreachable(&self) -> bool {
        matches!(self.failure, PgFailure::Unreachable | PgFailure::PoolExhausted)
    }

    /// What the store was doing: "claim a payment", "read a payment", …
    pub fn operation(&self) -> &'static str {
        self.operation
    }
}

/// The server is going away (admin shutdown, crash recovery, cannot connect now).
fn is_shutting_down(code: Option<&str>) -> bool {
    matches!(code, Some("57P01" | "57P02" | "57P03" | "08000" | "08003" | "08006" | "08001" | "08004"))
}

impl fmt::Display for PgStoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PostgreSQL at {} could not {}: {}", self.at, self.operation, self.reason)
    }
}

impl std::error::Error for PgStoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_ref().map(|error| error as &(dyn std::error::Error + 'static))
    }
}
