//! `PocketClient`: the merchant's client for Pocket, and how to build one.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use pocket_core::{
    Credentials, Environment, Error, ErrorKind, MerchantToken, NewGatewayInvoice, NewInvoice, NewMerchantInvoice,
};
use reqwest::Method;
use tracing::Instrument;

use crate::RetryPolicy;
use crate::retry::send_with_retries;
use crate::settings::{ClientAuth, Settings};
use crate::telemetry::operation_label;
use crate::token::{Lookup, TokenManager};
use crate::transport::{Outcome, error_for, is_transient, operation_at};

/// Pocket's merchant API for one merchant client: invoices, the webhook address, token
/// introspection — with the merchant token fetched, cached and renewed behind the scenes.
///
/// Cheap to clone; clones share the token and the connection pool. Build one per merchant
/// client and keep it for the life of the program.
///
/// ```no_run
/// # async fn run() -> Result<(), pocket_core::Error> {
/// use pocket_core::{Credentials, Environment, MerchantApi};
/// use pocket_http::PocketClient;
///
/// let client = PocketClient::builder(Environment::Staging, Credentials::new("my-shop", "s3cr3t")).build()?;
/// client.ensure_webhook_url("https://shop.example.mn/pocket/webhook").await?;
/// let status = client.check_invoice(&"10001".parse()?).await?;
/// println!("{}", status.state);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct PocketClient {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) settings: Settings,
    pub(crate) tokens: TokenManager,
}

/// Whether a call may be repeated, and what a failure after sending means.
#[derive(Clone, Copy)]
pub(crate) enum Repeat<'a> {
    /// Repeating cannot do harm: retried on transient failures.
    Safe,
    /// Creating an invoice: repeated only if the request never left; a failure after it may
    /// have reached Pocket is ambiguous.
    Create(Creation<'a>),
}

/// An invoice being created, through either API.
#[derive(Clone, Copy)]
pub(crate) enum Creation<'a> {
    /// A mini-app invoice (`consumer/invoice`).
    Invoice(&'a NewInvoice),
    /// A gateway invoice (`v2/invoicing/generate-invoice`).
    Gateway(&'a NewGatewayInvoice),
    /// A merchant QR invoice (`invoice`).
    Merchant(&'a NewMerchantInvoice),
}

impl Creation<'_> {
    /// The request's JSON body.
    pub(crate) fn body(self) -> serde_json::Result<Vec<u8>> {
        match self {
            Creation::Invoice(invoice) => serde_json::to_vec(invoice),
            Creation::Gateway(invoice) => serde_json::to_vec(invoice),
            Creation::Merchant(invoice) => serde_json::to_vec(invoice),
        }
    }

    /// The ambiguous error for this creation, `cause` being what went wrong, with what to do.
    pub(crate) fn ambiguous(self, cause: impl std::fmt::Display) -> Error {
        match self {
            Creation::Invoice(invoice) => Error::ambiguous(
                invoice.into(),
                format!("{cause}; the invoice may or may not have been created — check before creating it again"),
            ),
            Creation::Merchant(invoice) => Error::ambiguous(
                invoice.into(),
                format!(
                    "{cause}; the QR invoice may or may not have been created — an unscanned one is harmless, but \
                     do not show two codes for one sale"
                ),
            ),
            Creation::Gateway(invoice) => Error::ambiguous(
                invoice.into(),
                format!(
                    "{cause}; the invoice may or may not have been generated — look it up by its order number \
                     {} on terminal {} (PocketClient::recover_invoice) before generating it again",
                    invoice.order_number(),
                    invoice.terminal_id()
                ),
            ),
        }
    }
}

/// Builds a [`PocketClient`].
#[must_use]
pub struct PocketClientBuilder {
    environment: Environment,
    credentials: Credentials,
    timeout: Duration,
    connect_timeout: Duration,
    retry: RetryPolicy,
    renew_before: Duration,
    user_agent: String,
    http: Option<reqwest::Client>,
    client_auth: ClientAuth,
}

impl fmt::Debug for PocketClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PocketClientBuilder")
            .field("environment", &self.environment)
            .field("credentials", &self.credentials)
            .field("timeout", &self.timeout)
            .field("retry", &self.retry)
            .field("renew_before", &self.renew_before)
            .field("client_auth", &self.client_auth)
            .finish_non_exhaustive()
    }
}

