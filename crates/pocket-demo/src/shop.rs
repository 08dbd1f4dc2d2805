//! The shop's backend: products, the greeting, checkout, order status, and the verified webhook
//! that marks orders paid.

use axum::extract::{FromRef, Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use pocket_axum::{Expected, Payments, PocketAuth, WalletUser};
use pocket_core::{Amount, ErrorKind, InvoiceId, InvoiceNote, NewInvoice, TerminalId};
use pocket_http::PocketClient;
use serde::{Deserialize, Serialize};

use crate::orders::{Find, Order, OrderBook};
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

#[derive(Clone)]
pub(crate) struct ShopState {
    auth: PocketAuth,
    pub(crate) client: PocketClient,
    /// Watches every invoice the shop creates, so an order turns paid even if the webhook never comes.
    pub(crate) payments: Payments,
    pub(crate) orders: OrderBook,
    /// The gateway terminal desktop checkouts generate invoices on, if the merchant has one.
    pub(crate) terminal: Option<TerminalId>,
    /// The sandbox wallet's QR scanner, in sandbox mode.
    scanner_url: Option<String>,
}

/// Where the shop's gateway (desktop) checkout runs: its terminal, and in sandbox mode the
/// wallet's scanner page.
#[derive(Clone, Debug, Default)]
pub(crate) struct Gateway {
    pub(crate) terminal: Option<TerminalId>,
    pub(crate) scanner_url: Option<String>,
}

impl FromRef<ShopState> for PocketAuth {
    fn from_ref(state: &ShopState) -> PocketAuth {
        state.auth.clone()
    }
}

impl ShopState {
    pub(crate) fn new(
        auth: PocketAuth,
        client: PocketClient,
        payments: Payments,
        orders: OrderBook,
        gateway: Gateway,
    ) -> ShopState {
        ShopState { auth, client, payments, orders, terminal: gateway.terminal, scanner_url: gateway.scanner_url }
    }
}

/// The mini-app's pages and API.
pub(crate) fn routes() -> Router<ShopState> {
    Router::new()
        .route("/", get(|| async { Html(INDEX) }))
        .route("/app.js", get(|| async { ([("content-type", "application/javascript; charset=utf-8")], APP_JS) }))
        .route("/api/products", get(|| async { Json(PRODUCTS) }))
        .route("/api/me", get(me))
        .route("/api/checkout", post(checkout))
        .route("/api/orders/{invoice}", get(order))
        .route("/api/desktop/wallet", get(wallet))
}

async fn me(user: WalletUser) -> Json<serde_json::Value> {
    Json(json!({
        "name": user.display_name().unwrap_or_else(|| "зочин".to_owned()),
        "phone": user.phone_number,
    }))
}

/// Where the sandbox wallet scans QR codes (none against the real Pocket).
async fn wallet(State(state): State<ShopState>) -> Json<serde_json::Value> {
    Json(json!({"scanner": state.scanner_url}))
}

#[derive(Deserialize)]
struct Checkout {
    items: Vec<Line>,
}

/// A line of a cart.
#[derive(Deserialize)]
pub(crate) struct Line {
    id: String,
    quantity: u64,
}

pub(crate) fn problem(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({"error": message.into()}))).into_response()
}

/// The cart's total and its products' names, or why the cart is refused.
pub(crate) fn price(items: &[Line]) -> Result<(Amount, Vec<&'static str>), String> {
    let mut total = Amount::ZERO;
    let mut names = Vec::new();
    for line in items {
        let Some(product) = PRODUCTS.iter().find(|p| p.id == line.id) else {
            return Err(format!("no product {:?}", line.id));
        };
        let price = Amount::from_tugrik(product.price).ok().and_then(|p| p.checked_mul(line.quantity.clamp(1, 99)));
        match price.and_then(|p| total.checked_add(p)) {
            Some(sum) => total = sum,
            None => return Err("the order is too large".to_owned()),
        }
        names.push(product.name);
    }
    Ok((total, names))
}

async fn checkout(State(state): State<ShopState>, user: WalletUser, Json(cart): Json<Checkout>) -> Response {
    let (total, names) = match price(&cart.items) {
        Ok(priced) => priced,
        Err(refusal) => return problem(StatusCode::BAD_REQUEST, refusal),
    };
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
            let order = Order::new(created.id.to_string(), total, user.subject.clone());
            if let Err(error) = state.orders.insert(order).await {
                tracing::error!(%error, invoice_id = %created.id, "the order could not be kept");
                return problem(StatusCode::SERVICE_UNAVAILABLE, "the order could not be kept; please try again");
            }
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
    match state.orders.find(Find::Invoice(id.as_str())).await {
        Ok(Some(order)) if order.customer() == user.subject => Json(order).into_response(),
        Ok(_) => problem(StatusCode::NOT_FOUND, "no such order"),
        Err(error) => problem(StatusCode::SERVICE_UNAVAILABLE, error),
    }
}
