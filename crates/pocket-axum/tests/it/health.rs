//! The readiness route over a real Redis: ready while the store and journal answer; 503 within
//! a bound when Redis hangs or dies, with a body that names neither host nor password; ready
//! again once Redis is back.

use crate::common;

use std::time::{Duration, Instant};

use common::*;
use pocket_axum::{PocketWebhook, health_router};
use pocket_payments::RedisStore;
use pocket_test_support::RedisServer;
use serde_json::Value;

const PASSWORD: &str = "health-probe-pw";

async fn ask(http: &reqwest::Client, url: &str) -> (u16, Value, Duration) {
    let started = Instant::now();
    let answer = http.get(url).send().await.unwrap();
    let status = answer.status().as_u16();
    assert_eq!(answer.headers()["cache-control"], "no-store");
    let body: Value = answer.json().await.unwrap();
    (status, body, started.elapsed())
}

async fn until_ready(http: &reqwest::Client, url: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (status, body, _) = ask(http, url).await;
        if status == 200 {
            return body;
        }
        assert!(Instant::now() < deadline, "not ready again: {body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_hung_or_down_is_503_within_the_bound_and_back_is_200() {
    let Some(mut server) = RedisServer::start(false) else { return };
    server.require_password(PASSWORD);
    let url = format!("redis://:{PASSWORD}@127.0.0.1:{}", server.port());
    let shop = shop().await;
    let store = RedisStore::builder(url.as_str()).connect().await.unwrap();
    let (webhook, payments) = PocketWebhook::new(shop.client.clone(), shop.recorder.clone())
        .store(store.clone())
        .configure(|pipeline| pipeline.watch_journal(store))
        .into_router_with_payments();
    let base = serve(webhook.merge(health_router("/ready", payments))).await;
    let health = format!("{base}/ready");
    let http = reqwest::Client::new();

    let (status, body, _) = ask(&http, &health).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!((body["ready"].clone(), body["store"]["status"].clone()), (Value::Bool(true), "ok".into()));
    assert_eq!(body["journal"]["status"], "ok", "{body}");

    // A hung Redis: every probe waits out its bound, side by side.
    server.pause();
    let (status, body, took) = ask(&http, &health).await;
    server.resume();
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["ready"], false);
    assert!(["timed_out", "failed"].contains(&body["store"]["status"].as_str().unwrap()), "{body}");
    let bound = pocket_payments::HEALTH_PROBE_TIMEOUT + Duration::from_secs(1);
    assert!(took < bound, "the answer took {took:?}, more than {bound:?}");
    until_ready(&http, &health).await;

    // A dead Redis: refused connections, answered at once.
    server.stop();
    let (status, body, took) = ask(&http, &health).await;
    assert_eq!(
        (status, body["store"]["ok"].clone(), body["journal"]["ok"].clone()),
        (503, false.into(), false.into()),
        "{body}"
    );
    assert!(took < bound, "{took:?}");
    let said = body.to_string();
    assert!(!said.contains(PASSWORD) && !said.contains("127.0.0.1") && !said.contains("redis"), "{said}");

    server.run();
    let body = until_ready(&http, &health).await;
    assert_eq!(body["store"]["status"], "ok");
}
