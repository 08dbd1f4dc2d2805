//! Creating v1 invoices: for a wallet user (`consumer/invoice`, with the user's token) and the
//! merchant QR invoice (`invoice`, for whoever scans it), and reading their amounts.

use std::sync::Arc;
use std::time::SystemTime;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use pocket_core::{Amount, InvoiceId, InvoiceNote, InvoiceState};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::{json_object, merchant};
use crate::reply::{ApiError, ApiFailure, api_error};
use crate::state::{SandboxInvoice, Shared};
use crate::tokens::TokenKind;
use crate::wire::state_text;
use crate::wire::{numeric_id, rfc3339};

/// `POST /merchant/consumer/invoice`'s body.
#[derive(ToSchema)]
#[allow(dead_code)]
pub(crate) struct CreateInvoiceRequest {
    /// Tögrög, at least 500, with at most two decimals: a number, or the same as text.
    #[schema(schema_with = crate::openapi::amount_schema)]
    amount: f64,
    /// 1 to 100 characters (UTF-16 units, as Java counts them), no control characters, not blank.
    #[schema(
        example = "Нэхэмжлэх",
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$"
    )]
    info: String,
    /// The wallet user's ID token, from `Pocket.getToken`.
    #[serde(rename = "consumerToken")]
    consumer_token: String,
}

/// The invoice, as create returns it.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct InvoiceCreated {
    #[schema(value_type = u64, example = 10001)]
    id: Value,
    info: String,
    #[schema(value_type = f64, example = 560)]
    amount: Amount,
    #[schema(example = 7001)]
    terminal_id: u64,
    created_at: String,
    #[schema(example = "pending")]
    state: String,
}

impl InvoiceCreated {
    /// The answer to the creation of `invoice` (pending).
    fn of(invoice: &SandboxInvoice, shared: &Shared) -> InvoiceCreated {
        InvoiceCreated {
            id: numeric_id(&invoice.id),
            info: invoice.info.clone(),
            amount: invoice.amount,
            terminal_id: invoice.terminal_id,
            created_at: rfc3339(invoice.created_at),
            state: state_text(&InvoiceState::Pending, shared.webhooks().state_case()),
        }
    }
}

