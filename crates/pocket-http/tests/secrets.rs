//! The client secret, the merchant token and the user's token never appear in Debug output,
//! errors or tracing output.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::*;
use pocket_core::{ConsumerTokenVerifier, Credentials};
use pocket_http::{IntrospectionVerifier, PocketClient};
use pocket_sandbox::{Endpoint, Fault};
use tracing_subscriber::fmt::MakeWriter;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

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
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(captured.clone())
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

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

    let output = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(output.contains("operation=\"check an invoice\""), "one span per call:\n{output}");
    assert!(output.contains(&format!("invoice_id=\"{}\"", created.id)), "{output}");
    assert!(output.contains("attempt=2"), "the retry is visible:\n{output}");
    for secret in ["sandbox-secret", "wrong-secret-123", user.expose_secret(), "eyJ"] {
        assert!(!output.contains(secret), "{secret:?} leaked into tracing output");
    }
}
