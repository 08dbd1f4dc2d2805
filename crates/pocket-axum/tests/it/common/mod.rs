//! A shop's webhook served on 127.0.0.1, the sandbox delivering to it.

use std::time::Duration;

use pocket_axum::{Payments, PocketWebhook};
use pocket_core::{Amount, InvoiceId, InvoiceNote, NewInvoice};
use pocket_http::{PocketClient, RetryPolicy};
use pocket_sandbox::{Sandbox, SandboxConfig, TestUser};

pub const WAIT: Duration = Duration::from_secs(5);

/// The handler's pause in each `paid`: long enough for concurrent duplicates to meet a claim in
/// progress.
pub const HANDLER_DELAY: Duration = Duration::from_millis(50);

/// A handler that records what it was told, taking [`HANDLER_DELAY`] over each payment.
pub fn recorder() -> Recorder {
    Recorder::slow(HANDLER_DELAY)
}

pub struct Shop {
    pub sandbox: Sandbox,
    pub client: PocketClient,
    pub recorder: Recorder,
    pub url: String,
    pub payments: Payments,
}

pub use pocket_test_support::{Misbehave, Recorder, eventually, serve};

pub async fn sandbox() -> Sandbox {
    SandboxConfig::default()
        .webhook_retry_schedule(vec![Duration::from_millis(50), Duration::from_millis(100), Duration::from_millis(200)])
        .start()
        .await
        .unwrap()
}

/// A shop whose webhook is built by `configure` and registered with the sandbox.
pub async fn shop_with(configure: impl FnOnce(PocketWebhook) -> PocketWebhook) -> Shop {
    let sandbox = sandbox().await;
    let client =
        PocketClient::builder(sandbox.environment(), sandbox.credentials()).retry(RetryPolicy::none()).build().unwrap();
    let recorder = recorder();
    let fast_polls = |pipeline: pocket_axum::pocket_payments::PaymentsBuilder| {
        pipeline.poll_schedule(Duration::from_millis(20), Duration::from_millis(100))
    };
    let webhook = PocketWebhook::new(client.clone(), recorder.clone()).configure(fast_polls);
    let (router, payments) = configure(webhook).into_router_with_payments();
    let url = format!("{}/pocket/webhook", serve(router).await);
    client.set_webhook_url(&url).await.unwrap();
    Shop { sandbox, client, recorder, url, payments }
}

pub async fn shop() -> Shop {
    shop_with(|webhook| webhook).await
}

impl Shop {
    pub async fn invoice(&self, tugrik: u64) -> InvoiceId {
        let token = self.sandbox.mint_consumer_token(&TestUser::default()).unwrap().access_token;
        let invoice =
            NewInvoice::new(Amount::from_tugrik(tugrik).unwrap(), InvoiceNote::new("Цай").unwrap(), token).unwrap();
        self.client.create_invoice(&invoice).await.unwrap().id
    }

    /// Posts a body to the webhook directly, as anyone on the internet could.
    pub async fn post(&self, body: impl Into<reqwest::Body>) -> (u16, serde_json::Value) {
        let answer = reqwest::Client::new()
            .post(&self.url)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        let status = answer.status().as_u16();
        (status, answer.json().await.unwrap_or(serde_json::Value::Null))
    }
}

/// Pays `invoices` fresh invoices one after another and posts each one's paid notice `copies`
/// times at once to every replica in `urls`: every answer is 200 or 503, and each invoice adds
/// exactly one success to `recorder`.
pub async fn pay_and_deliver_to_every_replica(
    shop: &Shop,
    urls: &[String],
    recorder: &Recorder,
    invoices: usize,
    copies: usize,
) {
    for round in 0..invoices {
        let id = shop.invoice(560).await;
        shop.sandbox.pay(&id).unwrap();
        let body = serde_json::json!({"invoiceId": id.as_str(), "amount": 560, "invoiceState": "PAID"}).to_string();
        let posts: Vec<_> = urls
            .iter()
            .flat_map(|url| std::iter::repeat_n(url.clone(), copies))
            .map(|url| {
                let body = body.clone();
                tokio::spawn(async move {
                    reqwest::Client::new().post(url).body(body).send().await.unwrap().status().as_u16()
                })
            })
            .collect();
        for post in posts {
            let status = post.await.unwrap();
            assert!(status == 200 || status == 503, "{status}");
        }
        assert_eq!(recorder.successes(), round + 1, "{} deliveries, one run", urls.len() * copies);
    }
}
