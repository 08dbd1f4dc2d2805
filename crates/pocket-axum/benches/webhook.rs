//! The webhook router's own cost: a delivery through the full verification path — with an
//! in-process `MerchantApi` stub that says "paid" at once, the store, the handler, the span —
//! against a bare axum handler that only parses the same JSON, and against the *naive correct*
//! route a careful integrator writes by hand (parse, the same check call, the same amount rule,
//! the same no-op handler, no store, no once-only guarantee), in the same run: first in process
//! through `tower::oneshot` (the router's cost alone), then served on 127.0.0.1 and posted to
//! over HTTP (what a delivery costs). The notice rate limit is lifted: every
//! delivery here is a fresh, genuine payment. (The store and the flood limits are measured by
//! `cargo bench -p pocket-payments --bench flood`.)
//!
//! With the `metrics` feature, the router is measured a third time with a Prometheus recorder
//! installed (in process: a recorder local to the benchmark's thread; over HTTP: the global
//! one, installed after the runs without it), so the metrics' cost is measured in the same run.
//!
//! cargo bench -p pocket-axum --bench webhook [--features metrics]

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{Request, StatusCode};
use axum::routing::post;
use criterion::{Criterion, criterion_group, criterion_main};
use pocket_axum::{PocketWebhook, handler_fn};
use pocket_core::{
    Amount, Error, Invoice, InvoiceId, InvoiceState, InvoiceStatus, MerchantApi, NewInvoice, PaymentConfig,
    WebhookNotice,
};
use tower::ServiceExt;

/// Pocket, answering from memory: every invoice is paid, 560 ₮.
struct PaidStub;

#[async_trait]
impl MerchantApi for PaidStub {
    async fn create_invoice(&self, _: &NewInvoice) -> Result<Invoice, Error> {
        unreachable!("the webhook never creates invoices")
    }

    async fn create_merchant_invoice(
        &self,
        _: &pocket_core::NewMerchantInvoice,
    ) -> Result<pocket_core::MerchantInvoice, Error> {
        unreachable!("the webhook never creates invoices")
    }

    async fn check_invoice(&self, id: &InvoiceId) -> Result<InvoiceStatus, Error> {
        let mut status = InvoiceStatus::new(InvoiceState::Paid);
        status.id = Some(id.clone());
        status.amount = Some(Amount::from_tugrik(560).unwrap_or(Amount::ZERO));
        Ok(status)
    }

    async fn payment_config(&self) -> Result<PaymentConfig, Error> {
        Ok(PaymentConfig::default())
    }

    async fn set_webhook_url(&self, _: &str) -> Result<(), Error> {
        Ok(())
    }
}

fn notice(id: u64) -> Bytes {
    Bytes::from(format!(
        r#"{{"id": {}, "amount": 560, "info": "Нэхэмжлэх", "invoiceId": {id}, "invoiceState": "PAID", "phoneNumber": "99112233"}}"#,
        id + 880_000
    ))
}

async fn bare(body: Bytes) -> StatusCode {
    match serde_json::from_slice::<WebhookNotice>(&body) {
        Ok(notice) => {
            black_box(notice);
            StatusCode::OK
        }
        Err(_) => StatusCode::BAD_REQUEST,
    }
}

/// What a careful integrator writes by hand: parse the notice, ask Pocket, act only on "paid"
/// with the notice's amount equal to Pocket's — but no store, so a replayed notice runs the
/// handler again.
async fn naive(body: Bytes) -> StatusCode {
    let Ok(notice) = serde_json::from_slice::<WebhookNotice>(&body) else { return StatusCode::BAD_REQUEST };
    let pocket: &dyn MerchantApi = &PaidStub;
    let Ok(status) = pocket.check_invoice(&notice.invoice_id).await else { return StatusCode::SERVICE_UNAVAILABLE };
    let amount_ok = notice.amount.is_none_or(|claimed| Some(claimed) == status.amount);
    if !status.state.is_paid() || !amount_ok {
        return StatusCode::UNPROCESSABLE_ENTITY;
    }
    black_box((notice, status));
    StatusCode::OK
}

fn request(body: Bytes) -> Request<Body> {
    Request::post("/pocket/webhook").header("content-type", "application/json").body(Body::from(body)).unwrap()
}

fn webhook(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();

    let verified: Router = PocketWebhook::new(
        PaidStub,
        handler_fn(|payment| async move {
            black_box(payment);
            Ok(())
        }),
    )
    .configure(|pipeline| pipeline.checks_per_second(None, 0))
    .into_router();
    let plain: Router = Router::new().route("/pocket/webhook", post(bare));
    let by_hand: Router = Router::new().route("/pocket/webhook", post(naive));
    let next = AtomicU64::new(1);

    let mut group = c.benchmark_group("webhook delivery");
    for (name, route) in [("bare axum handler, parse only", &plain), ("naive correct route, no store", &by_hand)] {
        group.bench_function(name, |b| {
            b.to_async(&runtime).iter(|| async {
                let body = notice(next.fetch_add(1, Ordering::Relaxed));
                let response = route.clone().oneshot(request(body)).await.unwrap();
                assert_eq!(response.status(), StatusCode::OK);
            })
        });
    }
    let router = |group: &mut criterion::BenchmarkGroup<'_, _>, name: &str| {
        group.bench_function(name, |b| {
            b.to_async(&runtime).iter(|| async {
                let body = notice(next.fetch_add(1, Ordering::Relaxed));
                let response = verified.clone().oneshot(request(body)).await.unwrap();
                assert_eq!(response.status(), StatusCode::OK);
            })
        });
    };
    router(&mut group, "verified webhook router");
    #[cfg(feature = "metrics")]
    {
        let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
        metrics::with_local_recorder(&recorder, || {
            router(&mut group, "verified webhook router, metrics to Prometheus")
        });
    }
    group.finish();

    // The same two routers served on 127.0.0.1 and posted to over HTTP, as Pocket would.
    let served = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let serve = |router: Router| {
        served.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let url = format!("http://{}/pocket/webhook", listener.local_addr().unwrap());
            tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
            url
        })
    };
    let plain_url = serve(plain);
    let naive_url = serve(by_hand);
    let verified_url = serve(verified);
    let client = reqwest::Client::new();
    let mut group = c.benchmark_group("webhook delivery over loopback HTTP");
    let mut runs = vec![
        ("bare axum handler, parse only", &plain_url),
        ("naive correct route, no store", &naive_url),
        ("verified webhook router", &verified_url),
    ];
    if cfg!(feature = "metrics") {
        runs.push(("verified webhook router, metrics to Prometheus", &verified_url));
    }
    for (name, url) in runs {
        #[cfg(feature = "metrics")]
        if name.ends_with("Prometheus") {
            let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
            metrics::set_global_recorder(recorder).expect("no recorder was installed before");
        }
        group.bench_function(name, |b| {
            b.to_async(&runtime).iter(|| async {
                let body = notice(next.fetch_add(1, Ordering::Relaxed));
                let response = client
                    .post(url.as_str())
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), reqwest::StatusCode::OK);
                black_box(response.bytes().await.unwrap());
            })
        });
    }
    group.finish();
}

criterion_group!(benches, webhook);
criterion_main!(benches);
