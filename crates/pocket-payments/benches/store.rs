//! The payment store's cost per delivery, and what a replica sustains with each store.
//!
//! - criterion, same run: claim + complete of a fresh payment with `InMemoryStore`, `RedisStore`
//!   (a `redis-server` this bench starts on a random loopback port) and `PgStore` (a PostgreSQL
//!   it starts likewise, with `fsync` and `synchronous_commit` on, as in production);
//! - throughput runs, same run: 20 000 verified deliveries (64 at a time) of fresh paid invoices
//!   through the whole pipeline (store read, stub check, claim or transaction, handler, record)
//!   with each store — and with the transactional handler writing one order row in the payment's
//!   transaction — printing deliveries per second and p50/p99 latency.
//!
//! cargo bench -p pocket-payments --features redis,postgres --bench store
//!
//! A store whose feature is off, or whose server is not installed, is skipped with a word.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use pocket_core::{InvoiceId, WebhookNotice};
use pocket_payments::{Claim, InMemoryStore, Outcome, PaymentStore, Payments, PaymentsBuilder, handler_fn};

#[path = "support/everything_paid.rs"]
mod everything_paid;
use everything_paid::EverythingPaid;

const DELIVERIES: u64 = 20_000;
const AT_ONCE: usize = 64;

async fn claim_and_complete(store: &dyn PaymentStore, key: String) {
    if let Ok(Claim::Acquired(token)) = store.claim(&key, Duration::from_secs(60)).await {
        let _ = store.complete(&key, &token).await;
    }
}

fn plain(store: impl PaymentStore) -> Payments {
    settings(Payments::builder(EverythingPaid, handler_fn(|_| async { Ok(()) })).store(store))
}

fn settings(builder: PaymentsBuilder) -> Payments {
    builder.checks_per_second(None, 0).max_concurrent_checks(AT_ONCE, Duration::from_secs(5)).build()
}

/// Fresh invoice numbers for every run, so that no run meets another's done payments.
static NEXT: AtomicU64 = AtomicU64::new(5_000_000);

async fn throughput(name: &str, payments: Payments, at_once: usize) {
    let first = NEXT.fetch_add(DELIVERIES, Ordering::Relaxed);
    let next = Arc::new(AtomicU64::new(first));
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..at_once {
        let (payments, next) = (payments.clone(), next.clone());
        workers.spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= first + DELIVERIES {
                    return latencies;
                }
                let at = Instant::now();
                let outcome = payments.receive(WebhookNotice::new(InvoiceId::from(n))).await;
                assert_eq!(outcome, Outcome::Handled);
                latencies.push(at.elapsed());
            }
        });
    }
    let mut latencies = Vec::new();
    while let Some(done) = workers.join_next().await {
        latencies.extend(done.expect("a worker"));
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    println!(
        "{name}, whole pipeline: {} verified deliveries in {:.2} s = {:.0}/s ({at_once} at a time); latency p50 {:?}, p99 {:?}",
        latencies.len(),
        elapsed.as_secs_f64(),
        latencies.len() as f64 / elapsed.as_secs_f64(),
        at(0.50),
        at(0.99),
    );
}

#[cfg(feature = "postgres")]
mod postgres {
    use pocket_payments::sqlx::{self, PgConnection};
    use pocket_payments::{HandlerError, PgStore, TransactionalHandler, VerifiedPayment};

    /// Writes the order row, as a shop's handler would.
    pub struct WriteOrder;

    #[async_trait::async_trait]
    impl TransactionalHandler for WriteOrder {
        async fn paid(&self, payment: VerifiedPayment, connection: &mut PgConnection) -> Result<(), HandlerError> {
            sqlx::query("INSERT INTO orders (invoice_id, paid_at) VALUES ($1, now())")
                .bind(payment.invoice_id().as_str())
                .execute(&mut *connection)
                .await?;
            Ok(())
        }
    }

    pub async fn store(url: &str) -> PgStore {
        // A pool of a few connections per core: more only queue in the server (docs/operations.md).
        let pool = std::env::var("POCKET_BENCH_PG_POOL").ok().and_then(|n| n.parse().ok()).unwrap_or(16);
        let store = PgStore::builder(url).max_connections(pool).connect().await.expect("a PostgreSQL store");
        store.migrate().await.expect("the store's tables");
        sqlx::query("CREATE TABLE IF NOT EXISTS orders (invoice_id text PRIMARY KEY, paid_at timestamptz)")
            .execute(store.pool())
            .await
            .expect("the orders table");
        store
    }
}

fn store(c: &mut Criterion) {
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("a runtime");
    let next = AtomicU64::new(0);
    let fresh = || format!("paid:{}", next.fetch_add(1, Ordering::Relaxed));
    let mut group = c.benchmark_group("claim + complete of a fresh payment");
    let memory = InMemoryStore::default();
    group.bench_function("InMemoryStore", |b| b.to_async(&runtime).iter(|| claim_and_complete(&memory, fresh())));

    #[cfg(feature = "redis")]
    let redis = pocket_test_support::RedisServer::start(false).map(|server| {
        let store = runtime
            .block_on(pocket_payments::RedisStore::builder(server.url()).prefix("bench:").connect())
            .expect("a Redis store");
        (server, store)
    });
    #[cfg(feature = "redis")]
    if let Some((_, redis)) = &redis {
        group.bench_function("RedisStore (loopback)", |b| {
            b.to_async(&runtime).iter(|| claim_and_complete(redis, fresh()))
        });
    }

    #[cfg(feature = "postgres")]
    let postgres = pocket_test_support::PostgresServer::start_durable().map(|server| {
        let url = server.create_database("bench");
        let store = runtime.block_on(postgres::store(&url));
        (server, store)
    });
    #[cfg(feature = "postgres")]
    if let Some((_, postgres)) = &postgres {
        group.bench_function("PgStore (loopback, fsync on)", |b| {
            b.to_async(&runtime).iter(|| claim_and_complete(postgres, fresh()))
        });
    }
    group.finish();

    runtime.block_on(throughput("InMemoryStore", plain(InMemoryStore::default()), AT_ONCE));
    #[cfg(feature = "redis")]
    if let Some((_, redis)) = &redis {
        runtime.block_on(throughput("RedisStore", plain(redis.clone()), AT_ONCE));
    }
    #[cfg(feature = "postgres")]
    if let Some((_, postgres)) = &postgres {
        runtime.block_on(throughput("PgStore, plain handler", plain(postgres.clone()), AT_ONCE));
        let transactional =
            || settings(Payments::transactional(EverythingPaid, postgres.clone(), postgres::WriteOrder));
        let name = "PgStore, transactional handler writing an order row";
        runtime.block_on(throughput(name, transactional(), AT_ONCE));
        // As many in flight as the pool has connections: the latency without queueing for one.
        runtime.block_on(throughput(name, transactional(), 16));
    }
}

criterion_group!(benches, store);
criterion_main!(benches);
