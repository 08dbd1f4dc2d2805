//! Gateway invoices: generate, the two lookups, is-paid, and cancel.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use pocket_core::{Amount, InvoiceId, InvoiceNote, InvoiceState, OrderNumber};
use serde::Serialize;
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

use super::{
    BY_ID, BY_ORDER_NUMBER, GENERATE, IS_PAID, bad, body, branch_of_terminal, caller, qr_text, terminal, whole_number,
};
use crate::DuplicateOrders;
use crate::merchant::creation::read_amount;
use crate::reply::{SpringError, SpringFailure, spring_error};
use crate::state::{SandboxInvoice, Shared};
use crate::wire::numeric_id;
use crate::wire::state_text;

/// `POST v2/invoicing/generate-invoice`'s body.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub(crate) struct GenerateRequest {
    /// One of the merchant's terminals (64-bit). Another merchant's, or none, is 404.
    #[schema(example = 7001, minimum = 1, maximum = 9_007_199_254_740_991_i64)]
    terminal_id: i64,
    /// Tögrög, at least 500, with at most two decimals: a number, or the same as text.
    #[schema(schema_with = crate::openapi::amount_schema)]
    amount: f64,
    /// 1 to 100 characters (UTF-16 units, as Java counts them), no control characters, not blank.
    #[schema(
        example = "Захиалга #117",
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$"
    )]
    info: String,
    /// The merchant's order number: 1 to 24 characters, no control characters. One payable
    /// invoice per order and terminal.
    #[schema(example = "SHOP-117", min_length = 1, max_length = 24, pattern = r"^[^\u0000-\u001f\u007f-\u009f]*$")]
    order_number: String,
    /// `PURCHASE` (default) or `ZERO`.
    #[schema(example = "PURCHASE")]
    invoice_type: Option<InvoiceTypeName>,
    /// `ecommerce` (default), `pos` or `merchant`.
    #[schema(example = "ecommerce")]
    channel: Option<ChannelName>,
}

/// How a gateway invoice is paid.
#[derive(ToSchema)]
#[allow(dead_code, clippy::upper_case_acronyms)]
pub(crate) enum InvoiceTypeName {
    PURCHASE,
    ZERO,
}

/// Where a gateway invoice is sold.
#[derive(ToSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)]
pub(crate) enum ChannelName {
    Ecommerce,
    Pos,
    Merchant,
}

/// A generated invoice.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Generated {
    #[schema(value_type = u64, example = 10001)]
    id: Value,
    /// The text to show as a QR code; the sandbox wallet's scanner reads it.
    #[schema(example = "pocket-sandbox:pay:10001")]
    qr: String,
    order_number: String,
    /// Opens the sandbox wallet's pay screen.
    deeplink: String,
}

/// The order-number lookup's and is-paid's body.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub(crate) struct OrderLookup {
    /// One of the merchant's terminals (another merchant's, or none, is 404).
    #[schema(example = 7001, minimum = 1, maximum = 9_007_199_254_740_991_i64)]
    terminal_id: i64,
    /// The order number.
    #[schema(example = "SHOP-117", min_length = 1, max_length = 24, pattern = r"^[^\u0000-\u001f\u007f-\u009f]*$")]
    order_number: String,
}

/// The invoice-id lookup's body.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub(crate) struct IdLookup {
    /// One of the merchant's terminals (another merchant's, or none, is 404).
    #[schema(example = 7001, minimum = 1, maximum = 9_007_199_254_740_991_i64)]
    terminal_id: i64,
    /// The invoice id.
    #[schema(example = 10001, minimum = 0, maximum = 9_007_199_254_740_991_i64)]
    invoice_id: u64,
}

