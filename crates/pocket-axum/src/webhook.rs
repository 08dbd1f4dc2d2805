//! The payment webhook's HTTP face over pocket-payments: the route, the body limit, the secret
//! path segment, the answer's status and body, and one tracing span per delivery. What makes a
//! notice trustworthy — and what runs once — is pocket-payments'.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::header::{self, RETRY_AFTER};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use pocket_core::{MerchantApi, WebhookNotice};
use pocket_payments::{OrderCheck, Outcome, PaymentHandler, PaymentStore, Payments, PaymentsBuilder};
use serde::Serialize;
use tracing::Instrument;

/// Webhook bodies larger than this are refused (413).
pub const BODY_LIMIT: usize = 64 * 1024;

/// How long a webhook body may take to arrive by default; past it the delivery is answered 408.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(10);

/// The answer's body.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookAnswer {
    /// `handled`, `already_handled`, `not_paid`, `malformed`, `too_large`, `body_timeout`,
    /// `refused`, `not_final`, `amount_unconfirmed`, `not_yet_known`, `in_progress`,
    /// `pocket_unavailable`, `store_unavailable`,
    /// `overloaded` or `handler_failed`.
    pub status: &'static str,
    /// A sentence for people.
    pub detail: Cow<'static, str>,
}

pub(crate) struct Route {
    payments: Payments,
    secret: Option<String>,
    log_personal_data: bool,
    body_timeout: Duration,
}

/// Builds the webhook router over a [`Payments`] pipeline.
///
/// ```no_run
/// # fn run(client: pocket_http::PocketClient) {
/// use pocket_axum::{PocketWebhook, handler_fn};
/// use pocket_payments::ProcessedState;
///
/// let (webhook, payments) = PocketWebhook::new(client, handler_fn(|payment| async move {
///     println!("invoice {} is paid", payment.invoice_id());
///     Ok(())
/// }))
/// .path("/pocket/webhook")
/// .configure(|pipeline| pipeline.processed(ProcessedState::NotFinal))
/// .into_router_with_payments();
/// let app = axum::Router::new().merge(webhook);
/// // After creating an invoice: payments.reconciler().watch(invoice.id, None);
/// # let _: axum::Router = app; let _ = payments; }
/// ```
#[must_use]
pub struct PocketWebhook {
    pipeline: PaymentsBuilder,
    path: String,
    secret: Option<String>,
    log_personal_data: bool,
    body_timeout: Duration,
}

/// The webhook router at `/pocket/webhook`, with the in-memory store: [`PocketWebhook`] with
/// its defaults.
pub fn webhook_router(merchant: impl MerchantApi + 'static, handler: impl PaymentHandler) -> Router {
    PocketWebhook::new(merchant, handler).into_router()
}

impl PocketWebhook {
    /// A webhook that asks `merchant` (Pocket's merchant API) about every notice and calls
    /// `handler` for confirmed payments. An app that shares them elsewhere passes its `Arc`s
    /// (`Arc<dyn MerchantApi>`, say): both traits are implemented for them.
    pub fn new(merchant: impl MerchantApi + 'static, handler: impl PaymentHandler) -> PocketWebhook {
        PocketWebhook::around(Payments::builder(merchant, handler))
    }

    /// A webhook whose handler runs inside the PostgreSQL transaction that records the payment,
    /// in `store`'s database: the handler's writes and "this payment is done" commit together
    /// (see [`TransactionalHandler`](pocket_payments::TransactionalHandler)).
    #[cfg(feature = "postgres")]
    pub fn transactional(
        merchant: impl MerchantApi + 'static,
        store: pocket_payments::PgStore,
        handler: impl pocket_payments::TransactionalHandler,
    ) -> PocketWebhook {
        PocketWebhook::around(Payments::transactional(merchant, store, handler))
    }

    /// A webhook over a pipeline the app configured itself.
    pub fn around(pipeline: PaymentsBuilder) -> PocketWebhook {
        PocketWebhook {
            pipeline,
            path: "/pocket/webhook".to_owned(),
            secret: None,
            log_personal_data: false,
            body_timeout: BODY_TIMEOUT,
        }
    }

