//! A flood of forged notices with random invoice ids, against a Pocket stub that knows none of
//! them: how many check calls reach Pocket, and how much memory the pipeline keeps. Then the
//! in-memory store under a million distinct payments. Counts and memory, not speed: it prints a
//! report (run it with `cargo bench -p pocket-payments --bench flood`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use pocket_core::{
    Error, ErrorKind, Invoice, InvoiceId, InvoiceStatus, MerchantApi, NewInvoice, PaymentConfig, WebhookNotice,
};
use pocket_payments::{Claim, InMemoryStore, Outcome, PaymentStore, Payments, handler_fn};

/// Pocket, knowing no invoice at all; counts the questions.
struct KnowsNothing(Arc<AtomicU64>);

#[async_trait]
impl MerchantApi for KnowsNothing {
    async fn create_invoice(&self, _: &NewInvoice) -> Result<Invoice, Error> {
        Err(Error::new(ErrorKind::Validation, "not used"))
    }

    async fn create_merchant_invoice(
        &self,
        _: &pocket_core::NewMerchantInvoice,
    ) -> Result<pocket_core::MerchantInvoice, Error> {
        Err(Error::new(ErrorKind::Validation, "not used"))
    }

    async fn check_invoice(&self, _: &InvoiceId) -> Result<InvoiceStatus, Error> {
        self.0.fetch_add(1, Ordering::Relaxed);
        Err(Error::new(ErrorKind::NotFound, "no such invoice"))
    }

    async fn payment_config(&self) -> Result<PaymentConfig, Error> {
        Ok(PaymentConfig::default())
    }

    async fn set_webhook_url(&self, _: &str) -> Result<(), Error> {
        Ok(())
    }
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1).and_then(|pages| pages.parse::<u64>().ok()))
        .map_or(0, |pages| pages * 4)
}

const NOTICES: u64 = 1_000_000;

async fn flood(
    name: &str,
    configure: impl FnOnce(pocket_payments::PaymentsBuilder) -> pocket_payments::PaymentsBuilder,
) {
    let checks = Arc::new(AtomicU64::new(0));
    let payments: Payments =
        configure(Payments::builder(KnowsNothing(checks.clone()), handler_fn(|_| async { Ok(()) }))).build();
    let before = rss_kib();
    let mut peak = before;
    let (mut refused, mut overloaded) = (0u64, 0u64);
    let mut rng = 0x9e37_79b9_7f4a_7c15_u64;
    let started = Instant::now();
    for n in 0..NOTICES {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let notice = WebhookNotice::new(InvoiceId::from(rng >> 1));
        match payments.receive(notice).await {
            Outcome::Refused(_) => refused += 1,
            Outcome::Overloaded => overloaded += 1,
            other => panic!("a forged notice came out as {other:?}"),
        }
        if n % 50_000 == 0 {
            peak = peak.max(rss_kib());
        }
    }
    let elapsed = started.elapsed();
    println!(
        "{name}: {NOTICES} random ids in {:.2} s ({:.0} notices/s): {} check calls reached Pocket; \
         {refused} refused (422), {overloaded} asked to come again (503); {} unknown ids remembered; \
         RSS {before} KiB before, {} KiB after (peak sampled {peak} KiB)",
        elapsed.as_secs_f64(),
        NOTICES as f64 / elapsed.as_secs_f64(),
        checks.load(Ordering::Relaxed),
        payments.remembered_unknown_invoices(),
        rss_kib(),
    );
}

async fn store_under_a_million_payments() {
    let store = InMemoryStore::default();
    let before = rss_kib();
    let mut peak = before;
    let started = Instant::now();
    for n in 0..1_000_000u64 {
        let key = format!("paid:{n}");
        if let Ok(Claim::Acquired(token)) = store.claim(&key, Duration::from_secs(300)).await {
            let _ = store.complete(&key, &token).await;
        }
        if n % 100_000 == 0 {
            peak = peak.max(rss_kib());
        }
    }
    println!(
        "in-memory store, 1,000,000 distinct payments (capacity 100,000): {} remembered; {:.2} s; \
         RSS {before} KiB before, {} KiB after (peak sampled {peak} KiB)",
        store.len(),
        started.elapsed().as_secs_f64(),
        rss_kib(),
    );
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs this too: keep that quick.
    if std::env::args().any(|arg| arg == "--test" || arg == "--list") {
        return;
    }
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    runtime.block_on(async {
        flood("default limits (50 checks/s, burst 100)", |pipeline| pipeline).await;
        flood("no rate limit (8 checks at once)", |pipeline| pipeline.checks_per_second(None, 0)).await;
        store_under_a_million_payments().await;
    });
}
