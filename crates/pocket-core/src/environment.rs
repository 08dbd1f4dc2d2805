//! Where Pocket lives: the SSO (Keycloak) and the merchant API of each environment.

use std::fmt;
use std::str::FromStr;

use crate::{BranchId, InvoiceId};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

mod custom;

pub use custom::{CustomEnvironment, CustomEnvironmentBuilder, EnvironmentError};

/// Everything in a path segment except RFC 3986's unreserved characters is encoded, so that
/// `/`, `?`, `#` and `%` in an id can never change the URL's structure.
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

const REALM: &str = "invescore";

/// A Pocket environment.
///
/// ```
/// use pocket_core::Environment;
///
/// let staging: Environment = "staging".parse()?;
/// assert_eq!(staging.realm_url(), "https://sso-staging.invescore.mn/auth/realms/invescore");
/// assert_eq!(staging.check_invoice_url(&"1/2".parse()?), "https://service-staging.invescore.mn/merchant/invoice/check/1%2F2");
/// assert!("prod".parse::<Environment>().is_err());
///
/// // The sandbox, or any other Pocket-shaped server:
/// let local = Environment::custom()
///     .sso_base("http://127.0.0.1:8080")
///     .api_base("http://127.0.0.1:8080/merchant")
///     .build()?;
/// assert_eq!(local.token_url(), "http://127.0.0.1:8080/auth/realms/invescore/protocol/openid-connect/token");
///
/// // An SSO that moved to a host without Keycloak's old `/auth` prefix:
/// let moved = Environment::custom()
///     .realm_url("https://sso.example.mn/realms/invescore")
///     .api_base("https://api.example.mn/merchant")
///     .build()?;
/// assert_eq!(moved.issuer(), "https://sso.example.mn/realms/invescore");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Environment {
    /// Pocket's staging servers (`sso-staging.invescore.mn`, `service-staging.invescore.mn`).
    Staging,
    /// Pocket's production servers (`sso.invescore.mn`, `service.invescore.mn`).
    Production,
    /// Any other Pocket-shaped server, such as the sandbox; build it with [`Environment::custom`].
    Custom(Box<CustomEnvironment>),
}

impl From<&Environment> for Environment {
    /// Lets every builder take an environment by value or by reference.
    fn from(environment: &Environment) -> Environment {
        environment.clone()
    }
}

impl Environment {
    /// Start describing an environment at other addresses than Pocket's own, such as the sandbox:
    /// give the SSO (a [`realm_url`](CustomEnvironmentBuilder::realm_url), or a
    /// [`sso_base`](CustomEnvironmentBuilder::sso_base) and a [`realm`](CustomEnvironmentBuilder::realm))
    /// and the merchant API's [`api_base`](CustomEnvironmentBuilder::api_base).
    pub fn custom() -> CustomEnvironmentBuilder {
        CustomEnvironmentBuilder::default()
    }