/// Creates an invoice for a wallet user.
#[utoipa::path(
    post,
    path = "/merchant/consumer/invoice",
    tag = "merchant",
    security(("merchant_token" = [])),
    request_body = CreateInvoiceRequest,
    responses(
        (status = 200, description = "The invoice", body = InvoiceCreated),
        (status = 400, description = "Amount below 500 ₮, note missing or too long, consumer token invalid, malformed JSON", body = ApiError),
        (status = 401, description = "Missing, expired or revoked merchant token", body = ApiError),
        (status = 415, description = "Not JSON", body = ApiError),
    )
)]
pub(crate) async fn create_invoice(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<InvoiceCreated>, ApiFailure> {
    let client_id = merchant(&shared, &headers)?;
    let mut fields = json_object(&headers, &body)?;
    let bad = |code, message: String| api_error(StatusCode::BAD_REQUEST, code, message);
    let (amount, info) = amount_and_note(&mut fields)?;
    let Some(Value::String(token)) = fields.remove("consumerToken") else {
        return Err(bad("INVALID_CONSUMER_TOKEN", "consumerToken is required".to_owned()));
    };
    let payer = shared
        .tokens()
        .check(&token, TokenKind::Consumer, SystemTime::now())
        .map(|issued| issued.claims.clone())
        .map_err(|refusal| bad("INVALID_CONSUMER_TOKEN", format!("consumerToken: {}", refusal.describe())))?;
    let terminal = terminal_of(&shared, &client_id)?;
    let id = shared.next_invoice_id();
    let mut invoice = SandboxInvoice::new(InvoiceId::from(id), client_id, terminal, amount, info.as_str());
    invoice.payer = payer["sub"].as_str().unwrap_or_default().to_owned();
    invoice.payer_phone = payer["phone_number"].as_str().map(str::to_owned);
    let created = InvoiceCreated::of(&invoice, &shared);
    tracing::info!(invoice_id = id, amount = %amount, client_id = %invoice.client_id, "invoice created");
    shared.invoices().insert(id, invoice);
    Ok(Json(created))
}

/// The terminal a merchant client's v1 invoices belong to.
fn terminal_of(shared: &Shared, client_id: &str) -> Result<u64, ApiFailure> {
    shared
        .client(client_id)
        .map(|client| client.terminal_id)
        .ok_or_else(|| api_error(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", "unknown merchant"))
}

/// The `amount` (at least 500 ₮) and `info` of an invoice being created.
fn amount_and_note(fields: &mut Map<String, Value>) -> Result<(Amount, InvoiceNote), ApiFailure> {
    let bad = |code, message: String| api_error(StatusCode::BAD_REQUEST, code, message);
    let amount = match fields.remove("amount").map(|value| read_amount(&value)) {
        None => return Err(bad("INVALID_AMOUNT", "amount is required".to_owned())),
        Some(Err(error)) => return Err(bad("INVALID_AMOUNT", format!("amount: {error}"))),
        Some(Ok(amount)) if amount < Amount::MIN_INVOICE => {
            return Err(bad("INVALID_AMOUNT", format!("amount must be at least {}", Amount::MIN_INVOICE)));
        }
        Some(Ok(amount)) => amount,
    };
    let info = match fields.remove("info") {
        Some(Value::String(info)) => {
            InvoiceNote::new(info).map_err(|error| bad("INVALID_INFO", format!("info: {error}")))?
        }
        Some(_) => return Err(bad("INVALID_INFO", "info must be a string".to_owned())),
        None => return Err(bad("INVALID_INFO", "info is required".to_owned())),
    };
    Ok((amount, info))
}

/// `POST /merchant/invoice`'s body.
#[derive(ToSchema)]
#[allow(dead_code)]
pub(crate) struct CreateQrInvoiceRequest {
    /// Tögrög, at least 500, with at most two decimals: a number, or the same as text.
    #[schema(schema_with = crate::openapi::amount_schema)]
    amount: f64,
    /// 1 to 100 characters (UTF-16 units, as Java counts them), no control characters, not blank.
    #[schema(
        example = "Кофе",
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$"
    )]
    info: String,
}

/// A merchant QR invoice, as create returns it: the invoice's details and its `qr`.
#[derive(Serialize, ToSchema)]
pub(crate) struct QrInvoiceCreated {
    #[serde(flatten)]
    invoice: InvoiceCreated,
    /// The text to show as a QR code; the sandbox wallet's scanner reads it.
    #[schema(example = "pocket-sandbox:pay:10001")]
    qr: String,
}

/// Creates a merchant QR invoice: no wallet user; whoever scans its `qr` pays it. Observed in
/// public code (an erxes payment plugin), not in Pocket's documents.
#[utoipa::path(
    post,
    path = "/merchant/invoice",
    tag = "merchant",
    security(("merchant_token" = [])),
    request_body = CreateQrInvoiceRequest,
    responses(
        (status = 200, description = "The invoice and its QR text", body = QrInvoiceCreated),
        (status = 400, description = "Amount below 500 ₮, note missing or too long, malformed JSON", body = ApiError),
        (status = 401, description = "Missing, expired or revoked merchant token", body = ApiError),
        (status = 415, description = "Not JSON", body = ApiError),
    )
)]
pub(crate) async fn create_qr_invoice(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<QrInvoiceCreated>, ApiFailure> {
    let client_id = merchant(&shared, &headers)?;
    let mut fields = json_object(&headers, &body)?;
    let (amount, info) = amount_and_note(&mut fields)?;
    let terminal = terminal_of(&shared, &client_id)?;
    let id = shared.next_invoice_id();
    let invoice_id = InvoiceId::from(id);
    let qr = crate::gateway::qr_text(&invoice_id);
    let mut invoice = SandboxInvoice::new(invoice_id, client_id, terminal, amount, info.as_str());
    invoice.qr = Some(qr.clone());
    let created = QrInvoiceCreated { invoice: InvoiceCreated::of(&invoice, &shared), qr };
    tracing::info!(invoice_id = id, amount = %amount, client_id = %invoice.client_id, "QR invoice created");
    shared.invoices().insert(id, invoice);
    Ok(Json(created))
}

/// An amount as a number or numeric text. A number within floating-point error of whole
/// mongo (`35 * 0.01` is `0.35000000000000003` in binary) is that many mongo: a Java service
/// reading a `double` into a `BigDecimal` scaled to two places does the same. A number with
/// more decimals than that (`4560061504090.973`) is refused, however large.
pub(crate) fn read_amount(value: &Value) -> Result<Amount, String> {
    if let Some(number) = value.as_f64().filter(|_| value.is_number() && !value.is_u64()) {
        let mongo = number * 100.0;
        let whole = mongo.round();
        // Whole mongo as written (the shortest decimal that reads back as this number has at
        // most two decimals), or within binary rounding of it; never a tolerance that grows with
        // the amount, which would take 4560061504090.973 for 4560061504090.97.
        let decimals = number.to_string().split_once('.').map_or(0, |(_, fraction)| fraction.len());
        if number.is_finite() && number >= 0.0 && (decimals <= 2 || (mongo - whole).abs() <= 1e-6) {
            // Amount::from_mongo saturates; an amount beyond the largest is refused, never capped.
            if whole > Amount::MAX.as_mongo() as f64 {
                return Err(format!("{number} is more than the largest amount, {}", Amount::MAX));
            }
            return Ok(Amount::from_mongo(whole as u64));
        }
    }
    serde_json::from_value::<Amount>(value.clone()).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::read_amount;

    #[test]
    fn amounts_with_more_than_two_decimals_are_refused_at_any_size() {
        for (number, mongo) in [(560.0, 56_000), (0.35000000000000003, 35), (100_000_000.07, 10_000_000_007)] {
            assert_eq!(read_amount(&serde_json::json!(number)).map(|a| a.as_mongo()), Ok(mongo), "{number}");
        }
        for number in [4_560_061_504_090.973, 560.001, 0.005, 1.255_649_936_306_143_6e16, 10_000_000_000_000.5] {
            assert!(read_amount(&serde_json::json!(number)).is_err(), "{number}");
        }
    }
}
