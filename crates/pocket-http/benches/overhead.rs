//! What PocketClient costs over a hand-written reqwest call: `create_invoice` and
//! `check_invoice` with a warm token, against a raw reqwest request of the same bytes (the same
//! method, URL, headers and body) to the same local sandbox, both measured in the same run.
//! The difference is the client's own work: the cached token, the per-call timeout, the retry
//! and replay bookkeeping, the span, and decoding with error paths.
//!
//! With the `metrics` feature, two more groups measure PocketClient without and then with a
//! Prometheus recorder, back to back, so the metrics' cost is measured in the same run.
//!
//! cargo bench -p pocket-http --bench overhead [--features metrics]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use pocket_core::{Amount, InvoiceNote, NewInvoice};
use pocket_http::PocketClient;
use pocket_sandbox::{Sandbox, TestUser};
use serde_json::Value;

struct Setup {
    _sandbox: Sandbox,
    client: PocketClient,
    raw: reqwest::Client,
    merchant_token: String,
    invoice: NewInvoice,
    invoice_body: Vec<u8>,
    check_url: String,
    create_url: String,
    check_id: pocket_core::InvoiceId,
    credentials: pocket_core::Credentials,
}

async fn setup() -> Setup {
    let sandbox = Sandbox::start().await.expect("the sandbox starts");
    let client = PocketClient::builder(sandbox.environment(), sandbox.credentials()).build().expect("a client");
    let user = sandbox.mint_consumer_token(&TestUser::default()).expect("a user token").access_token;
    let invoice =
        NewInvoice::new(Amount::from_tugrik(560).unwrap(), InvoiceNote::new("Нэхэмжлэх").unwrap(), user).unwrap();
    let check_id = client.create_invoice(&invoice).await.expect("an invoice").id;
    let raw = reqwest::Client::new();
    let credentials = sandbox.credentials();
    let answer = raw
        .post(sandbox.environment().token_url())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "grant_type=client_credentials&client_id={}&client_secret={}",
            credentials.client_id(),
            credentials.client_secret().expose_secret()
        ))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let answer: Value = serde_json::from_slice(&answer).unwrap();
    Setup {
        check_url: sandbox.environment().check_invoice_url(&check_id),
        create_url: sandbox.environment().create_invoice_url(),
        merchant_token: answer["access_token"].as_str().unwrap().to_owned(),
        invoice_body: serde_json::to_vec(&invoice).unwrap(),
        _sandbox: sandbox,
        client,
        raw,
        invoice,
        check_id,
        credentials,
    }
}

/// The headers PocketClient sends besides the token, so both sides send the same bytes.
fn same_headers() -> reqwest::header::HeaderMap {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(reqwest::header::USER_AGENT, concat!("pocket-rs/", env!("CARGO_PKG_VERSION")).parse().unwrap());
    headers.insert(reqwest::header::ACCEPT, "application/json".parse().unwrap());
    headers
}

fn overhead(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let setup = runtime.block_on(setup());
    let s = &setup;

    let mut check = c.benchmark_group("check_invoice");
    check.bench_function("raw reqwest", |b| {
        b.to_async(&runtime).iter(|| async {
            let answer =
                s.raw.get(&s.check_url).headers(same_headers()).bearer_auth(&s.merchant_token).send().await.unwrap();
            let body = answer.bytes().await.unwrap();
            black_box(serde_json::from_slice::<pocket_core::InvoiceStatus>(&body).unwrap())
        })
    });
    check.bench_function("PocketClient", |b| {
        b.to_async(&runtime).iter(|| async { black_box(s.client.check_invoice(&s.check_id).await.unwrap()) })
    });
    check.finish();

    let mut create = c.benchmark_group("create_invoice");
    create.bench_function("raw reqwest", |b| {
        b.to_async(&runtime).iter(|| async {
            let answer = s
                .raw
                .post(&s.create_url)
                .headers(same_headers())
                .bearer_auth(&s.merchant_token)
                .header("content-type", "application/json")
                .body(s.invoice_body.clone())
                .send()
                .await
                .unwrap();
            let body = answer.bytes().await.unwrap();
            black_box(serde_json::from_slice::<pocket_core::Invoice>(&body).unwrap())
        })
    });
    create.bench_function("PocketClient", |b| {
        b.to_async(&runtime).iter(|| async { black_box(s.client.create_invoice(&s.invoice).await.unwrap()) })
    });
    create.finish();

    #[cfg(feature = "metrics")]
    metrics_cost(c, s);
}

/// The metrics' cost, each pair measured back to back: the same calls from a client on a
/// runtime of this thread, without a recorder and then with a Prometheus recorder local to the
/// thread (every task of the client runs on it, so every metric reaches that recorder).
#[cfg(feature = "metrics")]
fn metrics_cost(c: &mut Criterion, s: &Setup) {
    let local = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    let environment = s.client.environment().clone();
    let client = local.block_on(async {
        let client = PocketClient::builder(environment, s.credentials.clone()).build().expect("a client");
        client.warm_up().await.expect("a token");
        client
    });
    let client = &client;
    pair(c, &local, &recorder, "check_invoice, metrics", || async {
        black_box(client.check_invoice(&s.check_id).await.unwrap());
    });
    pair(c, &local, &recorder, "create_invoice, metrics", || async {
        black_box(client.create_invoice(&s.invoice).await.unwrap());
    });
}

/// `call` measured without a recorder, then with `recorder` local to this thread.
#[cfg(feature = "metrics")]
fn pair<F, Fut>(
    c: &mut Criterion,
    local: &tokio::runtime::Runtime,
    recorder: &metrics_exporter_prometheus::PrometheusRecorder,
    name: &str,
    call: F,
) where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut group = c.benchmark_group(name);
    group.bench_function("PocketClient", |b| b.to_async(local).iter(&call));
    metrics::with_local_recorder(recorder, || {
        group.bench_function("PocketClient, metrics to Prometheus", |b| b.to_async(local).iter(&call))
    });
    group.finish();
}

criterion_group!(benches, overhead);
criterion_main!(benches);
