//! One replica of a merchant's backend sharing PostgreSQL with others, with a transactional
//! handler, for the multi-process tests. Commands on stdin, one a line:
//! - `<id> [handler milliseconds] [copies]` — webhook notices for the invoice arrive (`copies`
//!   of them at once, default 1);
//! - `watch <id>` — the app watches the invoice (the reconciler polls it);
//! - `recover` — take over the shared watch list.
//!
//! The handler inserts a row `(invoice_id, pid)` into `orders` (no unique key: a duplicate
//! would show), prints `wrote <id>`, sleeps as long as the notice asked, prints `ran <id>` and
//! returns — the commit follows. It prints `checked <id>` for every question to Pocket,
//! `outcome <id> <word>` for each notice and `recovered <n>`. Its Pocket keeps invoice states
//! in the same database (`test_pocket`: a row `pending` is pending; anything else, or nothing,
//! is paid 560 ₮), so that every replica asks the same Pocket.
//!
//! cargo run -p pocket-payments --features postgres --example pg_replica -- postgres://…

use std::time::Duration;

use async_trait::async_trait;
use pocket_core::{
    Amount, Error, ErrorKind, Invoice, InvoiceId, InvoiceState, InvoiceStatus, MerchantApi, NewInvoice, PaymentConfig,
};
use pocket_payments::{HandlerError, Payments, PgStore, TransactionalHandler, VerifiedPayment};
use sqlx::PgConnection;
use sqlx::postgres::PgPool;

#[path = "support/commands.rs"]
mod commands;
use commands::{obey, say, slowness};

/// Pocket, with its invoices' states in the database.
struct SharedPocket(PgPool);

#[async_trait]
impl MerchantApi for SharedPocket {
    async fn create_invoice(&self, _: &NewInvoice) -> Result<Invoice, Error> {
        Err(Error::new(ErrorKind::Validation, "not used"))
    }

    async fn create_merchant_invoice(
        &self,
        _: &pocket_core::NewMerchantInvoice,
    ) -> Result<pocket_core::MerchantInvoice, Error> {
        Err(Error::new(ErrorKind::Validation, "not used"))
    }

    async fn check_invoice(&self, id: &InvoiceId) -> Result<InvoiceStatus, Error> {
        say(format!("checked {id}"));
        let state: Option<String> = sqlx::query_scalar("SELECT state FROM test_pocket WHERE id = $1")
            .bind(id.as_str())
            .fetch_optional(&self.0)
            .await
            .map_err(|e| Error::new(ErrorKind::Unavailable, e.to_string()))?;
        let state = if state.as_deref() == Some("pending") { InvoiceState::Pending } else { InvoiceState::Paid };
        let mut status = InvoiceStatus::new(state);
        status.id = Some(id.clone());
        status.amount = Amount::from_tugrik(560).ok();
        Ok(status)
    }

    async fn payment_config(&self) -> Result<PaymentConfig, Error> {
        Ok(PaymentConfig::default())
    }

    async fn set_webhook_url(&self, _: &str) -> Result<(), Error> {
        Ok(())
    }
}

/// Writes the order row, then sleeps as long as the notice asked.
struct WriteOrder;

#[async_trait]
impl TransactionalHandler for WriteOrder {
    async fn paid(&self, payment: VerifiedPayment, connection: &mut PgConnection) -> Result<(), HandlerError> {
        let id = payment.invoice_id().to_string();
        sqlx::query("INSERT INTO orders (invoice_id, pid) VALUES ($1, $2)")
            .bind(&id)
            .bind(i64::from(std::process::id()))
            .execute(&mut *connection)
            .await?;
        say(format!("wrote {id}"));
        tokio::time::sleep(slowness(&payment)).await;
        say(format!("ran {id}"));
        Ok(())
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let url = std::env::args().nth(1).ok_or("usage: pg_replica <postgres url>")?;
    let store = PgStore::builder(url.as_str()).max_connections(24).connect().await?;
    let pocket = SharedPocket(store.pool().clone());
    let payments = Payments::transactional(pocket, store, WriteOrder)
        .checks_per_second(None, 0)
        .max_concurrent_checks(64, Duration::from_secs(5))
        .handler_timeout(Duration::from_secs(120))
        .poll_schedule(Duration::from_millis(20), Duration::from_millis(50))
        .build();
    obey(payments).await
}
