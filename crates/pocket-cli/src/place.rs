//! Which Pocket a command talks to, and as which merchant: flags, then the process environment,
//! then a `.env` file. The client secret comes only from the environment, the file or a prompt.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::Path;
use std::time::Duration;

use pocket_core::{Credentials, Environment};
use pocket_http::{PocketClient, RetryPolicy};

use crate::cli::PlaceArgs;
use crate::failure::Failure;

/// Where the sandbox listens unless told otherwise (`pocket sandbox` and `--env sandbox`).
pub const SANDBOX_BASE: &str = "http://127.0.0.1:8780";
/// The sandbox's own test merchant, used with `--env sandbox` when no credentials are given.
const SANDBOX_CLIENT: (&str, &str) = ("sandbox-merchant", "sandbox-secret");

/// A merchant's client, and who it is.
pub struct Merchant {
    pub client: PocketClient,
    pub client_id: String,
}

/// The resolved place: the environment, and the settings a command may still ask for.
pub struct Place {
    pub environment: Environment,
    /// `--env sandbox`: a sandbox whose test merchant may be assumed when no credentials are given.
    pub is_local_sandbox: bool,
    client_id: Option<String>,
    file: HashMap<String, String>,
}

impl Place {
    /// Reads the flags (which clap already filled from the environment) and the `.env` file.
    pub fn resolve(args: &PlaceArgs) -> Result<Place, Failure> {
        let file = read_env_file(&args.env_file)?;
        let from_file = |key: &str| file.get(key).filter(|v| !v.is_empty()).cloned();
        let env = args.env.clone().or_else(|| from_file("POCKET_ENV"));
        let sso = args.sso.clone().or_else(|| from_file("POCKET_SSO_URL"));
        let api = args.api.clone().or_else(|| from_file("POCKET_API_URL"));
        let realm = args.realm.clone().or_else(|| from_file("POCKET_REALM"));
        let (environment, is_local_sandbox) = environment(env.as_deref(), sso, api, realm)?;
        let client_id =
            args.client_id.clone().or_else(|| std::env::var("POCKET_CLIENT_ID").ok()).filter(|v| !v.is_empty());
        Ok(Place {
            environment,
            is_local_sandbox,
            client_id: client_id.or_else(|| from_file("POCKET_CLIENT_ID")),
            file,
        })
    }

    /// The merchant's credentials: the client id from `--client-id` or `POCKET_CLIENT_ID`, the
    /// secret from `POCKET_CLIENT_SECRET` (environment or file) or, on a terminal, a prompt.
    pub fn credentials(&self) -> Result<Credentials, Failure> {
        let secret = std::env::var("POCKET_CLIENT_SECRET")
            .ok()
            .filter(|v| !v.is_empty())
            .or_else(|| self.file.get("POCKET_CLIENT_SECRET").filter(|v| !v.is_empty()).cloned());
        match (&self.client_id, secret) {
            (Some(id), Some(secret)) => Ok(Credentials::new(id, secret)),
            (None, None) if self.is_local_sandbox => Ok(Credentials::new(SANDBOX_CLIENT.0, SANDBOX_CLIENT.1)),
            (None, _) => Err(Failure::usage("no client id: set POCKET_CLIENT_ID (or pass --client-id)")),
            (Some(id), None) if std::io::stdin().is_terminal() => {
                let secret = rpassword::prompt_password(format!("client secret of {id}: "))
                    .map_err(|e| Failure::usage(format!("could not read the client secret: {e}")))?;
                Ok(Credentials::new(id, secret))
            }
            (Some(_), None) => Err(Failure::usage(
                "no client secret: set POCKET_CLIENT_SECRET in the environment or in .env (never on the command line)",
            )),
        }
    }