    /// A webhook checking invoices with a pocket-http client.
    #[cfg(feature = "http")]
    pub fn for_client(client: pocket_http::PocketClient, handler: impl PaymentHandler) -> PocketWebhook {
        PocketWebhook::new(client, handler)
    }

    /// Where Pocket posts (default `/pocket/webhook`).
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    /// Expect this secret as one more path segment (`/pocket/webhook/{secret}`), compared in
    /// constant time; register the full URL with Pocket. Wrong or missing secrets get 404.
    pub fn secret_path_segment(mut self, secret: impl Into<String>) -> Self {
        self.secret = Some(secret.into());
        self
    }

    /// Keep claims and processed payments in `store` (default: pocket-payments' in-memory store,
    /// one process only).
    pub fn store(mut self, store: impl PaymentStore) -> Self {
        self.pipeline = self.pipeline.store(store);
        self
    }

    /// Compare confirmed payments with the app's own orders before the handler runs.
    pub fn order_check(mut self, check: impl OrderCheck) -> Self {
        self.pipeline = self.pipeline.order_check(check);
        self
    }

    /// Any other setting of the pipeline (states, amounts, limits, the reconciler's schedule).
    pub fn configure(mut self, configure: impl FnOnce(PaymentsBuilder) -> PaymentsBuilder) -> Self {
        self.pipeline = configure(self.pipeline);
        self
    }

    /// Include the payer's phone number in log lines (off by default: it is personal data).
    pub fn log_personal_data(mut self, enabled: bool) -> Self {
        self.log_personal_data = enabled;
        self
    }

    /// How long a delivery's body may take to arrive (default [`BODY_TIMEOUT`], 10 s); a body
    /// still incomplete then is answered 408 and its connection's request ends. This bounds the
    /// body only: set the server's header timeout too (see docs/security.md).
    pub fn body_timeout(mut self, timeout: Duration) -> Self {
        self.body_timeout = timeout;
        self
    }

    /// The router, to merge into the app's.
    pub fn into_router(self) -> Router {
        self.into_router_with_payments().0
    }

    /// The router, and the pipeline behind it — whose [`reconciler`](Payments::reconciler) should
    /// watch every invoice the app creates.
    pub fn into_router_with_payments(self) -> (Router, Payments) {
        let path = self.path.trim_end_matches('/').to_owned();
        let payments = self.pipeline.build();
        let route = Arc::new(Route {
            payments: payments.clone(),
            secret: self.secret,
            log_personal_data: self.log_personal_data,
            body_timeout: self.body_timeout,
        });
        let router = if route.secret.is_some() {
            Router::new().route(&format!("{path}/{{secret}}"), post(deliver_with_secret))
        } else {
            Router::new().route(&path, post(deliver))
        };
        (router.with_state(route), payments)
    }
}

fn answer(status: StatusCode, word: &'static str, detail: impl Into<Cow<'static, str>>) -> Response {
    (status, axum::Json(WebhookAnswer { status: word, detail: detail.into() })).into_response()
}

