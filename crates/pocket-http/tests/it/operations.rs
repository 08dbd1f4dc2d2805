//! Every operation of the client against the sandbox.

use crate::common;

use common::*;
use pocket_core::{Amount, Environment, ErrorKind, InvoiceId, InvoiceState, MerchantApi};
use pocket_http::{PocketClient, WebhookChange};
use pocket_sandbox::Endpoint;

#[tokio::test]
async fn creates_an_invoice() {
    let sandbox = sandbox().await;
    let client = client(&sandbox);
    let created = client.create_invoice(&invoice(&sandbox, 560)).await.unwrap();
    assert_eq!(created.amount, Some(Amount::from_tugrik(560).unwrap()));
    assert_eq!(created.info.as_deref(), Some("Нэхэмжлэх"));
    assert_eq!(created.terminal_id.as_deref(), Some("7001"));
    let held = sandbox.invoice(&created.id).expect("the sandbox has it");
    assert_eq!(held.state, InvoiceState::Pending);
    assert_eq!(held.amount, Amount::from_tugrik(560).unwrap());
}

#[tokio::test]
async fn checks_an_invoice_through_payment() {
    let sandbox = sandbox().await;
    let client = client(&sandbox);
    let created = client.create_invoice(&invoice(&sandbox, 1500)).await.unwrap();
    let pending = client.check_invoice(&created.id).await.unwrap();
    assert_eq!(pending.state, InvoiceState::Pending);
    sandbox.pay(&created.id).unwrap();
    let paid = client.check_invoice(&created.id).await.unwrap();
    assert!(paid.state.is_paid());
    assert_eq!(paid.amount, Some(Amount::from_tugrik(1500).unwrap()));
    assert_eq!(paid.id.as_ref(), Some(&created.id));
    assert!(paid.extra.contains_key("paidAt"));
}

#[tokio::test]
async fn an_unknown_invoice_is_not_found() {
    let sandbox = sandbox().await;
    let error = client(&sandbox).check_invoice(&InvoiceId::from(424_242)).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NotFound);
    assert_eq!(error.status(), Some(404));
    assert_eq!(error.code(), Some("NOT_FOUND"));
    assert!(!error.is_retryable());
    let hostile = client(&sandbox).check_invoice(&InvoiceId::new("../consumer/invoice").unwrap()).await.unwrap_err();
    // The check route answered (ids are Longs there: 400), not another route: one path segment.
    assert_eq!((hostile.kind(), hostile.status()), (ErrorKind::Rejected, Some(400)), "{hostile}");
    assert!(hostile.to_string().contains("not a number"), "{hostile}");
}

#[tokio::test]
async fn reads_and_sets_the_webhook_address() {
    let sandbox = sandbox().await;
    let client = client(&sandbox);
    assert_eq!(client.payment_config().await.unwrap().fall_back_url, None);
    client.set_webhook_url("http://127.0.0.1:9/pocket/webhook").await.unwrap();
    let config = client.payment_config().await.unwrap();
    assert_eq!(config.fall_back_url.as_deref(), Some("http://127.0.0.1:9/pocket/webhook"));
}

#[tokio::test]
async fn ensure_webhook_url_writes_only_when_different() {
    let sandbox = sandbox().await;
    let client = client(&sandbox);
    let first = client.ensure_webhook_url("https://shop.example.mn/hook").await.unwrap();
    assert_eq!(first, WebhookChange::Updated { previous: None });
    let second = client.ensure_webhook_url("https://shop.example.mn/hook").await.unwrap();
    assert_eq!(second, WebhookChange::Unchanged);
    assert_eq!(sandbox.requests(Endpoint::WriteConfig), 1, "the second call only read");
    let moved = client.ensure_webhook_url("https://shop.example.mn/v2/hook").await.unwrap();
    assert_eq!(moved, WebhookChange::Updated { previous: Some("https://shop.example.mn/hook".into()) });
    assert_eq!(sandbox.requests(Endpoint::ReadConfig), 3);
}

