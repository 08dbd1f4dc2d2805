//! The payment store's cost per delivery, and what a replica sustains with Redis.
//!
//! - criterion, same run: claim + complete of a fresh payment with `InMemoryStore` and with
//!   `RedisStore` against a `redis-server` this bench starts on a random loopback port;
//! - a throughput run: 20 000 verified deliveries (64 at a time) of fresh paid invoices through the
//!   whole pipeline (store read, stub check, claim, handler, complete) with `RedisStore`, printing
//!   deliveries per second and p50/p99 latency.
//!
//! cargo bench -p pocket-payments --features redis --bench store

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use pocket_core::{InvoiceId, WebhookNotice};
use pocket_payments::{Claim, InMemoryStore, Outcome, PaymentStore, Payments, RedisStore, handler_fn};

#[path = "support/everything_paid.rs"]
mod everything_paid;
use everything_paid::EverythingPaid;

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_redis() -> Option<(Server, String)> {
    let port = TcpListener::bind("127.0.0.1:0").ok()?.local_addr().ok()?.port();
    let child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        .stdout(Stdio::null())
        .spawn()
        .ok()?;
    let server = Server(child);
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Some((server, format!("redis://127.0.0.1:{port}/0")))
}

async fn claim_and_complete(store: &dyn PaymentStore, key: &str) {
    if let Ok(Claim::Acquired(token)) = store.claim(key, Duration::from_secs(60)).await {
        let _ = store.complete(key, &token).await;
    }
}

async fn throughput(url: &str) {
    let store = RedisStore::builder(url).prefix("bench:").connect().await.expect("a Redis store");
    let payments = Payments::builder(EverythingPaid, handler_fn(|_| async { Ok(()) }))
        .store(store)
        .checks_per_second(None, 0)
        .max_concurrent_checks(64, Duration::from_secs(5))
        .build();
    let next = Arc::new(AtomicU64::new(5_000_000));
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..64 {
        let (payments, next) = (payments.clone(), next.clone());
        workers.spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= 5_020_000 {
                    return latencies;
                }
                let at = Instant::now();
                let outcome = payments.receive(WebhookNotice::new(InvoiceId::from(n))).await;
                assert_eq!(outcome, Outcome::Processed);
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
        "RedisStore, whole pipeline: {} verified deliveries in {:.2} s = {:.0}/s (64 at a time); latency p50 {:?}, p99 {:?}",
        latencies.len(),
        elapsed.as_secs_f64(),
        latencies.len() as f64 / elapsed.as_secs_f64(),
        at(0.50),
        at(0.99),
    );
}

fn store(c: &mut Criterion) {
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("a runtime");
    let Some((_server, url)) = start_redis() else {
        eprintln!("SKIPPED: this benchmark needs Debian's redis-server; it did not run");
        return;
    };
    let memory = InMemoryStore::default();
    let redis = runtime.block_on(RedisStore::builder(url.as_str()).prefix("bench:").connect()).expect("a Redis store");
    let next = AtomicU64::new(0);
    let mut group = c.benchmark_group("claim + complete of a fresh payment");
    group.bench_function("InMemoryStore", |b| {
        b.to_async(&runtime).iter(|| async {
            claim_and_complete(&memory, &format!("paid:{}", next.fetch_add(1, Ordering::Relaxed))).await;
        })
    });
    group.bench_function("RedisStore (loopback)", |b| {
        b.to_async(&runtime).iter(|| async {
            claim_and_complete(&redis, &format!("paid:{}", next.fetch_add(1, Ordering::Relaxed))).await;
        })
    });
    group.finish();
    runtime.block_on(throughput(&url));
}

criterion_group!(benches, store);
criterion_main!(benches);
