//! Environments at other addresses than Pocket's own: the sandbox, a proxy, an SSO that moved.

use url::Url;

use super::{Environment, REALM};

/// The addresses of a custom environment, validated by [`CustomEnvironmentBuilder::build`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomEnvironment {
    pub(super) sso_base: String,
    pub(super) realm: String,
    pub(super) realm_url: String,
    pub(super) issuer: String,
    pub(super) token_url: String,
    pub(super) api_base: String,
}

/// Describes a custom environment; made by [`Environment::custom`].
///
/// The SSO is given either as a full [`realm_url`](Self::realm_url) (any host and path, such as
/// `https://sso.example.mn/realms/invescore`) or as a Keycloak [`sso_base`](Self::sso_base) plus a
/// [`realm`](Self::realm) (default `invescore`), which puts the realm at
/// `{sso_base}/auth/realms/{realm}`. A realm URL given as the SSO base (its path ends in
/// `/realms/{name}`) is recognised and used as the realm URL instead of doubling the path.
/// The issuer and token endpoint default to the realm's own and can be set when they differ.
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct CustomEnvironmentBuilder {
    sso_base: Option<String>,
    realm: Option<String>,
    realm_url: Option<String>,
    issuer: Option<String>,
    token_endpoint: Option<String>,
    api_base: Option<String>,
}

/// Why an environment could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EnvironmentError {
    /// A name other than `staging` or `production`.
    #[error("unknown Pocket environment {name:?}; expected \"staging\" or \"production\"")]
    UnknownName {
        /// The name that was given, shortened to 32 characters.
        name: String,
    },
    /// An address that is not an absolute http(s) URL without query, fragment or user info.
    #[error("the {which} URL {url:?} is not usable: {reason}")]
    InvalidUrl {
        /// `"SSO base"`, `"realm"`, `"issuer"`, `"token endpoint"` or `"merchant API"`.
        which: &'static str,
        /// The URL that was given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A realm name that is empty or has characters other than letters, digits, `-`, `_`, `.`.
    #[error("the realm {realm:?} is not a valid realm name")]
    InvalidRealm {
        /// The realm that was given.
        realm: String,
    },
    /// A custom environment without an address it needs.
    #[error("a custom environment needs {what}")]
    Missing {
        /// What is missing, in words.
        what: &'static str,
    },
    /// Settings that contradict each other.
    #[error("conflicting environment settings: {reason}")]
    Conflict {
        /// Which settings, and why.
        reason: String,
    },
}

impl CustomEnvironmentBuilder {
    /// The realm's full URL, such as `https://sso.example.mn/realms/invescore`.
    pub fn realm_url(mut self, url: impl Into<String>) -> Self {
        self.realm_url = Some(url.into());
        self
    }

    /// The Keycloak server: the realm is at `{sso_base}/auth/realms/{realm}`.
    pub fn sso_base(mut self, url: impl Into<String>) -> Self {
        self.sso_base = Some(url.into());
        self
    }

    /// The realm's name under [`sso_base`](Self::sso_base) (default `invescore`).
    pub fn realm(mut self, name: impl Into<String>) -> Self {
        self.realm = Some(name.into());
        self
    }

    /// The `iss` the realm's tokens carry, when it is not the realm URL (a realm behind a proxy
    /// with a configured frontend URL).
    pub fn issuer(mut self, url: impl Into<String>) -> Self {
        self.issuer = Some(url.into());
        self
    }

    /// The token endpoint, when it is not `{realm_url}/protocol/openid-connect/token`.
    pub fn token_endpoint(mut self, url: impl Into<String>) -> Self {
        self.token_endpoint = Some(url.into());
        self
    }

    /// The merchant API, such as `http://127.0.0.1:8080/merchant`.
    pub fn api_base(mut self, url: impl Into<String>) -> Self {
        self.api_base = Some(url.into());
        self
    }