/// An `orderNumber` field: a string of 1 to 24 characters without control characters.
fn order_number(fields: &Map<String, Value>, path: &str) -> Result<String, SpringFailure> {
    let Some(Value::String(order)) = fields.get("orderNumber") else {
        return Err(bad("orderNumber is required and must be a string", path));
    };
    let chars = order.chars().count();
    if chars == 0 || chars > OrderNumber::MAX_CHARS || order.chars().any(char::is_control) {
        return Err(bad("orderNumber must be 1 to 24 characters without control characters", path));
    }
    Ok(order.clone())
}

/// An enum field, read as Jackson reads an enum: exactly one of the names; absent or `null`
/// is the first.
fn one_of(fields: &Map<String, Value>, name: &str, allowed: &[&str], path: &str) -> Result<String, SpringFailure> {
    match fields.get(name) {
        None | Some(Value::Null) => Ok(allowed[0].to_owned()),
        Some(Value::String(value)) if allowed.contains(&value.as_str()) => Ok(value.clone()),
        _ => Err(bad(format!("{name} must be one of {}", allowed.join(", ")), path)),
    }
}

/// Generates a QR / deep-link invoice for an order.
#[utoipa::path(
    post,
    path = "/merchant/v2/invoicing/generate-invoice",
    tag = "gateway",
    security(("merchant_token" = [])),
    request_body = GenerateRequest,
    responses(
        (status = 200, description = "The invoice", body = Generated),
        (status = 400, description = "A field missing or invalid, malformed JSON", body = SpringError),
        (status = 401, description = "Missing, expired or revoked merchant token", body = SpringError),
        (status = 404, description = "The terminal is not one of the merchant's", body = SpringError),
        (status = 409, description = "The order already has a pending invoice (unless the sandbox replaces duplicates) or a paid one", body = SpringError),
        (status = 415, description = "Not JSON", body = SpringError),
    )
)]
pub(crate) async fn generate_invoice(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Json<Generated>, SpringFailure> {
    let path = GENERATE;
    let client_id = caller(&shared, &headers, path)?;
    let fields = body(&headers, &bytes, path)?;
    let terminal_id = terminal(&shared, &client_id, &fields, path)?;
    let amount = match fields.get("amount").map(read_amount) {
        Some(Ok(amount)) if amount >= Amount::MIN_INVOICE => amount,
        Some(Ok(_)) => return Err(bad(format!("amount must be at least {}", Amount::MIN_INVOICE), path)),
        Some(Err(error)) => return Err(bad(format!("amount: {error}"), path)),
        None => return Err(bad("amount is required", path)),
    };
    let info = match fields.get("info") {
        Some(Value::String(info)) => InvoiceNote::new(info.clone()).map_err(|e| bad(format!("info: {e}"), path))?,
        _ => return Err(bad("info is required and must be a string", path)),
    };
    let order = order_number(&fields, path)?;
    let invoice_type = one_of(&fields, "invoiceType", &["PURCHASE", "ZERO"], path)?;
    let channel = one_of(&fields, "channel", &["ecommerce", "pos", "merchant"], path)?;

    let id = {
        let mut invoices = shared.invoices();
        let same_order = |invoice: &SandboxInvoice| {
            invoice.client_id == client_id
                && invoice.terminal_id == terminal_id
                && invoice.order_number.as_deref() == Some(order.as_str())
        };
        if invoices.values().any(|invoice| same_order(invoice) && invoice.state == InvoiceState::Paid) {
            return Err(spring_error(StatusCode::CONFLICT, format!("order {order:?} is already paid"), path));
        }
        let pending = |invoice: &SandboxInvoice| same_order(invoice) && invoice.state == InvoiceState::Pending;
        if invoices.values().any(pending) {
            match shared.config().duplicate_orders {
                DuplicateOrders::Refuse => {
                    let message = format!("order {order:?} already has an invoice (DUPLICATE_ORDER_NUMBER)");
                    return Err(spring_error(StatusCode::CONFLICT, message, path));
                }
                DuplicateOrders::Replace => {
                    for earlier in invoices.values_mut().filter(|invoice| pending(invoice)) {
                        tracing::info!(invoice_id = %earlier.id, order = %order, "a newer invoice replaces a pending one");
                        earlier.state = InvoiceState::Cancelled;
                    }
                }
            }
        }
        let id = shared.next_invoice_id();
        invoices.insert(
            id,
            SandboxInvoice {
                order_number: Some(order.clone()),
                invoice_type: Some(invoice_type),
                channel: Some(channel),
                qr: Some(qr_text(&InvoiceId::from(id))),
                ..SandboxInvoice::new(InvoiceId::from(id), client_id.clone(), terminal_id, amount, info.as_str())
            },
        );
        id
    };
    tracing::info!(invoice_id = id, order = %order, amount = %amount, client_id = %client_id, "gateway invoice generated");
    let invoice_id = InvoiceId::from(id);
    Ok(Json(Generated {
        id: numeric_id(&invoice_id),
        qr: qr_text(&invoice_id),
        order_number: order,
        deeplink: format!("{}/wallet/pay/{id}", shared.base_url()),
    }))
}

/// The newest gateway invoice of the caller's that `matches`, as the detail answer.
fn find_detail(
    shared: &Shared,
    client_id: &str,
    terminal_id: u64,
    matches: impl Fn(&SandboxInvoice) -> bool,
) -> Option<(SandboxInvoice, Value)> {
    let invoice = shared
        .invoices()
        .values()
        .rev()
        .find(|invoice| {
            invoice.is_gateway()
                && invoice.client_id == client_id
                && invoice.terminal_id == terminal_id
                && matches(invoice)
        })
        .cloned()?;
    let branch = branch_of_terminal(shared, client_id, terminal_id).map(|branch| (branch.id, branch.name.as_str()));
    let view = invoice.detail_view(branch, shared.webhooks().state_case());
    Some((invoice, view))
}

/// The invoice of an order (the newest, if the order had several).
#[utoipa::path(
    post,
    path = "/merchant/v2/invoicing/invoices/order-number",
    tag = "gateway",
    security(("merchant_token" = [])),
    request_body = OrderLookup,
    responses(
        (status = 200, description = "`{id, state, description, senderName, receiverName, amount, info, holdId, createdAt, aliasName, terminalId, branchName, branchId, orderNumber, invoiceType}`", body = Object),
        (status = 400, description = "terminalId or orderNumber missing or invalid, malformed JSON", body = SpringError),
        (status = 401, description = "Missing, expired or revoked merchant token", body = SpringError),
        (status = 404, description = "No invoice for this order on this terminal, or not the merchant's terminal", body = SpringError),
        (status = 415, description = "Not JSON", body = SpringError),
    )
)]
pub(crate) async fn invoice_by_order_number(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Json<Value>, SpringFailure> {
    let path = BY_ORDER_NUMBER;
    let client_id = caller(&shared, &headers, path)?;
    let fields = body(&headers, &bytes, path)?;
    let terminal_id = terminal(&shared, &client_id, &fields, path)?;
    let order = order_number(&fields, path)?;
    let found = find_detail(&shared, &client_id, terminal_id, |i| i.order_number.as_deref() == Some(order.as_str()));
    found.map(|(_, view)| Json(view)).ok_or_else(|| {
        spring_error(StatusCode::NOT_FOUND, format!("no invoice for order {order:?} on terminal {terminal_id}"), path)
    })
}

/// A gateway invoice by its id.
#[utoipa::path(
    post,
    path = "/merchant/v2/invoicing/invoices/invoice-id",
    tag = "gateway",
    security(("merchant_token" = [])),
    request_body = IdLookup,
    responses(
        (status = 200, description = "The detail, as for order-number", body = Object),
        (status = 400, description = "terminalId or invoiceId missing or invalid, malformed JSON", body = SpringError),
        (status = 401, description = "Missing, expired or revoked merchant token", body = SpringError),
        (status = 404, description = "No such gateway invoice on this terminal, or not the merchant's terminal", body = SpringError),
        (status = 415, description = "Not JSON", body = SpringError),
    )
)]
pub(crate) async fn invoice_by_id(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Json<Value>, SpringFailure> {
    let path = BY_ID;
    let client_id = caller(&shared, &headers, path)?;
    let fields = body(&headers, &bytes, path)?;
    let terminal_id = terminal(&shared, &client_id, &fields, path)?;
    let Some(id) = fields.get("invoiceId").and_then(whole_number) else {
        return Err(bad("invoiceId is required and must be a whole number", path));
    };
    let found = find_detail(&shared, &client_id, terminal_id, |invoice| invoice.id.as_str() == id.to_string());
    found
        .map(|(_, view)| Json(view))
        .ok_or_else(|| spring_error(StatusCode::NOT_FOUND, format!("no invoice {id} on terminal {terminal_id}"), path))
}

/// Whether an order is paid: 200 when it is, 400 when its invoice is pending or cancelled.
#[utoipa::path(
    post,
    path = "/merchant/v2/invoicing/invoices/is-paid",
    tag = "gateway",
    security(("merchant_token" = [])),
    request_body = OrderLookup,
    responses(
        (status = 200, description = "Paid: `{\"isPaid\": true}`", body = Object),
        (status = 400, description = "Pending, cancelled or rejected — an answer, not an error; also a field missing or invalid", body = SpringError),
        (status = 401, description = "Missing, expired or revoked merchant token", body = SpringError),
        (status = 404, description = "No invoice for this order on this terminal, or not the merchant's terminal", body = SpringError),
        (status = 415, description = "Not JSON", body = SpringError),
    )
)]
pub(crate) async fn is_paid(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Json<Value>, SpringFailure> {
    let path = IS_PAID;
    let client_id = caller(&shared, &headers, path)?;
    let fields = body(&headers, &bytes, path)?;
    let terminal_id = terminal(&shared, &client_id, &fields, path)?;
    let order = order_number(&fields, path)?;
    let found = find_detail(&shared, &client_id, terminal_id, |i| i.order_number.as_deref() == Some(order.as_str()));
    match found {
        Some((invoice, _)) if invoice.state == InvoiceState::Paid => Ok(Json(json!({"isPaid": true}))),
        Some(_) => Err(bad("Invoice is pending or cancelled", path)),
        None => Err(spring_error(StatusCode::NOT_FOUND, format!("no invoice for order {order:?}"), path)),
    }
}

/// Cancels a held payment: its invoice becomes cancelled. Cancelling twice is harmless.
#[utoipa::path(
    put,
    path = "/merchant/payment-gateway/transaction/cancel/{held_id}",
    tag = "gateway",
    security(("merchant_token" = [])),
    params(("held_id" = u64, Path, description = "The payment's hold (`heldId` of its notice, `holdId` of its detail)")),
    responses(
        (status = 200, description = "`{heldId, state: \"CANCELLED\"}`", body = Object),
        (status = 401, description = "Missing, expired or revoked merchant token", body = SpringError),
        (status = 404, description = "No payment of this merchant has this hold", body = SpringError),
    )
)]
pub(crate) async fn cancel(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(held_id): Path<String>,
) -> Result<Json<Value>, SpringFailure> {
    let path = format!("/merchant/payment-gateway/transaction/cancel/{held_id}");
    let client_id = caller(&shared, &headers, &path)?;
    let hold: Option<u64> = held_id.trim().parse().ok();
    let mut invoices = shared.invoices();
    let held = invoices
        .values_mut()
        .find(|invoice| invoice.client_id == client_id && hold.is_some() && invoice.held_id == hold);
    let Some(invoice) = held else {
        return Err(spring_error(StatusCode::NOT_FOUND, format!("no payment is held as {held_id:?}"), &path));
    };
    invoice.state = InvoiceState::Cancelled;
    tracing::info!(invoice_id = %invoice.id, held_id = %held_id, "held payment cancelled");
    let state = state_text(&invoice.state, shared.webhooks().state_case());
    Ok(Json(json!({"heldId": hold, "state": state})))
}
