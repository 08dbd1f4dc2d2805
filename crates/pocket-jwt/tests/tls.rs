//! pocket-jwt fetches the realm's keys over TLS from `https://` addresses with whichever TLS
//! feature it is built with (`rustls` by default, or `native-tls`) — also when it is the only
//! pocket-rs crate a user depends on. `.ci/run` runs this test for the crate alone, per feature.

use std::time::Duration;

use pocket_jwt::JwtVerifier;
use pocket_test_support::TlsProbe;

#[tokio::test]
async fn an_https_jwks_is_fetched_over_tls() {
    let probe = TlsProbe::start().await;
    let verifier = JwtVerifier::builder_for_issuer(format!("{}/realms/invescore", probe.url()))
        .jwks_url(format!("{}/certs", probe.url()))
        .build()
        .unwrap();
    let error = verifier.refresh_keys().await.expect_err("the probe serves no keys");
    assert!(
        probe.saw_hello_within(Duration::from_secs(5)).await,
        "no TLS ClientHello reached the https JWKS; the verifier said: {error}"
    );
}