    /// Check every address and make the environment.
    pub fn build(self) -> Result<Environment, EnvironmentError> {
        let api_base = self.api_base.as_deref().ok_or(EnvironmentError::Missing { what: "an api_base" })?;
        let api_base = base_url("merchant API", api_base)?;
        let (realm_url, realm) = match (&self.realm_url, &self.sso_base) {
            (Some(_), Some(_)) => {
                return Err(EnvironmentError::Conflict {
                    reason: "give either realm_url or sso_base (with realm), not both".to_owned(),
                });
            }
            (Some(url), None) => realm_from_url("realm", url, self.realm.as_deref())?,
            (None, Some(base)) => match realm_from_url("SSO base", base, self.realm.as_deref()) {
                Ok(found) if found.1.is_some() => found,
                Ok(_) | Err(EnvironmentError::Missing { .. }) => {
                    let realm = self.realm.as_deref().unwrap_or(REALM);
                    check_realm(realm)?;
                    (format!("{}/auth/realms/{realm}", base_url("SSO base", base)?), Some(realm.to_owned()))
                }
                Err(other) => return Err(other),
            },
            (None, None) => return Err(EnvironmentError::Missing { what: "a realm_url or an sso_base" }),
        };
        let realm = realm.unwrap_or_else(|| REALM.to_owned());
        let sso_base = sso_base_of(&realm_url);
        let issuer = match &self.issuer {
            Some(issuer) => base_url("issuer", issuer)?,
            None => realm_url.clone(),
        };
        let token_url = match &self.token_endpoint {
            Some(url) => base_url("token endpoint", url)?,
            None => format!("{realm_url}/protocol/openid-connect/token"),
        };
        Ok(Environment::Custom(Box::new(CustomEnvironment { sso_base, realm, realm_url, issuer, token_url, api_base })))
    }
}

/// Reads a realm URL: the URL itself, and the realm's name when the path ends in
/// `/realms/{name}`. `Missing` when the URL is valid but names no realm.
fn realm_from_url(
    which: &'static str,
    text: &str,
    wanted: Option<&str>,
) -> Result<(String, Option<String>), EnvironmentError> {
    let url = base_url(which, text)?;
    let mut segments = url.rsplit('/');
    let named = match (segments.next(), segments.next()) {
        (Some(name), Some("realms")) if !name.is_empty() => Some(name.to_owned()),
        _ => None,
    };
    match (&named, wanted) {
        (Some(named), Some(wanted)) if named != wanted => Err(EnvironmentError::Conflict {
            reason: format!("the {which} URL names the realm {named:?} but the realm is set to {wanted:?}"),
        }),
        (None, _) if which == "SSO base" => Err(EnvironmentError::Missing { what: "a realm" }),
        (None, Some(wanted)) => {
            check_realm(wanted)?;
            Ok((url, Some(wanted.to_owned())))
        }
        _ => Ok((url, named)),
    }
}

/// The server part of a realm URL: what precedes `/auth/realms/…` or `/realms/…`.
fn sso_base_of(realm_url: &str) -> String {
    let before = realm_url.rsplit_once("/realms/").map_or(realm_url, |(base, _)| base);
    before.strip_suffix("/auth").unwrap_or(before).to_owned()
}

fn check_realm(realm: &str) -> Result<(), EnvironmentError> {
    let valid = !realm.is_empty()
        && realm != "."
        && realm != ".."
        && realm.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if valid { Ok(()) } else { Err(EnvironmentError::InvalidRealm { realm: realm.to_owned() }) }
}

