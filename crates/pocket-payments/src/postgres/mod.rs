//! PostgreSQL (feature `postgres`): [`PgStore`], a store and watch journal in tables, and the
//! [`TransactionalHandler`], whose writes commit in the transaction that records the payment.

mod error;
mod ledger;
mod schema;
mod store;
mod transaction;

pub use error::{PgFailure, PgStoreError};
pub use store::{PgSource, PgStore, PgStoreBuilder};
pub use transaction::TransactionalHandler;
pub(crate) use transaction::{InTransaction, run_in_transaction};
