//! `/_sandbox/…`: the sandbox's own control API, for the wallet simulator, for people trying
//! things with curl, and for tests in other languages. Not part of Pocket; open to any origin.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use pocket_core::InvoiceId;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::delivery::send_forged;
use crate::faults::{Endpoint, Fault};
use crate::payments::settle;
use crate::reply::{ApiFailure, api_error};
use crate::state::Shared;
use crate::webhook::{Delivery, DeliveryKind, DeliveryOutcome, Forgery};
use crate::wire::rfc3339;
use crate::{SandboxError, TestUser};

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/invoices", get(invoices))
        .route("/invoices/{id}", get(one_invoice))
        .route("/invoices/{id}/pay", post(pay))
        .route("/invoices/{id}/reject", post(reject))
        .route("/consumer-tokens", post(mint))
        .route("/deliveries", get(deliveries))
        .route("/webhook-behaviour", put(webhook_behaviour))
        .route("/forgeries", post(forge))
        .route("/faults", delete(clear_faults))
        .route("/faults/{endpoint}", put(set_fault).delete(clear_fault))
        .route("/keys/rotate", post(rotate))
        .route("/merchant-tokens/revoke", post(revoke))
        .route("/mini-app", put(mini_app))
        .layer(axum::middleware::from_fn(open_to_any_origin))
}

/// The wallet shim runs inside the mini-app's page, on another origin.
async fn open_to_any_origin(request: Request, next: Next) -> Response {
    let mut response = if request.method() == Method::OPTIONS {
        StatusCode::NO_CONTENT.into_response()
    } else {
        next.run(request).await
    };
    let headers = response.headers_mut();
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, POST, PUT, DELETE"));
    headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static("content-type"));
    response
}

fn sandbox_failure(error: SandboxError) -> ApiFailure {
    let status = match error {
        SandboxError::UnknownInvoice(_) => StatusCode::NOT_FOUND,
        SandboxError::NotPending { .. } => StatusCode::CONFLICT,
        _ => StatusCode::BAD_REQUEST,
    };
    api_error(status, "SANDBOX", error.to_string())
}

/// A JSON body of the control API; an empty body is the type's default.
fn json_body<T: serde::de::DeserializeOwned + Default>(body: &[u8]) -> Result<T, ApiFailure> {
    if body.is_empty() {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|error| api_error(StatusCode::BAD_REQUEST, "SANDBOX", error.to_string()))
}

async fn invoices(State(shared): State<Arc<Shared>>) -> Json<Vec<Value>> {
    let case = shared.webhooks().state_case();
    Json(shared.invoices().values().map(|invoice| invoice.check_view(None, case)).collect())
}

