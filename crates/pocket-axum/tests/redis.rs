//! Three webhook routers, each with its own connection to one real Redis, behind which the
//! sandbox delivers: concurrent duplicates at every router run each payment's handler once.

mod common;

#[path = "../../pocket-payments/tests/support/redis_server.rs"]
mod redis_server;

use common::*;
use pocket_axum::PocketWebhook;
use pocket_payments::RedisStore;
use redis_server::RedisServer;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_concurrent_duplicates_at_each_of_three_routers_sharing_redis_run_once() {
    let Some(server) = RedisServer::start(false) else { return };
    let shop = shop().await;
    let recorder = Recorder::default();
    let mut urls = Vec::new();
    for _ in 0..3 {
        let store = RedisStore::builder(server.url()).connect().await.unwrap();
        let router = PocketWebhook::new(shop.client.clone(), recorder.clone()).store(store).into_router();
        urls.push(format!("{}/pocket/webhook", serve(router).await));
    }
    shop.client.set_webhook_url("http://127.0.0.1:9/unused").await.unwrap();
    for round in 0..20 {
        let id = shop.invoice(560).await;
        shop.sandbox.pay(&id).unwrap();
        let body = json!({"invoiceId": id.as_str(), "amount": 560, "invoiceState": "PAID"}).to_string();
        let posts: Vec<_> = urls
            .iter()
            .flat_map(|url| std::iter::repeat_n(url.clone(), 10))
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
        assert_eq!(recorder.successes(), round + 1, "30 deliveries, one run");
    }
    assert_eq!(recorder.calls(), 20);
}