    /// `"staging"`, `"production"` or `"custom"`.
    pub fn name(&self) -> &'static str {
        match self {
            Environment::Staging => "staging",
            Environment::Production => "production",
            Environment::Custom(_) => "custom",
        }
    }

    /// Whether this is a custom environment (not one of Pocket's own).
    pub fn is_custom(&self) -> bool {
        matches!(self, Environment::Custom(_))
    }

    /// The SSO server's base URL (before `/auth/realms/…` or `/realms/…`), without a trailing `/`.
    pub fn sso_base(&self) -> &str {
        match self {
            Environment::Staging => "https://sso-staging.invescore.mn",
            Environment::Production => "https://sso.invescore.mn",
            Environment::Custom(custom) => &custom.sso_base,
        }
    }

    /// The Keycloak realm: `invescore` for Pocket's own environments.
    pub fn realm(&self) -> &str {
        match self {
            Environment::Custom(custom) => &custom.realm,
            _ => REALM,
        }
    }

    /// The merchant API's base URL, without a trailing `/`.
    pub fn api_base(&self) -> &str {
        match self {
            Environment::Staging => "https://service-staging.invescore.mn/merchant",
            Environment::Production => "https://service.invescore.mn/merchant",
            Environment::Custom(custom) => &custom.api_base,
        }
    }

    /// The realm URL, under which the realm's endpoints (keys, introspection, discovery) live.
    pub fn realm_url(&self) -> String {
        match self {
            Environment::Custom(custom) => custom.realm_url.clone(),
            _ => format!("{}/auth/realms/{}", self.sso_base(), REALM),
        }
    }

    /// The `iss` of every token the realm issues: the realm URL unless set otherwise.
    pub fn issuer(&self) -> String {
        match self {
            Environment::Custom(custom) => custom.issuer.clone(),
            _ => self.realm_url(),
        }
    }

    /// The OAuth token endpoint (client credentials and refresh grants).
    pub fn token_url(&self) -> String {
        match self {
            Environment::Custom(custom) => custom.token_url.clone(),
            _ => format!("{}/protocol/openid-connect/token", self.realm_url()),
        }
    }

    /// The token introspection endpoint (RFC 7662).
    pub fn introspection_url(&self) -> String {
        format!("{}/protocol/openid-connect/token/introspect", self.realm_url())
    }

    /// The realm's signing keys (JWKS).
    pub fn certs_url(&self) -> String {
        format!("{}/protocol/openid-connect/certs", self.realm_url())
    }

    /// The OpenID Connect discovery document.
    pub fn discovery_url(&self) -> String {
        format!("{}/.well-known/openid-configuration", self.realm_url())
    }

    /// `POST` here to create an invoice.
    pub fn create_invoice_url(&self) -> String {
        format!("{}/consumer/invoice", self.api_base())
    }

    /// `POST` here to create a merchant QR invoice (no wallet user; observed in public code).
    pub fn merchant_invoice_url(&self) -> String {
        format!("{}/invoice", self.api_base())
    }

    /// `GET` here to check an invoice. The id is percent-encoded as exactly one path segment.
    pub fn check_invoice_url(&self, id: &InvoiceId) -> String {
        format!("{}/invoice/check/{}", self.api_base(), utf8_percent_encode(id.as_str(), PATH_SEGMENT))
    }

    /// `GET` (read) or `POST` (set) the payment configuration, which holds the webhook address.
    pub fn payment_config_url(&self) -> String {
        format!("{}/pg/config", self.api_base())
    }

    /// `POST` here to generate a gateway (QR / deep-link) invoice.
    pub fn generate_invoice_url(&self) -> String {
        format!("{}/v2/invoicing/generate-invoice", self.api_base())
    }

    /// `POST` `{terminalId, orderNumber}` here for the invoice of an order.
    pub fn invoice_by_order_number_url(&self) -> String {
        format!("{}/v2/invoicing/invoices/order-number", self.api_base())
    }

    /// `POST` `{terminalId, invoiceId}` here for a gateway invoice by its id.
    pub fn invoice_by_id_url(&self) -> String {
        format!("{}/v2/invoicing/invoices/invoice-id", self.api_base())
    }

    /// `POST` `{terminalId, orderNumber}` here to ask whether an order is paid.
    pub fn is_paid_url(&self) -> String {
        format!("{}/v2/invoicing/invoices/is-paid", self.api_base())
    }

    /// `GET` the merchant's branches here (a Spring page).
    pub fn branches_url(&self) -> String {
        format!("{}/payment-gateway/branch/list", self.api_base())
    }

    /// `GET` a branch's terminals here (a Spring page). The id is encoded as one path segment.
    pub fn terminals_url(&self, branch: &BranchId) -> String {
        let branch = utf8_percent_encode(branch.as_str(), PATH_SEGMENT);
        format!("{}/payment-gateway/terminal/list/{branch}", self.api_base())
    }

    /// `PUT` here to cancel a held payment (unconfirmed by Pocket's documentation). The hold's
    /// id is encoded as one path segment.
    pub fn cancel_url(&self, held_id: &str) -> String {
        let held = utf8_percent_encode(held_id, PATH_SEGMENT);
        format!("{}/payment-gateway/transaction/cancel/{held}", self.api_base())
    }
}

