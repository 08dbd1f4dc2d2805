//! One replica of a merchant's backend sharing Redis with others, for the multi-process tests.
//! Commands on stdin, one a line:
//! - `<id> [handler milliseconds]` — a webhook notice for the invoice arrives;
//! - `watch <id>` — the app watches the invoice (the reconciler polls it);
//! - `recover` — take over the shared watch list.
//!
//! It prints `started <id>` and `ran <id>` from the handler, `checked <id>` for every question
//! to Pocket, `outcome <id> <word>` for each notice and `recovered <n>`. Its Pocket keeps invoice
//! states in the same Redis (`test:pocket:<id>` = `pending`; anything else, or nothing, is paid
//! 560 ₮), so that every replica asks the same Pocket.
//!
//! cargo run -p pocket-payments --features redis --example redis_replica -- redis://127.0.0.1:6379

use std::time::Duration;

use async_trait::async_trait;
use pocket_core::{
    Amount, Error, ErrorKind, Invoice, InvoiceId, InvoiceState, InvoiceStatus, MerchantApi, NewInvoice, PaymentConfig,
};
use pocket_payments::{HandlerError, PaymentHandler, Payments, RedisStore, VerifiedPayment};

#[path = "support/commands.rs"]
mod commands;
use commands::{obey, say, slowness};

/// Pocket, with its invoices' states in Redis.
struct SharedPocket(redis::aio::MultiplexedConnection);

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
        let mut connection = self.0.clone();
        let state: Option<String> = redis::cmd("GET")
            .arg(format!("test:pocket:{id}"))
            .query_async(&mut connection)
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

/// Prints what it does; sleeps as long as the notice asked.
struct Printing;

#[async_trait]
impl PaymentHandler for Printing {
    async fn paid(&self, payment: VerifiedPayment) -> Result<(), HandlerError> {
        let id = payment.invoice_id().to_string();
        say(format!("started {id}"));
        tokio::time::sleep(slowness(&payment)).await;
        say(format!("ran {id}"));
        Ok(())
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let url = std::env::args().nth(1).ok_or("usage: redis_replica <redis url>")?;
    let pocket = SharedPocket(redis::Client::open(url.as_str())?.get_multiplexed_async_connection().await?);
    let store = RedisStore::builder(url).prefix("test:").connect().await?;
    let payments = Payments::builder(pocket, Printing)
        .store(store.clone())
        .watch_journal(store)
        .checks_per_second(None, 0)
        .handler_timeout(Duration::from_secs(1))
        .lease(Duration::from_millis(1_500))
        .poll_schedule(Duration::from_millis(20), Duration::from_millis(50))
        .build();
    obey(payments).await
}