/// The answer to a payment processed now, the same every time: written once.
fn processed_answer() -> Response {
    static BODY: std::sync::LazyLock<Bytes> = std::sync::LazyLock::new(|| {
        let outcome = Outcome::Handled;
        let answer = WebhookAnswer { status: outcome.word(), detail: outcome.to_string().into() };
        Bytes::from(serde_json::to_vec(&answer).unwrap_or_default())
    });
    let mut response = Response::new(Body::from(BODY.clone()));
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

fn respond(payments: &Payments, outcome: &Outcome) -> Response {
    if *outcome == Outcome::Handled {
        return processed_answer();
    }
    let status = StatusCode::from_u16(outcome.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = answer(status, outcome.word(), outcome.to_string());
    if let Some(wait) = payments.retry_after(outcome) {
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        response.headers_mut().insert(RETRY_AFTER, HeaderValue::from(seconds.max(1)));
    }
    response
}

/// The whole body, at most [`BODY_LIMIT`] bytes, within `timeout` — or the answer to give.
async fn read_body(body: Body, timeout: Duration) -> Result<Bytes, Response> {
    match tokio::time::timeout(timeout, axum::body::to_bytes(body, BODY_LIMIT)).await {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(error)) => {
            let too_large =
                std::error::Error::source(&error).is_some_and(|source| source.is::<http_body_util::LengthLimitError>());
            if too_large {
                Err(answer(StatusCode::PAYLOAD_TOO_LARGE, "too_large", "a Pocket notice is at most 64 KiB"))
            } else {
                tracing::warn!(%error, "a webhook body could not be read");
                Err(answer(StatusCode::BAD_REQUEST, "malformed", "the body could not be read"))
            }
        }
        Err(_) => {
            tracing::warn!(?timeout, "a webhook body did not arrive in time");
            Err(answer(StatusCode::REQUEST_TIMEOUT, "body_timeout", "the body did not arrive in time"))
        }
    }
}

fn same_secret(given: &str, expected: &str) -> bool {
    bool::from(subtle::ConstantTimeEq::ct_eq(given.as_bytes(), expected.as_bytes()))
}

async fn deliver_with_secret(State(route): State<Arc<Route>>, Path(secret): Path<String>, body: Body) -> Response {
    match &route.secret {
        Some(expected) if same_secret(&secret, expected) => deliver(State(route), body).await,
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

/// Receives one delivery.
#[cfg_attr(feature = "openapi", utoipa::path(
    post,
    path = "/pocket/webhook",
    tag = "webhook",
    request_body(content = crate::notice_schema::Notice, description = "Pocket's notice: `{id, amount, info, invoiceId, invoiceState, phoneNumber}` (and `heldId`, `orderNumber` for gateway invoices), numbers or strings, states as text or integer codes"),
    responses(
        (status = 200, description = "Handled now or before (`handled`, `already_handled`), or Pocket says the invoice will not be paid (`not_paid`)", body = WebhookAnswer),
        (status = 400, description = "Not a notice: malformed JSON or no usable invoiceId", body = WebhookAnswer),
        (status = 408, description = "The body did not arrive within the body timeout (10 s by default)"),
        (status = 413, description = "Larger than 64 KiB"),
        (status = 422, description = "Pocket's word does not confirm it: unknown invoice, another invoice, another amount, not the app's order", body = WebhookAnswer),
        (status = 500, description = "The merchant's handler failed, panicked or timed out; deliver again", body = WebhookAnswer),
        (status = 503, description = "Not final yet, amount unconfirmed, in progress, Pocket or the store unavailable, or too many notices; deliver again after Retry-After", body = WebhookAnswer),
    )
))]
pub(crate) async fn deliver(State(route): State<Arc<Route>>, body: Body) -> Response {
    let body = match read_body(body, route.body_timeout).await {
        Ok(body) => body,
        Err(response) => return response,
    };
    let notice: WebhookNotice = match serde_json::from_slice(&body) {
        Ok(notice) => notice,
        Err(error) => {
            tracing::warn!(%error, "a webhook delivery is not a Pocket notice");
            return answer(StatusCode::BAD_REQUEST, "malformed", format!("not a Pocket payment notice: {error}"));
        }
    };
    if !notice.unreadable.is_empty() {
        // A hint with odd fields still names the invoice; only Pocket's answer counts anyway.
        tracing::warn!(fields = ?notice.unreadable, "a notice's fields could not be read; ignored");
    }
    let span = tracing::info_span!(
        "pocket.webhook",
        invoice_id = %notice.invoice_id,
        phone = tracing::field::Empty,
        outcome = tracing::field::Empty,
    );
    if route.log_personal_data
        && let Some(phone) = &notice.phone_number
    {
        span.record("phone", phone.as_str());
    }
    async move {
        let outcome = route.payments.receive(notice).await;
        let response = respond(&route.payments, &outcome);
        tracing::Span::current().record("outcome", response.status().as_u16());
        tracing::info!(status = response.status().as_u16(), outcome = outcome.word(), "webhook delivery answered");
        response
    }
    .instrument(span)
    .await
}
