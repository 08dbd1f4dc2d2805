//! pocket-http speaks TLS to `https://` addresses with whichever TLS feature it is built with
//! (`rustls` by default, or `native-tls`) — also when it is the only pocket-rs crate a user
//! depends on. `.ci/run` runs this test for the crate alone, per TLS feature.

use std::time::Duration;

use pocket_core::{Credentials, Environment};
use pocket_http::{PocketClient, RetryPolicy};
use pocket_test_support::TlsProbe;

#[tokio::test]
async fn an_https_sso_is_reached_over_tls() {
    let probe = TlsProbe::start().await;
    let environment =
        Environment::custom().sso_base(probe.url()).api_base(format!("{}/merchant", probe.url())).build().unwrap();
    let client = PocketClient::builder(&environment, Credentials::new("shop", "secret"))
        .retry(RetryPolicy::none())
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let error = client.warm_up().await.expect_err("the probe is no SSO");
    assert!(
        probe.saw_hello_within(Duration::from_secs(5)).await,
        "no TLS ClientHello reached the https SSO; the client said: {error}"
    );
}