    /// A merchant client for this place. A person is waiting: retries stop after a few seconds.
    pub fn merchant(&self) -> Result<Merchant, Failure> {
        let credentials = self.credentials()?;
        let client_id = credentials.client_id().to_owned();
        let retry = RetryPolicy::default().max_attempts(3).max_elapsed(Duration::from_secs(6));
        let client = PocketClient::builder(self.environment.clone(), credentials)
            .timeout(Duration::from_secs(20))
            .connect_timeout(Duration::from_secs(5))
            .retry(retry)
            .user_agent(concat!("pocket-cli/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Merchant { client, client_id })
    }

    /// The sandbox's control API (`/_sandbox`), for commands that need the sandbox itself.
    pub fn sandbox_control(&self, what: &str) -> Result<String, Failure> {
        if !self.environment.is_custom() {
            return Err(Failure::usage(format!(
                "{what} needs the sandbox: use --env sandbox, or --sso URL --api URL of a running `pocket sandbox`"
            )));
        }
        Ok(format!("{}/_sandbox", self.environment.sso_base()))
    }
}

/// The environment named by `--env` or given by `--sso`/`--api`; and whether it is the local
/// sandbox at its default address.
fn environment(
    name: Option<&str>,
    sso: Option<String>,
    api: Option<String>,
    realm: Option<String>,
) -> Result<(Environment, bool), Failure> {
    let custom = |sso: String, api: String| {
        let mut builder = Environment::custom().sso_base(sso).api_base(api);
        if let Some(realm) = &realm {
            builder = builder.realm(realm);
        }
        builder.build().map_err(|e| Failure::usage(e.to_string()))
    };
    let name = name.map(str::to_ascii_lowercase);
    let sandbox = name.as_deref() == Some("sandbox");
    match (name.as_deref(), sso, api) {
        (Some("sandbox"), None, None) => {
            Ok((custom(SANDBOX_BASE.to_owned(), format!("{SANDBOX_BASE}/merchant"))?, true))
        }
        (None | Some("custom" | "sandbox"), Some(sso), Some(api)) => Ok((custom(sso, api)?, sandbox)),
        (None | Some("custom" | "sandbox"), Some(_), None) => {
            Err(Failure::usage("--sso needs --api too (POCKET_API_URL)"))
        }
        (None | Some("custom" | "sandbox"), None, Some(_)) => {
            Err(Failure::usage("--api needs --sso too (POCKET_SSO_URL)"))
        }
        (Some("custom"), None, None) => Err(Failure::usage("--env custom needs --sso URL and --api URL")),
        (Some(other), None, None) => {
            other.parse::<Environment>().map(|env| (env, false)).map_err(|e| Failure::usage(format!("--env: {e}")))
        }
        (Some(other), _, _) => {
            Err(Failure::usage(format!("--env {other} and --sso/--api contradict each other: give one or the other")))
        }
        (None, None, None) => Err(Failure::usage(
            "which Pocket? Give --env staging|production|sandbox, or --sso URL --api URL (POCKET_ENV, POCKET_SSO_URL, POCKET_API_URL)",
        )),
    }
}

/// `KEY=value` settings from a `.env` file; none when it does not exist. Nothing is put into
/// the process environment.
fn read_env_file(path: &Path) -> Result<HashMap<String, String>, Failure> {
    let entries = match dotenvy::from_path_iter(path) {
        Ok(entries) => entries,
        Err(error) if error.not_found() => return Ok(HashMap::new()),
        Err(error) => return Err(Failure::usage(format!("{}: {error}", path.display()))),
    };
    entries.map(|entry| entry.map_err(|error| Failure::usage(format!("{}: {error}", path.display())))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_or_two_addresses_and_never_a_guess() {
        let (env, local) = environment(Some("Staging"), None, None, None).unwrap();
        assert_eq!((env, local), (Environment::Staging, false));
        let (env, local) = environment(Some("sandbox"), None, None, None).unwrap();
        assert!(local);
        assert_eq!(env.api_base(), "http://127.0.0.1:8780/merchant");
        let (env, _) =
            environment(None, Some("http://h:1".into()), Some("http://h:1/merchant".into()), Some("shop".into()))
                .unwrap();
        assert_eq!(env.realm_url(), "http://h:1/auth/realms/shop");
        let (env, _) = environment(
            None,
            Some("https://sso.example.mn/realms/invescore".into()),
            Some("https://a.mn/merchant".into()),
            None,
        )
        .unwrap();
        assert_eq!(env.realm_url(), "https://sso.example.mn/realms/invescore");

        let refused = |name, sso: Option<&str>, api: Option<&str>| {
            environment(name, sso.map(Into::into), api.map(Into::into), None).err().unwrap().message
        };
        assert!(refused(None, None, None).contains("which Pocket?"));
        assert!(refused(Some("prod"), None, None).contains("unknown Pocket environment"));
        assert!(refused(Some("production"), Some("http://h"), Some("http://h/m")).contains("contradict"));
        assert!(refused(None, Some("http://h"), None).contains("--sso needs --api"));
        assert!(refused(None, Some("ftp://h"), Some("http://h/m")).contains("scheme"));
    }
}
