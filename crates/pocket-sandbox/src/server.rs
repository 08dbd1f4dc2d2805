//! The running sandbox: the router, and the handle tests and programs hold.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{MethodRouter, get, post, put};
use pocket_core::{Credentials, Environment, InvoiceId};
use serde_json::{Map, Value};
use tokio::sync::watch;

use crate::consumer::{ConsumerTokens, mint};
use crate::delivery::send_forged;
use crate::faults::{Endpoint, Fault, inject};
use crate::reply::BODY_LIMIT;
use crate::state::{SandboxInvoice, Shared};
use crate::webhook::{Delivery, Forgery, WebhookBehaviour};
use crate::{
    SandboxConfig, SandboxError, TestClient, TestSignature, TestUser, control, gateway, merchant, openapi, payments,
    signing, sso, wallet, webview,
};

/// A running sandbox on 127.0.0.1. Dropping it stops the server.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use pocket_sandbox::{Sandbox, TestUser};
///
/// let sandbox = Sandbox::start().await?;
/// let environment = sandbox.environment(); // point pocket-http / pocket-jwt here
/// let credentials = sandbox.credentials();
/// let user_token = sandbox.mint_consumer_token(&TestUser::default())?;
/// // … create an invoice with your client, then:
/// // sandbox.pay(&invoice.id)?;
/// // let deliveries = sandbox.wait_for_deliveries(1, std::time::Duration::from_secs(5)).await;
/// sandbox.shutdown().await;
/// # Ok(()) }
/// ```
pub struct Sandbox {
    shared: Arc<Shared>,
    address: SocketAddr,
    stop: Option<watch::Sender<bool>>,
    servers: Vec<tokio::task::JoinHandle<()>>,
}

impl Sandbox {
    /// Starts a sandbox with the default settings on a free port of 127.0.0.1.
    pub async fn start() -> Result<Sandbox, SandboxError> {
        SandboxConfig::default().start().await
    }

    /// Settings for a sandbox, ending in [`start`](SandboxConfig::start) (the same as
    /// `SandboxConfig::default()`).
    pub fn builder() -> SandboxConfig {
        SandboxConfig::default()
    }

