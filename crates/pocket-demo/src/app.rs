//! The whole app: the mini-app shop, the desktop checkout, the verified webhook, readiness,
//! metrics and pocket.js, on one router.

use axum::Router;
use pocket_axum::{PocketAuth, pocket_js_router};
use pocket_http::PocketClient;

use crate::orders::OrderBook;
use crate::shop::{Gateway, ShopState};

pub(crate) fn router(auth: PocketAuth, client: PocketClient, gateway: Gateway, orders: OrderBook) -> Router {
    let (webhook, payments) = orders
        .webhook(client.clone())
        .configure(|pipeline| match gateway.terminal {
            Some(terminal) => pipeline.gateway(client.clone(), [terminal]),
            None => pipeline,
        })
        .into_router_with_payments();
    let health = pocket_axum::health_router("/pocket/health", payments.clone());
    let state = ShopState::new(auth, client, payments, orders, gateway);
    crate::shop::routes()
        .merge(crate::desktop::routes())
        .with_state(state)
        .merge(webhook)
        .merge(health)
        .merge(crate::telemetry::routes())
        .merge(pocket_js_router("/pocket.js"))
}
