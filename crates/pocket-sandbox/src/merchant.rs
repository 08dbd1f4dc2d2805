//! The merchant API under `/merchant`: check invoices (created in `creation`), read and set the
//! webhook address. Every call needs a merchant token (`Authorization: Bearer …`).

pub(crate) mod creation;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};

use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::reply::{ApiError, ApiFailure, api_error, bearer, has_content_type};
use crate::state::Shared;
use crate::tokens::TokenKind;

/// `POST /merchant/pg/config`'s body.
#[derive(ToSchema)]
#[allow(dead_code)]
pub(crate) struct SetPaymentConfig {
    /// Where Pocket is to post payment webhooks: an absolute http(s) URL.
    #[serde(rename = "fallBackUrl")]
    #[schema(
        pattern = r"^https?://[^\s\u0000-\u001f\u007f-\u009f/?#\[\]]+([/?#][^\s\u0000-\u001f\u007f-\u009f]*)?$",
        example = "https://shop.example.mn/pocket/webhook"
    )]
    fall_back_url: String,
}

/// The webhook configuration.
#[derive(Serialize, ToSchema)]
pub(crate) struct PaymentConfigBody {
    /// Where Pocket posts payment webhooks; `null` when none is set.
    #[serde(rename = "fallBackUrl")]
    fall_back_url: Option<String>,
}

/// The merchant client a request's bearer token belongs to.
pub(crate) fn merchant(shared: &Shared, headers: &HeaderMap) -> Result<String, ApiFailure> {
    let Some(token) = bearer(headers) else {
        return Err(api_error(
            StatusCode::UNAUTHORIZED,
            "UNAUTHORIZED",
            "a merchant token is required (Authorization: Bearer …)",
        ));
    };
    let tokens = shared.tokens();
    match tokens.check(token, TokenKind::Merchant, SystemTime::now()) {
        Ok(issued) => Ok(issued.client_id.clone()),
        Err(refusal) => Err(api_error(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", refusal.describe())),
    }
}

pub(crate) fn json_object(headers: &HeaderMap, body: &[u8]) -> Result<Map<String, Value>, ApiFailure> {
    if !has_content_type(headers, "application/json") {
        return Err(api_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "INVALID_REQUEST",
            "the body must be application/json",
        ));
    }
    match serde_json::from_slice(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(api_error(StatusCode::BAD_REQUEST, "INVALID_REQUEST", "the body must be a JSON object")),
        Err(error) => {
            Err(api_error(StatusCode::BAD_REQUEST, "INVALID_REQUEST", format!("the body is not valid JSON: {error}")))
        }
    }
}

/// An invoice's state and details.
#[utoipa::path(
    get,
    path = "/merchant/invoice/check/{id}",
    tag = "merchant",
    security(("merchant_token" = [])),
    params(("id" = i64, Path, description = "The invoice id: a whole number (read as a Java `Long`, so `04242`, `+4242` and `0x1092` are invoice 4242 too)")),
    responses(
        (status = 200, description = "`{id, state, amount, info, description, createdAt, terminalId, orderNumber, paidAt?}`; state is pending, processing (a lagging check), paid, rejected or unsuccess (upper case when the sandbox is set so)", body = Object),
        (status = 400, description = "The id is not a number (it is read as a Java Long: `04242`, `+4242` and `0x1092` are invoice 4242)", body = ApiError),
        (status = 401, description = "Missing, expired or revoked merchant token", body = ApiError),
        (status = 404, description = "No such invoice for this merchant (gateway invoices are looked up through the gateway)", body = ApiError),
    )
)]
pub(crate) async fn check_invoice(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiFailure> {
    let client_id = merchant(&shared, &headers)?;
    let Some(number) = read_long(&id) else {
        return Err(api_error(
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
            format!("invoice id {id:?} is not a number"),
        ));
    };
    let invoice = u64::try_from(number).ok().and_then(|n| shared.invoices().get(&n).cloned());
    let behaviour = shared.webhooks().behaviour();
    let lag = behaviour.check_lag_ms.map(Duration::from_millis);
    // The sandbox keeps the two APIs apart: a gateway invoice is looked up through the gateway.
    match invoice.filter(|invoice| invoice.client_id == client_id && !invoice.is_gateway()) {
        Some(invoice) => Ok(Json(invoice.check_view(lag, behaviour.state_case))),
        None => Err(api_error(StatusCode::NOT_FOUND, "NOT_FOUND", format!("invoice {id:?} not found"))),
    }
}

/// Reads a path segment as Spring reads a `Long` path variable (`NumberUtils.parseNumber`):
/// every character Java's `Character.isWhitespace` accepts is dropped (the no-break spaces are
/// not), `0x`/`0X`/`#` after an optional `-` is hexadecimal (`Long.decode`), anything else goes
/// to `Long.valueOf` — one `+` or `-`, then digits of any script in the Basic Multilingual
/// Plane. Pocket's services are Spring applications, so every such spelling is one invoice.
fn read_long(text: &str) -> Option<i64> {
    let text: String = text.chars().filter(|c| !java_whitespace(*c)).collect();
    let negative = text.starts_with('-');
    let unsigned = if negative { &text[1..] } else { text.as_str() };
    let hex = ["0x", "0X", "#"].iter().find_map(|prefix| unsigned.strip_prefix(prefix));
    let (radix, digits) = match hex {
        Some(digits) => (16, digits),
        None if negative => (10, unsigned),
        None => (10, text.strip_prefix('+').unwrap_or(&text)),
    };
    if digits.is_empty() {
        return None;
    }
    let mut value: i128 = 0;
    for c in digits.chars() {
        value = value * radix + i128::from(java_digit(c, radix)?);
        if value > 1 << 63 {
            return None;
        }
    }
    i64::try_from(if negative { -value } else { value }).ok()
}

fn java_whitespace(c: char) -> bool {
    matches!(u32::from(c), 0x09..=0x0D | 0x1C..=0x20 | 0x1680 | 0x2000..=0x2006 | 0x2008..=0x200A | 0x2028 | 0x2029 | 0x205F | 0x3000)
}

/// `Character.digit(c, radix)` for 10 and 16.
fn java_digit(c: char, radix: i128) -> Option<u8> {
    // Where each script's digit zero sits (Unicode's `Nd` runs in the Basic Multilingual Plane).
    const ZEROS: &[u32] = &[
        0x30, 0x660, 0x6F0, 0x7C0, 0x966, 0x9E6, 0xA66, 0xAE6, 0xB66, 0xBE6, 0xC66, 0xCE6, 0xD66, 0xDE6, 0xE50, 0xED0,
        0xF20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90, 0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620,
        0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0, 0xFF10,
    ];
    let code = u32::from(c);
    if let Some(zero) = ZEROS.iter().rev().find(|zero| **zero <= code).filter(|zero| code - **zero < 10) {
        return u8::try_from(code - zero).ok();
    }
    let letter = match c {
        'a'..='f' | 'A'..='F' => c.to_ascii_lowercase() as u32 - 'a' as u32,
        '\u{FF41}'..='\u{FF46}' => code - 0xFF41,
        '\u{FF21}'..='\u{FF26}' => code - 0xFF21,
        _ => return None,
    };
    (radix == 16).then(|| u8::try_from(letter + 10).ok()).flatten()
}

/// The merchant's payment configuration.
#[utoipa::path(
    get,
    path = "/merchant/pg/config",
    tag = "merchant",
    security(("merchant_token" = [])),
    responses(
        (status = 200, description = "The webhook address", body = PaymentConfigBody),
        (status = 401, description = "Missing, expired or revoked merchant token", body = ApiError),
    )
)]
pub(crate) async fn read_config(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
) -> Result<Json<PaymentConfigBody>, ApiFailure> {
    let client_id = merchant(&shared, &headers)?;
    let fall_back_url = shared.webhook_urls().get(&client_id).cloned();
    Ok(Json(PaymentConfigBody { fall_back_url }))
}

