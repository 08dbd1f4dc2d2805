//! The example Pocket mini-app shop: the whole payment flow — wallet sign-in, checkout, payment,
//! verified webhook — on one machine. `cargo run -p pocket-demo` runs it against an in-process
//! sandbox; with `POCKET_ENV`, `POCKET_CLIENT_ID`, `POCKET_CLIENT_SECRET` and
//! `POCKET_WEBHOOK_URL` (from the environment or a `.env` file) it talks to Pocket instead.
//! With `POCKET_DATABASE_URL` (and the `postgres` feature) it keeps its orders in PostgreSQL and
//! marks them paid in the payment's own transaction.

mod app;
mod desktop;
mod orders;
mod settings;
mod shop;
mod telemetry;

use pocket_axum::PocketAuth;
use pocket_core::{Credentials, Environment};
use pocket_http::PocketClient;
use pocket_jwt::JwtVerifier;
use pocket_sandbox::{Sandbox, SandboxConfig};
use tokio::sync::oneshot;

pub use settings::{DemoSettings, Pocket};

/// The workspace README's quick start is compiled as a doctest (here, where every crate it uses
/// is a dependency), so it never goes stale.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct WorkspaceReadme;
pub use shop::{PRODUCTS, Product};

/// A running demo shop.
pub struct Demo {
    shop_url: String,
    open_url: String,
    sandbox: Option<Sandbox>,
    client: PocketClient,
    stop: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
}

/// The merchant's first gateway terminal, for desktop checkout; `None` (desktop checkout off)
/// when the merchant has none or the listing cannot be read.
async fn first_terminal(client: &PocketClient) -> Option<pocket_core::TerminalId> {
    use futures_util::TryStreamExt;
    let found = async {
        let branches: Vec<_> = client.branches().try_collect().await?;
        for branch in branches {
            let terminals: Vec<_> = client.terminals(&branch.id).try_collect().await?;
            if let Some(terminal) = terminals.first() {
                return Ok(Some(terminal.id));
            }
        }
        Ok::<_, pocket_core::Error>(None)
    };
    match found.await {
        Ok(terminal) => terminal,
        Err(error) => {
            tracing::warn!(%error, "the gateway's terminals could not be listed; desktop checkout is off");
            None
        }
    }
}

impl Demo {
    /// Starts the shop (and, in sandbox mode, the sandbox) on 127.0.0.1.
    pub async fn start(settings: DemoSettings) -> Result<Demo, String> {
        // Before any client exists, so that every metric it records is kept.
        telemetry::prometheus();
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", settings.shop_port))
            .await
            .map_err(|e| format!("the shop cannot listen on port {}: {e}", settings.shop_port))?;
        let shop_url = format!("http://{}", listener.local_addr().map_err(|e| e.to_string())?);
        let (environment, credentials, webhook_url, sandbox) = match settings.pocket {
            Pocket::Sandbox { port, webview_port } => {
                let sandbox = SandboxConfig::default()
                    .port(port)
                    .webview_port(webview_port)
                    .mini_app_url(shop_url.clone())
                    .start()
                    .await
                    .map_err(|e| format!("the sandbox could not start: {e}"))?;
                (sandbox.environment(), sandbox.credentials(), format!("{shop_url}/pocket/webhook"), Some(sandbox))
            }
            Pocket::Real { environment, client_id, client_secret, webhook_url } => {
                (environment, Credentials::new(client_id, client_secret), webhook_url, None)
            }
        };
        let client = PocketClient::builder(environment.clone(), credentials).build().map_err(|e| e.to_string())?;
        let verifier = JwtVerifier::builder(&environment).build().map_err(|e| e.to_string())?;
        let change = client
            .ensure_webhook_url(&webhook_url)
            .await
            .map_err(|e| format!("the webhook address could not be registered with Pocket: {e}"))?;
        tracing::info!(url = %webhook_url, change = ?change, "webhook address registered");
        let gateway = shop::Gateway {
            terminal: first_terminal(&client).await,
            scanner_url: sandbox.as_ref().map(|s| format!("{}/scan", s.wallet_url())),
        };
        let orders = match settings.database_url.as_deref() {
            None => orders::OrderBook::in_memory(),
            #[cfg(feature = "postgres")]
            Some(url) => orders::OrderBook::in_postgres(url)
                .await
                .map_err(|e| format!("the orders' database could not be used: {e}"))?,
            #[cfg(not(feature = "postgres"))]
            Some(_) => {
                return Err("POCKET_DATABASE_URL needs the demo built with PostgreSQL: cargo run -p pocket-demo --features postgres".to_owned());
            }
        };
        let app = app::router(PocketAuth::new(verifier), client.clone(), gateway, orders);
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let serving = axum::serve(listener, app).with_graceful_shutdown(async {
                let _ = stopped.await;
            });
            if let Err(error) = serving.await {
                tracing::error!(%error, "the shop stopped");
            }
        });
        let open_url = sandbox.as_ref().map_or_else(|| shop_url.clone(), |s| format!("{}/", s.webview_url()));
        Ok(Demo { shop_url, open_url, sandbox, client, stop: Some(stop), server: Some(server) })
    }

    /// The shop's own address.
    pub fn shop_url(&self) -> &str {
        &self.shop_url
    }

    /// What to open in a browser: the sandbox wallet's web view showing the shop, or (against
    /// the real Pocket) the shop itself, which must be opened inside the Pocket app.
    pub fn open_url(&self) -> &str {
        &self.open_url
    }

    /// The in-process sandbox, in sandbox mode.
    pub fn sandbox(&self) -> Option<&Sandbox> {
        self.sandbox.as_ref()
    }

    /// The environment the shop talks to.
    pub fn environment(&self) -> &Environment {
        self.client.environment()
    }

    /// Stops the shop and the sandbox.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
        if let Some(sandbox) = self.sandbox.take() {
            sandbox.shutdown().await;
        }
    }
}