    pub(crate) async fn start_with(config: SandboxConfig) -> Result<Sandbox, SandboxError> {
        let bind = |port| tokio::net::TcpListener::bind(("127.0.0.1", port));
        let listener = bind(config.port).await.map_err(SandboxError::Bind)?;
        let webview = bind(config.webview_port).await.map_err(SandboxError::Bind)?;
        let address = listener.local_addr().map_err(SandboxError::Bind)?;
        let webview_address = webview.local_addr().map_err(SandboxError::Bind)?;
        let shared = Arc::new(Shared::new(config, format!("http://{address}"), format!("http://{webview_address}"))?);
        let (stop, stopped) = watch::channel(false);
        let servers = vec![
            serve(listener, router(shared.clone()), stopped.clone()),
            serve(webview, webview::router(shared.clone()).layer(DefaultBodyLimit::max(BODY_LIMIT)), stopped),
        ];
        Ok(Sandbox { shared, address, stop: Some(stop), servers })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> &str {
        self.shared.base_url()
    }

    /// The socket address the sandbox listens on.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The environment clients use to reach this sandbox.
    pub fn environment(&self) -> Environment {
        let base = self.base_url();
        match Environment::custom().sso_base(base).api_base(format!("{base}/merchant")).build() {
            Ok(environment) => environment,
            Err(error) => unreachable!("the sandbox's own address is a valid environment: {error}"),
        }
    }

    /// The realm URL: the issuer of every token the sandbox signs.
    pub fn realm_url(&self) -> String {
        self.shared.issuer()
    }

    /// The credentials of the first merchant client.
    pub fn credentials(&self) -> Credentials {
        self.clients()[0].credentials()
    }

    /// Every merchant client the sandbox knows.
    pub fn clients(&self) -> &[TestClient] {
        &self.shared.config().clients
    }

    /// Where the wallet's web view shows the mini-app (with the wallet bridge in every page).
    pub fn webview_url(&self) -> &str {
        self.shared.webview_url()
    }

    /// The wallet simulator's home page.
    pub fn wallet_url(&self) -> String {
        format!("{}/wallet", self.base_url())
    }

    /// What a person needs to use this sandbox, one `label  value` line each: the environment
    /// (as `POCKET_ENV=custom sso=… api=…`), realm, first client's credentials, wallet, web view,
    /// OpenAPI and control API. Both `pocket-sandbox` and `pocket sandbox` print it.
    pub fn summary(&self) -> String {
        let base = self.base_url();
        let client = &self.clients()[0];
        [
            format!("  environment   POCKET_ENV=custom  sso={base}  api={base}/merchant"),
            format!("  realm (iss)   {}", self.realm_url()),
            format!("  client id     {}", client.client_id),
            format!("  client secret {}   (a sandbox-only test secret)", client.client_secret),
            format!("  wallet        {}", self.wallet_url()),
            format!(
                "  mini-app      {}/   (the wallet's web view; set the mini-app with --mini-app)",
                self.webview_url()
            ),
            format!("  OpenAPI       {base}/openapi.json"),
            format!("  control API   {base}/_sandbox/invoices, …/deliveries, …/faults/{{endpoint}}"),
        ]
        .join("\n")
    }

    /// The OpenAPI document of the Pocket API as the sandbox models it.
    pub fn openapi_json(&self) -> String {
        openapi::document()
    }

    /// Mints the tokens the wallet hands a mini-app after `user` consents, issued to the first
    /// merchant client's mini-app, valid for the configured token lifetime.
    pub fn mint_consumer_token(&self, user: &TestUser) -> Result<ConsumerTokens, SandboxError> {
        self.mint_consumer_token_with(user, self.shared.config().token_lifetime, Map::new())
    }

    /// Like [`mint_consumer_token`](Self::mint_consumer_token), living `lifetime`, with `overrides`
    /// merged into the claims (a `null` removes a claim). The token is registered: the sandbox
    /// accepts it wherever a consumer token is expected, while it is unexpired.
    pub fn mint_consumer_token_with(
        &self,
        user: &TestUser,
        lifetime: Duration,
        overrides: Map<String, Value>,
    ) -> Result<ConsumerTokens, SandboxError> {
        mint(&self.shared, user, lifetime, overrides)
    }

    /// Issues the first merchant client's own access token (a client-credentials grant, as the
    /// token endpoint would): a service account's token, registered like any other — for tests
    /// that a merchant's token is never taken for a wallet user's.
    pub fn mint_merchant_token(&self) -> Result<String, SandboxError> {
        let client = &self.shared.config().clients[0];
        Ok(crate::sso::issue(&self.shared, client, crate::tokens::random_id())?.access_token)
    }

    /// Signs any header and claims with the realm's current key (RS256), without registering
    /// the token — for verifier tests that need hand-made tokens.
    pub fn sign_token(&self, header: &Value, claims: &Value) -> Result<String, SandboxError> {
        self.shared.keys().current().sign(header, claims)
    }

    /// Signs any header and payload bytes (not necessarily JSON, not necessarily UTF-8) as
    /// `how` says — for verifier tests that need tokens the realm would never issue. Not registered.
    pub fn sign_token_with(&self, how: TestSignature, header: &[u8], payload: &[u8]) -> Result<String, SandboxError> {
        let key = self.shared.keys().current();
        signing::sign(&key, how, header, payload)
    }

    /// The kid of the current signing key.
    pub fn signing_kid(&self) -> String {
        self.shared.keys().current().kid().to_owned()
    }

    /// The kid of the JWKS's encryption (`use: enc`) entry.
    pub fn encryption_kid(&self) -> String {
        self.shared.keys().enc_kid().to_owned()
    }

    /// The current signing key's public half as PEM (`-----BEGIN PUBLIC KEY-----`).
    pub fn public_key_pem(&self) -> Result<String, SandboxError> {
        self.shared.keys().current().public_pem()
    }

    /// Rotates the signing key; the old one stays published for the grace period.
    pub fn rotate_keys(&self) -> Result<(), SandboxError> {
        self.shared.keys().rotate(SystemTime::now(), self.shared.config().key_grace_period)
    }

    /// The wallet user pays the invoice: it becomes paid and its webhook is sent.
    pub fn pay(&self, id: &InvoiceId) -> Result<SandboxInvoice, SandboxError> {
        payments::settle(&self.shared, id, true)
    }

    /// The wallet user rejects the invoice.
    pub fn reject(&self, id: &InvoiceId) -> Result<SandboxInvoice, SandboxError> {
        payments::settle(&self.shared, id, false)
    }

    /// One invoice, as the sandbox holds it.
    pub fn invoice(&self, id: &InvoiceId) -> Option<SandboxInvoice> {
        let number: u64 = id.as_str().parse().ok()?;
        self.shared.invoices().get(&number).cloned()
    }

    /// Every invoice, oldest first.
    pub fn invoices(&self) -> Vec<SandboxInvoice> {
        self.shared.invoices().values().cloned().collect()
    }

    /// The webhook delivery log: every attempt so far.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.shared.webhooks().log()
    }

    /// Waits until the log holds at least `count` attempts or `timeout` passes; returns the log.
    pub async fn wait_for_deliveries(&self, count: usize, timeout: Duration) -> Vec<Delivery> {
        self.shared.webhooks().wait_for(count, timeout).await
    }

    /// Changes how webhooks are sent from now on.
    pub fn set_webhook_behaviour(&self, behaviour: WebhookBehaviour) {
        self.shared.webhooks().set_behaviour(behaviour);
    }

    /// Sets the first merchant's webhook address, as `POST /merchant/pg/config` would.
    pub fn set_webhook_url(&self, url: &str) {
        let client_id = self.clients()[0].client_id.clone();
        self.shared.webhook_urls().insert(client_id, url.to_owned());
    }

    /// Sends a forged notice to the first merchant's webhook address now.
    pub async fn send_forged_webhook(&self, forgery: Forgery) -> Result<Delivery, SandboxError> {
        send_forged(&self.shared, forgery, &self.clients()[0].client_id).await.map_err(SandboxError::Forgery)
    }

