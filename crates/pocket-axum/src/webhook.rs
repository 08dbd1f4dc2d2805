//! The payment webhook, verified: Pocket's notice is unsigned, so it is only a hint to ask
//! Pocket about the invoice; the merchant's handler runs only for a payment Pocket confirms,
//! once per invoice.

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use async_trait::async_trait;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use pocket_core::{Amount, ErrorKind, InvoiceId, InvoiceStatus, MerchantApi, WebhookNotice};
use serde::Serialize;
use tracing::Instrument;
use utoipa::ToSchema;

use crate::store::{Claim, InMemoryStore, WebhookStore};

/// Webhook bodies larger than this are refused (413).
pub const BODY_LIMIT: usize = 64 * 1024;

/// What a handler's failure carries; it is logged, and Pocket is asked to deliver again.
pub type HandlerError = Box<dyn std::error::Error + Send + Sync>;

/// A payment Pocket confirmed: the notice as it arrived, and the invoice as Pocket's check
/// endpoint reported it — paid, with the amount the notice claimed. Only the webhook router
/// makes one.
#[derive(Debug, Clone)]
pub struct VerifiedPayment {
    notice: WebhookNotice,
    status: InvoiceStatus,
}

impl VerifiedPayment {
    /// The paid invoice.
    pub fn invoice_id(&self) -> &InvoiceId {
        &self.notice.invoice_id
    }

    /// The amount paid, as Pocket's check endpoint reports it (`None` if Pocket did not say).
    pub fn amount(&self) -> Option<Amount> {
        self.status.amount
    }

    /// The invoice as Pocket reported it when asked.
    pub fn status(&self) -> &InvoiceStatus {
        &self.status
    }

    /// The webhook notice as it arrived (its fields are claims; Pocket's are in [`status`](Self::status)).
    pub fn notice(&self) -> &WebhookNotice {
        &self.notice
    }
}

/// The merchant's code that runs for a confirmed payment: mark the order paid, ship, …
///
/// Return `Ok` only once the effect is durable; an `Err` makes the router answer 500, so Pocket
/// delivers again, and a later delivery runs the handler again.
#[async_trait]
pub trait PaymentHandler: Send + Sync + 'static {
    /// Acts on a confirmed payment.
    async fn paid(&self, payment: VerifiedPayment) -> Result<(), HandlerError>;
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// A [`PaymentHandler`] made of an async closure.
pub struct HandlerFn<F>(F);

/// Makes a [`PaymentHandler`] of an async closure:
/// `handler_fn(|payment| async move { … Ok(()) })`.
pub fn handler_fn<F, Fut>(
    f: F,
) -> HandlerFn<impl Fn(VerifiedPayment) -> BoxFuture<Result<(), HandlerError>> + Send + Sync>
where
    F: Fn(VerifiedPayment) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), HandlerError>> + Send + 'static,
{
    HandlerFn(move |payment| Box::pin(f(payment)) as BoxFuture<_>)
}

#[async_trait]
impl<F> PaymentHandler for HandlerFn<F>
where
    F: Fn(VerifiedPayment) -> BoxFuture<Result<(), HandlerError>> + Send + Sync + 'static,
{
    async fn paid(&self, payment: VerifiedPayment) -> Result<(), HandlerError> {
        (self.0)(payment).await
    }
}

/// What the app expects of an invoice's payment, from its own order.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Expected {
    /// The amount the order costs.
    pub amount: Amount,
    /// The note the invoice was created with, if it should be compared too.
    pub info: Option<String>,
}

impl Expected {
    /// The order costs `amount`.
    pub fn amount(amount: Amount) -> Expected {
        Expected { amount, info: None }
    }
}

/// Compares a confirmed payment with the app's own order before the handler runs.
#[async_trait]
pub trait OrderCheck: Send + Sync + 'static {
    /// What the app expects of this invoice, or `None` to rely on Pocket's word alone.
    async fn expected(&self, invoice: &InvoiceId) -> Result<Option<Expected>, HandlerError>;
}

/// The answer's body.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookAnswer {
    /// `processed`, `already_processed`, `malformed`, `rejected`, `in_progress`,
    /// `pocket_unavailable` or `handler_failed`.
    pub status: &'static str,
    /// A sentence for people.
    pub detail: Cow<'static, str>,
}

pub(crate) struct Webhook {
    merchant: Arc<dyn MerchantApi>,
    handler: Arc<dyn PaymentHandler>,
    store: Arc<dyn WebhookStore>,
    order: Option<Arc<dyn OrderCheck>>,
    secret: Option<String>,
    log_personal_data: bool,
}

