//! Each crate that makes https requests speaks TLS to `https://` addresses with whichever TLS
//! feature it is built with — also when it is the only pocket-rs crate a user depends on. A
//! crate built without a TLS feature never connects ("scheme is not supported"): the probe sees
//! no ClientHello and the test fails (checked: `--features http-rustls` with the feature's
//! `pocket-http/rustls` part removed fails).

#[cfg(any(feature = "http-rustls", feature = "http-native-tls"))]
#[tokio::test]
async fn pocket_http_reaches_an_https_sso_over_tls() {
    use pocket_core::{Credentials, Environment};
    use pocket_http::{PocketClient, RetryPolicy};
    use std::time::Duration;
    use tls_alone::TlsProbe;

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

#[cfg(any(feature = "jwt-rustls", feature = "jwt-native-tls"))]
#[tokio::test]
async fn pocket_jwt_fetches_an_https_jwks_over_tls() {
    use pocket_jwt::JwtVerifier;
    use std::time::Duration;
    use tls_alone::TlsProbe;

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

#[cfg(any(feature = "sandbox-rustls", feature = "sandbox-native-tls"))]
#[tokio::test]
async fn pocket_sandbox_delivers_to_an_https_webhook_over_tls() {
    use pocket_sandbox::{Forgery, Sandbox};
    use std::time::Duration;
    use tls_alone::TlsProbe;

    let sandbox = Sandbox::start().await.unwrap();
    let probe = TlsProbe::start().await;
    sandbox.set_webhook_url(&format!("{}/hook", probe.url()));
    let delivery = sandbox.send_forged_webhook(Forgery::UnknownInvoice).await.unwrap();
    assert!(
        probe.saw_hello_within(Duration::from_secs(5)).await,
        "no TLS ClientHello reached the https webhook; the delivery: {delivery:?}"
    );
}
