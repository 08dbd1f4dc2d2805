//! Latency of calls made while the merchant token is being renewed: 1 000 `check_invoice` calls
//! (10 at a time) started just inside the renewal window, against an SSO that answers at once
//! and against one that takes 2 s, in the same run, on the same sandbox. With background renewal
//! the slow SSO should not show in the callers' latency. Prints p50 and p99 of each.
//!
//! cargo bench -p pocket-http --bench renewal

use std::time::{Duration, Instant};

use pocket_core::{Amount, InvoiceNote, NewInvoice};
use pocket_http::PocketClient;
use pocket_sandbox::{Endpoint, Fault, SandboxConfig, TestUser};

async fn latencies(sso_latency: Duration) -> Vec<Duration> {
    // Tokens live 6 s; the client renews in their last 3 s.
    let sandbox = SandboxConfig::default().token_lifetime(Duration::from_secs(6)).start().await.expect("a sandbox");
    let client = PocketClient::builder(sandbox.environment(), sandbox.credentials()).build().expect("a client");
    let token = sandbox.mint_consumer_token(&TestUser::default()).expect("a user").access_token;
    let invoice =
        NewInvoice::new(Amount::from_tugrik(560).expect("an amount"), InvoiceNote::new("Цай").expect("a note"), token)
            .expect("an invoice");
    let id = client.create_invoice(&invoice).await.expect("created").id;
    tokio::time::sleep(Duration::from_millis(3_100)).await;
    sandbox.set_fault(Endpoint::Token, Fault::latency(sso_latency));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..10 {
        let (client, id) = (client.clone(), id.clone());
        workers.spawn(async move {
            let mut seen = Vec::with_capacity(100);
            for _ in 0..100 {
                let started = Instant::now();
                client.check_invoice(&id).await.expect("checked");
                seen.push(started.elapsed());
            }
            seen
        });
    }
    let mut all = Vec::new();
    while let Some(done) = workers.join_next().await {
        all.extend(done.expect("a worker"));
    }
    all.sort();
    all
}

fn quantile(sorted: &[Duration], q: f64) -> Duration {
    sorted[((sorted.len() as f64 * q) as usize).min(sorted.len() - 1)]
}

fn main() {
    if std::env::args().any(|arg| arg == "--test" || arg == "--list") {
        return;
    }
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("a runtime");
    runtime.block_on(async {
        let healthy = latencies(Duration::ZERO).await;
        let slow = latencies(Duration::from_secs(2)).await;
        for (name, sorted) in [("fast SSO", &healthy), ("SSO answering in 2 s", &slow)] {
            println!(
                "1000 check_invoice calls during a renewal, {name}: p50 {:?}, p99 {:?}, max {:?}",
                quantile(sorted, 0.50),
                quantile(sorted, 0.99),
                sorted[sorted.len() - 1]
            );
        }
        let ratio = quantile(&slow, 0.99).as_secs_f64() / quantile(&healthy, 0.99).as_secs_f64();
        println!("p99 with the slow SSO / p99 with the fast one: {ratio:.2} (goal ≤ 1.2)");
    });
}
