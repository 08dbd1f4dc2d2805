//! One replica of a merchant's backend sharing a Redis payment store, for the multi-process
//! tests: it reads invoice ids on stdin (`<id> [handler milliseconds]`), delivers a notice for
//! each through its own pipeline, and prints `started <id>`, `ran <id>` from the handler and
//! `outcome <id> <word>` for each delivery. Every invoice is paid, 560 ₮, as far as its stub
//! Pocket knows.
//!
//! cargo run -p pocket-payments --features redis --example redis_replica -- redis://127.0.0.1:6379

use std::io::{BufRead, Write};
use std::time::Duration;

use async_trait::async_trait;
use pocket_core::{InvoiceId, WebhookNotice};
use pocket_payments::{HandlerError, PaymentHandler, Payments, RedisStore, VerifiedPayment};

#[path = "../benches/support/everything_paid.rs"]
mod everything_paid;
use everything_paid::EverythingPaid;

/// Prints what it does; sleeps as long as the input line asked for the invoice.
struct Printing;

fn say(line: String) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

#[async_trait]
impl PaymentHandler for Printing {
    async fn paid(&self, payment: VerifiedPayment) -> Result<(), HandlerError> {
        let id = payment.invoice_id().to_string();
        say(format!("started {id}"));
        let slow = payment.unverified_notice().and_then(|n| n.extra.get("slowMs")).and_then(|v| v.as_u64());
        tokio::time::sleep(Duration::from_millis(slow.unwrap_or(0))).await;
        say(format!("ran {id}"));
        Ok(())
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let url = std::env::args().nth(1).ok_or("usage: redis_replica <redis url>")?;
    let store = RedisStore::builder(url).prefix("test:").connect().await?;
    let payments = Payments::builder(EverythingPaid, Printing)
        .store(store)
        .checks_per_second(None, 0)
        .handler_timeout(Duration::from_secs(1))
        .lease(Duration::from_millis(1_500))
        .build();
    let (lines, mut incoming) = tokio::sync::mpsc::unbounded_channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let mut deliveries = tokio::task::JoinSet::new();
    while let Some(line) = incoming.recv().await {
        let mut words = line.split_whitespace();
        let (Some(id), slow) = (words.next(), words.next()) else { continue };
        let mut notice = WebhookNotice::new(InvoiceId::new(id)?);
        if let Some(slow) = slow.and_then(|ms| ms.parse::<u64>().ok()) {
            notice.extra.insert("slowMs".into(), slow.into());
        }
        let (payments, id) = (payments.clone(), id.to_owned());
        deliveries.spawn(async move {
            let outcome = payments.receive(notice).await;
            say(format!("outcome {id} {}", outcome.word()));
        });
    }
    while deliveries.join_next().await.is_some() {}
    Ok(())
}
