//! The transactional handler: the merchant's writes and the payment's record commit together.
//!
//! After Pocket confirms a payment, the pipeline opens a transaction, takes the payment's row
//! (a transaction-scoped advisory lock that no concurrent delivery waits for, then the row
//! written `done`), runs the handler on the same connection, and commits. Whatever stops the
//! commit — the handler's error, panic or timeout, a crash, a killed connection — rolls both
//! back, so the next delivery (or poll) runs the handler as if for the first time. A crashed
//! process's connection drops, and PostgreSQL frees the row at once: no lease to wait out.

use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::PgConnection;
use sqlx::{Connection, Row};

use super::error::PgStoreError;
use super::store::PgStore;
use crate::claim::OnAbandon;
use crate::guard::{Abnormal, guarded};
use crate::handler::{Job, log_unresolved};
use crate::telemetry::{Callback, Meters, Ran, Started};
use crate::{FailedPayment, HandlerError, Outcome, Unresolved, VerifiedPayment};

/// How long a delivery waits for PostgreSQL's answer to its COMMIT before it takes the outcome
/// as unknown.
const COMMIT_WAIT: Duration = Duration::from_secs(10);

/// Kept above the handler's timeout for the server's own bound on an idle transaction, which
/// ends a transaction left open by a process that froze rather than died.
const IDLE_MARGIN: Duration = Duration::from_secs(10);

/// The merchant's code for payments, run inside the PostgreSQL transaction that records the
/// payment ([`Payments::transactional`](crate::Payments::transactional)): write the order's new
/// state through `connection`, and it commits together with "this payment is done" — or, if
/// anything fails before the commit, neither happened and the handler runs again later. That is
/// exactly once for everything the handler writes to that database, across crashes, replicas,
/// restarts and redeliveries.
///
/// What it does *outside* the database (an e-mail, an HTTP call) is still at least once: write
/// an outbox row in the transaction instead, and send from it afterwards.
///
/// Use `connection` for every statement (`sqlx::query(…).execute(&mut *connection)`); open a
/// savepoint with `connection.begin()` if you need one; never `COMMIT` or `ROLLBACK` it
/// yourself. Each statement is bounded by the handler timeout (`statement_timeout`), and the
/// whole run by the same timeout.
///
/// ```no_run
/// use pocket_payments::{HandlerError, TransactionalHandler, VerifiedPayment};
/// use sqlx::PgConnection;
///
/// struct MarkOrderPaid;
///
/// #[async_trait::async_trait]
/// impl TransactionalHandler for MarkOrderPaid {
///     async fn paid(&self, payment: VerifiedPayment, connection: &mut PgConnection) -> Result<(), HandlerError> {
///         sqlx::query("UPDATE orders SET state = 'paid' WHERE invoice_id = $1 AND state = 'awaiting'")
///             .bind(payment.invoice_id().as_str())
///             .execute(&mut *connection)
///             .await?;
///         Ok(())
///     }
/// }
/// ```
#[async_trait]
pub trait TransactionalHandler: Send + Sync + 'static {
    /// Acts on a confirmed payment, inside the transaction that records it.
    async fn paid(&self, payment: VerifiedPayment, connection: &mut PgConnection) -> Result<(), HandlerError>;

    /// Pocket says the invoice will not be paid: release stock, inside the transaction that
    /// records it. The default does nothing.
    async fn failed(&self, payment: FailedPayment, connection: &mut PgConnection) -> Result<(), HandlerError> {
        let _ = (payment, connection);
        Ok(())
    }

    /// The reconciler gave up on an invoice at its deadline: someone should look at it. Runs
    /// outside any transaction. The default logs it at error level.
    async fn unresolved(&self, invoice: Unresolved) {
        log_unresolved(&invoice);
    }
}

/// A handler the app shares with other pipelines or its own code.
#[async_trait]
impl<T: TransactionalHandler + ?Sized> TransactionalHandler for std::sync::Arc<T> {
    async fn paid(&self, payment: VerifiedPayment, connection: &mut PgConnection) -> Result<(), HandlerError> {
        (**self).paid(payment, connection).await
    }

    async fn failed(&self, payment: FailedPayment, connection: &mut PgConnection) -> Result<(), HandlerError> {
        (**self).failed(payment, connection).await
    }

    async fn unresolved(&self, invoice: Unresolved) {
        (**self).unresolved(invoice).await
    }
}

/// One run of the merchant's code in a transaction that records `key` done.
pub(crate) struct InTransaction {
    pub key: String,
    pub job: Job,
    /// The longest the code may run.
    pub timeout: Duration,
    /// The outcome when it commits.
    pub done: Outcome,
    /// Called when the run ends without knowing whether it committed (or is cancelled).
    pub on_abandon: OnAbandon,
    /// The pipeline's metrics.
    pub meters: std::sync::Arc<Meters>,
}

