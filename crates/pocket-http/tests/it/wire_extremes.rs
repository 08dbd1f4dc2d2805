//! Odd answers from a loopback stub of the SSO and merchant API: durations at their extremes
//! (no panic, sane bounds), and an invoice accepted with an answer that cannot be read.

use std::time::{Duration, SystemTime};

use axum::Router;
use axum::routing::{get, post};
use pocket_core::{Amount, ConsumerToken, Credentials, Environment, ErrorKind, InvoiceId, InvoiceNote, NewInvoice};
use pocket_http::{PocketClient, RetryPolicy};

/// A Pocket whose SSO issues a token "for ever" and whose check answers paid.
async fn stub(expires_in: &'static str) -> String {
    let token = format!(
        r#"{{"access_token": "t0k3n", "token_type": "bearer", "expires_in": {expires_in}, "refresh_token": "r", "refresh_expires_in": 18446744073709551615}}"#
    );
    let router = Router::new()
        .route(
            "/auth/realms/invescore/protocol/openid-connect/token",
            post(move || {
                let token = token.clone();
                async move { ([("content-type", "application/json")], token) }
            }),
        )
        .route(
            "/merchant/consumer/invoice",
            post(|| async { ([("content-type", "application/json")], r#"{"invoice": "created, trust me"}"#) }),
        )
        .route(
            "/merchant/invoice/check/{id}",
            get(|| async { ([("content-type", "application/json")], r#"{"id": 7, "state": "PAID", "amount": 560}"#) }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    base
}

async fn client_of(base: &str) -> PocketClient {
    let environment = Environment::custom().sso_base(base).api_base(format!("{base}/merchant")).build().unwrap();
    PocketClient::builder(environment, Credentials::new("shop", "secret")).retry(RetryPolicy::none()).build().unwrap()
}

#[tokio::test]
async fn a_token_said_to_live_for_ever_neither_panics_nor_lives_for_ever() {
    for expires_in in ["9223372036854775807", "18446744073709551615", "0"] {
        let client = client_of(&stub(expires_in).await).await;
        let status = client.check_invoice(&InvoiceId::from(7)).await.unwrap();
        assert!(status.state.is_paid(), "{expires_in}");
        let expiry = client.token_expires_at().expect("a token is held");
        let lives = expiry.duration_since(SystemTime::now()).unwrap_or_default();
        assert!(lives <= Duration::from_secs(24 * 3600), "expires_in {expires_in}: believed for {lives:?}");
    }
}

#[tokio::test]
async fn an_invoice_accepted_with_an_unreadable_answer_is_ambiguous_not_a_protocol_error() {
    let client = client_of(&stub("600").await).await;
    let token = ConsumerToken::new("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln").unwrap();
    let invoice = NewInvoice::new(Amount::from_tugrik(560).unwrap(), InvoiceNote::new("Цай").unwrap(), token).unwrap();
    let error = client.create_invoice(&invoice).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Ambiguous, "{error}");
    let unconfirmed = error.unconfirmed_invoice().expect("what was asked for is kept");
    assert_eq!(unconfirmed.amount, Amount::from_tugrik(560).unwrap());
    assert!(error.json_path().is_some(), "where the answer went wrong is kept: {error}");
    assert!(error.to_string().contains("probably exists"), "{error}");
}
