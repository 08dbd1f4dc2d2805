//! A customer of the café over its JSON API (no browser): check out, then wait for the order to
//! turn paid.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// Checks `quantity` of product `item` out as the user of `token`; the invoice's id.
pub async fn checkout(shop: &str, http: &reqwest::Client, token: &str, item: &str, quantity: u64) -> String {
    let created: Value = http
        .post(format!("{shop}/api/checkout"))
        .bearer_auth(token)
        .json(&json!({"items": [{"id": item, "quantity": quantity}]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    created["id"].as_str().map(str::to_owned).unwrap_or_else(|| created["id"].to_string())
}

/// Waits (up to 15 s) until the shop shows the order of `invoice` paid.
pub async fn until_paid(shop: &str, http: &reqwest::Client, token: &str, invoice: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let order: Value = http
            .get(format!("{shop}/api/orders/{invoice}"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if order["paid"] == json!(true) {
            return;
        }
        assert!(Instant::now() < deadline, "the order did not turn paid: {order}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