#[tokio::test]
async fn bad_webhook_addresses_are_refused_before_any_request() {
    let sandbox = sandbox().await;
    let client = client(&sandbox);
    for url in ["not a url", "ftp://shop.mn/hook", "https://user:pw@shop.mn/hook", "/relative", "https://"] {
        let error = client.set_webhook_url(url).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Validation, "{url}");
        assert_eq!(error.validation().unwrap().field(), "fallBackUrl");
        let error = client.ensure_webhook_url(url).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Validation, "{url}");
    }
    assert_eq!(sandbox.requests(Endpoint::Token), 0);
    assert_eq!(sandbox.requests(Endpoint::ReadConfig) + sandbox.requests(Endpoint::WriteConfig), 0);
}

#[tokio::test]
async fn plain_http_webhooks_are_refused_for_pockets_own_environments() {
    // Every request of this client would go to a closed port on loopback, never to Pocket.
    let nowhere = reqwest::Client::builder().proxy(reqwest::Proxy::all("http://127.0.0.1:9").unwrap()).build().unwrap();
    let staging = PocketClient::builder(Environment::Staging, pocket_core::Credentials::new("shop", "secret"))
        .http_client(nowhere)
        .build()
        .unwrap();
    let error = staging.set_webhook_url("http://shop.example.mn/hook").await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Validation);
    assert!(error.to_string().contains("https"), "{error}");
    assert!(error.to_string().contains("staging"), "{error}");
}

#[tokio::test]
async fn pockets_refusals_carry_its_code_and_message() {
    let sandbox = sandbox().await;
    let client = client(&sandbox);
    let tokens = sandbox
        .mint_consumer_token_with(
            &pocket_sandbox::TestUser::default(),
            std::time::Duration::from_secs(1),
            Default::default(),
        )
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let invoice = pocket_core::NewInvoice::new(
        Amount::from_tugrik(600).unwrap(),
        pocket_core::InvoiceNote::new("x").unwrap(),
        tokens.access_token,
    )
    .unwrap();
    let error = client.create_invoice(&invoice).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Rejected);
    assert_eq!(error.status(), Some(400));
    assert_eq!(error.code(), Some("INVALID_CONSUMER_TOKEN"));
    assert!(error.to_string().contains("expired"), "{error}");
    assert_eq!(sandbox.requests(Endpoint::CreateInvoice), 1, "a refusal is not retried");
    assert!(sandbox.invoices().is_empty());
}

#[tokio::test]
async fn the_client_is_a_merchant_api_trait_object() {
    let sandbox = sandbox().await;
    let api: std::sync::Arc<dyn MerchantApi> = std::sync::Arc::new(client(&sandbox));
    let created = api.create_invoice(&invoice(&sandbox, 700)).await.unwrap();
    assert_eq!(api.check_invoice(&created.id).await.unwrap().state, InvoiceState::Pending);
}

#[tokio::test]
async fn invalid_input_never_reaches_the_network() {
    let sandbox = sandbox().await;
    let client = client(&sandbox);
    let token = user_token(&sandbox);
    let note = pocket_core::InvoiceNote::new("x").unwrap();
    assert!(pocket_core::NewInvoice::new(Amount::from_tugrik(499).unwrap(), note.clone(), token.clone()).is_err());
    assert!(pocket_core::InvoiceNote::new("ж".repeat(101)).is_err());
    assert!(pocket_core::ConsumerToken::new("not a token").is_err());
    assert!(InvoiceId::new("..").is_err());
    assert!(client.set_webhook_url("javascript:alert(1)").await.is_err());
    for endpoint in Endpoint::ALL {
        assert_eq!(sandbox.requests(endpoint), 0, "{endpoint} was called");
    }
}

#[tokio::test]
async fn status_errors_name_the_operation_and_its_url_but_no_secret() {
    let sandbox = sandbox().await;
    let error = client(&sandbox).check_invoice(&InvoiceId::from(424_242)).await.unwrap_err();
    let text = error.to_string();
    assert!(text.contains("check an invoice (") && text.contains("/merchant/invoice/check/424242)"), "{text}");
    assert!(!text.contains(&sandbox.credentials().client_secret().expose_secret().to_owned()), "{text}");
}