/// One invoice as the wallet's pay sheet shows it: Pocket's record, not what the page passed.
async fn one_invoice(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Result<Json<Value>, ApiFailure> {
    let case = shared.webhooks().state_case();
    shared
        .invoice(&id)
        .map(|invoice| Json(invoice.check_view(None, case)))
        .ok_or_else(|| api_error(StatusCode::NOT_FOUND, "SANDBOX", format!("no invoice {id:?}")))
}

fn settle_route(shared: &Arc<Shared>, id: &str, pay: bool) -> Result<Json<Value>, ApiFailure> {
    let id = InvoiceId::new(id).map_err(|_| api_error(StatusCode::NOT_FOUND, "SANDBOX", "no such invoice"))?;
    let case = shared.webhooks().state_case();
    settle(shared, &id, pay).map(|invoice| Json(invoice.check_view(None, case))).map_err(sandbox_failure)
}

async fn pay(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Result<Json<Value>, ApiFailure> {
    settle_route(&shared, &id, true)
}

async fn reject(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Result<Json<Value>, ApiFailure> {
    settle_route(&shared, &id, false)
}

/// What the wallet simulator asks for when the user consents: the configured wallet user's
/// tokens, limited to the consented scopes.
#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct MintRequest {
    scopes: Option<Vec<String>>,
}

async fn mint(State(shared): State<Arc<Shared>>, body: Bytes) -> Result<Json<Value>, ApiFailure> {
    let request: MintRequest = json_body(&body)?;
    let mut user: TestUser = shared.config().wallet_user.clone();
    if let Some(scopes) = request.scopes {
        user.scopes = scopes;
    }
    let tokens = crate::consumer::mint(&shared, &user, shared.config().token_lifetime, serde_json::Map::new())
        .map_err(sandbox_failure)?;
    Ok(Json(json!({
        "accessToken": tokens.access_token.expose_secret(),
        "refreshToken": tokens.refresh_token.expose_secret(),
    })))
}

pub(crate) fn delivery_json(delivery: &Delivery) -> Value {
    let (kind, forgery) = match &delivery.kind {
        DeliveryKind::Genuine => ("genuine", None),
        DeliveryKind::Duplicate => ("duplicate", None),
        DeliveryKind::Forged(Forgery::UnpaidInvoice(_)) => ("forged", Some("unpaid-invoice")),
        DeliveryKind::Forged(Forgery::UnknownInvoice) => ("forged", Some("unknown-invoice")),
        DeliveryKind::Forged(Forgery::WrongAmount(_)) => ("forged", Some("wrong-amount")),
    };
    let (status, error) = match &delivery.outcome {
        DeliveryOutcome::Answered(status) => (Some(*status), None),
        DeliveryOutcome::Failed(error) => (None, Some(error.as_str())),
        DeliveryOutcome::NoAddress => (None, Some("no fallBackUrl configured")),
        DeliveryOutcome::Dropped => (None, Some("dropped on purpose (drop_notices)")),
    };
    json!({
        "invoiceId": delivery.invoice_id,
        "url": delivery.url,
        "attempt": delivery.attempt,
        "kind": kind,
        "forgery": forgery,
        "status": status,
        "error": error,
        "body": delivery.body,
        "at": rfc3339(delivery.at),
    })
}

async fn deliveries(State(shared): State<Arc<Shared>>) -> Json<Vec<Value>> {
    Json(shared.webhooks().log().iter().map(delivery_json).collect())
}

async fn webhook_behaviour(State(shared): State<Arc<Shared>>, body: Bytes) -> Result<StatusCode, ApiFailure> {
    shared.webhooks().set_behaviour(json_body(&body)?);
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ForgeryRequest {
    kind: String,
    invoice_id: Option<String>,
}

async fn forge(State(shared): State<Arc<Shared>>, body: Bytes) -> Result<Json<Value>, ApiFailure> {
    let request: ForgeryRequest = json_body(&body)?;
    let id = || {
        request
            .invoice_id
            .as_deref()
            .and_then(|id| InvoiceId::new(id).ok())
            .ok_or_else(|| api_error(StatusCode::BAD_REQUEST, "SANDBOX", "invoiceId is required for this forgery"))
    };
    let forgery = match request.kind.as_str() {
        "unknown-invoice" => Forgery::UnknownInvoice,
        "unpaid-invoice" => Forgery::UnpaidInvoice(id()?),
        "wrong-amount" => Forgery::WrongAmount(id()?),
        other => {
            let message =
                format!("unknown forgery {other:?}; expected unpaid-invoice, unknown-invoice or wrong-amount");
            return Err(api_error(StatusCode::BAD_REQUEST, "SANDBOX", message));
        }
    };
    let client_id = shared.config().clients[0].client_id.clone();
    let delivery = send_forged(&shared, forgery, &client_id)
        .await
        .map_err(|error| api_error(StatusCode::BAD_REQUEST, "SANDBOX", error))?;
    Ok(Json(delivery_json(&delivery)))
}

fn endpoint(name: &str) -> Result<Endpoint, ApiFailure> {
    name.parse().map_err(|error: String| api_error(StatusCode::NOT_FOUND, "SANDBOX", error))
}

async fn set_fault(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
    body: Bytes,
) -> Result<StatusCode, ApiFailure> {
    let endpoint = endpoint(&name)?;
    shared.faults().set(endpoint, json_body::<Fault>(&body)?);
    Ok(StatusCode::NO_CONTENT)
}

async fn clear_fault(State(shared): State<Arc<Shared>>, Path(name): Path<String>) -> Result<StatusCode, ApiFailure> {
    shared.faults().clear(Some(endpoint(&name)?));
    Ok(StatusCode::NO_CONTENT)
}

async fn clear_faults(State(shared): State<Arc<Shared>>) -> StatusCode {
    shared.faults().clear(None);
    StatusCode::NO_CONTENT
}

async fn rotate(State(shared): State<Arc<Shared>>) -> Result<Json<Value>, ApiFailure> {
    let mut keys = shared.keys();
    keys.rotate(std::time::SystemTime::now(), shared.config().key_grace_period).map_err(sandbox_failure)?;
    Ok(Json(json!({ "kid": keys.current().kid() })))
}

async fn revoke(State(shared): State<Arc<Shared>>) -> Json<Value> {
    Json(json!({ "revoked": shared.tokens().revoke_merchant_tokens(None) }))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct MiniApp {
    url: String,
}

async fn mini_app(State(shared): State<Arc<Shared>>, body: Bytes) -> Result<StatusCode, ApiFailure> {
    let MiniApp { url } = json_body(&body)?;
    if !crate::merchant::is_http_url(&url) {
        return Err(api_error(StatusCode::BAD_REQUEST, "SANDBOX", "url must be an http(s) URL"));
    }
    *shared.mini_app_url() = Some(url.trim_end_matches('/').to_owned());
    Ok(StatusCode::NO_CONTENT)
}
