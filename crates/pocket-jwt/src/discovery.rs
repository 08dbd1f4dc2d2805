//! OpenID Connect discovery: the realm says where its keys are and what its tokens' `iss` is.

use std::time::Duration;

use pocket_core::{Environment, Error, ErrorKind};
use serde::Deserialize;

use crate::{JwtVerifier, JwtVerifierBuilder};

/// Discovery documents are small; anything larger is refused rather than buffered.
const MAX_DOCUMENT: usize = 256 * 1024;
const TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Deserialize)]
struct Document {
    issuer: Option<String>,
    jwks_uri: Option<String>,
}

impl JwtVerifier {
    /// Reads the realm's discovery document (`{realm_url}/.well-known/openid-configuration`) and
    /// starts a builder with the issuer and the JWKS URL it names — for a realm whose issuer or
    /// key address differs from the usual Keycloak layout. The document is fetched once, now.
    ///
    /// An unreachable realm is [`ErrorKind::Unavailable`]; a document without an `issuer` or an
    /// http(s) `jwks_uri` is [`ErrorKind::Protocol`].
    pub async fn discover(environment: impl Into<Environment>) -> Result<JwtVerifierBuilder, Error> {
        let url = environment.into().discovery_url();
        let unavailable = |why: String| Error::new(ErrorKind::Unavailable, format!("discovery at {url}: {why}"));
        let protocol = |why: &str| Error::new(ErrorKind::Protocol, format!("discovery at {url}: {why}"));
        let http = reqwest::Client::builder().build().map_err(|e| unavailable(e.to_string()))?;
        let response = http
            .get(&url)
            .timeout(TIMEOUT)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| unavailable(format!("no answer: {e}")))?;
        if !response.status().is_success() {
            return Err(unavailable(format!("answered {}", response.status())));
        }
        let body = response.bytes().await.map_err(|e| unavailable(format!("reading the answer failed: {e}")))?;
        if body.len() > MAX_DOCUMENT {
            return Err(protocol("the document is too large"));
        }
        let document: Document =
            serde_json::from_slice(&body).map_err(|_| protocol("the answer is not a discovery document"))?;
        let issuer = document.issuer.filter(|issuer| !issuer.is_empty()).ok_or_else(|| protocol("no issuer"))?;
        let jwks = document
            .jwks_uri
            .filter(|uri| uri.starts_with("https://") || uri.starts_with("http://"))
            .ok_or_else(|| protocol("no http(s) jwks_uri"))?;
        tracing::debug!(%issuer, %jwks, "discovered the realm's issuer and keys");
        Ok(JwtVerifier::builder_for_issuer(issuer).jwks_url(jwks))
    }
}
