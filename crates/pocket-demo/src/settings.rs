//! Where the demo runs: against the in-process sandbox (the default), or against Pocket's real
//! staging or production when credentials are given.

use std::collections::HashMap;

use pocket_core::Environment;

/// Which Pocket the demo talks to. Its Debug output never shows the client secret.
#[derive(Clone)]
pub enum Pocket {
    /// The sandbox, started in-process on these ports (0 for any).
    Sandbox {
        /// The sandbox's port.
        port: u16,
        /// The wallet web view's port (what the user opens).
        webview_port: u16,
    },
    /// Pocket's own staging or production.
    Real {
        /// Staging or production.
        environment: Environment,
        /// The merchant's client id.
        client_id: String,
        /// The merchant's client secret.
        client_secret: String,
        /// The public https address Pocket posts webhooks to (it must reach this shop).
        webhook_url: String,
    },
}

/// The demo's settings. Their Debug output never shows the client secret or the database URL's
/// password.
#[derive(Clone)]
pub struct DemoSettings {
    /// The shop's port (0 for any).
    pub shop_port: u16,
    /// Which Pocket.
    pub pocket: Pocket,
    /// Where the orders are kept: a PostgreSQL URL (`POCKET_DATABASE_URL`), or `None` for memory.
    pub database_url: Option<String>,
}

impl DemoSettings {
    /// All on free ports, against the sandbox — for tests.
    pub fn ephemeral() -> DemoSettings {
        DemoSettings { shop_port: 0, pocket: Pocket::Sandbox { port: 0, webview_port: 0 }, database_url: None }
    }

    /// From the environment and a `.env` file in the current directory (the environment wins):
    /// `POCKET_ENV` (`staging` or `production`) with `POCKET_CLIENT_ID`, `POCKET_CLIENT_SECRET` and
    /// `POCKET_WEBHOOK_URL` selects the real Pocket; without `POCKET_ENV` the sandbox is used.
    /// `DEMO_PORT` (default 3000), `SANDBOX_PORT` (8780) and `WEBVIEW_PORT` (8781) set the ports;
    /// `POCKET_DATABASE_URL` keeps the orders in PostgreSQL.
    pub fn from_env() -> Result<DemoSettings, String> {
        let file = std::fs::read_to_string(".env").map(|text| parse_dotenv(&text)).unwrap_or_default();
        let get = |name: &str| std::env::var(name).ok().or_else(|| file.get(name).cloned()).filter(|v| !v.is_empty());
        let port = |name: &str, default: u16| -> Result<u16, String> {
            get(name).map_or(Ok(default), |v| v.parse().map_err(|_| format!("{name}={v:?} is not a port number")))
        };
        let shop_port = port("DEMO_PORT", 3000)?;
        let pocket = match get("POCKET_ENV") {
            None => Pocket::Sandbox { port: port("SANDBOX_PORT", 8780)?, webview_port: port("WEBVIEW_PORT", 8781)? },
            Some(name) => {
                let environment: Environment = name.parse().map_err(|e| format!("POCKET_ENV: {e}"))?;
                let need = |key: &str| get(key).ok_or_else(|| format!("POCKET_ENV={name} also needs {key}"));
                Pocket::Real {
                    environment,
                    client_id: need("POCKET_CLIENT_ID")?,
                    client_secret: need("POCKET_CLIENT_SECRET")?,
                    webhook_url: need("POCKET_WEBHOOK_URL")?,
                }
            }
        };
        Ok(DemoSettings { shop_port, pocket, database_url: get("POCKET_DATABASE_URL") })
    }
}

impl std::fmt::Debug for Pocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Pocket::Sandbox { port, webview_port } => {
                f.debug_struct("Sandbox").field("port", port).field("webview_port", webview_port).finish()
            }
            Pocket::Real { environment, client_id, webhook_url, .. } => f
                .debug_struct("Real")
                .field("environment", &environment.name())
                .field("client_id", client_id)
                .field("client_secret", &"[REDACTED]")
                .field("webhook_url", webhook_url)
                .finish(),
        }
    }
}

impl std::fmt::Debug for DemoSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoSettings")
            .field("shop_port", &self.shop_port)
            .field("pocket", &self.pocket)
            .field("database_url", &self.database_url.as_ref().map(|_| "[REDACTED]"))
            .finish()
    }
}

/// `KEY=value` lines, read by dotenvy as `pocket` (pocket-cli) reads them: `#` comments, blank
/// lines, quotes and `export ` are allowed; a line it cannot read is skipped.
fn parse_dotenv(text: &str) -> HashMap<String, String> {
    dotenvy::from_read_iter(text.as_bytes()).filter_map(Result::ok).collect()
}

#[cfg(test)]
mod tests {
    use super::parse_dotenv;

    #[test]
    fn dotenv_files_are_read_like_shells_write_them() {
        let vars = parse_dotenv(
            "# creds\nPOCKET_ENV=staging\nexport POCKET_CLIENT_ID=\"shop\"\nPOCKET_CLIENT_SECRET='s=3'\n\nBAD LINE\n",
        );
        assert_eq!(vars["POCKET_ENV"], "staging");
        assert_eq!(vars["POCKET_CLIENT_ID"], "shop");
        assert_eq!(vars["POCKET_CLIENT_SECRET"], "s=3");
        assert_eq!(vars.len(), 3);
    }

    #[test]
    fn debug_output_hides_the_secret_and_the_database_password() {
        let settings = super::DemoSettings {
            shop_port: 1,
            pocket: super::Pocket::Real {
                environment: pocket_core::Environment::Staging,
                client_id: "shop".to_owned(),
                client_secret: "s3cr3t-client".to_owned(),
                webhook_url: "https://shop.example/pocket/webhook".to_owned(),
            },
            database_url: Some("postgres://shop:db-p4ss@db/shop".to_owned()),
        };
        let shown = format!("{settings:?}");
        assert!(!shown.contains("s3cr3t-client") && !shown.contains("db-p4ss"), "{shown}");
        assert!(shown.contains("shop.example"), "{shown}");
    }
}
