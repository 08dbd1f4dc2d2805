//! The sandbox delivers webhooks over TLS to `https://` addresses with whichever TLS feature it
//! is built with (`rustls` by default, or `native-tls`). `.ci/run` runs this test for the crate
//! alone, per feature.

mod common;

use std::time::Duration;

use common::*;
use pocket_core::InvoiceId;
use pocket_test_support::TlsProbe;

#[tokio::test]
async fn an_https_webhook_is_delivered_over_tls() {
    let sandbox = start().await;
    let probe = TlsProbe::start().await;
    let merchant = merchant_token(&sandbox).await;
    set_webhook(&sandbox, &merchant, &format!("{}/hook", probe.url())).await;
    let invoice: InvoiceId = new_invoice(&sandbox, &merchant).await.parse().unwrap();
    sandbox.pay(&invoice).unwrap();
    let deliveries = sandbox.wait_for_deliveries(1, Duration::from_secs(5)).await;
    assert!(
        probe.saw_hello_within(Duration::from_secs(5)).await,
        "no TLS ClientHello reached the https webhook; deliveries: {deliveries:?}"
    );
}
