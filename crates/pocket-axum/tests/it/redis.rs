//! Three webhook routers, each with its own connection to one real Redis, behind which the
//! sandbox delivers: concurrent duplicates at every router run each payment's handler once.

use crate::common;

use common::*;
use pocket_axum::PocketWebhook;
use pocket_payments::RedisStore;
use pocket_test_support::RedisServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_concurrent_duplicates_at_each_of_three_routers_sharing_redis_run_once() {
    let Some(server) = RedisServer::start(false) else { return };
    let shop = shop().await;
    let recorder = recorder();
    let mut urls = Vec::new();
    for _ in 0..3 {
        let store = RedisStore::builder(server.url()).connect().await.unwrap();
        let router = PocketWebhook::new(shop.client.clone(), recorder.clone()).store(store).into_router();
        urls.push(format!("{}/pocket/webhook", serve(router).await));
    }
    shop.client.set_webhook_url("http://127.0.0.1:9/unused").await.unwrap();
    pay_and_deliver_to_every_replica(&shop, &urls, &recorder, 20, 10).await;
    assert_eq!(recorder.calls(), 20);
}
