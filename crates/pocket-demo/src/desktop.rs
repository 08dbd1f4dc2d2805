//! Checkout on desktop: the shop generates a gateway invoice for the order and shows its QR code
//! (and, on a phone, a deep link); the customer scans it with the wallet and pays; the page
//! turns paid once Pocket confirms the payment (webhook or reconciler).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use pocket_axum::Expected;
use pocket_core::{ErrorKind, InvoiceNote, NewGatewayInvoice, OrderNumber};
use serde::Deserialize;
use serde_json::json;

use crate::orders::{Find, Order};
use crate::shop::{ShopState, price, problem};

const PAGE: &str = include_str!("../assets/desktop.html");

pub(crate) fn routes() -> Router<ShopState> {
    Router::new()
        .route("/desktop", get(|| async { Html(PAGE) }))
        .route("/api/desktop/checkout", post(checkout))
        .route("/api/desktop/orders/{order}", get(order))
}

#[derive(Deserialize)]
struct Cart {
    items: Vec<crate::shop::Line>,
}

/// `CAFE-<seconds>-<n>`: unique across restarts of one shop, 24 characters at most.
fn next_order_number() -> Result<OrderNumber, pocket_core::ValidationError> {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let seconds = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default();
    Ok(OrderNumber::new(format!("CAFE-{seconds}-{}", NEXT.fetch_add(1, Ordering::Relaxed) % 1_000_000))?)
}

async fn checkout(State(state): State<ShopState>, Json(cart): Json<Cart>) -> Response {
    let Some(terminal) = state.terminal else {
        return problem(
            StatusCode::SERVICE_UNAVAILABLE,
            "this merchant has no gateway terminal: desktop checkout is off",
        );
    };
    let (total, names) = match price(&cart.items) {
        Ok(priced) => priced,
        Err(refusal) => return problem(StatusCode::BAD_REQUEST, refusal),
    };
    let note: String = format!("Pocket café: {}", names.join(", ")).chars().take(InvoiceNote::MAX_CHARS).collect();
    let invoice =
        next_order_number().and_then(|order| NewGatewayInvoice::new(terminal, total, InvoiceNote::new(note)?, order));
    let invoice = match invoice {
        Ok(invoice) => invoice,
        Err(error) => return problem(StatusCode::BAD_REQUEST, error.to_string()),
    };
    let order_number = invoice.order_number().clone();
    match state.client.generate_invoice(&invoice).await {
        Ok(generated) => {
            tracing::info!(invoice_id = %generated.id, order = %order_number, total = %total, "gateway invoice generated");
            let order = Order::new(generated.id.to_string(), total, format!("desktop:{order_number}"));
            if let Err(error) = state.orders.insert(order).await {
                tracing::error!(%error, invoice_id = %generated.id, "the order could not be kept");
                return problem(StatusCode::SERVICE_UNAVAILABLE, "the order could not be kept; please try again");
            }
            state.payments.reconciler().watch_gateway(terminal, generated.id.clone(), Some(Expected::amount(total)));
            let svg = generated.qr_svg(5).ok();
            Json(json!({
                "orderNumber": order_number.as_str(),
                "invoiceId": generated.id,
                "amount": total,
                "qr": generated.qr,
                "qrSvg": svg,
                "deeplink": generated.deeplink,
            }))
            .into_response()
        }
        Err(error) if error.kind() == ErrorKind::Ambiguous => {
            // The order number finds the invoice if Pocket made it: watch it, so a payment of it
            // is still confirmed; the customer starts a new checkout.
            tracing::warn!(%error, order = %order_number, "generating the invoice may or may not have worked");
            let reconciler = state.payments.reconciler();
            tokio::spawn(async move {
                match reconciler.watch_order(terminal, &order_number, Some(Expected::amount(total))).await {
                    Ok(id) => tracing::info!(invoice_id = %id, "the lost invoice was found and is watched"),
                    Err(error) => tracing::info!(%error, "the lost invoice was not found"),
                }
            });
            problem(StatusCode::SERVICE_UNAVAILABLE, "Pocket did not confirm the invoice; please try again in a moment")
        }
        Err(error) => problem(StatusCode::BAD_GATEWAY, format!("Pocket refused the invoice: {error}")),
    }
}

async fn order(State(state): State<ShopState>, Path(order): Path<String>) -> Response {
    let customer = format!("desktop:{order}");
    match state.orders.find(Find::Customer(&customer)).await {
        Ok(Some(order)) => Json(order).into_response(),
        Ok(None) => problem(StatusCode::NOT_FOUND, "no such order"),
        Err(error) => problem(StatusCode::SERVICE_UNAVAILABLE, error),
    }
}
