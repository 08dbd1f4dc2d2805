//! The payment gateway (v2) under `/merchant`: QR and deep-link invoices for orders on the
//! merchant's terminals (`invoicing`), and the listings of branches and terminals as Spring
//! pages (`listing`). Errors are Spring's `{timestamp, status, error, message, path}`. Here:
//! the paths, the QR text, and what both parts check of every request.

pub(crate) mod invoicing;
pub(crate) mod listing;

use axum::http::{HeaderMap, StatusCode};
use pocket_core::InvoiceId;
use serde_json::{Map, Value};

use crate::config::TestBranch;
use crate::merchant::{json_object, merchant};
use crate::reply::{SpringFailure, spring_error};
use crate::state::Shared;

pub(crate) const GENERATE: &str = "/merchant/v2/invoicing/generate-invoice";
pub(crate) const BY_ORDER_NUMBER: &str = "/merchant/v2/invoicing/invoices/order-number";
pub(crate) const BY_ID: &str = "/merchant/v2/invoicing/invoices/invoice-id";
pub(crate) const IS_PAID: &str = "/merchant/v2/invoicing/invoices/is-paid";
pub(crate) const BRANCHES: &str = "/merchant/payment-gateway/branch/list";
pub(crate) const TERMINALS: &str = "/merchant/payment-gateway/terminal/list/{branch_id}";
pub(crate) const CANCEL: &str = "/merchant/payment-gateway/transaction/cancel/{held_id}";

/// The text of a sandbox invoice's QR code: what the sandbox wallet's scanner reads.
pub(crate) fn qr_text(id: &InvoiceId) -> String {
    format!("pocket-sandbox:pay:{id}")
}

/// The invoice a QR text names, if it is one of the sandbox's.
pub(crate) fn invoice_of_qr(text: &str) -> Option<u64> {
    text.trim().strip_prefix("pocket-sandbox:pay:")?.parse().ok()
}

pub(crate) fn bad(message: impl Into<String>, path: &str) -> SpringFailure {
    spring_error(StatusCode::BAD_REQUEST, message, path)
}

/// The calling merchant's client id, or a Spring-shaped 401.
pub(crate) fn caller(shared: &Shared, headers: &HeaderMap, path: &str) -> Result<String, SpringFailure> {
    merchant(shared, headers).map_err(|failure| failure.into_spring(path))
}

pub(crate) fn body(headers: &HeaderMap, body: &[u8], path: &str) -> Result<Map<String, Value>, SpringFailure> {
    json_object(headers, body).map_err(|failure| failure.into_spring(path))
}

/// The merchant's branches.
pub(crate) fn branches_of<'a>(shared: &'a Shared, client_id: &str) -> &'a [TestBranch] {
    shared.client(client_id).map(|client| client.branches.as_slice()).unwrap_or_default()
}

/// The branch that holds `terminal`, if the merchant has that terminal.
pub(crate) fn branch_of_terminal<'a>(shared: &'a Shared, client_id: &str, terminal: u64) -> Option<&'a TestBranch> {
    branches_of(shared, client_id).iter().find(|branch| branch.terminals.contains(&terminal))
}

/// A `terminalId` field: a whole number, one of the caller's terminals (else 404).
pub(crate) fn terminal(
    shared: &Shared,
    client_id: &str,
    fields: &Map<String, Value>,
    path: &str,
) -> Result<u64, SpringFailure> {
    let number = match fields.get("terminalId") {
        None | Some(Value::Null) => return Err(bad("terminalId is required", path)),
        Some(value) => whole_number(value),
    };
    let Some(number) = number else { return Err(bad("terminalId must be a whole number", path)) };
    match branch_of_terminal(shared, client_id, number) {
        Some(_) => Ok(number),
        None => Err(spring_error(
            StatusCode::NOT_FOUND,
            format!("terminal {number} is not one of this merchant's terminals"),
            path,
        )),
    }
}

/// A JSON number that is a whole number (`7001` or `7001.0`, as JSON Schema's `integer`), up to
/// 2^53 when written as a fraction.
pub(crate) fn whole_number(value: &Value) -> Option<u64> {
    const EXACT: f64 = 9_007_199_254_740_992.0;
    value.as_u64().or_else(|| value.as_f64().filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f <= EXACT).map(|f| f as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qr_texts_name_their_invoice() {
        assert_eq!(invoice_of_qr(&qr_text(&InvoiceId::from(10_001))), Some(10_001));
        assert_eq!(invoice_of_qr("  pocket-sandbox:pay:7\n"), Some(7));
        for other in ["", "pocket-sandbox:pay:", "pocket-sandbox:pay:x", "https://example.mn/pay/7"] {
            assert_eq!(invoice_of_qr(other), None, "{other}");
        }
    }
}
