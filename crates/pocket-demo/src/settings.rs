//! Where the demo runs: against the in-process sandbox (the default), or against Pocket's real
//! staging or production when credentials are given.

use std::collections::HashMap;

use pocket_core::Environment;

/// Which Pocket the demo talks to.
#[derive(Debug, Clone)]
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

/// The demo's settings.
#[derive(Debug, Clone)]
pub struct DemoSettings {
    /// The shop's port (0 for any).
    pub shop_port: u16,
    /// Which Pocket.
    pub pocket: Pocket,
}

impl DemoSettings {
    /// All on free ports, against the sandbox — for tests.
    pub fn ephemeral() -> DemoSettings {
        DemoSettings { shop_port: 0, pocket: Pocket::Sandbox { port: 0, webview_port: 0 } }
    }

    /// From the environment and a `.env` file in the current directory (the environment wins):
    /// `POCKET_ENV` (`staging` or `production`) with `POCKET_CLIENT_ID`, `POCKET_CLIENT_SECRET` and
    /// `POCKET_WEBHOOK_URL` selects the real Pocket; without `POCKET_ENV` the sandbox is used.
    /// `DEMO_PORT` (default 3000), `SANDBOX_PORT` (8780) and `WEBVIEW_PORT` (8781) set the ports.
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
        Ok(DemoSettings { shop_port, pocket })
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
}
