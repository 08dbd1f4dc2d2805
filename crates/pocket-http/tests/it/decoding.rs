//! Answers the sandbox never gives: odd but valid ones are read, broken ones name the JSON path.

use crate::common;

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

/// The payment gateway's answers in every shape seen or plausible: ids and counters as strings,
/// `deepLink` and `heldId` spellings, integer states, a 200 whose body says "not paid", Spring
/// pages with string counters and a `null` content.
#[tokio::test]
async fn gateway_answers_of_every_observed_shape_are_read() {
    use futures_util::TryStreamExt;
    use pocket_core::{Amount, BranchId, NewGatewayInvoice, OrderNumber, TerminalId};

    let routes = with_token(token_answer())
        .route(
            "/merchant/v2/invoicing/generate-invoice",
            post(|| async {
                Json(json!({"id": "90001", "qr": 12345, "orderNumber": 117, "deepLink": "pocket://pay/90001"}))
            }),
        )
        .route(
            "/merchant/v2/invoicing/invoices/order-number",
            post(|| async {
                Json(json!({"id": 90001, "state": null, "invoiceState": 20, "amount": "12500.00",
                            "terminalId": "74686381183671", "heldId": 55, "branchId": 3, "invoiceType": "zero",
                            "senderName": null, "newField": {"x": 1}}))
            }),
        )
        .route("/merchant/v2/invoicing/invoices/is-paid", post(|| async { Json(json!({"isPaid": false})) }))
        .route(
            "/merchant/payment-gateway/branch/list",
            get(|| async {
                Json(json!({"content": [{"id": "3", "name": "Төв", "accountNumber": 5001}],
                            "totalPages": "1", "number": "0", "last": null}))
            }),
        )
        .route(
            "/merchant/payment-gateway/terminal/list/{branch}",
            get(|| async { Json(json!({"content": null, "totalElements": 0})) }),
        );
    let client = client_for(routes).await;
    let terminal = TerminalId::new(74_686_381_183_671);
    let order: OrderNumber = "117".parse().unwrap();
    let new =
        NewGatewayInvoice::new(terminal, Amount::from_tugrik(12_500).unwrap(), "x".parse().unwrap(), order.clone())
            .unwrap();
    let generated = client.generate_invoice(&new).await.unwrap();
    assert_eq!(generated.id.as_str(), "90001");
    assert_eq!((generated.qr.as_deref(), generated.order_number.as_deref()), (Some("12345"), Some("117")));
    assert_eq!(generated.deeplink.as_deref(), Some("pocket://pay/90001"));

    let detail = client.invoice_by_order_number(terminal, &order).await.unwrap();
    assert_eq!(detail.state, InvoiceState::Paid, "an integer code under invoiceState, state null");
    assert_eq!((detail.terminal_id, detail.held_id.as_deref()), (Some(terminal), Some("55")));
    assert_eq!(detail.amount, Some(Amount::from_tugrik(12_500).unwrap()));
    assert!(detail.extra.contains_key("newField"));

    assert!(!client.is_paid(terminal, &order).await.unwrap(), "a 200 that says false is not paid");

    let branches: Vec<_> = client.branches().try_collect().await.unwrap();
    assert_eq!((branches.len(), branches[0].account_number.as_deref()), (1, Some("5001")));
    let terminals: Vec<_> = client.terminals(&BranchId::new("3").unwrap()).try_collect().await.unwrap();
    assert!(terminals.is_empty(), "a null content is an empty page");
}
