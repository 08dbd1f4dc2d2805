//! What every request of a client shares.

use std::time::Duration;

use pocket_core::{Credentials, Environment};
use reqwest::header::{ACCEPT, HeaderValue, USER_AGENT};

use crate::RetryPolicy;

/// How the merchant's client authenticates to the realm (RFC 6749 §2.3.1), at the token endpoint
/// and for introspection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ClientAuth {
    /// `client_id` and `client_secret` in the form body (`client_secret_post`) — what Pocket's
    /// integration document shows.
    #[default]
    Post,
    /// `Authorization: Basic` with the form-encoded id and secret (`client_secret_basic`) — what
    /// many realms require.
    Basic,
}

pub(crate) struct Settings {
    pub environment: Environment,
    pub credentials: Credentials,
    pub http: reqwest::Client,
    pub timeout: Duration,
    pub retry: RetryPolicy,
    pub user_agent: HeaderValue,
    pub client_auth: ClientAuth,
}

impl Settings {
    /// A request with the client's timeout and user agent.
    pub(crate) fn request(&self, method: reqwest::Method, url: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, url)
            .timeout(self.timeout)
            .header(USER_AGENT, self.user_agent.clone())
            .header(ACCEPT, HeaderValue::from_static("application/json"))
    }

    /// A form POST to the realm with `fields`, authenticated with the client's credentials as
    /// [`ClientAuth`] says: in the form, or in an `Authorization: Basic` header (marked sensitive).
    pub(crate) fn realm_form(&self, url: &str, fields: &[(&str, &str)]) -> reqwest::RequestBuilder {
        let id = self.credentials.client_id();
        let secret = self.credentials.client_secret().expose_secret();
        let mut form = form_urlencoded::Serializer::new(String::new());
        if self.client_auth == ClientAuth::Post {
            form.append_pair("client_id", id);
            form.append_pair("client_secret", secret);
        }
        for (name, value) in fields {
            form.append_pair(name, value);
        }
        let request = self
            .request(reqwest::Method::POST, url)
            .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(form.finish());
        match self.client_auth {
            ClientAuth::Post => request,
            ClientAuth::Basic => request.header(reqwest::header::AUTHORIZATION, basic_authorization(id, secret)),
        }
    }
}

/// `Basic base64(urlencode(id) ":" urlencode(secret))`: RFC 6749 §2.3.1 form-encodes both
/// before joining them, so a `:` or non-ASCII byte in either survives.
fn basic_authorization(id: &str, secret: &str) -> HeaderValue {
    use base64::Engine;
    let encode = |text: &str| form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>();
    let joined = format!("{}:{}", encode(id), encode(secret));
    let mut value =
        HeaderValue::from_str(&format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(joined)))
            .unwrap_or_else(|_| HeaderValue::from_static("Basic"));
    value.set_sensitive(true);
    value
}

#[cfg(test)]
mod tests {
    use super::basic_authorization;

    #[test]
    fn basic_credentials_are_form_encoded_before_joining() {
        // RFC 6749 §2.3.1's own example characters: `:` and non-ASCII in the secret.
        let value = basic_authorization("my shop", "s3:cr+ét");
        assert!(value.is_sensitive());
        use base64::Engine;
        let encoded = value.to_str().unwrap().strip_prefix("Basic ").unwrap();
        let decoded = base64::engine::general_purpose::STANDARD.decode(encoded).unwrap();
        assert_eq!(String::from_utf8(decoded).unwrap(), "my+shop:s3%3Acr%2B%C3%A9t");
    }
}
