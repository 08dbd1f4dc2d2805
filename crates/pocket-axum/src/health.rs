//! The pipeline's readiness as an HTTP route, for a load balancer's or Kubernetes' probe.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use pocket_payments::Payments;

/// A router answering `GET path` with [`Payments::health`] as JSON: `200` when the pipeline is
/// ready (its store and journal answer, its reconciler works), `503` when not. The body names
/// no invoice, user, host or secret; each probe is bounded by
/// [`HEALTH_PROBE_TIMEOUT`](pocket_payments::HEALTH_PROBE_TIMEOUT).
///
/// ```no_run
/// # fn run(payments: pocket_payments::Payments, webhook: axum::Router) {
/// let app = webhook.merge(pocket_axum::health_router("/pocket/health", payments));
/// # let _: axum::Router = app; }
/// ```
pub fn health_router(path: &str, payments: Payments) -> Router {
    Router::new().route(path, get(answer)).with_state(payments)
}

async fn answer(State(payments): State<Payments>) -> Response {
    let health = payments.health().await;
    let status = if health.ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    let mut response = (status, axum::Json(health)).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