    /// Sets the fault of one endpoint (replacing any earlier one).
    pub fn set_fault(&self, endpoint: Endpoint, fault: Fault) {
        self.shared.faults().set(endpoint, fault);
    }

    /// Removes every fault.
    pub fn clear_faults(&self) {
        self.shared.faults().clear(None);
    }

    /// Makes the JWKS endpoint fail with 503 (`true`) or work again (`false`).
    pub fn set_jwks_outage(&self, down: bool) {
        match down {
            true => self.set_fault(Endpoint::Certs, Fault::outage()),
            false => self.shared.faults().clear(Some(Endpoint::Certs)),
        }
    }

    /// How many requests `endpoint` has received, faulted ones included.
    pub fn requests(&self, endpoint: Endpoint) -> u64 {
        self.shared.faults().requests(endpoint)
    }

    /// The `grant_type` of every authenticated token request so far, in order — refused ones too.
    pub fn token_grants(&self) -> Vec<String> {
        self.shared.grants().clone()
    }

    /// Revokes every merchant access and refresh token issued so far; returns how many.
    pub fn revoke_merchant_tokens(&self) -> usize {
        self.shared.tokens().revoke_merchant_tokens(None)
    }

    /// Revokes one token of any kind; returns whether the sandbox had issued it.
    pub fn revoke_token(&self, token: &str) -> bool {
        self.shared.tokens().revoke(token)
    }

    /// The mini-app the wallet's web view shows.
    pub fn set_mini_app_url(&self, url: &str) {
        *self.shared.mini_app_url() = Some(url.trim_end_matches('/').to_owned());
    }

    /// Stops the server and waits for it to finish.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(true);
        }
        for server in std::mem::take(&mut self.servers) {
            let _ = server.await;
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(true);
        }
        for server in &self.servers {
            server.abort();
        }
    }
}

/// Serves `app` until `stop` turns true.
fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    mut stop: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let serving = axum::serve(listener, app).with_graceful_shutdown(async move {
            let _ = stop.wait_for(|stopped| *stopped).await;
        });
        if let Err(error) = serving.await {
            tracing::error!(%error, "a sandbox server stopped");
        }
    })
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox").field("base_url", &self.base_url()).finish_non_exhaustive()
    }
}

/// A route of a Pocket endpoint: faults are injected in front of its handler.
fn faulty(shared: &Arc<Shared>, endpoint: Endpoint, route: MethodRouter<Arc<Shared>>) -> MethodRouter<Arc<Shared>> {
    route.layer(axum::middleware::from_fn_with_state((shared.faults().clone(), endpoint), inject))
}

fn router(shared: Arc<Shared>) -> Router {
    let realm = sso::REALM_PATH;
    let oidc = format!("{realm}/protocol/openid-connect");
    let s = &shared;
    Router::new()
        .route(&format!("{oidc}/token"), faulty(s, Endpoint::Token, post(sso::token)))
        .route(&format!("{oidc}/token/introspect"), faulty(s, Endpoint::Introspect, post(sso::introspect)))
        .route(&format!("{oidc}/certs"), faulty(s, Endpoint::Certs, get(sso::certs)))
        .route(
            &format!("{realm}/.well-known/openid-configuration"),
            faulty(s, Endpoint::Discovery, get(sso::discovery)),
        )
        .route(
            "/merchant/consumer/invoice",
            faulty(s, Endpoint::CreateInvoice, post(merchant::creation::create_invoice)),
        )
        .route("/merchant/invoice", faulty(s, Endpoint::CreateQrInvoice, post(merchant::creation::create_qr_invoice)))
        .route("/merchant/invoice/check/{id}", faulty(s, Endpoint::CheckInvoice, get(merchant::check_invoice)))
        .route(
            "/merchant/pg/config",
            faulty(s, Endpoint::ReadConfig, get(merchant::read_config)).merge(faulty(
                s,
                Endpoint::WriteConfig,
                post(merchant::write_config),
            )),
        )
        .route(gateway::GENERATE, faulty(s, Endpoint::GenerateInvoice, post(gateway::invoicing::generate_invoice)))
        .route(
            gateway::BY_ORDER_NUMBER,
            faulty(s, Endpoint::InvoiceByOrderNumber, post(gateway::invoicing::invoice_by_order_number)),
        )
        .route(gateway::BY_ID, faulty(s, Endpoint::InvoiceById, post(gateway::invoicing::invoice_by_id)))
        .route(gateway::IS_PAID, faulty(s, Endpoint::IsPaid, post(gateway::invoicing::is_paid)))
        .route(gateway::BRANCHES, faulty(s, Endpoint::Branches, get(gateway::listing::branches)))
        .route(gateway::TERMINALS, faulty(s, Endpoint::Terminals, get(gateway::listing::terminals)))
        .route(gateway::CANCEL, faulty(s, Endpoint::Cancel, put(gateway::invoicing::cancel)))
        .route("/openapi.json", get(openapi::serve))
        .merge(wallet::routes())
        .nest("/_sandbox", control::routes())
        .layer(axum::middleware::from_fn(crate::reply::unrouted_as_pocket_answers))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(shared)
}
