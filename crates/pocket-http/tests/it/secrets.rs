//! The client secret, the merchant token and the user's token never appear in Debug output,
//! errors or tracing output.

use crate::common;

use common::*;
use pocket_core::{ConsumerTokenVerifier, Credentials};
use pocket_http::{IntrospectionVerifier, PocketClient};
use pocket_sandbox::{Endpoint, Fault};
use pocket_test_support::LogCapture;

#[tokio::test]
async fn debug_output_hides_every_secret() {
    let sandbox = sandbox().await;
    let client = client(&sandbox);
    client.warm_up().await.unwrap();
    let builder = PocketClient::builder(sandbox.environment(), Credentials::new("shop", "very-secret-value"));
    for shown in
        [format!("{client:?}"), format!("{builder:?}"), format!("{:?}", IntrospectionVerifier::new(client.clone()))]
    {
        assert!(!shown.contains("sandbox-secret") && !shown.contains("very-secret-value"), "{shown}");
        assert!(!shown.contains("eyJ"), "a token in {shown}");
    }
    assert!(format!("{client:?}").contains("token_expires_at"), "the expiry is observable");
}

#[tokio::test]
async fn tracing_output_never_carries_a_secret() {
    let captured = LogCapture::new();
    let _guard = captured.install();

    let sandbox = sandbox().await;
    let client = client(&sandbox);
    let user = user_token(&sandbox);
    let created = client.create_invoice(&invoice(&sandbox, 560)).await.unwrap();
    sandbox.set_fault(Endpoint::CheckInvoice, Fault::fail_next(1, 503));
    client.check_invoice(&created.id).await.unwrap();
    sandbox.revoke_merchant_tokens();
    client.payment_config().await.unwrap();
    IntrospectionVerifier::new(client.clone()).verify(user.expose_secret()).await.unwrap();
    let bad = PocketClient::builder(sandbox.environment(), Credentials::new("sandbox-merchant", "wrong-secret-123"))
        .build()
        .unwrap();
    bad.warm_up().await.unwrap_err();

    let output = captured.text();
    assert!(output.contains("operation=\"check an invoice\""), "one span per call:\n{output}");
    assert!(output.contains(&format!("invoice_id=\"{}\"", created.id)), "{output}");
    assert!(output.contains("attempt=2"), "the retry is visible:\n{output}");
    for secret in ["sandbox-secret", "wrong-secret-123", user.expose_secret(), "eyJ"] {
        assert!(!output.contains(secret), "{secret:?} leaked into tracing output");
    }
}
