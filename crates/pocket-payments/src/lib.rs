#![doc = include_str!("../README.md")]
#![warn(clippy::unwrap_used)]

mod backoff;
mod builder;
mod checks;
mod claim;
mod counted;
mod guard;
mod handler;
mod health;
mod journal;
mod ledger;
mod outcome;
mod payment;
mod pipeline;
#[cfg(feature = "postgres")]
mod postgres;
mod reconciler;
#[cfg(any(feature = "redis", feature = "postgres"))]
mod redact;
#[cfg(feature = "redis")]
mod redis_store;
mod settings;
mod store;
mod telemetry;
mod watching;

pub use builder::PaymentsBuilder;
pub use handler::{HandlerError, HandlerFn, OrderCheck, PaymentHandler, handler_fn};
pub use health::{HEALTH_PROBE_TIMEOUT, Health, Probe, ReconcilerHealth};
pub use journal::{WatchJournal, Watched};
pub use ledger::{JournalEntry, Ledger, PaymentRecord, StoreEntry};
pub use outcome::{Outcome, Refusal};
pub use payment::{Expected, FailedPayment, Source, Unresolved, VerifiedPayment};
pub use pipeline::Payments;
#[cfg(feature = "postgres")]
pub use postgres::{PgFailure, PgSource, PgStore, PgStoreBuilder, PgStoreError, TransactionalHandler};
pub use reconciler::Reconciler;
#[cfg(feature = "redis")]
pub use redis_store::{RedisStore, RedisStoreBuilder, RedisStoreError};
pub use settings::{MissingAmount, ProcessedState};
/// The sqlx this crate is built with (feature `postgres`), for the handler's own queries on
/// the transaction's connection without a second version of it.
#[cfg(feature = "postgres")]
pub use sqlx;
pub use store::{Claim, ClaimToken, InMemoryStore, PaymentStore, StoreError};
/// The metrics this crate records (feature `metrics`): name, Prometheus type, meaning.
#[cfg(feature = "metrics")]
pub use telemetry::METRICS;
pub use watching::{Watch, WatchError};