/// Sets where Pocket posts payment webhooks.
#[utoipa::path(
    post,
    path = "/merchant/pg/config",
    tag = "merchant",
    security(("merchant_token" = [])),
    request_body = SetPaymentConfig,
    responses(
        (status = 200, description = "The new configuration", body = PaymentConfigBody),
        (status = 400, description = "fallBackUrl missing or not an absolute http(s) URL", body = ApiError),
        (status = 401, description = "Missing, expired or revoked merchant token", body = ApiError),
        (status = 415, description = "Not JSON", body = ApiError),
    )
)]
pub(crate) async fn write_config(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<PaymentConfigBody>, ApiFailure> {
    let client_id = merchant(&shared, &headers)?;
    let fields = json_object(&headers, &body)?;
    let url = match fields.get("fallBackUrl") {
        Some(Value::String(url)) if is_http_url(url) => url.clone(),
        Some(_) => {
            return Err(api_error(
                StatusCode::BAD_REQUEST,
                "INVALID_URL",
                "fallBackUrl must be an absolute http(s) URL",
            ));
        }
        None => return Err(api_error(StatusCode::BAD_REQUEST, "INVALID_URL", "fallBackUrl is required")),
    };
    tracing::info!(client_id = %client_id, url = %url, "webhook address set");
    shared.webhook_urls().insert(client_id, url.clone());
    Ok(Json(PaymentConfigBody { fall_back_url: Some(url) }))
}

/// An absolute http(s) URL with a host (a name or an IPv4 address: no brackets) and no
/// whitespace or control characters.
pub(crate) fn is_http_url(url: &str) -> bool {
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    rest.is_some_and(|rest| {
        let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
        !host.is_empty() && !host.contains(['[', ']']) && !rest.chars().any(|c| c.is_whitespace() || c.is_control())
    })
}

#[cfg(test)]
mod tests {
    use super::read_long;

    #[test]
    fn ids_are_read_as_a_java_long() {
        for (text, number) in [
            ("4242", 4242),
            ("04242", 4242),
            ("+4242", 4242),
            (" 42 42", 4242),
            ("0x1092", 4242),
            ("#1092", 4242),
            ("-1", -1),
            ("٤٢٤٢", 4242),
            ("４２４２", 4242),
            ("᠔᠒᠔᠒", 4242),
            ("-#10", -16),
            ("-9223372036854775808", i64::MIN),
        ] {
            assert_eq!(read_long(text), Some(number), "{text}");
        }
        for text in
            ["", "+", "0x", "--1", "+-1", "4242.0", "abc", "99999999999999999999", "4242\u{a0}", "+0x1092", "0x+1", "²"]
        {
            assert_eq!(read_long(text), None, "{text}");
        }
    }

    #[test]
    fn every_basic_plane_character_reads_as_spring_reads_it() {
        for code in 0..=0xFFFFu32 {
            let Some(c) = char::from_u32(code) else { continue };
            for text in [format!("4{c}2"), format!("0x{c}"), format!("{c}7")] {
                assert_eq!(read_long(&text), pocket_test_support::spring_long(&text), "{text:?}");
            }
        }
    }
}
