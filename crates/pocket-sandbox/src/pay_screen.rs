//! The sandbox wallet's QR scanner and pay screen: where a gateway invoice's QR code (pasted)
//! and deep link lead, and where the wallet's user pays or declines it.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use pocket_core::{InvoiceId, InvoiceState};
use serde::Deserialize;

use crate::gateway::invoice_of_qr;
use crate::html::escape;
use crate::payments::settle;
use crate::state::Shared;

const PAGE: &str = include_str!("../assets/pay.html");

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new().route("/wallet/scan", get(scan)).route("/wallet/pay/{id}", get(pay_screen).post(settle_screen))
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    (status, Html(PAGE.replace("{{TITLE}}", &escape(title)).replace("{{BODY}}", body))).into_response()
}

#[derive(Deserialize)]
struct Scanned {
    code: Option<String>,
}

/// `GET /wallet/scan`: a box to paste a QR code's text into ("scanning" it); with `?code=…`, the
/// invoice's pay screen.
async fn scan(Query(scanned): Query<Scanned>) -> Response {
    let form = r#"<form method="get" action="/wallet/scan" class="card">
      <p>Paste the text of the shop's QR code (the sandbox's codes read <code>pocket-sandbox:pay:…</code>):</p>
      <input id="code" name="code" autofocus placeholder="pocket-sandbox:pay:10001">
      <button id="scan" type="submit">Scan</button></form>"#;
    match scanned.code.as_deref().map(str::trim) {
        None | Some("") => page(StatusCode::OK, "Scan a QR code", form),
        Some(code) => match invoice_of_qr(code) {
            Some(id) => Redirect::to(&format!("/wallet/pay/{id}")).into_response(),
            None => page(
                StatusCode::BAD_REQUEST,
                "Scan a QR code",
                &format!(r#"<p class="error" id="error">Not a Pocket code: {}</p>{form}"#, escape(code)),
            ),
        },
    }
}

/// `GET /wallet/pay/{id}`: the invoice, with Pay and Decline while it is pending.
async fn pay_screen(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    let invoice = shared.invoice(&id);
    let Some(invoice) = invoice else {
        return page(
            StatusCode::NOT_FOUND,
            "No such invoice",
            r#"<p class="error" id="error">This code names no invoice.</p>"#,
        );
    };
    let order =
        invoice.order_number.as_deref().map(|o| format!("<p>Order <b>{}</b></p>", escape(o))).unwrap_or_default();
    let actions = if invoice.state == InvoiceState::Pending {
        format!(
            r#"<form method="post" action="/wallet/pay/{id}">
              <button id="pay" name="action" value="pay">Төлөх (pay)</button>
              <button id="decline" name="action" value="reject">Татгалзах (decline)</button></form>"#,
            id = invoice.id
        )
    } else {
        String::new()
    };
    let body = format!(
        r#"<div class="card"><p>{merchant}</p><p class="amount" id="amount">{amount}</p><p>{info}</p>{order}
           <p>State: <b id="state">{state}</b></p>{actions}</div>"#,
        merchant = escape(&invoice.client_id),
        amount = invoice.amount,
        info = escape(&invoice.info),
        state = invoice.state.as_str().to_ascii_uppercase(),
    );
    page(StatusCode::OK, &format!("Invoice {}", invoice.id), &body)
}

/// `POST /wallet/pay/{id}`: the wallet's user pays (`action=pay`) or declines it.
async fn settle_screen(State(shared): State<Arc<Shared>>, Path(id): Path<String>, form: Bytes) -> Response {
    let pay = form_urlencoded::parse(&form).any(|(key, value)| key == "action" && value == "pay");
    let Ok(invoice_id) = InvoiceId::new(id.trim()) else {
        return page(StatusCode::NOT_FOUND, "No such invoice", "");
    };
    match settle(&shared, &invoice_id, pay) {
        Ok(invoice) => {
            let state = invoice.state.as_str().to_ascii_uppercase();
            let failure = invoice
                .failure
                .as_deref()
                .map(|reason| format!(r#"<p class="error" id="failure">{}</p>"#, escape(reason)))
                .unwrap_or_default();
            let body = format!(
                r#"<div class="card"><p class="amount">{}</p><p>State: <b id="state">{state}</b></p>{failure}</div>"#,
                invoice.amount
            );
            page(StatusCode::OK, "Done", &body)
        }
        Err(error) => page(
            StatusCode::CONFLICT,
            "Not done",
            &format!(r#"<p class="error" id="error">{}</p>"#, escape(&error.to_string())),
        ),
    }
}