impl PocketClientBuilder {
    /// How long one attempt of a call may take, answer included (default 10 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How long connecting may take (default 5 s). Ignored with [`http_client`](Self::http_client).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How idempotent calls are retried (default: [`RetryPolicy::default`]).
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Renew the merchant token when less than this is left of its life (default 30 s; never
    /// earlier than half-way through its life).
    pub fn renew_before(mut self, margin: Duration) -> Self {
        self.renew_before = margin;
        self
    }

    /// The `User-Agent` sent with every request (default `pocket-rs/<version>`).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// Use this reqwest client (its proxy, TLS and pool settings) instead of building one. The
    /// per-call timeout still applies.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// How the client authenticates to the realm — token endpoint and introspection (default
    /// [`ClientAuth::Post`], as Pocket documents it; [`ClientAuth::Basic`] for realms that
    /// require `client_secret_basic`).
    pub fn client_auth(mut self, auth: ClientAuth) -> Self {
        self.client_auth = auth;
        self
    }

    /// Builds the client. Nothing is sent yet: the first call fetches the token.
    pub fn build(self) -> Result<PocketClient, Error> {
        let http = match self.http {
            Some(http) => http,
            None => reqwest::Client::builder().connect_timeout(self.connect_timeout).build().map_err(|e| {
                Error::new(ErrorKind::Configuration, format!("the HTTP client could not be built: {e}")).with_source(e)
            })?,
        };
        let user_agent = reqwest::header::HeaderValue::from_str(&self.user_agent).map_err(|_| {
            Error::from(pocket_core::ValidationError::Invalid {
                field: "user_agent",
                reason: "a User-Agent must be visible ASCII".to_owned(),
            })
        })?;
        let settings = Settings {
            environment: self.environment,
            credentials: self.credentials,
            http,
            timeout: self.timeout,
            retry: self.retry,
            user_agent,
            client_auth: self.client_auth,
        };
        Ok(PocketClient { inner: Arc::new(Inner { settings, tokens: TokenManager::new(self.renew_before) }) })
    }
}

impl PocketClient {
    /// A builder for a client of `environment` (by value or by reference), authenticating as
    /// `credentials`.
    pub fn builder(environment: impl Into<Environment>, credentials: Credentials) -> PocketClientBuilder {
        PocketClientBuilder {
            environment: environment.into(),
            credentials,
            timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(5),
            retry: RetryPolicy::default(),
            renew_before: Duration::from_secs(30),
            user_agent: concat!("pocket-rs/", env!("CARGO_PKG_VERSION")).to_owned(),
            http: None,
            client_auth: ClientAuth::Post,
        }
    }

    /// The environment this client talks to.
    pub fn environment(&self) -> &Environment {
        &self.inner.settings.environment
    }

    /// When the cached merchant token expires; `None` before the first call. (The token itself
    /// is never exposed.)
    pub fn token_expires_at(&self) -> Option<SystemTime> {
        self.inner.tokens.expires_at()
    }

    /// Makes sure a merchant token is cached (fetching one if needed) — for a health check at
    /// start-up, so bad credentials are found before the first customer is.
    pub async fn warm_up(&self) -> Result<(), Error> {
        self.inner.tokens.token(&self.inner.settings).await.map(drop)
    }

