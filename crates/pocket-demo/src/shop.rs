//! The shop's backend: products, the greeting, checkout, order status, and the verified webhook
//! that marks orders paid.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{FromRef, Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use pocket_axum::{Expected, Payments, PocketAuth, PocketWebhook, WalletUser, handler_fn, pocket_js_router};
use pocket_core::{Amount, ErrorKind, InvoiceId, InvoiceNote, NewInvoice};
use pocket_http::PocketClient;
use serde::{Deserialize, Serialize};
use serde_json::json;

const INDEX: &str = include_str!("../assets/index.html");
const APP_JS: &str = include_str!("../assets/app.js");

/// What the shop sells.
#[derive(Debug, Clone, Serialize)]
pub struct Product {
    /// Its id.
    pub id: &'static str,
    /// Its name.
    pub name: &'static str,
    /// Its price in whole tögrög.
    pub price: u64,
}

/// The menu of the demo café.
pub const PRODUCTS: [Product; 4] = [
    Product { id: "tea", name: "Сүүтэй цай", price: 1_500 },
    Product { id: "buuz", name: "Бууз (3 ш)", price: 4_500 },
    Product { id: "khuushuur", name: "Хуушуур", price: 3_000 },
    Product { id: "airag", name: "Айраг", price: 2_500 },
];

/// An order, keyed by its invoice.
#[derive(Debug, Clone, Serialize)]
pub struct Order {
    invoice_id: String,
    total: Amount,
    paid: bool,
    customer: String,
}

#[derive(Clone)]
pub(crate) struct ShopState {
    auth: PocketAuth,
    client: PocketClient,
    /// Watches every invoice the shop creates, so an order turns paid even if the webhook never comes.
    payments: Payments,
    orders: Arc<Mutex<HashMap<String, Order>>>,
}

impl FromRef<ShopState> for PocketAuth {
    fn from_ref(state: &ShopState) -> PocketAuth {
        state.auth.clone()
    }
}

fn orders(state: &ShopState) -> std::sync::MutexGuard<'_, HashMap<String, Order>> {
    state.orders.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

pub(crate) fn router(auth: PocketAuth, client: PocketClient) -> Router {
    let orders: Arc<Mutex<HashMap<String, Order>>> = Arc::default();
    let paid_orders = orders.clone();
    let (webhook, payments) = PocketWebhook::new(
        client.clone(),
        handler_fn(move |payment| {
            let orders = paid_orders.clone();
            async move {
                let mut orders = orders.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                match orders.get_mut(payment.invoice_id().as_str()) {
                    // The order moves to paid once; a second run (after the store's retention)
                    // finds it paid and changes nothing.
                    Some(order) if order.paid => Ok(()),
                    Some(order) => {
                        order.paid = true;
                        tracing::info!(invoice_id = %payment.invoice_id(), total = %order.total, "order paid");
                        Ok(())
                    }
                    None => Err(format!("no order for invoice {}", payment.invoice_id()).into()),
                }
            }
        }),
    )
    .into_router_with_payments();
    let state = ShopState { auth, client, payments, orders };
    Router::new()
        .route("/", get(|| async { Html(INDEX) }))
        .route("/app.js", get(|| async { ([("content-type", "application/javascript; charset=utf-8")], APP_JS) }))
        .route("/api/products", get(|| async { Json(PRODUCTS) }))
        .route("/api/me", get(me))
        .route("/api/checkout", post(checkout))
        .route("/api/orders/{invoice}", get(order))
        .with_state(state)
        .merge(webhook)
        .merge(pocket_js_router("/pocket.js"))
}

async fn me(user: WalletUser) -> Json<serde_json::Value> {
    Json(json!({
        "name": user.display_name().unwrap_or_else(|| "зочин".to_owned()),
        "phone": user.phone_number,
    }))
}

#[derive(Deserialize)]
struct Checkout {
    items: Vec<Line>,
}

#[derive(Deserialize)]
struct Line {
    id: String,
    quantity: u64,
}

fn problem(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({"error": message.into()}))).into_response()
}

async fn checkout(State(state): State<ShopState>, user: WalletUser, Json(cart): Json<Checkout>) -> Response {
    let mut total = Amount::ZERO;
    let mut names = Vec::new();
    for line in &cart.items {
        let Some(product) = PRODUCTS.iter().find(|p| p.id == line.id) else {
            return problem(StatusCode::BAD_REQUEST, format!("no product {:?}", line.id));
        };
        let price = Amount::from_tugrik(product.price).ok().and_then(|p| p.checked_mul(line.quantity.clamp(1, 99)));
        match price.and_then(|p| total.checked_add(p)) {
            Some(sum) => total = sum,
            None => return problem(StatusCode::BAD_REQUEST, "the order is too large"),
        }
        names.push(product.name);
    }
    let note: String = format!("Pocket café: {}", names.join(", ")).chars().take(InvoiceNote::MAX_CHARS).collect();
    let invoice = match InvoiceNote::new(note)
        .map_err(pocket_core::Error::from)
        .and_then(|note| NewInvoice::new(total, note, user.token().clone()).map_err(pocket_core::Error::from))
    {
        Ok(invoice) => invoice,
        Err(error) => return problem(StatusCode::BAD_REQUEST, error.to_string()),
    };
    match state.client.create_invoice(&invoice).await {
        Ok(created) => {
            tracing::info!(invoice_id = %created.id, total = %total, "invoice created");
            orders(&state).insert(
                created.id.to_string(),
                Order { invoice_id: created.id.to_string(), total, paid: false, customer: user.subject.clone() },
            );
            state.payments.reconciler().watch(created.id.clone(), Some(Expected::amount(total)));
            Json(json!({
                "id": created.id,
                "amount": total,
                "info": created.info.unwrap_or_else(|| invoice.info().to_string()),
                "terminalId": created.terminal_id,
            }))
            .into_response()
        }
        Err(error) if error.kind() == ErrorKind::Ambiguous => {
            tracing::warn!(%error, "creating the invoice may or may not have worked");
            problem(StatusCode::SERVICE_UNAVAILABLE, "Pocket did not confirm the invoice; please try again in a moment")
        }
        Err(error) => {
            tracing::warn!(%error, "creating the invoice failed");
            problem(StatusCode::BAD_GATEWAY, format!("Pocket refused the invoice: {error}"))
        }
    }
}

async fn order(State(state): State<ShopState>, user: WalletUser, Path(invoice): Path<String>) -> Response {
    let id = match InvoiceId::new(invoice) {
        Ok(id) => id,
        Err(error) => return problem(StatusCode::BAD_REQUEST, error.to_string()),
    };
    match orders(&state).get(id.as_str()) {
        Some(order) if order.customer == user.subject => Json(order.clone()).into_response(),
        _ => problem(StatusCode::NOT_FOUND, "no such order"),
    }
}