impl FromStr for Environment {
    type Err = EnvironmentError;

    /// `staging` or `production` (any case). Anything else is an error — never a silent
    /// fallback to production.
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name.to_ascii_lowercase().as_str() {
            "staging" => Ok(Environment::Staging),
            "production" => Ok(Environment::Production),
            _ => Err(EnvironmentError::UnknownName { name: name.chars().take(32).collect() }),
        }
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Environment::Custom(custom) => write!(f, "custom ({})", custom.api_base),
            other => f.write_str(other.name()),
        }
    }
}

#[cfg(test)]
mod tests {
    use url::Url;

    use super::*;

    #[test]
    fn presets_use_the_exact_hosts() {
        let staging = Environment::Staging;
        assert_eq!(staging.realm_url(), "https://sso-staging.invescore.mn/auth/realms/invescore");
        assert_eq!(
            staging.token_url(),
            "https://sso-staging.invescore.mn/auth/realms/invescore/protocol/openid-connect/token"
        );
        assert_eq!(
            staging.introspection_url(),
            "https://sso-staging.invescore.mn/auth/realms/invescore/protocol/openid-connect/token/introspect"
        );
        assert_eq!(
            staging.certs_url(),
            "https://sso-staging.invescore.mn/auth/realms/invescore/protocol/openid-connect/certs"
        );
        assert_eq!(
            staging.discovery_url(),
            "https://sso-staging.invescore.mn/auth/realms/invescore/.well-known/openid-configuration"
        );
        assert_eq!(staging.create_invoice_url(), "https://service-staging.invescore.mn/merchant/consumer/invoice");
        assert_eq!(staging.payment_config_url(), "https://service-staging.invescore.mn/merchant/pg/config");

        let production = Environment::Production;
        assert_eq!(production.realm_url(), "https://sso.invescore.mn/auth/realms/invescore");
        assert_eq!(
            production.check_invoice_url(&InvoiceId::from(42)),
            "https://service.invescore.mn/merchant/invoice/check/42"
        );
    }

    #[test]
    fn names_parse_and_unknown_names_are_errors() {
        assert_eq!("staging".parse(), Ok(Environment::Staging));
        assert_eq!("Production".parse(), Ok(Environment::Production));
        for name in ["prod", "", "stage", "custom", "production "] {
            let error = name.parse::<Environment>().unwrap_err();
            assert!(matches!(error, EnvironmentError::UnknownName { .. }), "{name:?}");
            assert!(error.to_string().contains("expected \"staging\" or \"production\""));
        }
    }

    #[test]
    fn hostile_invoice_ids_stay_one_path_segment() {
        let env = Environment::custom()
            .sso_base("http://127.0.0.1:9")
            .api_base("http://127.0.0.1:9/merchant/")
            .build()
            .unwrap();
        let url = |id: &str| env.check_invoice_url(&InvoiceId::new(id).unwrap());
        let base = "http://127.0.0.1:9/merchant/invoice/check/";
        assert_eq!(url("../x"), format!("{base}..%2Fx"));
        assert_eq!(url("1/2"), format!("{base}1%2F2"));
        assert_eq!(url("a?b=c#d"), format!("{base}a%3Fb%3Dc%23d"));
        assert_eq!(url("%2e%2e"), format!("{base}%252e%252e"));
        assert_eq!(url("..\\x"), format!("{base}..%5Cx"));
        assert_eq!(url("Нэхэмжлэх 1"), format!("{base}%D0%9D%D1%8D%D1%85%D1%8D%D0%BC%D0%B6%D0%BB%D1%8D%D1%85%201"));
        for id in ["../x", "1/2", "a?b=c#d", "..\\x", "../../admin", "%2F"] {
            let parsed = Url::parse(&url(id)).unwrap();
            let segments: Vec<_> = parsed.path_segments().unwrap().collect();
            assert_eq!(segments.len(), 4, "{id:?} became {parsed}");
            assert_eq!(&segments[..3], ["merchant", "invoice", "check"]);
            assert!(parsed.query().is_none() && parsed.fragment().is_none());
        }
    }
}