    /// Calls the merchant API with the merchant token; when the API rejects the token, renews it
    /// and replays the call once. Returns the body of a 2xx answer.
    pub(crate) async fn call(
        &self,
        operation: &'static str,
        method: Method,
        url: &str,
        json: Option<Vec<u8>>,
        repeat: Repeat<'_>,
    ) -> Result<Vec<u8>, Error> {
        let settings = &self.inner.settings;
        let started = std::time::Instant::now();
        let send = |token: &MerchantToken| {
            let mut request = settings.request(method.clone(), url).bearer_auth(token.expose_secret());
            if let Some(json) = &json {
                request = request.header(reqwest::header::CONTENT_TYPE, "application/json").body(json.clone());
            }
            request
        };
        let repeatable: fn(&Outcome) -> bool = match repeat {
            Repeat::Safe => is_transient,
            Repeat::Create(_) => |outcome| matches!(outcome, Outcome::NotSent(_)),
        };
        let label = operation_label(operation);
        let mut token = self.token().await?;
        let mut outcome = send_with_retries(&settings.retry, label, repeatable, || send(&token)).await;
        if matches!(outcome, Outcome::Answered { status: 401, .. }) {
            tracing::debug!("the merchant API rejected the token; renewing it and replaying once");
            token = self.inner.tokens.replace(settings, &token).await?;
            outcome = send_with_retries(&settings.retry, label, repeatable, || send(&token)).await;
        }
        tracing::Span::current().record("latency_ms", started.elapsed().as_millis() as u64);
        match (&outcome, repeat) {
            (Outcome::Answered { status: 200..=299, body, .. }, _) => Ok(body.clone()),
            (outcome, Repeat::Create(creation)) if may_have_arrived(outcome) => {
                let cause = error_for(&operation_at(operation, url), outcome);
                tracing::warn!(error = %cause, "creating an invoice failed after the request may have reached Pocket");
                let ambiguous = creation.ambiguous(&cause);
                // Keep what was seen: the status Pocket answered with, if it answered at all.
                Err(match cause.status() {
                    Some(status) => ambiguous.with_status(status),
                    None => ambiguous,
                })
            }
            (outcome, _) => Err(error_for(&operation_at(operation, url), outcome)),
        }
    }

    /// A token for a call: the cached one when it is valid (renewing it in the background when it
    /// is due), or — only when there is no valid token — the one all waiting callers share.
    async fn token(&self) -> Result<MerchantToken, Error> {
        match self.inner.tokens.lookup() {
            Lookup::Fresh(token) => Ok(token),
            Lookup::Renewable(token) => {
                if self.inner.tokens.start_background_renewal() {
                    let client = self.clone();
                    tokio::spawn(
                        async move { client.inner.tokens.renew_in_background(&client.inner.settings).await }
                            .in_current_span(),
                    );
                }
                Ok(token)
            }
            Lookup::Missing => self.inner.tokens.token(&self.inner.settings).await,
        }
    }

    /// Runs `call` inside one span per operation: operation, invoice id, attempt, status, latency.
    pub(crate) async fn traced<T>(
        &self,
        operation: &'static str,
        invoice_id: Option<&str>,
        call: impl Future<Output = Result<T, Error>>,
    ) -> Result<T, Error> {
        let span = tracing::info_span!(
            "pocket",
            operation,
            invoice_id = invoice_id.unwrap_or_default(),
            attempt = tracing::field::Empty,
            status = tracing::field::Empty,
            latency_ms = tracing::field::Empty,
        );
        async move {
            let result = call.await;
            match &result {
                Ok(_) => tracing::debug!("done"),
                Err(error) => tracing::debug!(kind = ?error.kind(), "failed"),
            }
            result
        }
        .instrument(span)
        .await
    }
}

/// Whether a failed create request may have been processed by Pocket. A connection that was
/// never made, a rate limit, an unavailable service and every 4xx are definite refusals; a
/// timeout, a broken connection, a 500 or a gateway error (502, 504) are not.
fn may_have_arrived(outcome: &Outcome) -> bool {
    match outcome {
        Outcome::NotSent(_) => false,
        Outcome::TimedOut | Outcome::Broken(_) => true,
        Outcome::Answered { status, .. } => matches!(status, 500 | 502 | 504),
    }
}

impl fmt::Debug for PocketClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PocketClient")
            .field("environment", &self.inner.settings.environment)
            .field("client_id", &self.inner.settings.credentials.client_id())
            .field("token_expires_at", &self.token_expires_at())
            .finish_non_exhaustive()
    }
}