pub(super) fn base_url(which: &'static str, text: &str) -> Result<String, EnvironmentError> {
    let invalid =
        |reason: &str| EnvironmentError::InvalidUrl { which, url: text.to_owned(), reason: reason.to_owned() };
    let url = Url::parse(text.trim()).map_err(|e| invalid(&e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("the scheme must be http or https"));
    }
    if url.host().is_none() {
        return Err(invalid("it has no host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("it must not have a query or a fragment"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("credentials do not belong in a URL"));
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sandbox_like() -> CustomEnvironmentBuilder {
        Environment::custom().api_base("http://127.0.0.1:8080/merchant")
    }

    #[test]
    fn an_sso_base_and_realm_put_the_realm_under_auth() {
        let env = sandbox_like().sso_base("http://127.0.0.1:8080/").build().unwrap();
        assert!(env.is_custom());
        assert_eq!(env.realm_url(), "http://127.0.0.1:8080/auth/realms/invescore");
        assert_eq!(env.issuer(), env.realm_url());
        assert_eq!(env.sso_base(), "http://127.0.0.1:8080");
        assert_eq!(env.realm(), "invescore");
        assert_eq!(env.create_invoice_url(), "http://127.0.0.1:8080/merchant/consumer/invoice");

        let other = sandbox_like().sso_base("http://h:1").realm("shop-realm").build().unwrap();
        assert_eq!(other.token_url(), "http://h:1/auth/realms/shop-realm/protocol/openid-connect/token");
    }

    #[test]
    fn a_full_realm_url_is_used_as_given() {
        let env = sandbox_like().realm_url("https://sso.example.mn/realms/pocket/").build().unwrap();
        assert_eq!(env.realm_url(), "https://sso.example.mn/realms/pocket");
        assert_eq!(env.realm(), "pocket");
        assert_eq!(env.sso_base(), "https://sso.example.mn");
        assert_eq!(env.certs_url(), "https://sso.example.mn/realms/pocket/protocol/openid-connect/certs");
        assert_eq!(env.token_url(), "https://sso.example.mn/realms/pocket/protocol/openid-connect/token");
    }

    #[test]
    fn a_realm_url_given_as_the_sso_base_is_not_doubled() {
        for base in ["http://h/auth/realms/invescore", "http://h/realms/invescore/"] {
            let env = sandbox_like().sso_base(base).build().unwrap();
            assert_eq!(env.realm_url(), base.trim_end_matches('/'), "{base}");
            assert_eq!(env.sso_base(), "http://h");
        }
        let conflict = sandbox_like().sso_base("http://h/auth/realms/a").realm("b").build().unwrap_err();
        assert!(matches!(conflict, EnvironmentError::Conflict { .. }), "{conflict}");
        assert!(conflict.to_string().contains("\"a\"") && conflict.to_string().contains("\"b\""));
    }

    #[test]
    fn issuer_and_token_endpoint_can_differ_from_the_realm() {
        let env = sandbox_like()
            .realm_url("http://internal:8080/realms/invescore")
            .issuer("https://sso.example.mn/realms/invescore")
            .token_endpoint("https://sso.example.mn/token")
            .build()
            .unwrap();
        assert_eq!(env.issuer(), "https://sso.example.mn/realms/invescore");
        assert_eq!(env.token_url(), "https://sso.example.mn/token");
        assert_eq!(
            env.introspection_url(),
            "http://internal:8080/realms/invescore/protocol/openid-connect/token/introspect"
        );
    }

    #[test]
    fn missing_bad_and_conflicting_settings_are_named() {
        let missing = Environment::custom().sso_base("http://h").build().unwrap_err();
        assert_eq!(missing, EnvironmentError::Missing { what: "an api_base" });
        let missing = sandbox_like().build().unwrap_err();
        assert_eq!(missing, EnvironmentError::Missing { what: "a realm_url or an sso_base" });
        let both = sandbox_like().sso_base("http://h").realm_url("http://h/realms/x").build().unwrap_err();
        assert!(matches!(both, EnvironmentError::Conflict { .. }));

        let bad = |sso: &str, realm: &str| sandbox_like().sso_base(sso).realm(realm).build().unwrap_err();
        assert!(matches!(bad("ftp://h", "r"), EnvironmentError::InvalidUrl { which: "SSO base", .. }));
        assert!(matches!(bad("not a url", "r"), EnvironmentError::InvalidUrl { .. }));
        assert!(matches!(bad("http://h/?a=1", "r"), EnvironmentError::InvalidUrl { .. }));
        assert!(matches!(bad("http://u:p@h", "r"), EnvironmentError::InvalidUrl { .. }));
        assert!(matches!(bad("http://h", ""), EnvironmentError::InvalidRealm { .. }));
        assert!(matches!(bad("http://h", "a/b"), EnvironmentError::InvalidRealm { .. }));
        assert!(matches!(bad("http://h", ".."), EnvironmentError::InvalidRealm { .. }));
        let bad_api = Environment::custom().sso_base("http://h").api_base("h/merchant").build().unwrap_err();
        assert!(matches!(bad_api, EnvironmentError::InvalidUrl { which: "merchant API", .. }));
        let bad_issuer = sandbox_like().sso_base("http://h").issuer("mailto:x").build().unwrap_err();
        assert!(matches!(bad_issuer, EnvironmentError::InvalidUrl { which: "issuer", .. }));
    }

    #[test]
    fn a_realm_url_without_realms_takes_the_given_name() {
        let env = sandbox_like().realm_url("https://id.example.mn/oidc").realm("invescore").build().unwrap();
        assert_eq!(env.realm_url(), "https://id.example.mn/oidc");
        assert_eq!(env.realm(), "invescore");
        let env = sandbox_like().realm_url("https://id.example.mn/oidc").build().unwrap();
        assert_eq!(env.realm(), "invescore");
    }
}