/// Builds the webhook router.
///
/// ```no_run
/// # fn run(client: pocket_http::PocketClient) {
/// use pocket_axum::{PocketWebhook, handler_fn};
///
/// let webhook = PocketWebhook::new(client, handler_fn(|payment| async move {
///     println!("invoice {} is paid", payment.invoice_id());
///     Ok(())
/// }))
/// .path("/pocket/webhook")
/// .into_router();
/// let app = axum::Router::new().merge(webhook);
/// # let _: axum::Router = app; }
/// ```
#[must_use]
pub struct PocketWebhook {
    webhook: Webhook,
    path: String,
}

/// The webhook router at `/pocket/webhook`, with the in-memory store: [`PocketWebhook`] with
/// its defaults.
pub fn webhook_router(merchant: impl MerchantApi + 'static, handler: impl PaymentHandler) -> Router {
    PocketWebhook::new(merchant, handler).into_router()
}

impl PocketWebhook {
    /// A webhook that asks `merchant` (Pocket's merchant API) about every notice and calls
    /// `handler` for confirmed payments.
    pub fn new(merchant: impl MerchantApi + 'static, handler: impl PaymentHandler) -> PocketWebhook {
        PocketWebhook::shared(Arc::new(merchant), handler)
    }

    /// Like [`new`](Self::new), sharing a merchant API the app already holds.
    pub fn shared(merchant: Arc<dyn MerchantApi>, handler: impl PaymentHandler) -> PocketWebhook {
        PocketWebhook {
            webhook: Webhook {
                merchant,
                handler: Arc::new(handler),
                store: Arc::new(InMemoryStore::default()),
                order: None,
                secret: None,
                log_personal_data: false,
            },
            path: "/pocket/webhook".to_owned(),
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
        self.webhook.secret = Some(secret.into());
        self
    }

    /// Remember processed invoices in `store` (default: [`InMemoryStore::default`]).
    pub fn store(mut self, store: impl WebhookStore) -> Self {
        self.webhook.store = Arc::new(store);
        self
    }

    /// Compare confirmed payments with the app's own orders before the handler runs.
    pub fn order_check(mut self, check: impl OrderCheck) -> Self {
        self.webhook.order = Some(Arc::new(check));
        self
    }

    /// Include the payer's phone number in log lines (off by default: it is personal data).
    pub fn log_personal_data(mut self, enabled: bool) -> Self {
        self.webhook.log_personal_data = enabled;
        self
    }

    /// The router, to merge into the app's.
    pub fn into_router(self) -> Router {
        let path = self.path.trim_end_matches('/').to_owned();
        let webhook = Arc::new(self.webhook);
        let router = if webhook.secret.is_some() {
            Router::new().route(&format!("{path}/{{secret}}"), post(deliver_with_secret))
        } else {
            Router::new().route(&path, post(deliver))
        };
        router.layer(DefaultBodyLimit::max(BODY_LIMIT)).with_state(webhook)
    }
}

fn answer(status: StatusCode, word: &'static str, detail: impl Into<Cow<'static, str>>) -> Response {
    let mut response = (status, axum::Json(WebhookAnswer { status: word, detail: detail.into() })).into_response();
    if status == StatusCode::SERVICE_UNAVAILABLE {
        response.headers_mut().insert(RETRY_AFTER, HeaderValue::from_static("5"));
    }
    response
}

fn same_secret(given: &str, expected: &str) -> bool {
    given.len() == expected.len() && given.bytes().zip(expected.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

async fn deliver_with_secret(State(webhook): State<Arc<Webhook>>, Path(secret): Path<String>, body: Bytes) -> Response {
    match &webhook.secret {
        Some(expected) if same_secret(&secret, expected) => deliver(State(webhook), body).await,
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

/// Receives one delivery.
#[utoipa::path(
    post,
    path = "/pocket/webhook",
    tag = "webhook",
    request_body(content = Object, description = "Pocket's notice: `{id, amount, info, invoiceId, invoiceState, phoneNumber}`, numbers or strings"),
    responses(
        (status = 200, description = "Processed now, or already processed before", body = WebhookAnswer),
        (status = 400, description = "Not a notice: malformed JSON or no usable invoiceId", body = WebhookAnswer),
        (status = 413, description = "Larger than 64 KiB"),
        (status = 422, description = "Pocket does not confirm it: unknown invoice, not paid, or another amount", body = WebhookAnswer),
        (status = 500, description = "The merchant's handler failed; deliver again", body = WebhookAnswer),
        (status = 503, description = "Pocket could not be asked, or another delivery is being processed; deliver again", body = WebhookAnswer),
    )
)]
pub(crate) async fn deliver(State(webhook): State<Arc<Webhook>>, body: Bytes) -> Response {
    let notice: WebhookNotice = match serde_json::from_slice(&body) {
        Ok(notice) => notice,
        Err(error) => {
            tracing::warn!(%error, "a webhook delivery is not a Pocket notice");
            return answer(StatusCode::BAD_REQUEST, "malformed", format!("not a Pocket payment notice: {error}"));
        }
    };
    let span = tracing::info_span!(
        "pocket.webhook",
        invoice_id = %notice.invoice_id,
        phone = tracing::field::Empty,
        outcome = tracing::field::Empty,
    );
    if webhook.log_personal_data
        && let Some(phone) = &notice.phone_number
    {
        span.record("phone", phone.as_str());
    }
    async move {
        let response = webhook.process(notice).await;
        tracing::Span::current().record("outcome", response.status().as_u16());
        tracing::info!(status = response.status().as_u16(), "webhook delivery answered");
        response
    }
    .instrument(span)
    .await
}

impl Webhook {
    async fn process(&self, notice: WebhookNotice) -> Response {
        let id = notice.invoice_id.clone();
        match self.store.claim(&id).await {
            Ok(Claim::Acquired) => {}
            Ok(Claim::Done) => return answer(StatusCode::OK, "already_processed", "this payment was processed before"),
            Ok(Claim::InProgress) => {
                return answer(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "in_progress",
                    "another delivery is processing this payment",
                );
            }
            Err(_) => {
                tracing::error!("the webhook store could not be used");
                return answer(StatusCode::SERVICE_UNAVAILABLE, "store_unavailable", "try again later");
            }
        }
        let response = self.verify_and_handle(notice).await;
        let kept =
            if response.status().is_success() { self.store.complete(&id).await } else { self.store.release(&id).await };
        if let Err(error) = kept {
            tracing::error!(%error, "the webhook store could not record the outcome");
        }
        response
    }

    async fn verify_and_handle(&self, notice: WebhookNotice) -> Response {
        let status = match self.merchant.check_invoice(&notice.invoice_id).await {
            Ok(status) => status,
            Err(error) if error.kind() == ErrorKind::NotFound => {
                tracing::warn!("forged webhook: Pocket does not know the invoice");
                return answer(StatusCode::UNPROCESSABLE_ENTITY, "rejected", "Pocket does not know this invoice");
            }
            Err(error) => {
                tracing::warn!(%error, "Pocket could not be asked about a webhook's invoice");
                return answer(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "pocket_unavailable",
                    "Pocket could not be asked; deliver again",
                );
            }
        };
        if !status.state.is_paid() {
            tracing::warn!(state = %status.state, "forged or early webhook: Pocket says the invoice is not paid");
            return answer(
                StatusCode::UNPROCESSABLE_ENTITY,
                "rejected",
                format!("Pocket says the invoice is {:?}", status.state.as_str()),
            );
        }
        if let (Some(claimed), Some(paid)) = (notice.amount, status.amount)
            && claimed != paid
        {
            tracing::warn!(%claimed, %paid, "forged webhook: the amount differs from Pocket's");
            return answer(StatusCode::UNPROCESSABLE_ENTITY, "rejected", "the amount differs from the invoice's");
        }
        let payment = VerifiedPayment { notice, status };
        if let Some(order) = &self.order {
            match order.expected(payment.invoice_id()).await {
                Ok(Some(expected)) => {
                    let amount_ok = payment.amount() == Some(expected.amount);
                    let info_ok =
                        expected.info.as_deref().is_none_or(|info| payment.status.info.as_deref() == Some(info));
                    if !(amount_ok && info_ok) {
                        tracing::warn!("a confirmed payment does not match the app's order");
                        return answer(
                            StatusCode::UNPROCESSABLE_ENTITY,
                            "rejected",
                            "the payment does not match the order",
                        );
                    }
                }
                Ok(None) => {}
                Err(error) => {
                    tracing::error!(%error, "the order check failed");
                    return answer(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "handler_failed",
                        "the order check failed; deliver again",
                    );
                }
            }
        }
        match self.handler.paid(payment).await {
            Ok(()) => answer(StatusCode::OK, "processed", "the payment was processed"),
            Err(error) => {
                tracing::error!(%error, "the payment handler failed");
                answer(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "handler_failed",
                    "the merchant could not process it; deliver again",
                )
            }
        }
    }
}
