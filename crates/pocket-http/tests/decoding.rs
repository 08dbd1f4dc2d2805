//! Answers the sandbox never gives: odd but valid ones are read, broken ones name the JSON path.

mod common;

use axum::Json;
use axum::Router;
use axum::routing::{get, post};
use common::*;
use pocket_core::{Amount, Credentials, ErrorKind, InvoiceId, InvoiceState};
use pocket_http::PocketClient;
use serde_json::{Value, json};

async fn client_for(routes: Router) -> PocketClient {
    let environment = fake_pocket(routes).await;
    PocketClient::builder(environment, Credentials::new("shop", "secret")).retry(fast_retries()).build().unwrap()
}

fn with_token(answer: Value) -> Router {
    Router::new().route(TOKEN_PATH, post(move || async move { Json(answer) }))
}

#[tokio::test]
async fn a_broken_field_is_named_by_its_path() {
    let routes = with_token(token_answer())
        .route("/merchant/invoice/check/{id}", get(|| async { Json(json!({"state": "PAID", "amount": "a lot"})) }));
    let error = client_for(routes).await.check_invoice(&InvoiceId::from(1)).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Protocol);
    assert_eq!(error.json_path(), Some("amount"));
    assert!(error.to_string().contains("at `amount`"), "{error}");
}

#[tokio::test]
async fn an_answer_that_is_not_json_is_a_protocol_error() {
    let routes = with_token(token_answer()).route("/merchant/pg/config", get(|| async { "<html>maintenance</html>" }));
    let error = client_for(routes).await.payment_config().await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Protocol);
    assert_eq!(error.json_path(), Some("$"));
}

#[tokio::test]
async fn lenient_answers_with_strings_and_unknown_fields_are_read() {
    let routes = with_token(json!({"access_token": "a.b.c", "expires_in": "600", "token_type": "bearer"})).route(
        "/merchant/invoice/check/{id}",
        get(|| async {
            Json(json!({"id": "77", "invoiceState": "Paid", "amount": "560.00", "terminalId": 5, "channel": "qr"}))
        }),
    );
    let client = client_for(routes).await;
    let status = client.check_invoice(&InvoiceId::from(77)).await.unwrap();
    assert_eq!(status.state, InvoiceState::Paid);
    assert_eq!(status.amount, Some(Amount::from_tugrik(560).unwrap()));
    assert_eq!(status.extra["channel"], "qr");
    let life = client.token_expires_at().unwrap().duration_since(std::time::SystemTime::now()).unwrap();
    assert!(life.as_secs() > 590, "expires_in given as a string is read: {life:?}");
}

#[tokio::test]
async fn a_token_answer_without_expires_in_is_assumed_short() {
    let routes =
        with_token(json!({"access_token": "a.b.c"})).route("/merchant/pg/config", get(|| async { Json(json!({})) }));
    let client = client_for(routes).await;
    client.payment_config().await.unwrap();
    let life = client.token_expires_at().unwrap().duration_since(std::time::SystemTime::now()).unwrap();
    assert!(life.as_secs() <= 60, "{life:?}");
}

#[tokio::test]
async fn a_token_that_is_not_a_bearer_token_is_refused() {
    let routes = with_token(json!({"access_token": "a.b.c", "expires_in": 600, "token_type": "mac"}));
    let error = client_for(routes).await.warm_up().await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Protocol);
    assert_eq!(error.json_path(), Some("token_type"));
    let routes = with_token(json!({"expires_in": 600}));
    let error = client_for(routes).await.warm_up().await.unwrap_err();
    assert_eq!(error.json_path(), Some("$"), "{error}");
    assert!(error.to_string().contains("access_token"), "{error}");
}

#[tokio::test]
async fn an_oversized_answer_is_refused() {
    let routes = with_token(token_answer()).route("/merchant/pg/config", get(|| async { "x".repeat(2 * 1024 * 1024) }));
    let client = PocketClient::builder(fake_pocket(routes).await, Credentials::new("shop", "secret"))
        .retry(pocket_http::RetryPolicy::none())
        .build()
        .unwrap();
    let error = client.payment_config().await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unavailable);
    assert!(error.to_string().contains("larger than"), "{error}");
}