/// Calls `on_abandon` when dropped armed: a cancelled delivery, or a commit whose outcome is
/// unknown — the reconciler then finds out by a poll.
struct Unsettled(Option<OnAbandon>);

impl Unsettled {
    fn settle(mut self) {
        self.0 = None;
    }
}

impl Drop for Unsettled {
    fn drop(&mut self) {
        if let Some(on_abandon) = self.0.take() {
            on_abandon();
        }
    }
}

pub(crate) async fn run_in_transaction(
    store: &PgStore,
    handler: &dyn TransactionalHandler,
    run: InTransaction,
) -> Outcome {
    let shared = store.shared();
    let unavailable = |error: PgStoreError| {
        tracing::error!(key = %run.key, %error, "the payment store could not be used");
        Outcome::StoreUnavailable
    };
    let operation = "open a payment's transaction";
    let mut connection = match shared.acquire(operation).await {
        Ok(connection) => connection,
        Err(error) => return unavailable(error),
    };
    let mut transaction = match shared.bounded(operation, connection.begin()).await {
        Ok(transaction) => transaction,
        Err(error) => return unavailable(error),
    };
    // The server's own bounds, set in the statement that takes the payment: each statement of
    // the handler, and the transaction left idle by a process that stopped without dying.
    let statement_ms = run.timeout.as_millis().max(1).to_string();
    let idle_ms = (run.timeout + IDLE_MARGIN).as_millis().to_string();
    let take = sqlx::query(shared.sql.take_in_transaction.clone())
        .bind(&run.key)
        .bind(shared.lock_class)
        .bind(statement_ms)
        .bind(idle_ms);
    let row = match shared.bounded("take a payment", take.fetch_one(&mut *transaction)).await {
        Ok(row) => row,
        Err(error) => return unavailable(error),
    };
    // Returning drops the transaction, which rolls it back (and frees the advisory lock).
    match (row.try_get("got"), row.try_get("taken"), row.try_get::<Option<bool>, _>("was_done")) {
        (Ok(true), Ok(true), _) => {}
        (Ok(true), Ok(false), Ok(Some(true))) => return Outcome::AlreadyHandled,
        _ => return Outcome::InProgress,
    }
    let unsettled = Unsettled(Some(run.on_abandon));
    let callback = match run.job {
        Job::Paid(_) => Callback::Paid,
        Job::Failed(_) => Callback::Failed,
    };
    let work = async {
        match run.job {
            Job::Paid(payment) => handler.paid(payment, &mut transaction).await,
            Job::Failed(payment) => handler.failed(payment, &mut transaction).await,
        }
    };
    let started = Started::now();
    let ran = guarded(run.timeout, work).await;
    run.meters.callback_ran(callback, Ran::of(&ran), started);
    match ran {
        Ok(Ok(())) => {}
        Ok(Err(error)) => {
            tracing::error!(%error, "the payment handler failed; its transaction was rolled back and the payment will be tried again");
            // The handler's error left the connection usable: roll back and give it back.
            unsettled.settle();
            drop(shared.bounded("roll a payment back", transaction.rollback()).await);
            return Outcome::HandlerFailed;
        }
        Err(abnormal) => {
            match abnormal {
                // The panic's message is the merchant's and may hold anything: not logged here.
                Abnormal::Panicked => tracing::error!(
                    "the payment handler panicked; its transaction was rolled back and the payment will be tried again"
                ),
                Abnormal::TimedOut => {
                    tracing::error!(timeout = ?run.timeout, "the payment handler ran out of time; its transaction was rolled back and the payment will be tried again")
                }
            }
            // A statement may still be running on it: close the connection, which ends the
            // transaction on the server without waiting here.
            unsettled.settle();
            drop(transaction);
            connection.close_on_drop();
            return Outcome::HandlerFailed;
        }
    }
    let reason = match tokio::time::timeout(COMMIT_WAIT, transaction.commit()).await {
        Ok(Ok(())) => {
            unsettled.settle();
            return run.done;
        }
        Ok(Err(error)) => shared.failed("commit a payment", error).to_string(),
        Err(_) => format!("no answer to the commit within {COMMIT_WAIT:?}"),
    };
    // `unsettled` hands the invoice to the reconciler as it drops.
    tracing::error!(%reason, key = %run.key, "the payment's commit has no known outcome; a later delivery or poll finds out whether it is done");
    connection.close_on_drop();
    Outcome::StoreUnavailable
}
