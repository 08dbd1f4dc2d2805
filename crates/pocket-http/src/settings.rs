//! What every request of a client shares.

use std::time::Duration;

use pocket_core::{Credentials, Environment};
use reqwest::header::{ACCEPT, HeaderValue, USER_AGENT};

use crate::RetryPolicy;

pub(crate) struct Settings {
    pub environment: Environment,
    pub credentials: Credentials,
    pub http: reqwest::Client,
    pub timeout: Duration,
    pub retry: RetryPolicy,
    pub user_agent: HeaderValue,
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

    /// A form POST to the realm, authenticated with the client's credentials in the form (as
    /// Pocket documents it), with `fields` added.
    pub(crate) fn realm_form(&self, url: &str, fields: &[(&str, &str)]) -> reqwest::RequestBuilder {
        let mut form = form_urlencoded::Serializer::new(String::new());
        form.append_pair("client_id", self.credentials.client_id());
        form.append_pair("client_secret", self.credentials.client_secret().expose_secret());
        for (name, value) in fields {
            form.append_pair(name, value);
        }
        self.request(reqwest::Method::POST, url)
            .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(form.finish())
    }
}
